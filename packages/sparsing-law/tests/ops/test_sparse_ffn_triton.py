"""Triton sparse-FFN kernels vs the plain-torch references (1e-5), the backend dispatch and ``SparseFFN(backend=)``.

Run: ``uv run pytest packages/sparsing-law/tests/ops/test_sparse_ffn_triton.py -q`` (CPU: the conftest turns on
``TRITON_INTERPRET=1`` before the kernels are imported; shapes are tiny because the interpreter runs every program
in numpy). The ``gpu`` test compiles the kernels on CUDA and skips without it.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from lc_core.testing import has_cuda  # noqa: E402
from sparsing_law.ops.sparse_ffn import (  # noqa: E402
    active_neurons,
    naive_sparse_ffn_rows,
    resolve_backend,
    sparse_ffn_rows,
    sparse_ffn_rows_torch,
    sparse_ffn_rows_triton,
)
from sparsing_law.sparse_ffn import SparseFFN, masked_dense_ffn, sparse_ffn_batch  # noqa: E402

ACTS = {"relu": torch.relu, "silu": torch.nn.functional.silu}


def make_ffn(batch: int, d: int, f: int, seed: int = 0, device: str = "cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, d, generator=g)
    w_gate = torch.randn(f, d, generator=g) / d**0.5
    w_up = torch.randn(f, d, generator=g) / d**0.5
    w_down = torch.randn(d, f, generator=g) / f**0.5
    return [t.to(device) for t in (x, w_gate, w_up, w_down)]


def eps_for_keep(s: torch.Tensor, keep: float) -> float:
    """Gate threshold that keeps about ``keep`` of token 0's neurons (midway between two achieved |s| values)."""
    order = s[0].abs().sort(descending=True).values
    k = int(keep * s.shape[-1])
    if k >= s.shape[-1]:
        return -1.0
    return float((order[k - 1] + order[k]) / 2) if k > 0 else float(s.abs().max()) + 1.0


# (B, D, F, keep): D not a multiple of the column tiles, K not a multiple of the row tiles, every neuron, none
CASES = [(1, 48, 200, 0.1), (1, 130, 96, 0.5), (3, 48, 200, 0.05), (2, 64, 128, 1.0), (2, 40, 72, 0.0)]


@pytest.mark.usefixtures("poison_empty")
@pytest.mark.parametrize("act", ["relu", "silu"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"B{c[0]}-D{c[1]}-F{c[2]}-keep{c[3]}")
def test_triton_matches_references(case, act):
    batch, d, f, keep = case
    x, w_gate, w_up, w_down = make_ffn(batch, d, f, seed=batch + d)
    w_down_t = w_down.T.contiguous()
    s = ACTS[act](x @ w_gate.T)
    eps = eps_for_keep(s, keep)
    s_m, idx = active_neurons(s, eps)
    if keep == 0:
        assert idx.numel() == 0 and not s_m.any()
    if keep == 1.0:
        assert idx.numel() == f
    out = sparse_ffn_rows_triton(x, s_m, idx, w_up, w_down_t)
    ref = masked_dense_ffn(x, w_gate, w_up, w_down, ACTS[act], eps)
    assert out.dtype == x.dtype and out.shape == (batch, d)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, ref, atol=1e-5, rtol=0), float((out - ref).abs().max())
    assert torch.allclose(out, naive_sparse_ffn_rows(x, s_m, idx, w_up, w_down_t), atol=1e-5, rtol=0)
    assert torch.allclose(sparse_ffn_rows_torch(x, s_m, idx, w_up, w_down_t), ref, atol=1e-5, rtol=0)


@pytest.mark.usefixtures("poison_empty")
def test_triton_per_token_masks_in_a_batch():
    # batch 3: each token prunes its own neurons; the kernel reads the union, the zeros keep every row exact
    x, w_gate, w_up, w_down = make_ffn(3, 32, 96, seed=7)
    s = torch.relu(x @ w_gate.T)
    eps = eps_for_keep(s, 0.1)
    s_m, idx = active_neurons(s, eps)
    per_token = (s.abs() > eps).sum(dim=-1)
    assert idx.numel() > int(per_token.max())  # the union is larger than any token's own set
    out = sparse_ffn_rows(x, s_m, idx, w_up, w_down.T.contiguous(), backend="triton")
    for b in range(3):
        ref = masked_dense_ffn(x[b], w_gate, w_up, w_down, torch.relu, eps)
        assert torch.allclose(out[b], ref, atol=1e-5, rtol=0)


