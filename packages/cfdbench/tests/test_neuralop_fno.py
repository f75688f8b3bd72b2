"""neuraloperator FNO cross-check: ported weights reproduce our reference FNO (spec §3.1, §7, §10).

Run: ``.venv/bin/python -m pytest packages/cfdbench/tests/test_neuralop_fno.py -q`` (needs ``cfdbench[neuralop]``).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cfdbench.data import load_cases
from cfdbench.models import build_model, count_params
from cfdbench.models.fno import SpectralConv2d
from cfdbench.train import TrainConfig, Trainer
from lc_core.testing import assert_close

neuralop = pytest.importorskip("neuralop")

from cfdbench.models.neuralop_fno import (  # noqa: E402
    NeuralopFno,
    NeuralopFnoConfig,
    fno_input,
    reference_forward,
    to_neuralop,
)

# spec §3 table: the reference FNO (hidden 32, modes 12x12, depth 4) for p = 5 and p = 8
REFERENCE_PARAMS = {5: 1_188_706, 8: 1_188_802}
TINY = {"hidden": 8, "modes_x": 4, "modes_y": 4, "projection": 16}


def _batch(h: int, w: int, p: int = 5, b: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.randn(b, 2, h, w)
    params = torch.randn(b, p)
    mask = torch.ones(b, 1, h, w)
    mask[:, :, h // 3 : h // 2, w // 4 : w // 3] = 0
    return x, params, mask


def _reference_fno(h: int, w: int, p: int = 5) -> torch.nn.Module:
    ref = build_model("fno", n_params=p, height=h, width=w)
    # the reference init scales spectral weights by 1/(C_in C_out), which makes the spectral path ~1e-3 of the 1x1
    # bypass; larger weights make the comparison sensitive to the Fourier mode layout, which is what is checked here
    with torch.no_grad():
        for spec in ref.spectral:
            spec.weights1.mul_(300.0)
            spec.weights2.mul_(300.0)
    return ref


@pytest.mark.parametrize(("h", "w"), [(64, 64), (66, 65)], ids=["64x64", "66x65"])
def test_ported_weights_match_outputs_and_gradients(h, w):
    torch.manual_seed(0)
    ref = _reference_fno(h, w)
    nop = NeuralopFno.from_reference(ref)
    x, p, mask = _batch(h, w)
    out_ref = ref(x, p, mask)
    out_nop = nop(x, p, mask)
    assert_close(f"{h}x{w} output", out_ref, out_nop, 1e-5)
    assert (out_nop[mask.expand_as(out_nop) == 0] == 0).all()

    target = torch.randn_like(out_ref)
    F.mse_loss(out_ref, target).backward()
    F.mse_loss(out_nop, target).backward()
    fno = nop.fno
    pairs = [
        ("lift.weight", ref.lift.weight.grad[..., 0], fno.lifting.fcs[0].weight.grad),
        ("proj1.weight", ref.proj1.weight.grad[..., 0], fno.projection.fcs[0].weight.grad),
        ("proj2.weight", ref.proj2.weight.grad[..., 0], fno.projection.fcs[1].weight.grad),
    ]
    for i, (spec, byp, conv, skip) in enumerate(zip(ref.spectral, ref.bypass, fno.fno_blocks.convs, fno.fno_blocks.fno_skips)):
        # fft-shifted row order: negative frequencies (our second corner block) first
        ours = torch.cat([spec.weights2.grad, spec.weights1.grad], dim=2)
        pairs.append((f"spectral{i}", torch.view_as_real(ours), torch.view_as_real(conv.weight.tensor.grad)))
        pairs.append((f"bypass{i}.weight", byp.weight.grad[..., 0], skip.conv.weight.grad))
        pairs.append((f"bypass{i}.bias", byp.bias.grad, conv.bias.grad.flatten()))
    for name, g_ref, g_nop in pairs:
        assert_close(f"{h}x{w} grad {name}", g_ref, g_nop, 1e-5)


def test_to_neuralop_is_a_stock_fno_with_reference_forward():
    torch.manual_seed(0)
    ref = _reference_fno(64, 64).eval()
    fno = to_neuralop(ref)
    assert isinstance(fno, neuralop.models.FNO) and not fno.training
    x, p, mask = _batch(64, 64)
    with torch.no_grad():
        assert_close("reference_forward", ref(x, p, mask), reference_forward(fno, fno_input(x, p, mask)) * mask, 1e-5)
        # the ported weights are copies: changing the FNO leaves our model alone
        fno.lifting.fcs[0].bias.add_(1.0)
    assert not torch.equal(fno.lifting.fcs[0].bias, ref.lift.bias)


def test_stock_forward_applies_two_activations_between_layers():
    """``activations="neuralop"`` (neuraloperator issue #728): ``act(act(.))`` between layers, none after the last."""
    torch.manual_seed(0)
    m = NeuralopFno(NeuralopFnoConfig(activations="neuralop", **TINY)).eval()
    x, p, mask = _batch(24, 20)
    fno = m.fno
    h = fno.lifting(fno_input(x, p, mask))
    n = len(fno.fno_blocks.convs)
    for i, (conv, skip) in enumerate(zip(fno.fno_blocks.convs, fno.fno_blocks.fno_skips)):
        h = conv(h) + skip(h)
        if i < n - 1:
            h = F.gelu(F.gelu(h))
    with torch.no_grad():
        assert_close("stock forward", fno.projection(h) * mask, m(x, p, mask), 1e-6)


def test_odd_height_shifts_neuralop_row_frequencies():
    """The documented limit: for odd H neuraloperator 2.0 fft-shifts twice, so a constant input comes back oscillating."""
    from neuralop.layers.spectral_convolution import SpectralConv

    torch.manual_seed(0)
    ours = SpectralConv2d(2, 2, 4, 4)
    theirs = SpectralConv(2, 2, (8, 6), bias=False)
    with torch.no_grad():
        theirs.weight.tensor.copy_(torch.cat([ours.weights2, ours.weights1], dim=2))
    for h, w in ((16, 15), (15, 16)):
        x = torch.ones(1, 2, h, w)
        a, b = ours(x), theirs(x)
        # ours maps a constant to a constant (frequency (0, 0) only)
        assert torch.allclose(a, a[..., :1, :1].expand_as(a), atol=1e-6)
        if h % 2 == 0:
            assert_close(f"{h}x{w}", a, b, 1e-5)
        else:
            assert torch.fft.fft(b[0, 0, :, 0]).abs().argmax() != 0


@pytest.mark.parametrize("p", [5, 8], ids=["p5", "p8"])
@pytest.mark.parametrize("activations", ["reference", "neuralop"])
def test_parameter_count_equals_reference(p, activations):
    m = build_model("neuralop_fno", n_params=p, activations=activations)
    assert count_params(m) == REFERENCE_PARAMS[p] == count_params(build_model("fno", n_params=p))


def test_config_errors():
    with pytest.raises(ValueError, match="activations"):
        NeuralopFno(NeuralopFnoConfig(activations="relu", **TINY))
    with pytest.raises(ValueError, match="may not set"):
        NeuralopFno(NeuralopFnoConfig(fno_kwargs={"n_modes": (4, 4)}, **TINY))
    with pytest.raises(ValueError, match="block structure"):
        NeuralopFno(NeuralopFnoConfig(fno_kwargs={"use_channel_mlp": True}, **TINY))


def test_projection_width_is_exact_for_any_ratio():
    # 15 / 11 * 11 rounds to 14.999..., which a plain ratio would truncate to 14
    m = NeuralopFno(NeuralopFnoConfig(hidden=11, projection=15, modes_x=4, modes_y=4))
    assert m.fno.projection.fcs[0].weight.shape[0] == 15


def test_tucker_factorised_spectral_weights_run_with_reference_activations():
    m = NeuralopFno(NeuralopFnoConfig(fno_kwargs={"factorization": "tucker", "rank": 0.2}, **TINY))
    x, p, mask = _batch(24, 20)
    out = m(x, p, mask)
    assert out.shape == (2, 2, 24, 20) and torch.isfinite(out).all()
    assert count_params(m) < count_params(NeuralopFno(NeuralopFnoConfig(**TINY)))


def test_missing_extra_names_the_install_command(monkeypatch):
    import cfdbench.models as models

    monkeypatch.setattr(models, "EXTRA_MODELS", {})
    with pytest.raises(ImportError, match=r'pip install "cfdbench\[neuralop\]"'):
        build_model("neuralop_fno")


def test_trains_through_trainer(make_dataset, tmp_path):
    root = make_dataset("cavity", ("bc",), n=2, t=6)
    cases = load_cases(root, "cavity_bc")
    cfg = TrainConfig(
        model="neuralop_fno",
        data_name="cavity_bc",
        run_dir=str(tmp_path / "run"),
        num_epochs=4,
        eval_interval=4,
        batch_size=64,
        eval_batch_size=16,
        lr=1e-3,
        model_kwargs=TINY,
        resume=False,
    )
    tr = Trainer(cfg, cases, cases)
    assert isinstance(tr.model, NeuralopFno)
    out = tr.train()
    assert len(tr.losses) == 4 and all(map(torch.isfinite, torch.tensor(tr.losses)))
    assert tr.losses[-1] < tr.losses[0], tr.losses
    state = torch.load(out / "ckpt-4" / "model.pt", weights_only=True)
    fresh = build_model("neuralop_fno", **TINY)
    fresh.load_state_dict(state)
    x, p, mask = _batch(64, 64)
    with torch.no_grad():
        assert torch.equal(fresh.eval()(x, p, mask), tr.model.eval()(x, p, mask))
