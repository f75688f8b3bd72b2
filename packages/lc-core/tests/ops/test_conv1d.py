"""Causal depthwise conv1d: torch version vs the loop reference, carry state, decode step.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/ops/test_conv1d.py -q``
"""

from __future__ import annotations

import pytest
import torch

from lc_core.ops.conv1d import causal_conv1d, causal_conv1d_update, has_causal_conv1d_package
from lc_core.ops.conv1d.naive import naive_causal_conv1d
from lc_core.ops.conv1d.torch_conv import causal_conv1d_torch, causal_conv1d_update_torch
from lc_core.testing import has_cuda


@pytest.fixture(autouse=True)
def _single_thread():
    # tiny shapes: one intra-op thread avoids OpenMP oversubscription on a shared CI box (10x faster here)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(b, t, d, k, dtype=torch.float64, seed=42):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, d, generator=gen, dtype=dtype)
    w = torch.randn(d, k, generator=gen, dtype=dtype)
    bias = torch.randn(d, generator=gen, dtype=dtype)
    state = torch.randn(b, d, k - 1, generator=gen, dtype=dtype)
    return x, w, bias, state


@pytest.mark.parametrize("activation", [None, "silu"], ids=["linear", "silu"])
@pytest.mark.parametrize(("T", "K"), [(1, 4), (2, 4), (17, 4), (9, 2), (30, 3)], ids=lambda v: str(v))
def test_torch_matches_naive(T, K, activation):
    x, w, bias, state = make(2, T, 5, K)
    for init in (None, state):
        y_ref, s_ref = naive_causal_conv1d(x, w, bias, init, activation)
        y, s = causal_conv1d_torch(x, w, bias, init, activation)
        assert (y - y_ref).abs().max().item() <= 1e-12
        assert torch.equal(s, s_ref)


def test_zero_state_equals_left_zero_padding():
    x, w, bias, _ = make(1, 12, 3, 4)
    y, _ = causal_conv1d_torch(x, w, bias)
    padded = torch.nn.functional.conv1d(torch.nn.functional.pad(x.transpose(1, 2), (3, 0)), w[:, None], bias, groups=3)
    assert torch.allclose(y, padded.transpose(1, 2), atol=1e-12, rtol=0)


@pytest.mark.parametrize("split", [[1, 19], [2, 2, 16], [7, 13], [1] * 20], ids=["1+19", "2+2+16", "7+13", "1x20"])
def test_chunked_with_carry_equals_one_shot(split):
    x, w, bias, state = make(2, 20, 6, 4, seed=3)
    y_full, s_full = causal_conv1d_torch(x, w, bias, state, "silu")
    ys, s, t0 = [], state, 0
    for n in split:
        y, s = causal_conv1d_torch(x[:, t0 : t0 + n], w, bias, s, "silu")
        ys.append(y)
        t0 += n
    assert (torch.cat(ys, dim=1) - y_full).abs().max().item() <= 1e-12
    assert torch.equal(s, s_full)


def test_update_matches_sequence():
    x, w, bias, state = make(2, 9, 4, 4, seed=5)
    y_full, s_full = causal_conv1d_torch(x, w, bias, state, "silu")
    s = state
    for t in range(9):
        y, s = causal_conv1d_update_torch(x[:, t], s, w, bias, "silu")
        assert (y - y_full[:, t]).abs().max().item() <= 1e-12
    assert torch.equal(s, s_full)


def test_dispatch_uses_torch_on_cpu():
    x, w, bias, state = make(1, 5, 3, 4)
    y, s = causal_conv1d(x, w, bias, state, "silu")
    y_ref, s_ref = causal_conv1d_torch(x, w, bias, state, "silu")
    assert torch.equal(y, y_ref) and torch.equal(s, s_ref)
    y1, s1 = causal_conv1d_update(x[:, 0], state, w, bias, "silu")
    y1_ref, s1_ref = causal_conv1d_update_torch(x[:, 0], state, w, bias, "silu")
    assert torch.equal(y1, y1_ref) and torch.equal(s1, s1_ref)


