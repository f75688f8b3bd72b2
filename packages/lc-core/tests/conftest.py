"""lc-core test setup.

The Triton interpreter must be switched on before anything imports ``lc_core.ops`` (``@triton.jit``
decides at decoration time), so this runs first: without CUDA, kernels run on CPU through
``TRITON_INTERPRET=1``.
"""

import os

import pytest

from lc_core.testing import poison_empty_allocations

try:
    import torch

    _HAS_CUDA = torch.cuda.is_available()
except ImportError:  # torch-free install: kernel tests skip themselves
    _HAS_CUDA = False

if not _HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _HAS_CUDA:
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def poison_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fill every float ``torch.empty``/``torch.empty_like`` allocation with NaN (fla's habit).

    A kernel that forgets to write part of its output then leaves NaN behind, which ``assert_close``
    rejects, instead of stale memory that happens to look plausible.
    """
    poison_empty_allocations(monkeypatch)
