# Copyright (c) 2026 lc developers. MIT licence.
"""Single-token SSD state update in Triton (the Mamba-2 decode step).

``new_state = exp(dt A) state + dt x B^T`` and ``y = new_state C + D x`` for one token, all heads at
once. Arithmetic is fp32; the state keeps its own dtype (fp32 by default, bf16 if the cache is bf16).
The kernel is not autotuned: it may write the state in place, and autotuning would run it several times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import triton
import triton.language as tl

from lc_core.ops.utils import device_context, next_power_of_2

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["fused_ssd_state_update"]


@triton.jit
def ssd_state_update_fwd_kernel(
    state,
    x,
    dt,
    A,
    B,
    C,
    D,
    y,
    new_state,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BP: tl.constexpr,
    BN: tl.constexpr,
    HAS_D: tl.constexpr,
):
    i_p, i_bh = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64)
    i_b, i_h = i_bh // H, i_bh % H
    i_g = i_h // (H // G)
    o_p = i_p * BP + tl.arange(0, BP)
    o_n = tl.arange(0, BN)
    m_p = o_p < P
    m_n = o_n < N
    m_pn = m_p[:, None] & m_n[None, :]
    p_off = (i_bh * P + o_p[:, None]) * N + o_n[None, :]
    b_s = tl.load(state + p_off, mask=m_pn, other=0.0).to(tl.float32)
    b_x = tl.load(x + i_bh * P + o_p, mask=m_p, other=0.0).to(tl.float32)
    b_dt = tl.load(dt + i_bh).to(tl.float32)
    b_A = tl.load(A + i_h).to(tl.float32)
    b_B = tl.load(B + (i_b * G + i_g) * N + o_n, mask=m_n, other=0.0).to(tl.float32)
    b_C = tl.load(C + (i_b * G + i_g) * N + o_n, mask=m_n, other=0.0).to(tl.float32)
    b_s = b_s * tl.exp(b_dt * b_A) + (b_dt * b_x)[:, None] * b_B[None, :]
    b_y = tl.sum(b_s * b_C[None, :], axis=1)
    if HAS_D:
        b_y += tl.load(D + i_h).to(tl.float32) * b_x
    tl.store(new_state + p_off, b_s.to(new_state.dtype.element_ty), mask=m_pn)
    tl.store(y + i_bh * P + o_p, b_y.to(y.dtype.element_ty), mask=m_p)


def fused_ssd_state_update(
    state: Tensor,
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    *,
    inplace: bool = False,
) -> tuple[Tensor, Tensor]:
    """One SSD recurrence step for every head with a Triton kernel (no autograd).

    Args:
        state: `[B, H, P, N]` state before the token (any float dtype; fp32 recommended).
        x: `[B, H, P]` input of the token.
        dt: `[B, H]` discretised step size (``>= 0``).
        A: `[H]` negative decay rates.
        B: `[B, G, N]` input projection, ``H % G == 0``.
        C: `[B, G, N]` output projection.
        D: `[H]` skip connection or ``None``.
        inplace: write the new state into ``state`` (must then be contiguous) instead of a new tensor.

    Returns:
        ``(y, new_state)``: `[B, H, P]` in ``x.dtype`` and `[B, H, P, N]` in ``state.dtype``
        (``new_state is state`` when ``inplace``).

    Raises:
        ValueError: on inconsistent shapes or a non-contiguous state with ``inplace=True``.
    """
    if state.dim() != 4:
        raise ValueError(f"state must be [B, H, P, N], got shape {tuple(state.shape)}")
    batch, H, P, N = state.shape
    if tuple(x.shape) != (batch, H, P):
        raise ValueError(f"x must be [B, H, P] = {(batch, H, P)}, got {tuple(x.shape)}")
    if tuple(dt.shape) != (batch, H):
        raise ValueError(f"dt must be [B, H] = {(batch, H)}, got {tuple(dt.shape)}")
    if tuple(A.shape) != (H,):
        raise ValueError(f"A must be [H] = ({H},), got {tuple(A.shape)}")
    if B.dim() != 3 or B.shape[0] != batch or B.shape[2] != N:
        raise ValueError(f"B must be [B, G, N] with B={batch}, N={N}, got {tuple(B.shape)}")
    if tuple(C.shape) != tuple(B.shape):
        raise ValueError(f"C must have B's shape {tuple(B.shape)}, got {tuple(C.shape)}")
    G = B.shape[1]
    if H % G:
        raise ValueError(f"number of heads H={H} must be a multiple of the number of groups G={G}")
    if D is not None and tuple(D.shape) != (H,):
        raise ValueError(f"D must be [H] = ({H},), got {tuple(D.shape)}")
    if inplace and not state.is_contiguous():
        raise ValueError("inplace=True needs a contiguous state tensor")
    x, dt, A, B, C = (t.contiguous() for t in (x, dt, A, B, C))
    D = D.contiguous() if D is not None else None
    src = state.contiguous()
    new_state = src if inplace else torch.empty_like(src)
    y = torch.empty_like(x)
    BN = next_power_of_2(N)
    # one program holds a [BP, N] tile of the state in registers: keep it near 4K elements
    BP = max(1, min(next_power_of_2(P), 4096 // BN))
    grid = (triton.cdiv(P, BP), batch * H)
    with device_context(x):
        ssd_state_update_fwd_kernel[grid](
            src,
            x,
            dt,
            A,
            B,
            C,
            D if D is not None else A,
            y,
            new_state,
            H=H,
            G=G,
            P=P,
            N=N,
            BP=BP,
            BN=BN,
            HAS_D=D is not None,
            num_warps=4 if BP * BN >= 2048 else 2,
        )
    return y, new_state
