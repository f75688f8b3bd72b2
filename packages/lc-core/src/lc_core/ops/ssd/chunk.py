# Copyright (c) 2026 lc developers. MIT licence.
"""Chunked SSD (Mamba-2 state-space duality) in Triton: forward and backward kernels, autograd wrapper.

The forward follows the five-kernel decomposition of mamba_ssm (see ``README.md`` next to this file):

1. ``ssd_fwd_kernel_chunk_cumsum``: within-chunk cumulative log-decay ``dA_cs = cumsum(dt * A)``.
2. ``ssd_fwd_kernel_chunk_state``: each chunk's own end state ``S_c = sum_s exp(dA_cs[-1] - dA_cs[s]) dt_s x_s B_s^T``.
3. ``ssd_fwd_kernel_state_passing``: sequential pass over chunks ``H_c = exp(dA_cs_c[-1]) H_{c-1} + S_c``
   (O(T/Q) memory, ``initial_state`` and ``seq_idx`` resets).
4. ``ssd_fwd_kernel_bmm``: ``CB = C B^T`` per chunk and group.
5. ``ssd_fwd_kernel_chunk_scan``: ``y = exp(dA_cs) C H_{c-1} + (CB * decay mask) (dt x) + D x``.

The backward recomputes kernels 1-4 (nothing but the inputs is saved) and runs four Triton kernels:

- ``ssd_bwd_kernel_dprev``: gradient of the state entering each chunk, ``sum_l exp(dA_cs[l]) dy_l C_l^T``;
- ``ssd_bwd_kernel_state_passing``: reverse sequential pass ``dH_{c-1} = dprev_c + exp(dA_cs_c[-1]) dH_c``,
  giving each chunk's end-state gradient, the gradient of the chunk decays and ``d initial_state``;
- ``ssd_bwd_kernel_dx``: per source position ``s``: ``dx``, the direct part of ``ddt``, the per-head ``dB``
  and the ``s``-side gradient of the cumulative log-decay;
- ``ssd_bwd_kernel_dc``: per output position ``l``: the per-head ``dC`` and the ``l``-side gradient of the
  cumulative log-decay.

The reverse cumsum that turns the log-decay gradient into ``ddt``/``dA``, the sum of per-head ``dB``/``dC``
over the heads of a group and ``dD`` are O(T * H) torch ops on the host. ``backward_impl="torch"`` instead
differentiates ``chunk_ssd_torch`` on the saved inputs (used to cross-check the kernels).

All kernels run under the Triton CPU interpreter (``TRITON_INTERPRET=1``): loops have compile-time
bounds or plain integer bounds, every load is direct, and arithmetic is fp32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import torch
import triton
import triton.language as tl

from lc_core.logging import get_logger
from lc_core.ops.utils import autocast_custom_bwd, autocast_custom_fwd, autotune, input_guard, next_power_of_2

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["chunk_ssd_triton", "chunk_ssd_fwd", "chunk_ssd_fwd_states", "chunk_ssd_bwd", "ChunkSSDFunction"]

logger = get_logger(__name__)


@triton.jit
def ssd_fwd_kernel_chunk_cumsum(
    dt,
    A,
    dA_cs,
    T,
    NC,
    H: tl.constexpr,
    BT: tl.constexpr,
    BH: tl.constexpr,
):
    i_c, i_b, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    o_t = i_c * BT + tl.arange(0, BT)
    o_h = i_h * BH + tl.arange(0, BH)
    m_t = o_t < T
    m_h = o_h < H
    # padded positions load dt = 0: no decay and no input, so the cumsum stays flat past T
    p_dt = dt + (i_b * T + o_t[:, None]) * H + o_h[None, :]
    b_dt = tl.load(p_dt, mask=m_t[:, None] & m_h[None, :], other=0.0).to(tl.float32)
    b_A = tl.load(A + o_h, mask=m_h, other=0.0).to(tl.float32)
    b_cs = tl.cumsum(b_dt * b_A[None, :], axis=0)
    p_cs = dA_cs + ((i_b * H + o_h[None, :]) * NC + i_c) * BT + tl.arange(0, BT)[:, None]
    tl.store(p_cs, b_cs, mask=m_h[None, :])


@autotune(
    configs=[
        triton.Config({"BP": 16, "BN": 16}, num_warps=2, num_stages=1),
        triton.Config({"BP": 32, "BN": 64}, num_warps=4, num_stages=2),
        triton.Config({"BP": 64, "BN": 64}, num_warps=4, num_stages=3),
        triton.Config({"BP": 64, "BN": 128}, num_warps=8, num_stages=3),
    ],
    key=["P", "N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_fwd_kernel_chunk_state(
    x,
    dt,
    B,
    dA_cs,
    seg,
    states,
    T,
    NC,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BK: tl.constexpr,
    BP: tl.constexpr,
    BN: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    i_pn, i_bc, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_p, i_n = i_pn // tl.cdiv(N, BN), i_pn % tl.cdiv(N, BN)
    i_g = i_h // (H // G)
    o_p = i_p * BP + tl.arange(0, BP)
    o_n = i_n * BN + tl.arange(0, BN)
    m_p = o_p < P
    m_n = o_n < N
    p_cs = dA_cs + ((i_b * H + i_h) * NC + i_c) * BT
    b_last = tl.load(p_cs + BT - 1)
    if HAS_SEQ:
        t_last = tl.minimum(i_c * BT + BT, T) - 1
        b_seg_last = tl.load(seg + i_b * T + t_last)
    b_s = tl.zeros([BP, BN], dtype=tl.float32)
    for i_k in range(0, BT, BK):
        o_k = i_k + tl.arange(0, BK)
        o_t = i_c * BT + o_k
        m_t = o_t < T
        b_x = tl.load(x + ((i_b * T + o_t[:, None]) * H + i_h) * P + o_p[None, :], mask=m_t[:, None] & m_p[None, :], other=0.0)
        b_B = tl.load(B + ((i_b * T + o_t[:, None]) * G + i_g) * N + o_n[None, :], mask=m_t[:, None] & m_n[None, :], other=0.0)
        b_dt = tl.load(dt + (i_b * T + o_t) * H + i_h, mask=m_t, other=0.0).to(tl.float32)
        b_cs = tl.load(p_cs + o_k)
        b_w = tl.exp(b_last - b_cs) * b_dt
        if HAS_SEQ:
            # tokens of an earlier document do not reach the state at the end of the chunk
            b_seg = tl.load(seg + i_b * T + o_t, mask=m_t, other=-1)
            b_w = tl.where(b_seg == b_seg_last, b_w, 0.0)
        b_xw = b_x.to(tl.float32) * b_w[:, None]
        b_s += tl.dot(tl.trans(b_xw), b_B.to(tl.float32))
    p_s = states + (((i_b * NC + i_c) * H + i_h) * P + o_p[:, None]) * N + o_n[None, :]
    tl.store(p_s, b_s, mask=m_p[:, None] & m_n[None, :])


@autotune(
    configs=[
        triton.Config({"BS": 256}, num_warps=2),
        triton.Config({"BS": 512}, num_warps=4),
        triton.Config({"BS": 1024}, num_warps=4),
        triton.Config({"BS": 2048}, num_warps=8),
    ],
    key=["P", "N"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_fwd_kernel_state_passing(
    states,
    dA_cs,
    h0,
    seg,
    prev_states,
    ht,
    T,
    NC,
    H: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BS: tl.constexpr,
    USE_INITIAL_STATE: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    i_s, i_b, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    o_s = i_s * BS + tl.arange(0, BS)
    m_s = o_s < P * N
    if USE_INITIAL_STATE:
        b_h = tl.load(h0 + (i_b * H + i_h) * P * N + o_s, mask=m_s, other=0.0).to(tl.float32)
    else:
        b_h = tl.zeros([BS], dtype=tl.float32)
    if HAS_SEQ:
        # the initial state belongs to the document of the first token
        b_seg_prev = tl.load(seg + i_b * T)
    for i_c in range(0, NC):
        p_off = ((i_b * NC + i_c) * H + i_h) * P * N + o_s
        tl.store(prev_states + p_off, b_h, mask=m_s)
        b_decay = tl.exp(tl.load(dA_cs + ((i_b * H + i_h) * NC + i_c) * BT + BT - 1))
        if HAS_SEQ:
            b_seg = tl.load(seg + i_b * T + tl.minimum(i_c * BT + BT, T) - 1)
            b_decay = tl.where(b_seg == b_seg_prev, b_decay, 0.0)
            b_seg_prev = b_seg
        b_h = b_decay * b_h + tl.load(states + p_off, mask=m_s, other=0.0)
    tl.store(ht + (i_b * H + i_h) * P * N + o_s, b_h, mask=m_s)


@autotune(
    configs=[
        triton.Config({"BM": 16}, num_warps=2, num_stages=1),
        triton.Config({"BM": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64}, num_warps=4, num_stages=3),
    ],
    key=["N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_fwd_kernel_bmm(
    C,
    B,
    CB,
    T,
    NC,
    G: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BK: tl.constexpr,
    BM: tl.constexpr,
):
    i_mn, i_bc, i_g = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_m, i_n = i_mn // tl.cdiv(BT, BM), i_mn % tl.cdiv(BT, BM)
    o_m = i_c * BT + i_m * BM + tl.arange(0, BM)
    o_n = i_c * BT + i_n * BM + tl.arange(0, BM)
    m_m = o_m < T
    m_n = o_n < T
    b_cb = tl.zeros([BM, BM], dtype=tl.float32)
    for i_k in range(0, N, BK):
        o_k = i_k + tl.arange(0, BK)
        m_k = o_k < N
        b_C = tl.load(C + ((i_b * T + o_m[:, None]) * G + i_g) * N + o_k[None, :], mask=m_m[:, None] & m_k[None, :], other=0.0)
        b_B = tl.load(B + ((i_b * T + o_n[None, :]) * G + i_g) * N + o_k[:, None], mask=m_n[None, :] & m_k[:, None], other=0.0)
        b_cb += tl.dot(b_C.to(tl.float32), b_B.to(tl.float32))
    o_r = i_m * BM + tl.arange(0, BM)
    o_q = i_n * BM + tl.arange(0, BM)
    p_cb = CB + (((i_b * NC + i_c) * G + i_g) * BT + o_r[:, None]) * BT + o_q[None, :]
    # a block larger than the chunk (BM > BT) must not spill into the next chunk's tile
    tl.store(p_cb, b_cb, mask=(o_r < BT)[:, None] & (o_q < BT)[None, :])


@autotune(
    configs=[
        triton.Config({"BM": 16, "BP": 16}, num_warps=2, num_stages=1),
        triton.Config({"BM": 64, "BP": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64, "BP": 64}, num_warps=4, num_stages=3),
        triton.Config({"BM": 128, "BP": 64}, num_warps=8, num_stages=3),
    ],
    key=["P", "N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_fwd_kernel_chunk_scan(
    x,
    dt,
    C,
    D,
    dA_cs,
    CB,
    prev_states,
    seg,
    y,
    T,
    NC,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BK: tl.constexpr,
    BS: tl.constexpr,
    BM: tl.constexpr,
    BP: tl.constexpr,
    HAS_D: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    i_mp, i_bc, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_m, i_p = i_mp // tl.cdiv(P, BP), i_mp % tl.cdiv(P, BP)
    i_g = i_h // (H // G)
    o_m = i_m * BM + tl.arange(0, BM)
    o_tm = i_c * BT + o_m
    m_m = (o_m < BT) & (o_tm < T)
    o_p = i_p * BP + tl.arange(0, BP)
    m_p = o_p < P
    p_cs = dA_cs + ((i_b * H + i_h) * NC + i_c) * BT
    b_cs_m = tl.load(p_cs + o_m, mask=o_m < BT, other=0.0)

    # contribution of the state entering the chunk: exp(dA_cs[l]) * C_l . H_{c-1}
    b_acc = tl.zeros([BM, BP], dtype=tl.float32)
    p_h = prev_states + ((i_b * NC + i_c) * H + i_h) * P * N
    for i_k in range(0, N, BK):
        o_k = i_k + tl.arange(0, BK)
        m_k = o_k < N
        p_C = C + ((i_b * T + o_tm[:, None]) * G + i_g) * N + o_k[None, :]
        b_C = tl.load(p_C, mask=m_m[:, None] & m_k[None, :], other=0.0)
        b_hp = tl.load(p_h + o_p[None, :] * N + o_k[:, None], mask=m_p[None, :] & m_k[:, None], other=0.0)
        b_acc += tl.dot(b_C.to(tl.float32), b_hp)
    b_scale = tl.exp(b_cs_m)
    if HAS_SEQ:
        b_seg_m = tl.load(seg + i_b * T + o_tm, mask=m_m, other=-1)
        # the incoming state belongs to the document of the previous chunk's last token
        b_seg_prev = tl.load(seg + i_b * T + tl.maximum(i_c * BT - 1, 0))
        b_scale = tl.where(b_seg_m == b_seg_prev, b_scale, 0.0)
    b_acc = b_acc * b_scale[:, None]

    # intra-chunk part: sum_{s <= l} CB[l, s] exp(dA_cs[l] - dA_cs[s]) dt_s x_s
    p_cb = CB + ((i_b * NC + i_c) * G + i_g) * BT * BT
    for i_s in range(0, BT, BS):
        o_s = i_s + tl.arange(0, BS)
        o_ts = i_c * BT + o_s
        m_s = o_ts < T
        b_cb = tl.load(p_cb + o_m[:, None] * BT + o_s[None, :], mask=(o_m < BT)[:, None], other=0.0)
        b_cs_s = tl.load(p_cs + o_s)
        b_dt_s = tl.load(dt + (i_b * T + o_ts) * H + i_h, mask=m_s, other=0.0).to(tl.float32)
        m_causal = o_m[:, None] >= o_s[None, :]
        if HAS_SEQ:
            b_seg_s = tl.load(seg + i_b * T + o_ts, mask=m_s, other=-2)
            m_causal = m_causal & (b_seg_m[:, None] == b_seg_s[None, :])
        # mask before exp: above the diagonal dA_cs[l] - dA_cs[s] > 0 and exp could overflow to inf
        b_decay = tl.exp(tl.where(m_causal, b_cs_m[:, None] - b_cs_s[None, :], float("-inf")))
        b_w = b_cb * b_decay * b_dt_s[None, :]
        p_x = x + ((i_b * T + o_ts[:, None]) * H + i_h) * P + o_p[None, :]
        b_x = tl.load(p_x, mask=m_s[:, None] & m_p[None, :], other=0.0)
        b_acc += tl.dot(b_w, b_x.to(tl.float32))
    if HAS_D:
        b_D = tl.load(D + i_h).to(tl.float32)
        p_xm = x + ((i_b * T + o_tm[:, None]) * H + i_h) * P + o_p[None, :]
        b_xm = tl.load(p_xm, mask=m_m[:, None] & m_p[None, :], other=0.0).to(tl.float32)
        b_acc += b_D * b_xm
    p_y = y + ((i_b * T + o_tm[:, None]) * H + i_h) * P + o_p[None, :]
    tl.store(p_y, b_acc.to(y.dtype.element_ty), mask=m_m[:, None] & m_p[None, :])


@autotune(
    configs=[
        triton.Config({"BP": 16, "BN": 16}, num_warps=2, num_stages=1),
        triton.Config({"BP": 32, "BN": 64}, num_warps=4, num_stages=2),
        triton.Config({"BP": 64, "BN": 64}, num_warps=4, num_stages=3),
        triton.Config({"BP": 64, "BN": 128}, num_warps=8, num_stages=3),
    ],
    key=["P", "N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_bwd_kernel_dprev(
    dy,
    C,
    dA_cs,
    seg,
    dprev,
    T,
    NC,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BK: tl.constexpr,
    BP: tl.constexpr,
    BN: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    i_pn, i_bc, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_p, i_n = i_pn // tl.cdiv(N, BN), i_pn % tl.cdiv(N, BN)
    i_g = i_h // (H // G)
    o_p = i_p * BP + tl.arange(0, BP)
    o_n = i_n * BN + tl.arange(0, BN)
    m_p = o_p < P
    m_n = o_n < N
    p_cs = dA_cs + ((i_b * H + i_h) * NC + i_c) * BT
    if HAS_SEQ:
        b_seg_prev = tl.load(seg + i_b * T + tl.maximum(i_c * BT - 1, 0))
    # gradient of the state entering the chunk: sum_l exp(dA_cs[l]) dy_l C_l^T
    b_d = tl.zeros([BP, BN], dtype=tl.float32)
    for i_k in range(0, BT, BK):
        o_k = i_k + tl.arange(0, BK)
        o_t = i_c * BT + o_k
        m_t = o_t < T
        p_dy = dy + ((i_b * T + o_t[:, None]) * H + i_h) * P + o_p[None, :]
        b_dy = tl.load(p_dy, mask=m_t[:, None] & m_p[None, :], other=0.0)
        p_C = C + ((i_b * T + o_t[:, None]) * G + i_g) * N + o_n[None, :]
        b_C = tl.load(p_C, mask=m_t[:, None] & m_n[None, :], other=0.0)
        b_w = tl.exp(tl.load(p_cs + o_k))
        if HAS_SEQ:
            b_seg = tl.load(seg + i_b * T + o_t, mask=m_t, other=-1)
            b_w = tl.where(b_seg == b_seg_prev, b_w, 0.0)
        b_d += tl.dot(tl.trans(b_dy.to(tl.float32) * b_w[:, None]), b_C.to(tl.float32))
    p_d = dprev + (((i_b * NC + i_c) * H + i_h) * P + o_p[:, None]) * N + o_n[None, :]
    tl.store(p_d, b_d, mask=m_p[:, None] & m_n[None, :])


@autotune(
    configs=[
        triton.Config({"BS": 256}, num_warps=2),
        triton.Config({"BS": 512}, num_warps=4),
        triton.Config({"BS": 1024}, num_warps=4),
        triton.Config({"BS": 2048}, num_warps=8),
    ],
    key=["P", "N"],
    # partial sums are indexed by block: a config with larger blocks must not see stale slots
    reset_to_zero=["ddecay"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_bwd_kernel_state_passing(
    dprev,
    prev_states,
    dA_cs,
    dht,
    seg,
    dstates,
    ddecay,
    dh0,
    T,
    NC,
    NS,
    H: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BS: tl.constexpr,
    USE_FINAL_STATE_GRADIENT: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    i_s, i_b, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    o_s = i_s * BS + tl.arange(0, BS)
    m_s = o_s < P * N
    if USE_FINAL_STATE_GRADIENT:
        b_g = tl.load(dht + (i_b * H + i_h) * P * N + o_s, mask=m_s, other=0.0).to(tl.float32)
    else:
        b_g = tl.zeros([BS], dtype=tl.float32)
    # reverse pass: b_g is the gradient of the state at the end of chunk i_c
    for i_r in range(0, NC):
        i_c = NC - 1 - i_r
        p_off = ((i_b * NC + i_c) * H + i_h) * P * N + o_s
        tl.store(dstates + p_off, b_g, mask=m_s)
        b_decay = tl.exp(tl.load(dA_cs + ((i_b * H + i_h) * NC + i_c) * BT + BT - 1))
        if HAS_SEQ:
            b_seg_last = tl.load(seg + i_b * T + tl.minimum(i_c * BT + BT, T) - 1)
            b_seg_prev = tl.load(seg + i_b * T + tl.maximum(i_c * BT - 1, 0))
            b_decay = tl.where(b_seg_last == b_seg_prev, b_decay, 0.0)
        b_prev = tl.load(prev_states + p_off, mask=m_s, other=0.0)
        # d(chunk log-decay) = decay * <dH_c, H_{c-1}>, partial over this program's slice of the state
        tl.store(ddecay + ((i_b * H + i_h) * NC + i_c) * NS + i_s, b_decay * tl.sum(b_g * b_prev, axis=0))
        b_g = tl.load(dprev + p_off, mask=m_s, other=0.0) + b_decay * b_g
    tl.store(dh0 + (i_b * H + i_h) * P * N + o_s, b_g, mask=m_s)


@autotune(
    configs=[
        triton.Config({"BM": 16, "BL": 16}, num_warps=2, num_stages=1),
        triton.Config({"BM": 32, "BL": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64, "BL": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64, "BL": 64}, num_warps=8, num_stages=2),
    ],
    key=["P", "N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_bwd_kernel_dx(
    x,
    dt,
    B,
    C,
    dy,
    D,
    dA_cs,
    CB,
    dstates,
    seg,
    dx,
    ddt,
    dB,
    da,
    dlast,
    T,
    NC,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BP: tl.constexpr,
    BN: tl.constexpr,
    BM: tl.constexpr,
    BL: tl.constexpr,
    HAS_D: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    # rows are source positions s of the chunk: everything that flows back into x_s, dt_s and B_s
    i_m, i_bc, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_g = i_h // (H // G)
    o_s = i_m * BM + tl.arange(0, BM)
    o_ts = i_c * BT + o_s
    m_s = (o_s < BT) & (o_ts < T)
    o_p = tl.arange(0, BP)
    o_n = tl.arange(0, BN)
    m_p = o_p < P
    m_n = o_n < N
    p_cs = dA_cs + ((i_b * H + i_h) * NC + i_c) * BT
    b_a_s = tl.load(p_cs + o_s, mask=o_s < BT, other=0.0)
    b_a_last = tl.load(p_cs + BT - 1)
    b_dt_s = tl.load(dt + (i_b * T + o_ts) * H + i_h, mask=m_s, other=0.0).to(tl.float32)
    p_xs = x + ((i_b * T + o_ts[:, None]) * H + i_h) * P + o_p[None, :]
    b_x_s = tl.load(p_xs, mask=m_s[:, None] & m_p[None, :], other=0.0).to(tl.float32)
    p_Bs = B + ((i_b * T + o_ts[:, None]) * G + i_g) * N + o_n[None, :]
    b_B_s = tl.load(p_Bs, mask=m_s[:, None] & m_n[None, :], other=0.0).to(tl.float32)
    b_keep = m_s
    if HAS_SEQ:
        b_seg_s = tl.load(seg + i_b * T + o_ts, mask=m_s, other=-2)
        b_seg_last = tl.load(seg + i_b * T + tl.minimum(i_c * BT + BT, T) - 1)
        b_keep = b_keep & (b_seg_s == b_seg_last)

    # through the chunk's end state: S_c = sum_s w_s x_s B_s^T, w_s = exp(a_last - a_s) dt_s
    p_dS = dstates + ((i_b * NC + i_c) * H + i_h) * P * N + o_p[:, None] * N + o_n[None, :]
    b_dS = tl.load(p_dS, mask=m_p[:, None] & m_n[None, :], other=0.0)
    b_e = tl.where(b_keep, tl.exp(b_a_last - b_a_s), 0.0)
    b_w = b_e * b_dt_s
    b_u = tl.dot(b_B_s, tl.trans(b_dS))
    b_dx = b_w[:, None] * b_u
    b_dw = tl.sum(b_x_s * b_u, axis=1)
    b_dB = b_w[:, None] * tl.dot(b_x_s, b_dS)
    b_ddt = b_dw * b_e
    b_r = b_dw * b_w
    b_da = -b_r

    # through the intra-chunk outputs y_l, l >= s
    p_dys = dy + ((i_b * T + o_ts[:, None]) * H + i_h) * P + o_p[None, :]
    b_dy_s = tl.load(p_dys, mask=m_s[:, None] & m_p[None, :], other=0.0).to(tl.float32)
    p_cb = CB + ((i_b * NC + i_c) * G + i_g) * BT * BT
    for i_l in range(0, BT, BL):
        o_l = i_l + tl.arange(0, BL)
        o_tl = i_c * BT + o_l
        # a block wider than the chunk (BL > BT) must not reach into the next chunk
        m_l = (o_l < BT) & (o_tl < T)
        b_a_l = tl.load(p_cs + o_l, mask=o_l < BT, other=0.0)
        p_dyl = dy + ((i_b * T + o_tl[:, None]) * H + i_h) * P + o_p[None, :]
        b_dy_l = tl.load(p_dyl, mask=m_l[:, None] & m_p[None, :], other=0.0).to(tl.float32)
        p_Cl = C + ((i_b * T + o_tl[:, None]) * G + i_g) * N + o_n[None, :]
        b_C_l = tl.load(p_Cl, mask=m_l[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_cbT = tl.load(p_cb + o_l[None, :] * BT + o_s[:, None], mask=(o_s < BT)[:, None] & (o_l < BT)[None, :], other=0.0)
        m_ls = (o_l[None, :] >= o_s[:, None]) & m_l[None, :] & m_s[:, None]
        if HAS_SEQ:
            b_seg_l = tl.load(seg + i_b * T + o_tl, mask=m_l, other=-1)
            m_ls = m_ls & (b_seg_l[None, :] == b_seg_s[:, None])
        b_E = tl.exp(tl.where(m_ls, b_a_l[None, :] - b_a_s[:, None], float("-inf")))
        b_KT = b_cbT * b_E
        b_dMT = tl.dot(b_x_s, tl.trans(b_dy_l))
        b_dx += b_dt_s[:, None] * tl.dot(b_KT, b_dy_l)
        b_g = tl.sum(b_dMT * b_KT, axis=1)
        b_ddt += b_g
        b_da -= b_dt_s * b_g
        b_dB += tl.dot(b_dMT * b_E * b_dt_s[:, None], b_C_l)
    if HAS_D:
        b_dx += tl.load(D + i_h).to(tl.float32) * b_dy_s

    p_dx = dx + ((i_b * T + o_ts[:, None]) * H + i_h) * P + o_p[None, :]
    tl.store(p_dx, b_dx.to(dx.dtype.element_ty), mask=m_s[:, None] & m_p[None, :])
    tl.store(ddt + (i_b * T + o_ts) * H + i_h, b_ddt, mask=m_s)
    p_dB = dB + ((i_b * T + o_ts[:, None]) * H + i_h) * N + o_n[None, :]
    tl.store(p_dB, b_dB, mask=m_s[:, None] & m_n[None, :])
    tl.store(da + ((i_b * H + i_h) * NC + i_c) * BT + o_s, b_da, mask=o_s < BT)
    tl.store(dlast + ((i_b * H + i_h) * NC + i_c) * BT + o_s, b_r, mask=o_s < BT)


@autotune(
    configs=[
        triton.Config({"BM": 16, "BL": 16}, num_warps=2, num_stages=1),
        triton.Config({"BM": 32, "BL": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64, "BL": 32}, num_warps=4, num_stages=2),
        triton.Config({"BM": 64, "BL": 64}, num_warps=8, num_stages=2),
    ],
    key=["P", "N", "BT"],
)
@triton.jit(do_not_specialize=["T", "NC"])
def ssd_bwd_kernel_dc(
    x,
    dt,
    B,
    C,
    dy,
    dA_cs,
    CB,
    prev_states,
    seg,
    dC,
    da,
    T,
    NC,
    H: tl.constexpr,
    G: tl.constexpr,
    P: tl.constexpr,
    N: tl.constexpr,
    BT: tl.constexpr,
    BP: tl.constexpr,
    BN: tl.constexpr,
    BM: tl.constexpr,
    BL: tl.constexpr,
    HAS_SEQ: tl.constexpr,
):
    # rows are output positions l of the chunk: everything that flows back into C_l and a_l
    i_m, i_bc, i_h = tl.program_id(0).to(tl.int64), tl.program_id(1).to(tl.int64), tl.program_id(2).to(tl.int64)
    i_b, i_c = i_bc // NC, i_bc % NC
    i_g = i_h // (H // G)
    o_l = i_m * BM + tl.arange(0, BM)
    o_tl = i_c * BT + o_l
    m_l = (o_l < BT) & (o_tl < T)
    o_p = tl.arange(0, BP)
    o_n = tl.arange(0, BN)
    m_p = o_p < P
    m_n = o_n < N
    p_cs = dA_cs + ((i_b * H + i_h) * NC + i_c) * BT
    b_a_l = tl.load(p_cs + o_l, mask=o_l < BT, other=0.0)
    p_dyl = dy + ((i_b * T + o_tl[:, None]) * H + i_h) * P + o_p[None, :]
    b_dy_l = tl.load(p_dyl, mask=m_l[:, None] & m_p[None, :], other=0.0).to(tl.float32)
    p_Cl = C + ((i_b * T + o_tl[:, None]) * G + i_g) * N + o_n[None, :]
    b_C_l = tl.load(p_Cl, mask=m_l[:, None] & m_n[None, :], other=0.0).to(tl.float32)

    # through the incoming state: y_l += exp(a_l) C_l . H_{c-1}
    b_scale = tl.where(m_l, tl.exp(b_a_l), 0.0)
    if HAS_SEQ:
        b_seg_l = tl.load(seg + i_b * T + o_tl, mask=m_l, other=-1)
        b_seg_prev = tl.load(seg + i_b * T + tl.maximum(i_c * BT - 1, 0))
        b_scale = tl.where(b_seg_l == b_seg_prev, b_scale, 0.0)
    p_h = prev_states + ((i_b * NC + i_c) * H + i_h) * P * N + o_p[:, None] * N + o_n[None, :]
    b_h = tl.load(p_h, mask=m_p[:, None] & m_n[None, :], other=0.0)
    b_dC = b_scale[:, None] * tl.dot(b_dy_l, b_h)
    b_da = tl.sum(b_dC * b_C_l, axis=1)

    # through the intra-chunk part: y_l += sum_{s <= l} CB[l, s] exp(a_l - a_s) dt_s x_s
    p_cb = CB + ((i_b * NC + i_c) * G + i_g) * BT * BT
    for i_s in range(0, BT, BL):
        o_s = i_s + tl.arange(0, BL)
        o_ts = i_c * BT + o_s
        m_s = (o_s < BT) & (o_ts < T)
        b_a_s = tl.load(p_cs + o_s, mask=o_s < BT, other=0.0)
        b_dt_s = tl.load(dt + (i_b * T + o_ts) * H + i_h, mask=m_s, other=0.0).to(tl.float32)
        p_xs = x + ((i_b * T + o_ts[:, None]) * H + i_h) * P + o_p[None, :]
        b_x_s = tl.load(p_xs, mask=m_s[:, None] & m_p[None, :], other=0.0).to(tl.float32)
        p_Bs = B + ((i_b * T + o_ts[:, None]) * G + i_g) * N + o_n[None, :]
        b_B_s = tl.load(p_Bs, mask=m_s[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_cb = tl.load(p_cb + o_l[:, None] * BT + o_s[None, :], mask=(o_l < BT)[:, None] & (o_s < BT)[None, :], other=0.0)
        m_ls = (o_l[:, None] >= o_s[None, :]) & m_l[:, None] & m_s[None, :]
        if HAS_SEQ:
            b_seg_s = tl.load(seg + i_b * T + o_ts, mask=m_s, other=-2)
            m_ls = m_ls & (b_seg_l[:, None] == b_seg_s[None, :])
        b_E = tl.exp(tl.where(m_ls, b_a_l[:, None] - b_a_s[None, :], float("-inf")))
        b_dCB = tl.dot(b_dy_l, tl.trans(b_x_s)) * b_E * b_dt_s[None, :]
        b_dC += tl.dot(b_dCB, b_B_s)
        b_da += tl.sum(b_dCB * b_cb, axis=1)

    p_dC = dC + ((i_b * T + o_tl[:, None]) * H + i_h) * N + o_n[None, :]
    tl.store(p_dC, b_dC, mask=m_l[:, None] & m_n[None, :])
    tl.store(da + ((i_b * H + i_h) * NC + i_c) * BT + o_l, b_da, mask=o_l < BT)


def _segments(seq_idx: Tensor) -> Tensor:
    """Renumber ``seq_idx [B, T]`` as a running count of changes ``[B, T]`` int32.

    The contract is "the state resets where seq_idx changes"; a count of changes makes two tokens share
    a document exactly when no change lies between them, even if an id is reused later (0, 1, 0).
    """
    changes = (seq_idx[:, 1:] != seq_idx[:, :-1]).to(torch.int32)
    seg = torch.zeros(seq_idx.shape, dtype=torch.int32, device=seq_idx.device)
    seg[:, 1:] = torch.cumsum(changes, dim=1)
    return seg


class _Intermediates(NamedTuple):
    """What the chunk scan (and the backward) needs from kernels 1-4."""

    dA_cs: Tensor  # [B, H, NC, Q] fp32 within-chunk cumulative log-decay
    prev_states: Tensor  # [B, NC, H, P, N] fp32 state entering each chunk
    final_state: Tensor  # [B, H, P, N] fp32
    CB: Tensor  # [B, NC, G, Q, Q] fp32
    seg: Tensor | None  # [B, T] int32 change counts of seq_idx


def _dummy(device: torch.device) -> Tensor:
    # a never-read placeholder keeps kernel signatures fixed when an optional input is absent
    return torch.empty(1, dtype=torch.float32, device=device)


def _n_block(N: int) -> int:
    # blocks over N in the inner products: at least 16 (tl.dot), at most 64 per step
    return min(64, max(16, next_power_of_2(N)))


def chunk_ssd_fwd_states(
    *,
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    chunk_size: int,
    initial_state: Tensor | None,
    seq_idx: Tensor | None,
) -> _Intermediates:
    """Kernels 1-4 of the forward: chunk cumsum, chunk states, state passing and ``CB``.

    Args:
        x: `[B, T, H, P]`, contiguous.
        dt: `[B, T, H]`, already discretised (``>= 0``).
        A: `[H]`, negative.
        B: `[B, T, G, N]`.
        C: `[B, T, G, N]`.
        chunk_size: ``Q``, a power of two ``>= 16``.
        initial_state: `[B, H, P, N]` or ``None``.
        seq_idx: `[B, T]` integer document ids or ``None``.

    Returns:
        The intermediates the chunk scan and the backward read.
    """
    batch, T, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    BT = chunk_size
    NC = triton.cdiv(T, BT)
    dev = x.device
    seg = _segments(seq_idx) if seq_idx is not None else None
    has_seq = seg is not None
    dummy = _dummy(dev)

    dA_cs = torch.empty(batch, H, NC, BT, dtype=torch.float32, device=dev)
    BH = min(16, next_power_of_2(H))
    ssd_fwd_kernel_chunk_cumsum[(NC, batch, triton.cdiv(H, BH))](dt, A, dA_cs, T, NC, H=H, BT=BT, BH=BH)

    states = torch.empty(batch, NC, H, P, N, dtype=torch.float32, device=dev)

    def grid_state(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(P, meta["BP"]) * triton.cdiv(N, meta["BN"]), batch * NC, H)

    ssd_fwd_kernel_chunk_state[grid_state](
        x, dt, B, dA_cs, seg if has_seq else dummy, states, T, NC, H=H, G=G, P=P, N=N, BT=BT, BK=min(BT, 64), HAS_SEQ=has_seq
    )

    prev_states = torch.empty_like(states)
    final_state = torch.empty(batch, H, P, N, dtype=torch.float32, device=dev)

    def grid_pass(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(P * N, meta["BS"]), batch, H)

    ssd_fwd_kernel_state_passing[grid_pass](
        states,
        dA_cs,
        initial_state if initial_state is not None else dummy,
        seg if has_seq else dummy,
        prev_states,
        final_state,
        T,
        NC,
        H=H,
        P=P,
        N=N,
        BT=BT,
        USE_INITIAL_STATE=initial_state is not None,
        HAS_SEQ=has_seq,
    )

    CB = torch.empty(batch, NC, G, BT, BT, dtype=torch.float32, device=dev)

    def grid_bmm(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(BT, meta["BM"]) ** 2, batch * NC, G)

    ssd_fwd_kernel_bmm[grid_bmm](C, B, CB, T, NC, G=G, N=N, BT=BT, BK=_n_block(N))
    return _Intermediates(dA_cs=dA_cs, prev_states=prev_states, final_state=final_state, CB=CB, seg=seg)


def chunk_ssd_fwd(
    *,
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
    """Launch the five forward kernels on contiguous inputs.

    Args:
        x: `[B, T, H, P]`.
        dt: `[B, T, H]`, already discretised (``>= 0``).
        A: `[H]`, negative.
        B: `[B, T, G, N]`.
        C: `[B, T, G, N]`.
        D: `[H]` or ``None``.
        chunk_size: ``Q``, a power of two ``>= 16``.
        initial_state: `[B, H, P, N]` or ``None``.
        seq_idx: `[B, T]` integer document ids or ``None``.

    Returns:
        ``y [B, T, H, P]`` in ``x.dtype`` and ``final_state [B, H, P, N]`` fp32.
    """
    batch, T, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    BT = chunk_size
    NC = triton.cdiv(T, BT)
    inter = chunk_ssd_fwd_states(
        x=x, dt=dt, A=A, B=B, C=C, chunk_size=chunk_size, initial_state=initial_state, seq_idx=seq_idx
    )
    has_seq = inter.seg is not None
    dummy = _dummy(x.device)
    y = torch.empty_like(x)

    def grid_scan(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(BT, meta["BM"]) * triton.cdiv(P, meta["BP"]), batch * NC, H)

    ssd_fwd_kernel_chunk_scan[grid_scan](
        x,
        dt,
        C,
        D if D is not None else dummy,
        inter.dA_cs,
        inter.CB,
        inter.prev_states,
        inter.seg if has_seq else dummy,
        y,
        T,
        NC,
        H=H,
        G=G,
        P=P,
        N=N,
        BT=BT,
        BK=_n_block(N),
        BS=min(BT, 64),
        HAS_D=D is not None,
        HAS_SEQ=has_seq,
    )
    return y, inter.final_state


def chunk_ssd_bwd(
    *,
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    chunk_size: int,
    initial_state: Tensor | None,
    seq_idx: Tensor | None,
    dy: Tensor,
    dht: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | None, Tensor | None]:
    """Gradients of ``chunk_ssd_fwd`` with Triton kernels (kernels 1-4 are recomputed, not stored).

    Args:
        x, dt, A, B, C, D, chunk_size, initial_state, seq_idx: the forward inputs (contiguous).
        dy: `[B, T, H, P]` gradient of ``y``.
        dht: `[B, H, P, N]` gradient of the final state, or ``None``.

    Returns:
        ``(dx, ddt, dA, dB, dC, dD, dinitial_state)`` in the dtypes of the inputs (``dD`` / ``dinitial_state``
        are ``None`` when ``D`` / ``initial_state`` are).
    """
    batch, T, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    BT = chunk_size
    NC = triton.cdiv(T, BT)
    dev = x.device
    inter = chunk_ssd_fwd_states(
        x=x, dt=dt, A=A, B=B, C=C, chunk_size=chunk_size, initial_state=initial_state, seq_idx=seq_idx
    )
    has_seq = inter.seg is not None
    seg = inter.seg if has_seq else _dummy(dev)
    dummy = _dummy(dev)

    dprev = torch.empty(batch, NC, H, P, N, dtype=torch.float32, device=dev)

    def grid_state(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(P, meta["BP"]) * triton.cdiv(N, meta["BN"]), batch * NC, H)

    ssd_bwd_kernel_dprev[grid_state](
        dy, C, inter.dA_cs, seg, dprev, T, NC, H=H, G=G, P=P, N=N, BT=BT, BK=min(BT, 64), HAS_SEQ=has_seq
    )

    dstates = torch.empty_like(dprev)
    dh0 = torch.empty(batch, H, P, N, dtype=torch.float32, device=dev)
    # one partial sum per (chunk, program along P*N); the smallest config block bounds the count
    NS = triton.cdiv(P * N, 256)
    ddecay = torch.zeros(batch, H, NC, NS, dtype=torch.float32, device=dev)

    def grid_pass(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(P * N, meta["BS"]), batch, H)

    ssd_bwd_kernel_state_passing[grid_pass](
        dprev,
        inter.prev_states,
        inter.dA_cs,
        dht if dht is not None else dummy,
        seg,
        dstates,
        ddecay,
        dh0,
        T,
        NC,
        NS,
        H=H,
        P=P,
        N=N,
        BT=BT,
        USE_FINAL_STATE_GRADIENT=dht is not None,
        HAS_SEQ=has_seq,
    )

    BP, BN = max(16, next_power_of_2(P)), max(16, next_power_of_2(N))
    dx = torch.empty_like(x)
    ddt = torch.empty(batch, T, H, dtype=torch.float32, device=dev)
    dB_h = torch.empty(batch, T, H, N, dtype=torch.float32, device=dev)
    dC_h = torch.empty(batch, T, H, N, dtype=torch.float32, device=dev)
    da_s = torch.empty(batch, H, NC, BT, dtype=torch.float32, device=dev)
    da_l = torch.empty_like(da_s)
    dlast = torch.empty_like(da_s)

    def grid_rows(meta: dict[str, Any]) -> tuple[int, int, int]:
        return (triton.cdiv(BT, meta["BM"]), batch * NC, H)

    ssd_bwd_kernel_dx[grid_rows](
        x,
        dt,
        B,
        C,
        dy,
        D if D is not None else dummy,
        inter.dA_cs,
        inter.CB,
        dstates,
        seg,
        dx,
        ddt,
        dB_h,
        da_s,
        dlast,
        T,
        NC,
        H=H,
        G=G,
        P=P,
        N=N,
        BT=BT,
        BP=BP,
        BN=BN,
        HAS_D=D is not None,
        HAS_SEQ=has_seq,
    )
    ssd_bwd_kernel_dc[grid_rows](
        x,
        dt,
        B,
        C,
        dy,
        inter.dA_cs,
        inter.CB,
        inter.prev_states,
        seg,
        dC_h,
        da_l,
        T,
        NC,
        H=H,
        G=G,
        P=P,
        N=N,
        BT=BT,
        BP=BP,
        BN=BN,
        HAS_SEQ=has_seq,
    )

    # gradient w.r.t. the within-chunk cumsum a = cumsum(dt * A); the chunk's last entry also carries the
    # decay of the state passing and of every chunk-state weight exp(a_last - a_s)
    da = da_s + da_l
    da[..., -1] += dlast.sum(-1) + ddecay.sum(-1)
    # cumsum backward: a reversed cumsum over each chunk
    ddA = da.flip(-1).cumsum(-1).flip(-1).reshape(batch, H, NC * BT)[..., :T].transpose(1, 2)  # [B, T, H]
    dt_f = dt.float()
    ddt = ddt + ddA * A.float()
    dA = (ddA * dt_f).sum(dim=(0, 1))
    dD = (dy.float() * x.float()).sum(dim=(0, 1, 3)) if D is not None else None
    dB = dB_h.view(batch, T, G, H // G, N).sum(3)
    dC = dC_h.view(batch, T, G, H // G, N).sum(3)
    return (
        dx,
        ddt.to(dt.dtype),
        dA.to(A.dtype),
        dB.to(B.dtype),
        dC.to(C.dtype),
        dD.to(D.dtype) if D is not None else None,
        dh0.to(initial_state.dtype) if initial_state is not None else None,
    )


def _torch_reference() -> Any:
    try:
        from lc_core.ops.ssd.torch_chunk import chunk_ssd_torch
    except ImportError as e:  # the sibling module is part of the same package; this only guards a broken checkout
        raise ImportError("the 'torch' backward of chunk_ssd_triton needs lc_core.ops.ssd.torch_chunk") from e
    return chunk_ssd_torch


def _torch_backward(
    ctx: Any, inputs: list[Tensor | None], seq_idx: Tensor | None, dy: Tensor | None, dht: Tensor | None
) -> list:
    """Differentiate ``chunk_ssd_torch`` on the saved inputs (cross-check path, O(T * Q) activations)."""
    needs = ctx.needs_input_grad
    # needs_input_grad follows forward's argument order: x, dt, A, B, C, D, chunk_size, initial_state, seq_idx
    wanted = [needs[0], needs[1], needs[2], needs[3], needs[4], needs[5], needs[7]]
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(w) if t is not None else None for t, w in zip(inputs, wanted)]
        y, ht = _torch_reference()(
            *leaves[:5], D=leaves[5], chunk_size=ctx.chunk_size, initial_state=leaves[6], seq_idx=seq_idx
        )
        outs, grads_out = [], []
        for out, grad in ((y, dy), (ht, dht)):
            if grad is not None and out.requires_grad:
                outs.append(out)
                grads_out.append(grad.to(out.dtype))
        targets = [leaf for leaf, w in zip(leaves, wanted) if leaf is not None and w]
        grads = torch.autograd.grad(outs, targets, grads_out, allow_unused=True) if outs and targets else []
    it = iter(grads)
    return [next(it) if leaf is not None and w else None for leaf, w in zip(leaves, wanted)]


class ChunkSSDFunction(torch.autograd.Function):
    """Triton forward and backward; ``backward_impl="torch"`` differentiates ``chunk_ssd_torch`` instead."""

    @staticmethod
    @input_guard
    @autocast_custom_fwd
    def forward(
        ctx: Any,
        x: Tensor,
        dt: Tensor,
        A: Tensor,
        B: Tensor,
        C: Tensor,
        D: Tensor | None,
        chunk_size: int,
        initial_state: Tensor | None,
        seq_idx: Tensor | None,
        backward_impl: str = "triton",
    ) -> tuple[Tensor, Tensor]:
        y, final_state = chunk_ssd_fwd(
            x=x, dt=dt, A=A, B=B, C=C, D=D, chunk_size=chunk_size, initial_state=initial_state, seq_idx=seq_idx
        )
        ctx.save_for_backward(x, dt, A, B, C, D, initial_state, seq_idx)
        ctx.chunk_size = chunk_size
        ctx.backward_impl = backward_impl
        return y, final_state

    @staticmethod
    @input_guard
    @autocast_custom_bwd
    def backward(ctx: Any, dy: Tensor | None, dht: Tensor | None) -> tuple[Tensor | None, ...]:
        x, dt, A, B, C, D, initial_state, seq_idx = ctx.saved_tensors
        if ctx.backward_impl == "torch":
            dx, ddt, dA, dB, dC, dD, dh0 = _torch_backward(ctx, [x, dt, A, B, C, D, initial_state], seq_idx, dy, dht)
        else:
            dx, ddt, dA, dB, dC, dD, dh0 = chunk_ssd_bwd(
                x=x,
                dt=dt,
                A=A,
                B=B,
                C=C,
                D=D,
                chunk_size=ctx.chunk_size,
                initial_state=initial_state,
                seq_idx=seq_idx,
                dy=dy if dy is not None else torch.zeros_like(x),
                dht=dht,
            )
        return dx, ddt, dA, dB, dC, dD, None, dh0, None, None


def chunk_ssd_triton(
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
    backward_impl: Literal["triton", "torch"] = "triton",
) -> tuple[Tensor, Tensor]:
    """Chunked SSD scan with Triton kernels, forward and backward (Mamba-2's selective state-space core).

    Per head ``h`` (group ``g = h // (H // G)``):
    ``s_t = exp(dt_t A_h) s_{t-1} + dt_t x_t B_t^T`` and ``y_t = s_t C_t + D_h x_t``, state ``s`` `[P, N]`.

    Args:
        x: `[B, T, H, P]` inputs.
        dt: `[B, T, H]` step sizes, already discretised (after softplus / clamp), ``>= 0``.
        A: `[H]` negative decay rates (fp32 recommended).
        B: `[B, T, G, N]` input projections, ``H % G == 0``.
        C: `[B, T, G, N]` output projections.
        D: `[H]` skip connection or ``None``.
        chunk_size: chunk length ``Q``; a power of two ``>= 16``. Any ``T`` works (the last chunk is masked).
        initial_state: `[B, H, P, N]` state before the first token, or ``None`` for zeros.
        seq_idx: `[B, T]` integer document ids, or ``None``; the state resets to zero wherever the id changes
            (the initial state belongs to the first document).
        backward_impl: ``"triton"`` (default) runs the backward kernels; ``"torch"`` differentiates
            ``chunk_ssd_torch`` on the saved inputs instead (a cross-check, slower and O(T * Q) memory).

    Returns:
        ``(y, final_state)``: `[B, T, H, P]` in ``x.dtype`` and `[B, H, P, N]` fp32.

    Raises:
        ValueError: on inconsistent shapes, a non-power-of-two chunk size or an unknown ``backward_impl``.

    Examples::

        >>> y, h = chunk_ssd_triton(x, dt, A, B, C, D, chunk_size=64)
    """
    _check_inputs(x, dt, A, B, C, D, initial_state, seq_idx)
    if chunk_size < 16 or chunk_size & (chunk_size - 1):
        raise ValueError(f"chunk_size must be a power of two >= 16, got {chunk_size}")
    if backward_impl not in ("triton", "torch"):
        raise ValueError(f"backward_impl must be 'triton' or 'torch', got {backward_impl!r}")
    return ChunkSSDFunction.apply(x, dt, A, B, C, D, chunk_size, initial_state, seq_idx, backward_impl)


def _check_inputs(
    x: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None,
    initial_state: Tensor | None,
    seq_idx: Tensor | None,
) -> None:
    """Validate the SSD contract shapes with messages naming the offending argument."""
    if x.dim() != 4:
        raise ValueError(f"x must be [B, T, H, P], got shape {tuple(x.shape)}")
    batch, T, H, P = x.shape
    if tuple(dt.shape) != (batch, T, H):
        raise ValueError(f"dt must be [B, T, H] = {(batch, T, H)}, got {tuple(dt.shape)}")
    if tuple(A.shape) != (H,):
        raise ValueError(f"A must be [H] = ({H},), got {tuple(A.shape)}")
    if B.dim() != 4 or tuple(B.shape[:2]) != (batch, T):
        raise ValueError(f"B must be [B, T, G, N] with B, T = {batch}, {T}, got {tuple(B.shape)}")
    if tuple(C.shape) != tuple(B.shape):
        raise ValueError(f"C must have B's shape {tuple(B.shape)}, got {tuple(C.shape)}")
    G, N = B.shape[2], B.shape[3]
    if H % G:
        raise ValueError(f"number of heads H={H} must be a multiple of the number of groups G={G}")
    if D is not None and tuple(D.shape) != (H,):
        raise ValueError(f"D must be [H] = ({H},), got {tuple(D.shape)}")
    if initial_state is not None and tuple(initial_state.shape) != (batch, H, P, N):
        raise ValueError(f"initial_state must be [B, H, P, N] = {(batch, H, P, N)}, got {tuple(initial_state.shape)}")
    if seq_idx is not None:
        if tuple(seq_idx.shape) != (batch, T):
            raise ValueError(f"seq_idx must be [B, T] = {(batch, T)}, got {tuple(seq_idx.shape)}")
        if seq_idx.dtype.is_floating_point or seq_idx.dtype == torch.bool:
            raise ValueError(f"seq_idx must hold integer document ids, got {seq_idx.dtype}")
    devices = {t.device for t in (x, dt, A, B, C, D, initial_state, seq_idx) if t is not None}
    if len(devices) > 1:
        raise ValueError(f"all SSD inputs must be on one device, got {sorted(map(str, devices))}")
