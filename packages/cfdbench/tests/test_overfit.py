"""Overfit check (spec §9.8): every baseline memorises 2 solver-generated cavity cases x 8 frames (64x64)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cfdbench.cli import main
from cfdbench.data import load_cases
from cfdbench.datasets import AutoDataset, NonAutoDataset
from cfdbench.models import MODELS
from cfdbench.overfit import OVERFIT_LR, OVERFIT_OVERRIDES, OverfitConfig, overfit, reference_nmse, refresh_batchnorm

BASELINES = [m for m in MODELS if m != "identity"]
# reach max(1e-3, 0.1 x identity) at small widths within a few hundred full-batch steps (a few seconds each)
FAST_MEMORISERS = {"auto_deeponet": 400, "auto_edeeponet": 400, "auto_ffn": 400, "fno": 300}
# memorise at the reference sizes within the 2-minute budget on a 2-core CPU (measured, see the README table)
REFERENCE_MEMORISERS = ("auto_deeponet", "auto_edeeponet", "auto_ffn", "fno", "unet")
# the residual MLP models start at the identity, where NMSE is flat: Adam's sign-like steps need a smaller rate there
DESCENT_LR = {"auto_ffn": 1e-5, "auto_deeponet": 1e-5, "auto_edeeponet": 1e-5, "auto_deeponet_cnn": 1e-5}

# small widths so that the default suite stays fast; the reference sizes run in the slow test below
SMALL = {
    "ffn": {"hidden": 32, "depth": 4},
    "deeponet": {"hidden": 32, "branch_depth": 3, "trunk_depth": 3},
    "auto_ffn": {"hidden": 32, "depth": 3},
    "auto_deeponet": {"hidden": 32, "branch_depth": 3, "trunk_depth": 3},
    "auto_edeeponet": {"hidden": 32, "depth": 3},
    "auto_deeponet_cnn": {"channels": 8, "trunk_width": 16, "head_width": 32},
    "resnet": {"depth": 1, "block_hidden": 16},
    "unet": {"dim": 4},
    "fno": {"hidden": 16, "modes_x": 8, "modes_y": 8, "projection": 32},
}


@pytest.fixture(scope="module")
def two_cases(generated_cavity):
    """The first 2 cases x 8 frames of the solver-generated cavity subset (64x64 frames)."""
    cases = load_cases(generated_cavity, "cavity_bc")[:2]
    assert [c.u.shape for c in cases] == [(8, 64, 64)] * 2
    return cases


def _config(model: str, **kw) -> OverfitConfig:
    kwargs = {**OVERFIT_OVERRIDES.get(model, {}), **kw.pop("model_kwargs", {})}
    kw.setdefault("lr", OVERFIT_LR[model])
    return OverfitConfig(model=model, model_kwargs=kwargs, **kw)


@pytest.mark.parametrize("model", sorted(FAST_MEMORISERS))
def test_small_baseline_memorises_two_cases(two_cases, model):
    cfg = _config(model, model_kwargs=SMALL[model], max_steps=FAST_MEMORISERS[model], time_budget_s=1e9)
    res = overfit(cfg, two_cases)
    assert res.examples == 14
    assert res.reached, res.row()
    assert res.nmse <= max(1e-3, 0.1 * res.reference)


@pytest.mark.parametrize("model", BASELINES)
def test_loss_strictly_decreases_over_the_first_steps(two_cases, model):
    # full batch, every query pixel and no dropout: Adam's first steps at a small rate must be descent steps
    cfg = _config(
        model,
        model_kwargs=SMALL[model],
        lr=DESCENT_LR.get(model, 1e-4),
        max_steps=5,
        target=0.0,
        ratio=0.0,
        num_query_points=0,
    )
    res = overfit(cfg, two_cases)
    assert len(res.losses) == 5
    assert all(b < a for a, b in zip(res.losses, res.losses[1:])), res.losses


@pytest.mark.slow
@pytest.mark.parametrize("model", REFERENCE_MEMORISERS)
def test_reference_baseline_memorises_within_300_steps(two_cases, model):
    # a step budget, not the 2-minute one: tests check behaviour, and wall time depends on the machine's load
    # (the README table records the times: 3-89 s on 2 cores, 100-175 steps)
    torch.set_num_threads(2)
    res = overfit(_config(model, time_budget_s=1e9, max_steps=300, num_query_points=0), two_cases)
    assert res.reached, res.row()


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(set(BASELINES) - set(REFERENCE_MEMORISERS)))
def test_slow_learner_descends_at_small_width(two_cases, model):
    # compute-bound on a CPU at full size (< 80 steps in 2 min); with a step budget they must learn
    res = overfit(_config(model, model_kwargs=SMALL[model], max_steps=500, time_budget_s=1e9), two_cases)
    if model == "deeponet":
        # measured: 19.2 -> 0.62, still above the mean-frame predictor (0.19); see the README
        assert res.nmse < 0.1 * res.losses[0], res.row()
    else:
        assert res.nmse < res.reference, res.row()


def test_reference_is_identity_for_pairs_and_mean_frame_for_fields(two_cases):
    pairs = AutoDataset(two_cases, k=1)
    truth = np.mean([np.mean((c.u[1:] - c.u[:-1]) ** 2 + (c.v[1:] - c.v[:-1]) ** 2) for c in two_cases])
    denom = np.mean([np.mean(c.u[1:] ** 2 + c.v[1:] ** 2) for c in two_cases])
    assert reference_nmse(pairs) == pytest.approx(truth / denom, rel=1e-4)
    fields = NonAutoDataset(two_cases)
    u = np.concatenate([c.u for c in two_cases])
    assert reference_nmse(fields) == pytest.approx(np.mean((u - u.mean(0)) ** 2) / np.mean(u**2), rel=1e-4)


def test_identity_and_untrained_models_do_not_pass(two_cases):
    # the check can fail: a model without parameters stays at the reference, ten times above the goal
    res = overfit(OverfitConfig(model="identity"), two_cases)
    assert not res.reached and res.steps == 0
    assert res.nmse == pytest.approx(res.reference)
    res = overfit(_config("fno", model_kwargs=SMALL["fno"], max_steps=3, check_every=1), two_cases)
    assert not res.reached and res.steps == 3


def test_time_budget_stops_the_run(two_cases):
    res = overfit(_config("fno", model_kwargs=SMALL["fno"], time_budget_s=0.0, max_steps=1000), two_cases)
    assert res.steps == 0 and not res.reached


def test_refresh_batchnorm_matches_train_mode_statistics():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    x = torch.randn(6, 2, 8, 8) * 3 + 1
    with torch.no_grad():
        net.train()
        train_out = net(x)
        refresh_batchnorm(net, [x], net)
        net.eval()
        eval_out = net(x)
    bn = net[1]
    assert bn.momentum == 0.1 and not net.training
    # eval normalises by the unbiased variance the running estimate stores; n = 6*6*6 values per channel
    torch.testing.assert_close(eval_out, train_out, rtol=0, atol=2e-2)
    torch.testing.assert_close(bn.running_mean, net[0](x).mean(dim=(0, 2, 3)))


def test_cli_overfit_writes_table(generated_cavity, tmp_path, capsys):
    out = tmp_path / "overfit"
    rc = main(
        [
            "overfit",
            "--data-dir",
            str(generated_cavity),
            "--data",
            "cavity_bc",
            "--models",
            "auto_deeponet",
            "--steps",
            "2",
            "--out",
            str(out),
        ]
    )
    found = sorted((out / "cavity_bc").glob("results_*.json"))
    assert len(found) == 1 and found[0].with_suffix(".md").is_file()
    rows = json.loads(found[0].read_text())["rows"]
    assert [r["model"] for r in rows] == ["auto_deeponet"]
    assert rows[0]["steps"] == 2 and rows[0]["examples"] == 14
    assert rc == (0 if rows[0]["reached"] else 1)
    assert "| auto_deeponet |" in capsys.readouterr().out
