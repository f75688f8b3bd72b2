"""Backend choice for the sparse-FFN row op: the Triton kernels on CUDA, plain torch elsewhere.

``"auto"`` picks Triton for CUDA tensors when Triton is installed and ``LC_FORCE_NAIVE`` is off, otherwise the
gathered torch path of ``naive.py``; an explicit ``backend=`` always wins (``"triton"`` on CPU needs
``TRITON_INTERPRET=1``, set before the kernel module is imported). The kernel module is imported only when a call
needs it, so importing this module needs neither Triton nor a GPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from lc_core import env
from lc_core.logging import get_logger

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["sparse_ffn_rows", "resolve_backend", "Backend"]

logger = get_logger(__name__)

Backend = Literal["auto", "torch", "triton"]
_BACKENDS = ("auto", "torch", "triton")


def resolve_backend(backend: str, tensor: Tensor) -> str:
    """Pick the concrete backend for a call.

    Args:
        backend: ``"auto"``, ``"torch"`` or ``"triton"``.
        tensor: an input of the call; its device decides what ``"auto"`` may use.

    Returns:
        ``"torch"`` or ``"triton"``.

    Raises:
        ValueError: for an unknown name, or ``"triton"`` where it cannot run.
    """
    from lc_core.ops.utils import is_triton_available, triton_runs_on

    if backend not in _BACKENDS:
        raise ValueError(f"unknown sparse-FFN backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    if backend == "auto":
        if env.force_naive() or not tensor.is_cuda:
            return "torch"
        return "triton" if is_triton_available() else "torch"
    if backend == "triton" and not triton_runs_on(tensor):
        raise ValueError("backend='triton' needs CUDA tensors (or TRITON_INTERPRET=1 for CPU debugging) and triton installed")
    return backend


def sparse_ffn_rows(x: Tensor, s: Tensor, idx: Tensor, w_up: Tensor, w_down_t: Tensor, *, backend: Backend = "auto") -> Tensor:
    """``y[b] = Σ_j s[b, idx_j] (W_up[idx_j] · x[b]) W_downᵀ[idx_j]`` on the chosen backend (see ``naive.py``).

    Args:
        x: ``[B, D]``. s: ``[B, F]`` gate activations, pruned entries zero. idx: ``[K]`` neuron ids covering every
            nonzero of ``s``. w_up: ``[F, D]``. w_down_t: ``W_downᵀ [F, D]``.
        backend: ``"auto"`` | ``"torch"`` | ``"triton"``.

    Returns:
        ``[B, D]`` in ``x.dtype``.
    """
    name = resolve_backend(backend, x)
    logger.debug("sparse_ffn_rows backend=%s", name)
    if name == "triton":
        from sparsing_law.ops.sparse_ffn.gather import sparse_ffn_rows_triton

        return sparse_ffn_rows_triton(x, s, idx, w_up, w_down_t)
    from sparsing_law.ops.sparse_ffn.naive import sparse_ffn_rows_torch

    return sparse_ffn_rows_torch(x, s, idx, w_up, w_down_t)
