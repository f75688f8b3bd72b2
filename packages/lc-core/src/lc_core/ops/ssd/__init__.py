"""Mamba-2 SSD (state-space duality) scan: torch references, Triton kernels and the dispatcher.

This module only re-exports (fla style): the references live in ``naive.py`` / ``torch_chunk.py``, the Triton
kernels in ``chunk.py`` / ``fused_recurrent.py`` and the backend choice (``chunk_ssd``, ``ssd_state_update``,
``resolve_backend``) in ``dispatch.py``. Kernel modules are imported lazily, so ``import lc_core.ops.ssd``
needs neither Triton nor a GPU.
"""

from __future__ import annotations

import importlib
from typing import Any

from lc_core.ops.ssd.dispatch import Backend, chunk_ssd, resolve_backend, ssd_state_update

__all__ = [
    "naive_recurrent_ssd",
    "naive_ssd_state_update",
    "chunk_ssd_torch",
    "chunk_ssd_triton",
    "fused_ssd_state_update",
    "chunk_ssd",
    "ssd_state_update",
    "resolve_backend",
    "Backend",
]

_LAZY = {
    "naive_recurrent_ssd": "lc_core.ops.ssd.naive",
    "naive_ssd_state_update": "lc_core.ops.ssd.naive",
    "chunk_ssd_torch": "lc_core.ops.ssd.torch_chunk",
    "chunk_ssd_triton": "lc_core.ops.ssd.chunk",
    "fused_ssd_state_update": "lc_core.ops.ssd.fused_recurrent",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
