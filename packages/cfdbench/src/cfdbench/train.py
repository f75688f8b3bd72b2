"""Training and evaluation (spec §3.2): Adam, StepLR per epoch, NMSE loss, periodic dev eval, best-by-dev checkpoint,
resume after a crash, test scores as JSON + Markdown.

Output layout (per run)::

    out/args.json
    out/ckpt-{epoch}/model.pt          # state_dict (safe to load with weights_only=True)
    out/ckpt-{epoch}/dev_scores.json
    out/ckpt-{epoch}/train_state.pt    # optimiser + scheduler + epoch, for --resume
    out/test/results_{timestamp}.{json,md}   # run_test, through lc_core.report.emit (one file per test run)

Example::

    from cfdbench.train import TrainConfig, run_training

    cfg = TrainConfig(model="fno", data_name="cavity_bc", data_dir="data", num_epochs=10)
    out_dir = run_training(cfg)
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from cfdbench.config import TrainConfig
from cfdbench.data import Case, frame_shape, load_split_cases, n_params, parse_data_name
from cfdbench.datasets import AutoDataset, NonAutoDataset
from cfdbench.metrics import METRICS, MetricAccumulator, nmse_loss
from cfdbench.models import build_model
from lc_core.io import atomic_write_json, config_from_dict, read_json_object
from lc_core.logging import get_logger
from lc_core.report import emit, markdown_table

__all__ = ["TrainConfig", "Trainer", "run_training", "run_test", "evaluate", "best_checkpoint", "output_dir_for"]

logger = get_logger(__name__)


def output_dir_for(cfg: TrainConfig) -> Path:
    """``{output_dir}/{auto|non-auto}/{data_name}/dt{delta_time}/{model}`` (the original's layout, minus the hparam tag)."""
    if cfg.run_dir:
        return Path(cfg.run_dir)
    task = "auto" if cfg.task == "auto" else "non-auto"
    return Path(cfg.output_dir) / task / cfg.data_name / f"dt{cfg.delta_time}" / cfg.model


def make_model(cfg: TrainConfig) -> torch.nn.Module:
    """Build the configured model for the data's frame shape and parameter count."""
    problem, _ = parse_data_name(cfg.data_name)
    h, w = frame_shape(problem, cfg.encoding)
    return build_model(cfg.model, n_params=n_params(problem), height=h, width=w, **cfg.model_kwargs)


def make_dataset(cfg: TrainConfig, cases: list[Case]) -> AutoDataset | NonAutoDataset:
    """The split's dataset for the configured task."""
    if cfg.task == "nonauto":
        return NonAutoDataset(cases, encoding=cfg.encoding, normalize=cfg.normalize)
    return AutoDataset(cases, delta_time=cfg.delta_time, encoding=cfg.encoding, normalize=cfg.normalize)


def _batch_loss(
    model: torch.nn.Module, batch: tuple[torch.Tensor, ...], cfg: TrainConfig, gen: torch.Generator
) -> torch.Tensor:
    if cfg.task == "nonauto":
        params, t, frame = batch
        h, w = frame.shape[-2:]
        # the same random query pixels for every example of the batch, as the original
        flat = torch.randint(0, h * w, (cfg.num_query_points,), generator=gen).to(frame.device)
        q = torch.stack([flat // w, flat % w], dim=1).float()
        preds = model(params, t, q)
        label = frame[:, 0].reshape(frame.shape[0], -1)[:, flat]
        keep = frame[:, 2].reshape(frame.shape[0], -1)[:, flat]
        return nmse_loss(preds, label, keep)
    inputs, label, mask, params = batch
    preds = model(inputs, params, mask)
    return nmse_loss(preds, label[:, : preds.shape[1]], mask)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, dataset: AutoDataset | NonAutoDataset, *, batch_size: int = 1, device: str = "cpu"
) -> dict[str, Any]:
    """Scores of ``model`` on ``dataset``: overall and per channel, ``batch_mean`` and ``global`` aggregation."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    accs: dict[str, MetricAccumulator] = {}
    for batch in tqdm(loader, desc="eval", leave=False, disable=len(loader) < 20):
        batch = [b.to(device) for b in batch]
        if isinstance(dataset, NonAutoDataset):
            params, t, frame = batch
            preds = model.generate_one(params, t, frame.shape[-2], frame.shape[-1])
            label, mask = frame[:, :1], frame[:, 2:3]
        else:
            inputs, label, mask, params = batch
            preds = model(inputs, params, mask)
            label = label[:, : preds.shape[1]]
        accs.setdefault("all", MetricAccumulator()).update(preds, label, mask)
        for c, name in zip(range(preds.shape[1]), ("u", "v")):
            accs.setdefault(name, MetricAccumulator()).update(preds[:, c : c + 1], label[:, c : c + 1], mask)
    model.train()
    out: dict[str, Any] = {"num_examples": len(dataset)}
    # an empty split (e.g. 3 cases -> 0 dev cases) still yields a well-formed record with NaN scores
    accs.setdefault("all", MetricAccumulator())
    for key, acc in accs.items():
        out[key] = {"batch_mean": acc.result("batch_mean"), "global": acc.result("global")}
    return out


def best_checkpoint(run_dir: str | Path) -> Path:
    """The ``ckpt-*`` folder with the lowest dev NMSE (batch mean over all predicted channels).

    Without finite dev scores (an empty dev split) the newest checkpoint is returned.
    """
    best, best_nmse, newest = None, math.inf, None
    for d in sorted(Path(run_dir).glob("ckpt-*"), key=lambda p: int(p.name[5:])):
        f = d / "dev_scores.json"
        if not f.is_file() or not (d / "model.pt").is_file():
            continue
        newest = d
        nmse = json.loads(f.read_text())["all"]["batch_mean"]["nmse"]
        if nmse < best_nmse:
            best, best_nmse = d, nmse
    best = best or newest
    if best is None:
        raise FileNotFoundError(f"{run_dir}: no ckpt-*/model.pt with dev_scores.json")
    return best


class Trainer:
    """Runs one training job described by a :class:`TrainConfig` on pre-split cases."""

    def __init__(self, cfg: TrainConfig, train_cases: list[Case], dev_cases: list[Case]):
        self.cfg = cfg
        self.out = output_dir_for(cfg)
        torch.manual_seed(cfg.seed)
        self.model = make_model(cfg).to(cfg.device)
        self.train_ds = make_dataset(cfg, train_cases)
        self.dev_ds = make_dataset(cfg, dev_cases)
        if len(self.train_ds) == 0:
            raise ValueError(f"{cfg.data_name}: the training split has no examples (too few cases or frames)")
        params = list(self.model.parameters()) or [torch.nn.Parameter(torch.zeros(1))]
        self.opt = torch.optim.Adam(params, lr=cfg.lr)
        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=cfg.lr_step_size, gamma=cfg.lr_gamma)
        self.start_epoch = 0
        self.losses: list[float] = []

    def _resume(self) -> None:
        states = sorted(self.out.glob("ckpt-*/train_state.pt"), key=lambda p: int(p.parent.name[5:]))
        if not states:
            return
        st = torch.load(states[-1], map_location=self.cfg.device, weights_only=True)
        self.model.load_state_dict(torch.load(states[-1].parent / "model.pt", map_location=self.cfg.device, weights_only=True))
        self.opt.load_state_dict(st["optimizer"])
        self.sched.load_state_dict(st["scheduler"])
        self.start_epoch = int(st["epoch"])
        torch.set_rng_state(st["rng"])
        logger.info("resumed from %s (epoch %d)", states[-1].parent, self.start_epoch)

    def _save(self, epoch: int, dev_scores: dict[str, Any]) -> None:
        d = self.out / f"ckpt-{epoch}"
        tmp = self.out / f".ckpt-{epoch}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        torch.save(self.model.state_dict(), tmp / "model.pt")
        torch.save(
            {
                "optimizer": self.opt.state_dict(),
                "scheduler": self.sched.state_dict(),
                "epoch": epoch,
                "rng": torch.get_rng_state(),
            },
            tmp / "train_state.pt",
        )
        atomic_write_json(tmp / "dev_scores.json", dev_scores)
        # rename the complete folder into place so a crash never leaves a half-written checkpoint
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)

    def train(self) -> Path:
        """Train, evaluating and checkpointing every ``eval_interval`` epochs; returns the run folder."""
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.out / "args.json", {**dataclasses.asdict(cfg), "task": cfg.task})
        if cfg.resume:
            self._resume()
        if self.start_epoch == 0 and not any(True for _ in self.model.parameters()):
            self._save(0, evaluate(self.model, self.dev_ds, batch_size=cfg.eval_batch_size, device=cfg.device))
            return self.out
        gen = torch.Generator().manual_seed(cfg.seed)
        loader = DataLoader(self.train_ds, batch_size=cfg.batch_size, shuffle=True, generator=gen)
        self.model.train()
        for epoch in tqdm(
            range(self.start_epoch, cfg.num_epochs), desc="epochs", initial=self.start_epoch, total=cfg.num_epochs
        ):
            for batch in loader:
                batch = [b.to(cfg.device) for b in batch]
                loss = _batch_loss(self.model, batch, cfg, gen)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                self.losses.append(float(loss.detach()))
            self.sched.step()
            ep = epoch + 1
            if ep % cfg.eval_interval == 0 or ep == cfg.num_epochs:
                dev = evaluate(self.model, self.dev_ds, batch_size=cfg.eval_batch_size, device=cfg.device)
                logger.info("epoch %d: train loss %.4g, dev nmse %.4g", ep, self.losses[-1], dev["all"]["batch_mean"]["nmse"])
                self._save(ep, dev)
        return self.out


def run_training(cfg: TrainConfig) -> Path:
    """Load and split ``cfg.data_name`` from ``cfg.data_dir`` and train; returns the run folder."""
    train, dev, _ = load_split_cases(cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    return Trainer(cfg, train, dev).train()


def load_run(
    run_dir: str | Path, *, ckpt: str | Path | None = None, device: str = "cpu"
) -> tuple[TrainConfig, torch.nn.Module]:
    """Rebuild a run's config and model with weights from ``ckpt`` (default: the best by dev NMSE)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run folder")
    path = run_dir / "args.json"
    args = read_json_object(path, what="args.json (is this a training run folder?)")
    args.pop("task", None)
    cfg = config_from_dict(TrainConfig, args, path=path, what="training argument")
    cfg.device = device
    model = make_model(cfg).to(device)
    ckpt_dir = Path(ckpt) if ckpt else best_checkpoint(run_dir)
    model.load_state_dict(torch.load(ckpt_dir / "model.pt", map_location=device, weights_only=True))
    model.eval()
    return cfg, model


def run_test(
    run_dir: str | Path,
    *,
    data_dir: str | None = None,
    device: str = "cpu",
    out: str | Path | None = None,
    run_name: str = "test",
) -> dict[str, Any]:
    """Score the best checkpoint on the test split (batch size 1, as the original).

    Writes ``<out>/<run_name>/results_<timestamp>.{json,md}`` (:func:`lc_core.report.emit`; ``out`` defaults to
    the run folder, so a run's test scores sit in ``<run_dir>/test/``).

    Returns:
        The record written: ``ckpt``, ``scores`` (overall and per channel, both aggregations), ``manifest`` and the
        path of the JSON file under ``results``.
    """
    cfg, model = load_run(run_dir, device=device)
    _, _, test = load_split_cases(data_dir or cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    ds = make_dataset(cfg, test)
    scores = evaluate(model, ds, batch_size=1, device=device)
    record: dict[str, Any] = {"ckpt": str(best_checkpoint(run_dir)), "scores": scores}
    rows = [
        {"model": cfg.model, "data": cfg.data_name, "channel": ch, **{m: scores[ch]["batch_mean"][m] for m in METRICS}}
        for ch in ("all", "u", "v")
        if ch in scores
    ]
    written = emit(
        run_dir if out is None else out,
        run_name,
        record,
        markdown_table(rows, precision=7),
        config=dataclasses.asdict(cfg),
        packages=["cfdbench"],
    )
    return {**record, "results": str(written.json)}
