"""Shared fixtures of the gqa-cost tests (tiny shapes only: the CI machine is small)."""

from __future__ import annotations

import os
from pathlib import Path

# The law fits run L-BFGS-B on 3–40 parameters; a multi-threaded OpenBLAS makes each tiny BLAS call wait on
# its thread pool (10x slower on a loaded 2-core box). Effective only if numpy is not imported yet.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from gqa_cost.config import ArchConfig


@pytest.fixture
def spec_config() -> ArchConfig:
    """Spec §11 test 1: L=2, d=128, n_h=4, n_kv=2, d_h=32 (n_h·d_h ≠ d), SwiGLU d_ff=341, V=1000, tied."""
    return ArchConfig(n_layers=2, d_model=128, n_heads=4, n_kv_heads=2, head_dim=32, d_ff=341, vocab_size=1000, tied=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run this package's ``slow`` tests only when a ``-m`` expression names them (``-m slow``)."""
    expr = config.getoption("markexpr") or ""
    if "slow" in expr and "not slow" not in expr:
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow test: select with -m slow")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)