def test_rejects_bad_inputs():
    x, w, bias, state = make(1, 5, 3, 4)
    with pytest.raises(ValueError, match="weight must be"):
        causal_conv1d_torch(x, w[:2], bias)
    with pytest.raises(ValueError, match="initial_state must be"):
        causal_conv1d_torch(x, w, bias, state[:, :, :2])
    with pytest.raises(ValueError, match="unknown activation"):
        causal_conv1d_torch(x, w, bias, activation="relu6")


@pytest.mark.gpu
@pytest.mark.skipif(not (has_cuda() and has_causal_conv1d_package()), reason="needs CUDA and the causal_conv1d package")
def test_package_matches_torch_on_cuda():
    x, w, bias, state = (t.float().cuda() for t in make(2, 64, 64, 4))
    y, s = causal_conv1d(x, w, bias, state, "silu", backend="causal_conv1d")
    y_ref, s_ref = causal_conv1d_torch(x, w, bias, state, "silu")
    assert torch.allclose(y, y_ref, atol=1e-4) and torch.allclose(s, s_ref)
    y1, s1 = causal_conv1d_update(x[:, 0], state, w, bias, "silu", backend="causal_conv1d")
    y1_ref, s1_ref = causal_conv1d_update_torch(x[:, 0], state, w, bias, "silu")
    assert torch.allclose(y1, y1_ref, atol=1e-4) and torch.allclose(s1, s1_ref)


def test_seq_idx_windows_stop_at_document_boundaries():
    x, w, bias, state = make(2, 15, 3, 4, seed=9)
    seq_idx = torch.tensor([[0] * 6 + [1] * 2 + [2] * 7, [4] * 15])
    y, s = causal_conv1d_torch(x, w, bias, state, "silu", seq_idx=seq_idx)
    # row 0: three independent documents, the first one continuing from the carried state
    for lo, hi, init in [(0, 6, state[:1]), (6, 8, None), (8, 15, None)]:
        y_doc, _ = naive_causal_conv1d(x[:1, lo:hi], w, bias, init, "silu")
        assert (y[:1, lo:hi] - y_doc).abs().max().item() <= 1e-12
    # row 1: a single document behaves exactly like no seq_idx at all
    y_one, _ = causal_conv1d_torch(x[1:], w, bias, state[1:], "silu")
    assert (y[1:] - y_one).abs().max().item() <= 1e-12
    assert torch.equal(s, x[:, -3:].transpose(1, 2))


@pytest.mark.parametrize("last_len", [1, 2, 3], ids=lambda n: f"last-doc-{n}-tokens")
def test_seq_idx_final_state_holds_only_the_last_document(last_len):
    # A document that starts within the last K - 1 inputs: the carried state must not hold the previous
    # document's inputs, so continuing that document in a second call equals running it in one call.
    x, w, bias, state = make(1, 12, 3, 4, seed=3)
    more, _, _, _ = make(1, 5, 3, 4, seed=4)
    n = x.shape[1]
    seq_idx = torch.tensor([[0] * (n - last_len) + [1] * last_len])
    _, s = causal_conv1d_torch(x, w, bias, state, "silu", seq_idx=seq_idx)
    keep = 3 - last_len
    assert torch.equal(s[:, :, :keep], torch.zeros_like(s[:, :, :keep]))
    assert torch.equal(s[:, :, keep:], x[:, n - last_len :].transpose(1, 2))
    y_next, _ = causal_conv1d_torch(more, w, bias, s, "silu")
    doc = torch.cat([x[:, n - last_len :], more], dim=1)
    y_doc, _ = naive_causal_conv1d(doc, w, bias, None, "silu")
    assert (y_next - y_doc[:, last_len:]).abs().max().item() <= 1e-12
