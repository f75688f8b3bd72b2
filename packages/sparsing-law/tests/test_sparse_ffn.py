"""Sparse FFN equals the masked dense FFN (1e-5) at several activation ratios; module wrapper on a GQA MLP."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from sparsing_law.sparse_ffn import SparseFFN, masked_dense_ffn, sparse_ffn  # noqa: E402


@pytest.mark.parametrize("act_name", ["relu", "silu"])
@pytest.mark.parametrize("keep", [0.05, 0.1, 0.5, 1.0])
def test_sparse_equals_masked_dense(act_name, keep):
    g = torch.Generator().manual_seed(0)
    d_h, d_f = 48, 200
    w_gate = torch.randn(d_f, d_h, generator=g) / d_h**0.5
    w_up = torch.randn(d_f, d_h, generator=g) / d_h**0.5
    w_down = torch.randn(d_h, d_f, generator=g) / d_f**0.5
    x = torch.randn(d_h, generator=g)
    act = torch.relu if act_name == "relu" else torch.nn.functional.silu
    s = act(w_gate @ x).abs()
    eps = float(s.sort(descending=True).values[max(int(keep * d_f) - 1, 0)]) - 1e-7 if keep < 1 else -1.0
    ref = masked_dense_ffn(x, w_gate, w_up, w_down, act, eps)
    out = sparse_ffn(x, w_gate, w_up, w_down.T.contiguous(), act, eps)
    assert torch.allclose(out, ref, atol=1e-5, rtol=0)
    if keep < 1:
        assert int((s > eps).sum()) == max(int(keep * d_f), 1)


def test_module_wrapper_on_gqa_mlp(tiny_gqa):
    model = tiny_gqa("relu")
    mlp = model.model.layers[0].mlp
    x = torch.randn(3, 64)
    with torch.no_grad():
        assert torch.allclose(SparseFFN(mlp)(x), mlp(x), atol=1e-5)
