"""lc-core test setup.

The Triton interpreter must be switched on before anything imports ``lc_core.ops`` (``@triton.jit``
decides at decoration time), so this runs first: without CUDA, kernels run on CPU through
``TRITON_INTERPRET=1``.
"""

import os

import pytest

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
