# Copyright (c) 2026 lc developers. MIT licence.
"""Sparse FFN rows in Triton: only the active rows of ``W_up`` and of ``W_downᵀ`` are read (decode, small batch).

Two kernels, same contract as ``naive.py`` (``x [B, D]``, masked gate ``s [B, F]``, neuron ids ``idx [K]``):

1. ``sparse_ffn_up_fwd_kernel``, grid ``(⌈K/BK⌉, B)``: gathers ``BK`` rows of ``W_up`` by ``idx``, dots them with
   ``x[b]`` over ``D`` in ``BD`` tiles and scales by the gate, ``h[b, j] = s[b, idx_j] · (W_up[idx_j] · x[b])``
   (fp32, ``[B, K]``).
2. ``sparse_ffn_down_fwd_kernel``, grid ``(⌈D/BD⌉, B)``: ``y[b, d] = Σ_j h[b, j] · W_downᵀ[idx_j, d]``, a loop over
   ``K`` in ``BK`` tiles of gathered rows; every output element is written by exactly one program, in a fixed
   order (deterministic, no atomics).

Arithmetic is fp32 whatever the weight dtype; ``y`` is returned in ``x.dtype``. ``W_downᵀ`` is stored row-major so
that a neuron's output column is one contiguous ``D``-vector (coalesced loads). ``K`` is a runtime argument (the
active count changes every token) and is not specialised; the autotuning key is ``D`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import triton
import triton.language as tl

from lc_core.ops.utils import autotune, device_context

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["sparse_ffn_rows_triton"]


@autotune(
    configs=[
        triton.Config({"BK": 32, "BD": 128}, num_warps=4),
        triton.Config({"BK": 16, "BD": 256}, num_warps=4),
        triton.Config({"BK": 64, "BD": 64}, num_warps=4),
        triton.Config({"BK": 32, "BD": 256}, num_warps=8),
    ],
    key=["D"],
)
@triton.jit(do_not_specialize=["K"])
def sparse_ffn_up_fwd_kernel(x, s, idx, w_up, h, K, F: tl.constexpr, D: tl.constexpr, BK: tl.constexpr, BD: tl.constexpr):
    i_k, i_b = tl.program_id(0), tl.program_id(1).to(tl.int64)
    o_k = i_k * BK + tl.arange(0, BK)
    m_k = o_k < K
    b_idx = tl.load(idx + o_k, mask=m_k, other=0).to(tl.int64)
    b_acc = tl.zeros([BK], dtype=tl.float32)
    for d0 in range(0, D, BD):
        o_d = d0 + tl.arange(0, BD)
        m_d = o_d < D
        b_x = tl.load(x + i_b * D + o_d, mask=m_d, other=0.0).to(tl.float32)
        p_w = w_up + b_idx[:, None] * D + o_d[None, :]
        b_w = tl.load(p_w, mask=m_k[:, None] & m_d[None, :], other=0.0).to(tl.float32)
        b_acc += tl.sum(b_w * b_x[None, :], axis=1)
    b_s = tl.load(s + i_b * F + b_idx, mask=m_k, other=0.0).to(tl.float32)
    tl.store(h + i_b * K + o_k, b_acc * b_s, mask=m_k)


@autotune(
    configs=[
        triton.Config({"BK": 32, "BD": 64}, num_warps=4),
        triton.Config({"BK": 64, "BD": 32}, num_warps=4),
        triton.Config({"BK": 16, "BD": 128}, num_warps=4),
        triton.Config({"BK": 64, "BD": 128}, num_warps=8),
    ],
    key=["D"],
)
@triton.jit(do_not_specialize=["K"])
def sparse_ffn_down_fwd_kernel(h, idx, w_down_t, y, K, D: tl.constexpr, BK: tl.constexpr, BD: tl.constexpr):
    i_d, i_b = tl.program_id(0), tl.program_id(1).to(tl.int64)
    o_d = i_d * BD + tl.arange(0, BD)
    m_d = o_d < D
    b_acc = tl.zeros([BD], dtype=tl.float32)
    for k0 in range(0, K, BK):
        o_k = k0 + tl.arange(0, BK)
        m_k = o_k < K
        b_idx = tl.load(idx + o_k, mask=m_k, other=0).to(tl.int64)
        b_h = tl.load(h + i_b * K + o_k, mask=m_k, other=0.0)
        p_w = w_down_t + b_idx[:, None] * D + o_d[None, :]
        b_w = tl.load(p_w, mask=m_k[:, None] & m_d[None, :], other=0.0).to(tl.float32)
        b_acc += tl.sum(b_h[:, None] * b_w, axis=0)
    tl.store(y + i_b * D + o_d, b_acc.to(y.dtype.element_ty), mask=m_d)


def sparse_ffn_rows_triton(x: Tensor, s: Tensor, idx: Tensor, w_up: Tensor, w_down_t: Tensor) -> Tensor:
    """Sparse FFN over the rows ``idx`` with the two Triton kernels (forward only, no autograd).

    Args:
        x: ``[B, D]`` decode tokens.
        s: ``[B, F]`` gate activations with pruned entries zero.
        idx: ``[K]`` integer neuron ids in ``[0, F)`` (not checked on the device: an id out of range reads out of
            bounds), covering every nonzero of ``s``.
        w_up: ``[F, D]``.
        w_down_t: ``W_downᵀ``, ``[F, D]``.

    Returns:
        ``[B, D]`` in ``x.dtype`` (zeros when ``K = 0``).

    Raises:
        ValueError: on inconsistent shapes.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be [B, D], got shape {tuple(x.shape)}")
    batch, d = x.shape
    if w_up.dim() != 2 or w_up.shape[1] != d:
        raise ValueError(f"w_up must be [F, D] with D={d}, got {tuple(w_up.shape)}")
    f = w_up.shape[0]
    if tuple(w_down_t.shape) != (f, d):
        raise ValueError(f"w_down_t must be W_down transposed, [F, D] = {(f, d)}, got {tuple(w_down_t.shape)}")
    if tuple(s.shape) != (batch, f):
        raise ValueError(f"s must be [B, F] = {(batch, f)}, got {tuple(s.shape)}")
    if idx.dim() != 1 or idx.dtype.is_floating_point:
        raise ValueError(f"idx must be a 1-D integer tensor, got {idx.dtype} of shape {tuple(idx.shape)}")
    k = idx.numel()
    y = torch.empty_like(x)
    if k == 0 or batch == 0:
        return y.zero_()
    x, s, idx, w_up, w_down_t = (t.contiguous() for t in (x, s, idx, w_up, w_down_t))
    h = torch.empty(batch, k, dtype=torch.float32, device=x.device)
    with device_context(x):
        sparse_ffn_up_fwd_kernel[lambda meta: (triton.cdiv(k, meta["BK"]), batch)](x, s, idx, w_up, h, k, F=f, D=d)
        sparse_ffn_down_fwd_kernel[lambda meta: (triton.cdiv(d, meta["BD"]), batch)](h, idx, w_down_t, y, k, D=d)
    return y
