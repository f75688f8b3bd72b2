"""Training, checkpoints, resume and test scores on tiny data (spec §3.2, §9.8, §9.9)."""

from __future__ import annotations

import json

import pytest
import torch

from cfdbench.data import load_cases
from cfdbench.datasets import AutoDataset
from cfdbench.models import MODELS
from cfdbench.train import TrainConfig, Trainer, best_checkpoint, evaluate, load_run, run_test, run_training

TINY = {
    "ffn": {"hidden": 16, "depth": 2},
    "deeponet": {"hidden": 16, "branch_depth": 2, "trunk_depth": 2},
    "auto_ffn": {"hidden": 16, "depth": 2},
    "auto_deeponet": {"hidden": 16, "branch_depth": 2, "trunk_depth": 2},
    "auto_edeeponet": {"hidden": 16, "depth": 2},
    "auto_deeponet_cnn": {"channels": 4, "trunk_width": 8, "head_width": 16},
    "resnet": {"depth": 1, "block_hidden": 8},
    "unet": {"dim": 4},
    "fno": {"hidden": 8, "modes_x": 4, "modes_y": 4, "projection": 16},
    "identity": {},
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_baseline_trains_on_generated_data(generated_cavity, tmp_path, model):
    cfg = TrainConfig(
        model=model,
        data_name="cavity_bc",
        data_dir=str(generated_cavity),
        run_dir=str(tmp_path / model),
        num_epochs=2,
        eval_interval=1,
        batch_size=4,
        eval_batch_size=4,
        delta_time=1e-3,
        num_query_points=64,
        model_kwargs=TINY[model],
    )
    out = run_training(cfg)
    assert (out / "args.json").is_file()
    ckpts = sorted(out.glob("ckpt-*/model.pt"))
    assert ckpts, "no checkpoint written"
    dev = json.loads((ckpts[-1].parent / "dev_scores.json").read_text())
    assert set(dev["all"]["batch_mean"]) == {"mse", "rmse", "mae", "nmse"}
    rec = run_test(out)
    written = sorted((out / "test").glob("results_*.json"))
    assert [str(w) for w in written] == [rec["results"]] and written[0].with_suffix(".md").is_file()
    assert json.loads(written[0].read_text())["manifest"]["config"]["model"] == model
    assert torch.isfinite(torch.tensor(rec["scores"]["all"]["batch_mean"]["nmse"]))


@pytest.mark.parametrize("model", ["fno", "unet", "resnet"])
def test_loss_strictly_decreases(make_dataset, tmp_path, model):
    root = make_dataset("cavity", ("bc",), n=2, t=8)
    cases = load_cases(root, "cavity_bc")
    # dropout off so that full-batch steps are deterministic descent steps
    kwargs = {**TINY[model], "dropout": 0.0, "kernel_size": 3, "padding": 1} if model == "resnet" else TINY[model]
    cfg = TrainConfig(
        model=model,
        data_name="cavity_bc",
        run_dir=str(tmp_path),
        num_epochs=5,
        eval_interval=100,
        batch_size=64,
        lr=2e-4,
        delta_time=0.1,
        model_kwargs=kwargs,
        resume=False,
    )
    tr = Trainer(cfg, cases, cases)
    tr.train()
    # one full batch per epoch
    assert len(tr.losses) == 5
    assert all(b < a for a, b in zip(tr.losses, tr.losses[1:])), tr.losses


def test_best_checkpoint_and_resume(make_dataset, tmp_path):
    root = make_dataset("cavity", ("bc",), n=4, t=6)
    base = {
        "model": "fno",
        "data_name": "cavity_bc",
        "data_dir": str(root),
        "run_dir": str(tmp_path / "run"),
        "eval_interval": 1,
        "batch_size": 8,
        "model_kwargs": TINY["fno"],
    }
    run_training(TrainConfig(num_epochs=2, **base))
    for i, nmse in ((1, 0.5), (2, 0.1)):
        f = tmp_path / "run" / f"ckpt-{i}" / "dev_scores.json"
        d = json.loads(f.read_text())
        d["all"]["batch_mean"]["nmse"] = nmse
        f.write_text(json.dumps(d))
    assert best_checkpoint(tmp_path / "run").name == "ckpt-2"
    # resuming continues at epoch 2 and only adds epochs 3 and 4
    tr = Trainer(TrainConfig(num_epochs=4, **base), *load_split(root)[:2])
    tr.train()
    assert tr.start_epoch == 2
    assert sorted(p.name for p in (tmp_path / "run").glob("ckpt-*")) == ["ckpt-1", "ckpt-2", "ckpt-3", "ckpt-4"]
    _, model = load_run(tmp_path / "run")
    assert not model.training


def load_split(root):
    from cfdbench.data import load_split_cases

    return load_split_cases(root, "cavity_bc")


def test_identity_reported(make_dataset):
    root = make_dataset("cavity", ("bc",), n=2, t=4)
    ds = AutoDataset(load_cases(root, "cavity_bc"), k=1, steady_cut=False)
    from cfdbench.models import build_model

    scores = evaluate(build_model("identity"), ds, batch_size=1)
    assert scores["u"]["batch_mean"]["nmse"] > 0
    assert scores["num_examples"] == 6
