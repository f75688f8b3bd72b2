"""Triton SSD kernels vs the token-by-token reference (outputs and gradients), and the SSD dispatchers.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/ops/test_ssd_triton.py -q`` (CPU: the conftest turns
on ``TRITON_INTERPRET=1``; shapes are tiny because the interpreter runs every program in numpy).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from lc_core.ops import ssd  # noqa: E402
from lc_core.ops.ssd import chunk_ssd_triton, fused_ssd_state_update, naive_recurrent_ssd, naive_ssd_state_update  # noqa: E402
from lc_core.ops.ssd import dispatch as ssd_dispatch  # noqa: E402
from lc_core.testing import assert_close, has_cuda, seed_everything  # noqa: E402

pytestmark = pytest.mark.usefixtures("poison_empty")


@dataclass(frozen=True)
class Case:
    B: int
    T: int
    H: int
    G: int
    P: int
    N: int
    Q: int
    use_D: bool = False
    use_h0: bool = False
    use_seq: bool = False

    @property
    def id(self) -> str:
        flags = "".join(f"-{n}" for n, on in (("D", self.use_D), ("h0", self.use_h0), ("seq", self.use_seq)) if on)
        return f"B{self.B}-T{self.T}-H{self.H}-G{self.G}-P{self.P}-N{self.N}-Q{self.Q}{flags}"


def make_inputs(case: Case, dtype: torch.dtype = torch.float32, seed: int = 42) -> dict[str, torch.Tensor | None]:
    """Random SSD inputs: dt = softplus(.) in (0, ~2), A in [-2.5, -0.5], optional D, h0 and document ids."""
    seed_everything(seed)
    B, T, H, G, P, N = case.B, case.T, case.H, case.G, case.P, case.N
    seq = None
    if case.use_seq:
        seq = torch.zeros(B, T, dtype=torch.long)
        # boundaries mid-chunk and on a chunk edge; the id 0 comes back, which must still reset the state
        seq[:, T // 3 :] = 1
        seq[:, case.Q :] = 2
        seq[:, (2 * T) // 3 :] = 0
    return {
        "x": torch.randn(B, T, H, P, dtype=dtype),
        "dt": torch.nn.functional.softplus(torch.randn(B, T, H) - 1.0).to(dtype),
        "A": -(torch.rand(H) * 2.0 + 0.5),
        "B": torch.randn(B, T, G, N, dtype=dtype),
        "C": torch.randn(B, T, G, N, dtype=dtype),
        "D": torch.randn(H) if case.use_D else None,
        "initial_state": torch.randn(B, H, P, N) if case.use_h0 else None,
        "seq_idx": seq,
    }


def as_double(inputs: dict[str, torch.Tensor | None]) -> dict[str, torch.Tensor | None]:
    """fp64 copies of the float inputs (document ids stay integer)."""
    return {k: v.double() if v is not None and v.is_floating_point() else v for k, v in inputs.items()}


def test_poison_fixture_fills_allocations_with_nan() -> None:
    # the kernel tests rely on it: an output element a kernel never writes must read back as NaN
    assert torch.empty(3).isnan().all()
    assert torch.empty_like(torch.zeros(2, 2)).isnan().all()


GRAD_CASES = [
    Case(B=1, T=63, H=4, G=1, P=8, N=8, Q=32),
    Case(B=2, T=65, H=4, G=2, P=8, N=8, Q=16, use_D=True, use_h0=True, use_seq=True),
    Case(B=1, T=33, H=4, G=2, P=8, N=16, Q=16, use_D=True, use_h0=True),
    Case(B=1, T=9, H=2, G=1, P=8, N=8, Q=16, use_h0=True),
]
DIFF_NAMES = ["x", "dt", "A", "B", "C", "D", "initial_state"]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.id)
def test_chunk_matches_naive_forward_and_backward(case: Case) -> None:
    inputs = make_inputs(case)
    seq_idx = inputs.pop("seq_idx")
    tri = {k: v.clone().requires_grad_() if v is not None else None for k, v in inputs.items()}
    # the reference runs in fp64 so the comparison measures the kernel's fp32 error only
    ref = {k: v.double().requires_grad_() if v is not None else None for k, v in inputs.items()}

    y, ht = chunk_ssd_triton(**tri, chunk_size=case.Q, seq_idx=seq_idx)
    y_ref, ht_ref = naive_recurrent_ssd(**ref, seq_idx=seq_idx)
    assert y.dtype == torch.float32 and ht.dtype == torch.float32
    assert_close("y", y_ref, y, 1e-5)
    assert_close("final_state", ht_ref, ht, 1e-5)

    dy, dht = torch.randn_like(y), torch.randn_like(ht)
    ((y * dy).sum() + (ht * dht).sum()).backward()
    ((y_ref * dy.double()).sum() + (ht_ref * dht.double()).sum()).backward()
    for name in DIFF_NAMES:
        if tri[name] is None:
            continue
        assert_close(f"d{name}", ref[name].grad, tri[name].grad, 1e-4)


@pytest.mark.slow
def test_chunk_torch_backward_matches_triton_backward() -> None:
    case = Case(B=1, T=24, H=2, G=1, P=8, N=8, Q=16, use_D=True, use_h0=True, use_seq=True)
    inputs = make_inputs(case)
    seq_idx = inputs.pop("seq_idx")
    grads = {}
    for impl in ("triton", "torch"):
        leaves = {k: v.clone().requires_grad_() if v is not None else None for k, v in inputs.items()}
        y, ht = chunk_ssd_triton(**leaves, chunk_size=case.Q, seq_idx=seq_idx, backward_impl=impl)
        (y.sum() + ht.square().sum()).backward()
        grads[impl] = {k: v.grad for k, v in leaves.items()}
    for name in DIFF_NAMES:
        assert_close(f"d{name}", grads["torch"][name], grads["triton"][name], 1e-5)


def test_chunk_gradient_through_final_state_only() -> None:
    case = Case(B=1, T=40, H=2, G=2, P=8, N=8, Q=16, use_D=True)
    inputs = make_inputs(case)
    inputs.pop("seq_idx")
    tri = {k: v.clone().requires_grad_() if v is not None else None for k, v in inputs.items()}
    ref = {k: v.double().requires_grad_() if v is not None else None for k, v in inputs.items()}
    _, ht = chunk_ssd_triton(**tri, chunk_size=case.Q)
    _, ht_ref = naive_recurrent_ssd(**ref)
    ht.square().sum().backward()
    ht_ref.square().sum().backward()
    for name in ("x", "dt", "A", "B"):
        assert_close(f"d{name}", ref[name].grad, tri[name].grad, 1e-4)
    # C and D only act on y: with y unused their gradient is zero (or absent), never garbage
    for name in ("C", "D"):
        grad = tri[name].grad
        assert grad is None or not grad.any()


def test_chunk_state_carry_matches_one_shot() -> None:
    case = Case(B=1, T=45, H=2, G=2, P=8, N=8, Q=16, use_D=True)
    inputs = make_inputs(case)
    inputs.pop("seq_idx")
    y_ref, ht_ref = naive_recurrent_ssd(**as_double(inputs))
    # split mid-chunk: the second call must start from the first call's final state
    cut = 21
    first = {k: v[:, :cut] if k in ("x", "dt", "B", "C") else v for k, v in inputs.items()}
    second = {k: v[:, cut:] if k in ("x", "dt", "B", "C") else v for k, v in inputs.items()}
    y1, h1 = chunk_ssd_triton(**first, chunk_size=case.Q)
    second["initial_state"] = h1
    y2, h2 = chunk_ssd_triton(**second, chunk_size=case.Q)
    assert_close("y", y_ref, torch.cat([y1, y2], dim=1), 1e-5)
    assert_close("final_state", ht_ref, h2, 1e-5)


def test_chunk_half_precision_output_dtype() -> None:
    case = Case(B=1, T=33, H=2, G=1, P=8, N=8, Q=16, use_D=True)
    inputs = make_inputs(case, dtype=torch.float16)
    inputs.pop("seq_idx")
    y, ht = chunk_ssd_triton(**inputs, chunk_size=case.Q)
    y_ref, ht_ref = naive_recurrent_ssd(**as_double(inputs))
    assert y.dtype == torch.float16 and ht.dtype == torch.float32
    # fp16 storage of y bounds the error (half a unit in the last place, ~5e-4 relative)
    assert_close("y", y_ref, y, 2e-3)
    assert_close("final_state", ht_ref, ht, 1e-5)


@pytest.mark.parametrize(
    ("field", "bad", "match"),
    [
        ("dt", torch.zeros(1, 20, 3), "dt must be"),
        ("A", torch.zeros(3), "A must be"),
        ("C", torch.zeros(1, 20, 1, 4), "C must have"),
        ("D", torch.zeros(2), "D must be"),
        ("initial_state", torch.zeros(1, 4, 8, 4), "initial_state must be"),
        ("seq_idx", torch.zeros(1, 20), "integer document ids"),
    ],
    ids=["dt", "A", "C", "D", "initial_state", "seq_idx"],
)
def test_chunk_rejects_bad_inputs(field: str, bad: torch.Tensor, match: str) -> None:
    inputs = make_inputs(Case(B=1, T=20, H=4, G=2, P=8, N=8, Q=16))
    inputs[field] = bad
    with pytest.raises(ValueError, match=match):
        chunk_ssd_triton(**inputs, chunk_size=16)


@pytest.mark.parametrize("chunk_size", [8, 24])
def test_chunk_rejects_bad_chunk_size(chunk_size: int) -> None:
    inputs = make_inputs(Case(B=1, T=20, H=4, G=2, P=8, N=8, Q=16))
    with pytest.raises(ValueError, match="power of two"):
        chunk_ssd_triton(**inputs, chunk_size=chunk_size)


def test_chunk_rejects_unknown_backward_impl() -> None:
    inputs = make_inputs(Case(B=1, T=20, H=4, G=2, P=8, N=8, Q=16))
    with pytest.raises(ValueError, match="backward_impl"):
        chunk_ssd_triton(**inputs, chunk_size=16, backward_impl="cuda")  # type: ignore[arg-type]


@pytest.mark.parametrize("use_D", [False, True], ids=["noD", "D"])
@pytest.mark.parametrize("G", [1, 2], ids=["G1", "G2"])
@pytest.mark.parametrize("state_dtype", [torch.float32, torch.float16], ids=["state_fp32", "state_fp16"])
def test_state_update_matches_naive(G: int, use_D: bool, state_dtype: torch.dtype) -> None:
    seed_everything(42)
    B, H, P, N = 2, 4, 8, 12
    state = torch.randn(B, H, P, N).to(state_dtype)
    x, dt = torch.randn(B, H, P), torch.rand(B, H)
    A = -(torch.rand(H) + 0.5)
    Bm, Cm = torch.randn(B, G, N), torch.randn(B, G, N)
    D = torch.randn(H) if use_D else None
    y_ref, s_ref = naive_ssd_state_update(state, x, dt, A, Bm, Cm, D)
    y, s = fused_ssd_state_update(state, x, dt, A, Bm, Cm, D)
    assert s.dtype == state_dtype and y.dtype == x.dtype
    ratio = 1e-6 if state_dtype == torch.float32 else 1e-3
    assert_close("y", y_ref, y, ratio)
    assert_close("new_state", s_ref, s, ratio)


def test_state_update_in_place_and_repeated_steps_match_recurrence() -> None:
    case = Case(B=1, T=6, H=4, G=2, P=8, N=8, Q=16, use_D=True)
    inputs = make_inputs(case)
    y_ref, ht_ref = naive_recurrent_ssd(inputs["x"], inputs["dt"], inputs["A"], inputs["B"], inputs["C"], inputs["D"])
    state = torch.zeros(case.B, case.H, case.P, case.N)
    ys = []
    for t in range(case.T):
        step = (inputs["x"][:, t], inputs["dt"][:, t], inputs["A"], inputs["B"][:, t], inputs["C"][:, t], inputs["D"])
        y, new_state = fused_ssd_state_update(state, *step, inplace=True)
        assert new_state.data_ptr() == state.data_ptr()
        ys.append(y)
    assert_close("y", y_ref, torch.stack(ys, dim=1), 1e-6)
    assert_close("state", ht_ref, state, 1e-6)


def test_state_update_rejects_bad_shapes() -> None:
    state, dt, A = torch.zeros(1, 4, 8, 8), torch.zeros(1, 4), torch.zeros(4)
    with pytest.raises(ValueError, match="x must be"):
        fused_ssd_state_update(state, torch.zeros(1, 4, 7), dt, A, torch.zeros(1, 1, 8), torch.zeros(1, 1, 8))
    with pytest.raises(ValueError, match="multiple of the number of groups"):
        fused_ssd_state_update(state, torch.zeros(1, 4, 8), dt, A, torch.zeros(1, 3, 8), torch.zeros(1, 3, 8))


class _FakeCuda:
    """Stands in for a CUDA tensor in backend resolution (only ``is_cuda`` is read)."""

    is_cuda = True


def test_auto_backend_uses_torch_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import lc_core.ops.ssd.chunk as chunk_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Triton path must not run for CPU tensors under backend='auto'")

    monkeypatch.setattr(chunk_module, "chunk_ssd_triton", refuse)
    case = Case(B=1, T=20, H=4, G=2, P=8, N=8, Q=16, use_D=True)
    inputs = make_inputs(case)
    y, ht = ssd.chunk_ssd(**inputs, chunk_size=16)
    y_ref, ht_ref = naive_recurrent_ssd(**inputs)
    assert_close("y", y_ref, y, 1e-5)
    assert_close("final_state", ht_ref, ht, 1e-5)
    assert ssd.resolve_backend("auto", inputs["x"]) == "torch"


def test_resolve_backend_on_cuda_and_force_naive(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeCuda()
    monkeypatch.setattr(ssd_dispatch, "_mamba_ssm_available", lambda: False)
    monkeypatch.delenv("LC_FORCE_NAIVE", raising=False)
    assert ssd.resolve_backend("auto", fake) == "triton"
    monkeypatch.setattr(ssd_dispatch, "_mamba_ssm_available", lambda: True)
    assert ssd.resolve_backend("auto", fake) == "mamba_ssm"
    monkeypatch.setenv("LC_FORCE_NAIVE", "1")
    assert ssd.resolve_backend("auto", fake) == "torch"
    # an explicit backend wins over LC_FORCE_NAIVE
    assert ssd.resolve_backend("triton", fake) == "triton"


def test_explicit_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssd_dispatch, "_mamba_ssm_available", lambda: False)
    case = Case(B=1, T=20, H=4, G=2, P=8, N=8, Q=16)
    inputs = make_inputs(case)
    with pytest.raises(ValueError, match="unknown SSD backend"):
        ssd.chunk_ssd(**inputs, backend="cuda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs CUDA"):
        ssd.chunk_ssd(**inputs, backend="mamba_ssm")
    y_tri, ht_tri = ssd.chunk_ssd(**inputs, chunk_size=16, backend="triton")
    y_torch, ht_torch = ssd.chunk_ssd(**inputs, chunk_size=16, backend="torch")
    assert_close("y", y_torch, y_tri, 1e-5)
    assert_close("final_state", ht_torch, ht_tri, 1e-5)


@pytest.mark.parametrize("backend", ["torch", "triton"])
def test_state_update_dispatcher(backend: str) -> None:
    seed_everything(42)
    state = torch.randn(1, 4, 8, 8)
    x, dt, A = torch.randn(1, 4, 8), torch.rand(1, 4), -(torch.rand(4) + 0.5)
    args = (x, dt, A, torch.randn(1, 2, 8), torch.randn(1, 2, 8), torch.randn(4))
    y_ref, s_ref = naive_ssd_state_update(state, *args)
    target = state.clone()
    y, s = ssd.ssd_state_update(target, *args, backend=backend, inplace=True)  # type: ignore[arg-type]
    assert s.data_ptr() == target.data_ptr()
    assert_close("y", y_ref, y, 1e-6)
    assert_close("new_state", s_ref, target, 1e-6)


def test_auto_chunk_size_not_power_of_two_falls_back_to_torch() -> None:
    inputs = make_inputs(Case(B=1, T=30, H=4, G=1, P=8, N=8, Q=16))
    y, ht = ssd.chunk_ssd(**inputs, chunk_size=12)
    y_ref, ht_ref = naive_recurrent_ssd(**inputs)
    assert_close("y", y_ref, y, 1e-5)
    assert_close("final_state", ht_ref, ht, 1e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        Case(B=3, T=50, H=6, G=3, P=12, N=20, Q=32, use_D=True, use_h0=True, use_seq=True),
        Case(B=1, T=1, H=2, G=1, P=8, N=8, Q=16, use_D=True, use_h0=True),
        Case(B=2, T=17, H=3, G=1, P=5, N=3, Q=16, use_seq=True),
        Case(B=1, T=64, H=2, G=2, P=8, N=8, Q=64, use_D=True, use_seq=True),
    ],
    ids=lambda c: c.id,
)
def test_chunk_odd_shapes_forward_and_backward(case: Case) -> None:
    # non-power-of-two P and N, three groups, a single token, T equal to one chunk
    test_chunk_matches_naive_forward_and_backward(case)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        Case(B=2, T=257, H=4, G=2, P=16, N=32, Q=64, use_D=True, use_h0=True, use_seq=True),
        Case(B=1, T=130, H=8, G=1, P=32, N=16, Q=32, use_D=True),
    ],
    ids=lambda c: c.id,
)
def test_chunk_larger_shapes(case: Case) -> None:
    inputs = make_inputs(case)
    y, ht = chunk_ssd_triton(**inputs, chunk_size=case.Q)
    y_ref, ht_ref = naive_recurrent_ssd(**as_double(inputs))
    assert_close("y", y_ref, y, 1e-5)
    assert_close("final_state", ht_ref, ht, 1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not has_cuda(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_chunk_gpu_against_torch_chunk(dtype: torch.dtype) -> None:
    case = Case(B=2, T=1000, H=8, G=2, P=64, N=64, Q=64, use_D=True, use_h0=True, use_seq=True)
    inputs = {k: v.cuda() if v is not None else None for k, v in make_inputs(case, dtype=dtype).items()}
    y, ht = chunk_ssd_triton(**inputs, chunk_size=case.Q)
    y_ref, ht_ref = ssd.chunk_ssd_torch(**as_double(inputs), chunk_size=case.Q)
    # tf32 dots on fp32 and bf16 storage on bf16 bound the error
    ratio = 5e-3 if dtype == torch.float32 else 2e-2
    assert_close("y", y_ref, y, ratio)
    assert_close("final_state", ht_ref, ht, 5e-3)