@pytest.mark.usefixtures("poison_empty")
def test_int32_ids_and_non_contiguous_inputs():
    x, w_gate, w_up, w_down = make_ffn(2, 48, 64, seed=3)
    s_m, idx = active_neurons(torch.relu(x @ w_gate.T), 0.2)
    ref = naive_sparse_ffn_rows(x, s_m, idx, w_up, w_down.T.contiguous())
    x_nc = torch.stack([x, x], dim=-1)[..., 0]  # a strided view with the same values
    assert not x_nc.is_contiguous()
    out = sparse_ffn_rows_triton(x_nc, s_m, idx.to(torch.int32), w_up, w_down.T.contiguous())
    assert torch.allclose(out, ref, atol=1e-5, rtol=0)


def test_triton_shape_errors():
    x, _, w_up, w_down = make_ffn(2, 16, 32)
    s = torch.zeros(2, 32)
    idx = torch.arange(4)
    with pytest.raises(ValueError, match=r"x must be \[B, D\]"):
        sparse_ffn_rows_triton(x[0], s, idx, w_up, w_down.T)
    with pytest.raises(ValueError, match="w_down_t must be W_down transposed"):
        sparse_ffn_rows_triton(x, s, idx, w_up, w_down)
    with pytest.raises(ValueError, match=r"s must be \[B, F\]"):
        sparse_ffn_rows_triton(x, s[:1], idx, w_up, w_down.T)
    with pytest.raises(ValueError, match="idx must be a 1-D integer tensor"):
        sparse_ffn_rows_triton(x, s, idx.float(), w_up, w_down.T)


def test_dispatch(monkeypatch):
    x = torch.zeros(1, 4)
    assert resolve_backend("auto", x) == "torch"  # CPU tensors never take the kernel under "auto"
    assert resolve_backend("torch", x) == "torch"
    assert resolve_backend("triton", x) == "triton"  # the interpreter is on in this test session
    with pytest.raises(ValueError, match="unknown sparse-FFN backend 'cuda'"):
        resolve_backend("cuda", x)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        resolve_backend("triton", x)
    monkeypatch.setenv("LC_FORCE_NAIVE", "1")
    assert resolve_backend("auto", x) == "torch"
    with pytest.raises(ValueError, match="unknown sparse-FFN backend"):
        SparseFFN(torch.nn.Module(), backend="cuda")


@pytest.mark.parametrize("backend", ["torch", "triton", "auto"])
def test_sparse_ffn_module_backends_on_gqa_mlp(tiny_gqa, backend):
    mlp = tiny_gqa("relu").model.layers[0].mlp
    x = torch.randn(2, 3, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        dense = mlp(x)
        lossless = SparseFFN(mlp, backend=backend)(x)  # ReLU zeros only
        eps = 0.05
        pruned = SparseFFN(mlp, eps=eps, backend=backend)(x)
    assert torch.allclose(lossless, dense, atol=1e-5, rtol=0)
    w_gate, w_up, w_down = mlp.gate_proj.weight, mlp.up_proj.weight, mlp.down_proj.weight
    ref = masked_dense_ffn(x, w_gate.detach(), w_up.detach(), w_down.detach(), mlp.act_fn, eps)
    assert torch.allclose(pruned, ref, atol=1e-5, rtol=0)
    assert not torch.allclose(pruned, dense, atol=1e-5)  # eps really pruned something


def test_sparse_ffn_batch_torch_and_triton_agree():
    x, w_gate, w_up, w_down = make_ffn(4, 48, 160, seed=11)
    w_down_t = w_down.T.contiguous()
    act = torch.nn.functional.silu
    ref = masked_dense_ffn(x, w_gate, w_up, w_down, act, 0.1)
    for backend in ("torch", "triton"):
        out = sparse_ffn_batch(x, w_gate, w_up, w_down_t, act, 0.1, backend=backend)
        assert torch.allclose(out, ref, atol=1e-5, rtol=0), backend


@pytest.mark.gpu
@pytest.mark.skipif(not has_cuda(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("batch", [1, 4])
def test_compiled_kernel_on_cuda(batch, dtype):
    x, w_gate, w_up, w_down = make_ffn(batch, 1024, 4096, seed=5, device="cuda")
    x, w_gate, w_up, w_down = (t.to(dtype) for t in (x, w_gate, w_up, w_down))
    w_down_t = w_down.T.contiguous()
    s = torch.relu(x @ w_gate.T)
    s_m, idx = active_neurons(s, eps_for_keep(s.float(), 0.1))
    out = sparse_ffn_rows(x, s_m, idx, w_up, w_down_t)  # "auto" takes the kernel on CUDA
    assert resolve_backend("auto", x) == "triton"
    ref = naive_sparse_ffn_rows(x.float(), s_m.float(), idx, w_up.float(), w_down_t.float())
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    assert torch.allclose(out.float(), ref, atol=tol, rtol=tol)
