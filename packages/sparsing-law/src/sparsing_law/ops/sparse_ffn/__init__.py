"""Sparse FFN rows for decoding: compute only the active rows of ``W_up`` and columns of ``W_down``.

This module only re-exports (fla style, like ``lc_core.ops``): the plain-torch references live in ``naive.py``, the
Triton kernels in ``gather.py`` and the backend choice (``sparse_ffn_rows``, ``resolve_backend``) in
``dispatch.py``. The kernel module is imported lazily, so ``import sparsing_law.ops.sparse_ffn`` needs neither
Triton nor a GPU.
Layout: ``x [B, D]``, masked gate ``s [B, F]``, neuron ids ``idx [K]``, ``w_up [F, D]``, ``w_down_t = W_downᵀ [F, D]``.
"""

from __future__ import annotations

import importlib
from typing import Any

from sparsing_law.ops.sparse_ffn.dispatch import Backend, resolve_backend, sparse_ffn_rows

__all__ = [
    "active_neurons",
    "naive_sparse_ffn_rows",
    "sparse_ffn_rows_torch",
    "sparse_ffn_rows_triton",
    "sparse_ffn_rows",
    "resolve_backend",
    "Backend",
]

_LAZY = {
    "active_neurons": "sparsing_law.ops.sparse_ffn.naive",
    "naive_sparse_ffn_rows": "sparsing_law.ops.sparse_ffn.naive",
    "sparse_ffn_rows_torch": "sparsing_law.ops.sparse_ffn.naive",
    "sparse_ffn_rows_triton": "sparsing_law.ops.sparse_ffn.gather",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
