"""Shared fixtures: tiny synthetic datasets in the released layout and a small solver-generated one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cfdbench.testing import write_synthetic_dataset

# the CI machine shares two cores between many jobs; one intra-op thread avoids spin-wait contention on tiny tensors
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def make_dataset(tmp_path: Path):
    """``make(problem, subsets, n, t)`` writes synthetic cases under a fresh root and returns it."""

    def make(problem: str = "cavity", subsets: tuple[str, ...] = ("bc",), n: int = 3, t: int = 8) -> Path:
        return write_synthetic_dataset(tmp_path, problem, subsets, n, t)

    return make


@pytest.fixture(scope="session")
def generated_cavity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-case cavity BC subset from the torch solver (32^2 solver grid, 8 frames)."""
    from cfdbench.generate import GenerateConfig, generate

    root = tmp_path_factory.mktemp("gen")
    summary = generate(GenerateConfig(problem="cavity", subset="bc", cases=3, frames=8, out=str(root), resolution=32))
    assert not summary["failed"]
    return root


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run cfdbench's ``slow`` tests only when a ``-m`` expression names them (e.g. ``-m slow``).

    ``openfoam`` tests run whenever OpenFOAM is installed (``.ci/run`` installs it) and skip cleanly otherwise.
    """
    expr = config.getoption("markexpr") or ""
    if "slow" in expr and "not slow" not in expr:
        return
    skip = pytest.mark.skip(reason="slow test: select with -m slow")
    for item in items:
        if "slow" in item.keywords and "cfdbench" in str(item.path):
            item.add_marker(skip)
