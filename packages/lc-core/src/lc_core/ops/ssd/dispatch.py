"""Backend choice for the SSD scan: ``chunk_ssd`` / ``ssd_state_update`` pick a kernel per call.

``mamba_ssm`` kernels on CUDA when installed (``lc-core[cuda]``), else the Triton kernels of this package on
CUDA, else plain torch. ``LC_FORCE_NAIVE=1`` forces torch under ``"auto"``; an explicit ``backend=`` argument
always wins. Kernel modules are imported only when a call needs them, so importing this module needs neither
Triton nor a GPU.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Literal

from lc_core import env
from lc_core.logging import get_logger, warn_once

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["chunk_ssd", "ssd_state_update", "resolve_backend", "Backend"]

logger = get_logger(__name__)

Backend = Literal["auto", "torch", "triton", "mamba_ssm"]
_BACKENDS = ("auto", "torch", "triton", "mamba_ssm")


@functools.cache
def _mamba_ssm_available() -> bool:
    # mamba_ssm releases up to 2.3.2 fail at import without their CUDA extension, so any error means "absent"
    try:
        importlib.import_module("mamba_ssm.ops.triton.ssd_combined")
        importlib.import_module("mamba_ssm.ops.triton.selective_state_update")
    except Exception:
        return False
    return True


def resolve_backend(backend: str, tensor: Tensor) -> str:
    """Pick the concrete backend for a call.

    Args:
        backend: ``"auto"``, ``"torch"``, ``"triton"`` or ``"mamba_ssm"``.
        tensor: an input of the call; its device decides what ``"auto"`` may use.

    Returns:
        ``"torch"``, ``"triton"`` or ``"mamba_ssm"``.

    Raises:
        ValueError: for an unknown name, or ``"mamba_ssm"`` / ``"triton"`` where they cannot run.
    """
    from lc_core.ops.utils import is_triton_available, triton_runs_on

    if backend not in _BACKENDS:
        raise ValueError(f"unknown SSD backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    if backend == "auto":
        if env.force_naive() or not tensor.is_cuda:
            return "torch"
        if _mamba_ssm_available():
            return "mamba_ssm"
        return "triton" if is_triton_available() else "torch"
    if backend == "mamba_ssm":
        if not tensor.is_cuda:
            raise ValueError("backend='mamba_ssm' needs CUDA tensors")
        if not _mamba_ssm_available():
            raise ValueError("backend='mamba_ssm' needs the mamba_ssm package: pip install 'lc-core[cuda]'")
    if backend == "triton" and not triton_runs_on(tensor):
        raise ValueError("backend='triton' needs CUDA tensors (or TRITON_INTERPRET=1 for CPU debugging) and triton installed")
    return backend


def chunk_ssd(
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    chunk_size: int = 64,
    initial_state: Tensor | None = None,
    seq_idx: Tensor | None = None,
    *,
    backend: Backend = "auto",
) -> tuple[Tensor, Tensor]:
    """Chunked SSD scan on the best available backend (differentiable on all of them).

    Args:
        x: `[B, T, H, P]` inputs.
        dt: `[B, T, H]` discretised step sizes (``>= 0``).
        A: `[H]` negative decay rates (fp32).
        B: `[B, T, G, N]` input projections, ``H % G == 0``.
        C: `[B, T, G, N]` output projections.
        D: `[H]` skip connection or ``None``.
        chunk_size: chunk length ``Q`` (the Triton and mamba_ssm kernels need a power of two ``>= 16``;
            under ``"auto"`` another size falls back to torch).
        initial_state: `[B, H, P, N]` or ``None`` (zeros).
        seq_idx: `[B, T]` integer document ids or ``None``; the state resets where the id changes.
        backend: ``"auto"`` | ``"torch"`` | ``"triton"`` | ``"mamba_ssm"``.

    Returns:
        ``(y [B, T, H, P] in x.dtype, final_state [B, H, P, N] fp32)``.
    """
    name = resolve_backend(backend, x)
    pow2 = chunk_size >= 16 and not chunk_size & (chunk_size - 1)
    if name != "torch" and not pow2 and backend == "auto":
        warn_once(logger, f"chunk_ssd: chunk_size={chunk_size} is not a power of two >= 16; using the torch path")
        name = "torch"
    logger.debug("chunk_ssd backend=%s", name)
    if name == "torch":
        from lc_core.ops.ssd.torch_chunk import chunk_ssd_torch

        return chunk_ssd_torch(x, dt, A, B, C, D=D, chunk_size=chunk_size, initial_state=initial_state, seq_idx=seq_idx)
    if name == "triton":
        from lc_core.ops.ssd.chunk import chunk_ssd_triton

        return chunk_ssd_triton(x, dt, A, B, C, D=D, chunk_size=chunk_size, initial_state=initial_state, seq_idx=seq_idx)
    return _chunk_ssd_mamba(x, dt, A, B, C, D, chunk_size, initial_state, seq_idx)


def _chunk_ssd_mamba(
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    chunk_size: int,
    initial_state: Tensor | None,
    seq_idx: Tensor | None,
) -> tuple[Tensor, Tensor]:
    from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined

    from lc_core.ops.ssd.chunk import _segments

    # mamba_ssm joins tokens with equal ids; renumbering as a change count gives "reset where it changes"
    seg = _segments(seq_idx) if seq_idx is not None else None
    y, final_state = mamba_chunk_scan_combined(
        x, dt, A, B, C, chunk_size, D=D, initial_states=initial_state, seq_idx=seg, return_final_states=True
    )
    return y, final_state.float()


def ssd_state_update(
    state: Tensor,
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    *,
    backend: Backend = "auto",
    inplace: bool = False,
) -> tuple[Tensor, Tensor]:
    """One-token SSD update (decode step) on the best available backend.

    Args:
        state: `[B, H, P, N]` state before the token.
        x: `[B, H, P]`.
        dt: `[B, H]` discretised step size.
        A: `[H]` negative decay rates.
        B: `[B, G, N]`.
        C: `[B, G, N]`.
        D: `[H]` or ``None``.
        backend: ``"auto"`` | ``"torch"`` | ``"triton"`` | ``"mamba_ssm"``.
        inplace: write the new state into ``state`` (kernel backends only; torch returns a new tensor
            and copies it into ``state``).

    Returns:
        ``(y [B, H, P] in x.dtype, new_state [B, H, P, N] in state.dtype)``.
    """
    name = resolve_backend(backend, x)
    if name == "torch":
        from lc_core.ops.ssd.naive import naive_ssd_state_update

        y, new_state = naive_ssd_state_update(state, x, dt, A, B, C, D)
        new_state = new_state.to(state.dtype)
        if inplace:
            state.copy_(new_state)
            new_state = state
        return y.to(x.dtype), new_state
    if name == "triton":
        from lc_core.ops.ssd.fused_recurrent import fused_ssd_state_update

        return fused_ssd_state_update(state, x, dt, A, B, C, D, inplace=inplace)
    from mamba_ssm.ops.triton.selective_state_update import selective_state_update

    batch, H, P, N = state.shape
    target = state if inplace else state.clone()
    # mamba_ssm takes per-(head, headdim) parameters; tie them across P and N as Mamba2.step does
    y = selective_state_update(
        target,
        x,
        dt[..., None].expand(batch, H, P),
        A[:, None, None].expand(H, P, N),
        B,
        C,
        D=D[:, None].expand(H, P) if D is not None else None,
    )
    return y, target
