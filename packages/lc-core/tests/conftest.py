"""lc-core test setup.

The Triton interpreter must be switched on before anything imports ``lc_core.ops`` (``@triton.jit``
decides at decoration time), so this runs first: without CUDA, kernels run on CPU through
``TRITON_INTERPRET=1``.
"""

import os
from collections.abc import Callable
from typing import Any

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


def _poisoned(factory: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = factory(*args, **kwargs)
        if out.is_floating_point():
            out.fill_(float("nan"))
        return out

    return wrapper


@pytest.fixture
def poison_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fill every float ``torch.empty``/``torch.empty_like`` allocation with NaN (fla's habit).

    A kernel that forgets to write part of its output then leaves NaN behind, which ``assert_close``
    rejects, instead of stale memory that happens to look plausible.
    """
    import torch

    monkeypatch.setattr(torch, "empty", _poisoned(torch.empty))
    monkeypatch.setattr(torch, "empty_like", _poisoned(torch.empty_like))
