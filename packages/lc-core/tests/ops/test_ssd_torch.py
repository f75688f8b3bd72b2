"""Plain-torch SSD: chunked scan vs the token-by-token recurrence (spec §8 tests 1, 2 and 4).

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/ops/test_ssd_torch.py -q``
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lc_core.ops.ssd import torch_chunk
from lc_core.ops.ssd.naive import naive_recurrent_ssd, naive_ssd_state_update, segment_ids
from lc_core.ops.ssd.torch_chunk import chunk_ssd_torch
from lc_core.testing import assert_close


@pytest.fixture(autouse=True)
def _single_thread():
    # tiny shapes: one intra-op thread avoids OpenMP oversubscription on a shared CI box (10x faster here)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_inputs(b, t, h, p, g, n, dtype, seed=42, decay_scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, h, p, generator=gen, dtype=dtype)
    dt = F.softplus(torch.randn(b, t, h, generator=gen, dtype=dtype) - 1.0) * decay_scale
    A = -torch.exp(torch.rand(h, generator=gen, dtype=torch.float32) * 2.0).to(dtype)
    B = torch.randn(b, t, g, n, generator=gen, dtype=dtype)
    C = torch.randn(b, t, g, n, generator=gen, dtype=dtype)
    D = torch.randn(h, generator=gen, dtype=dtype)
    h0 = torch.randn(b, h, p, n, generator=gen, dtype=dtype)
    return x, dt, A, B, C, D, h0


CASES = [
    # (T, Q, G)
    (16, 16, 1),
    (53, 16, 2),
    (64, 64, 1),
    (197, 64, 2),
    (256, 256, 1),
    (773, 256, 2),
]


@pytest.mark.parametrize("use_h0", [False, True], ids=["zero-state", "init-state"])
@pytest.mark.parametrize(("T", "Q", "G"), CASES, ids=[f"T{t}-Q{q}-G{g}" for t, q, g in CASES])
def test_chunk_matches_recurrence_fp64(T, Q, G, use_h0):
    x, dt, A, B, C, D, h0 = make_inputs(1, T, 4, 6, G, 5, torch.float64)
    init = h0 if use_h0 else None
    y_ref, s_ref = naive_recurrent_ssd(x, dt, A, B, C, D, initial_state=init)
    y, s = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=Q, initial_state=init)
    assert y.dtype == torch.float64 and y.shape == x.shape
    assert (y - y_ref).abs().max().item() <= 1e-10
    assert (s - s_ref).abs().max().item() <= 1e-10


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_chunk_matches_recurrence_low_precision(dtype):
    x, dt, A, B, C, D, h0 = make_inputs(2, 91, 4, 8, 2, 8, dtype)
    y_ref, s_ref = naive_recurrent_ssd(x, dt, A, B, C, D, initial_state=h0)
    y, s = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=32, initial_state=h0)
    assert y.dtype == dtype and s.dtype == torch.float32
    ratio = 1e-4 if dtype == torch.float32 else 1e-2
    assert_close("y", y_ref.float(), y.float(), ratio)
    assert_close("state", s_ref, s, 1e-4)


def test_block_loop_matches(monkeypatch):
    # several blocks of chunks (the loop that keeps temporary memory bounded) must give the same answer
    x, dt, A, B, C, D, h0 = make_inputs(1, 150, 2, 4, 1, 3, torch.float64)
    y_one, s_one = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=8, initial_state=h0)
    monkeypatch.setattr(torch_chunk, "BLOCK_TOKENS", 24)
    y_blk, s_blk = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=8, initial_state=h0)
    assert (y_one - y_blk).abs().max().item() <= 1e-12
    assert (s_one - s_blk).abs().max().item() <= 1e-12


SPLITS = [[1, 99], [37, 63], [64, 36], [16, 16, 16, 52], [1] * 100]


@pytest.mark.parametrize("split", SPLITS, ids=["1+99", "37+63", "64+36", "16x3+52", "1x100"])
def test_state_carry_splits(split):
    x, dt, A, B, C, D, h0 = make_inputs(2, 100, 4, 6, 2, 5, torch.float64, seed=7)
    y_full, s_full = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=32, initial_state=h0)
    state, ys, t0 = h0, [], 0
    for n in split:
        sl = slice(t0, t0 + n)
        y, state = chunk_ssd_torch(x[:, sl], dt[:, sl], A, B[:, sl], C[:, sl], D, chunk_size=32, initial_state=state)
        ys.append(y)
        t0 += n
    assert (torch.cat(ys, dim=1) - y_full).abs().max().item() <= 1e-10
    assert (state - s_full).abs().max().item() <= 1e-10


def test_state_update_matches_recurrence():
    x, dt, A, B, C, D, h0 = make_inputs(2, 12, 4, 6, 2, 5, torch.float64, seed=3)
    y_ref, s_ref = naive_recurrent_ssd(x, dt, A, B, C, D, initial_state=h0)
    state = h0
    for t in range(12):
        y, state = naive_ssd_state_update(state, x[:, t], dt[:, t], A, B[:, t], C[:, t], D)
        assert (y - y_ref[:, t]).abs().max().item() <= 1e-12
    assert (state - s_ref).abs().max().item() <= 1e-12


def test_seq_idx_resets_state():
    x, dt, A, B, C, D, h0 = make_inputs(1, 70, 2, 4, 1, 3, torch.float64, seed=5)
    seq_idx = torch.tensor([[0] * 30 + [1] * 25 + [2] * 15])
    y, s = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=16, initial_state=h0, seq_idx=seq_idx)
    y_ref, s_ref = naive_recurrent_ssd(x, dt, A, B, C, D, initial_state=h0, seq_idx=seq_idx)
    assert (y - y_ref).abs().max().item() <= 1e-10
    # each document must equal an independent run from zero state (the first one from h0)
    for lo, hi, init in [(0, 30, h0), (30, 55, None), (55, 70, None)]:
        sl = slice(lo, hi)
        y_doc, s_doc = naive_recurrent_ssd(x[:, sl], dt[:, sl], A, B[:, sl], C[:, sl], D, initial_state=init)
        assert (y[:, sl] - y_doc).abs().max().item() <= 1e-10
    assert (s - s_doc).abs().max().item() <= 1e-10


def test_segment_ids_treat_returning_id_as_new_document():
    assert segment_ids(torch.tensor([[5, 5, 6, 5, 5]])).tolist() == [[0, 0, 1, 2, 2]]


def test_log_decay_offset_scales_alpha():
    x, dt, A, B, C, D, _ = make_inputs(1, 40, 2, 4, 1, 3, torch.float64, seed=9)
    lam = 0.97
    off = torch.full((2,), torch.log(torch.tensor(lam, dtype=torch.float64)).item(), dtype=torch.float64)
    y, s = chunk_ssd_torch(x, dt, A, B, C, D, chunk_size=16, log_decay_offset=off)
    # explicit recurrence with alpha_t * lambda
    state = torch.zeros(1, 2, 4, 3, dtype=torch.float64)
    for t in range(40):
        alpha = torch.exp(dt[:, t] * A) * lam
        state = alpha[..., None, None] * state + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, 0][:, None, None, :]
    assert (s - state).abs().max().item() <= 1e-12
    y_ref, _ = naive_recurrent_ssd(x, dt, A, B, C, D, log_decay_offset=off)
    assert (y - y_ref).abs().max().item() <= 1e-10


def test_gradients_match_recurrence():
    x, dt, A, B, C, D, h0 = make_inputs(1, 37, 2, 4, 2, 3, torch.float64, seed=11)
    leaves = [t.clone().requires_grad_(True) for t in (x, dt, B, C, D, h0)]
    leaves_ref = [t.clone().requires_grad_(True) for t in (x, dt, B, C, D, h0)]
    gen = torch.Generator().manual_seed(0)
    dy = torch.randn(1, 37, 2, 4, generator=gen, dtype=torch.float64)
    ds = torch.randn(1, 2, 4, 3, generator=gen, dtype=torch.float64)
    xs, dts, Bs, Cs, Ds, hs = leaves
    y, s = chunk_ssd_torch(xs, dts, A, Bs, Cs, Ds, chunk_size=16, initial_state=hs)
    ((y * dy).sum() + (s * ds).sum()).backward()
    xs, dts, Bs, Cs, Ds, hs = leaves_ref
    y, s = naive_recurrent_ssd(xs, dts, A, Bs, Cs, Ds, initial_state=hs)
    ((y * dy).sum() + (s * ds).sum()).backward()
    for name, a, b in zip(["x", "dt", "B", "C", "D", "h0"], leaves, leaves_ref):
        assert (a.grad - b.grad).abs().max().item() <= 1e-9, name


def test_temporaries_do_not_grow_with_length(monkeypatch):
    # the (T/Q)^2 inter-chunk decay matrix of the minimal reference must not appear: the largest tensor built
    # by einsum/exp is the same for 2^12 and 2^14 tokens (it is bounded by one block of chunks)
    sizes: list[int] = []
    real_einsum, real_exp = torch.einsum, torch.exp

    def einsum(*args, **kwargs):
        out = real_einsum(*args, **kwargs)
        sizes.append(out.numel())
        return out

    def exp(t, *args, **kwargs):
        out = real_exp(t, *args, **kwargs)
        sizes.append(out.numel())
        return out

    monkeypatch.setattr(torch, "einsum", einsum)
    monkeypatch.setattr(torch, "exp", exp)
    peaks = []
    for T in (1 << 12, 1 << 14):
        sizes.clear()
        x, dt, A, B, C, _, _ = make_inputs(1, T, 2, 2, 1, 2, torch.float32, seed=1, decay_scale=0.1)
        y, s = chunk_ssd_torch(x, dt, A, B, C, chunk_size=16)
        assert torch.isfinite(y).all() and torch.isfinite(s).all()
        peaks.append(max(sizes))
    assert peaks[0] == peaks[1]


def test_rejects_bad_shapes():
    x, dt, A, B, C, D, _ = make_inputs(1, 8, 4, 2, 1, 3, torch.float32)
    with pytest.raises(ValueError, match="dt must be"):
        chunk_ssd_torch(x, dt[:, :4], A, B, C)
    with pytest.raises(ValueError, match="multiple of ngroups"):
        chunk_ssd_torch(x, dt, A, B.expand(1, 8, 3, 3), C.expand(1, 8, 3, 3))
