"""Overfit check (spec §9.8): can a baseline memorise a tiny training set?

Each model is trained full-batch on every training example of a few cases (e.g. 2 cases x 8 frames) until its NMSE on
those same examples falls below

    threshold = max(target, ratio * reference)

The NMSE is measured in eval mode (dropout off) after the BatchNorm statistics were recomputed on the set
(:func:`refresh_batchnorm`). ``reference`` is the NMSE of the trivial predictor: the identity ``u^{t+k} = u^t`` for
autoregressive models, the per-pixel mean of the training frames for the non-autoregressive ones (FFN, DeepONet). The
run stops at the threshold, after ``max_steps`` or when ``time_budget_s`` is spent, whichever comes first.

A model that cannot pass this on its own training data has a bug (wrong mask, wrong target channel, a broken
residual) long before it has a generalisation problem: the check is cheap enough to run before every long job.

Example::

    from cfdbench.data import load_cases
    from cfdbench.overfit import OverfitConfig, overfit

    cases = load_cases("data", "cavity_bc")[:2]
    result = overfit(OverfitConfig(model="fno", data_name="cavity_bc"), cases)
    print(result.reached, result.nmse, result.threshold, result.steps, result.seconds)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from cfdbench.config import OverfitConfig
from cfdbench.data import Case
from cfdbench.datasets import AutoDataset, NonAutoDataset
from cfdbench.metrics import MetricAccumulator
from cfdbench.models import build_model
from cfdbench.train import TrainConfig, _batch_loss, evaluate, make_dataset, make_model
from lc_core.logging import get_logger

__all__ = [
    "OVERFIT_LR",
    "OVERFIT_OVERRIDES",
    "OverfitConfig",
    "OverfitResult",
    "overfit",
    "reference_nmse",
    "refresh_batchnorm",
]

logger = get_logger(__name__)

# full-batch Adam rates that memorise fastest without diverging (measured on 2 generated cavity cases x 8 frames);
# ResNet's 7x7 residual stack diverges at 1e-3 with full batches
OVERFIT_LR: dict[str, float] = {
    "ffn": 1e-3,
    "deeponet": 3e-3,
    "auto_ffn": 1e-3,
    "auto_deeponet": 1e-3,
    "auto_edeeponet": 1e-3,
    "auto_deeponet_cnn": 3e-3,
    "resnet": 3e-4,
    "unet": 3e-3,
    "fno": 3e-3,
    "identity": 1e-3,
}
# regularisers work against memorisation: off for the check (the reference configs are otherwise unchanged)
OVERFIT_OVERRIDES: dict[str, dict[str, Any]] = {"resnet": {"dropout": 0.0}}


@dataclass(kw_only=True)
class OverfitResult:
    """What an overfit run reached; ``losses`` are the train-mode NMSE of every step."""

    model: str
    params: int
    examples: int
    reference: float
    threshold: float
    nmse: float
    reached: bool
    steps: int
    seconds: float
    losses: list[float]

    def row(self) -> dict[str, Any]:
        """A flat record for the results table (without the loss curve)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "losses"}


def _full_batch(ds: AutoDataset | NonAutoDataset) -> list[torch.Tensor]:
    return [torch.stack(parts) for parts in zip(*(ds[i] for i in range(len(ds))))]


@torch.no_grad()
def reference_nmse(ds: AutoDataset | NonAutoDataset) -> float:
    """NMSE (global, masked) of the trivial predictor on ``ds``: identity for one-step pairs, else the mean frame."""
    if isinstance(ds, AutoDataset):
        return float(evaluate(build_model("identity"), ds, batch_size=max(1, len(ds)))["all"]["global"]["nmse"])
    _, _, frames = _full_batch(ds)
    u, mask = frames[:, :1], frames[:, 2:3]
    mean = (u * mask).sum(0, keepdim=True) / mask.sum(0, keepdim=True).clamp_min(1)
    acc = MetricAccumulator()
    acc.update(mean.expand_as(u), u, mask)
    return float(acc.result("global")["nmse"])


@torch.no_grad()
def refresh_batchnorm(model: torch.nn.Module, batches: Iterable[Sequence[torch.Tensor]], forward: Callable[..., Any]) -> None:
    """Recompute every BatchNorm's running statistics as the exact average over ``batches`` ("precise BN").

    The running averages lag behind weights that change every step; on a tiny set memorised in a few hundred steps
    they are far from the batch statistics, so eval mode would score a different function than the one trained.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    was_training = model.training
    for m in bns:
        m.reset_running_stats()
        # momentum None = cumulative moving average, i.e. the plain mean over the batches seen
        m.momentum = None
    model.train()
    for batch in batches:
        forward(batch)
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    model.train(was_training)


def _train_nmse(model: torch.nn.Module, ds: AutoDataset | NonAutoDataset) -> float:
    return float(evaluate(model, ds, batch_size=max(1, len(ds)))["all"]["global"]["nmse"])


def overfit(cfg: OverfitConfig, cases: list[Case]) -> OverfitResult:
    """Train ``cfg.model`` full-batch on all examples of ``cases`` until it memorises them (see the module doc)."""
    delta_time = cfg.delta_time if cfg.delta_time is not None else cases[0].data_dt
    tcfg = TrainConfig(
        model=cfg.model,
        data_name=cfg.data_name,
        delta_time=delta_time,
        lr=cfg.lr,
        seed=cfg.seed,
        model_kwargs=dict(cfg.model_kwargs),
    )
    torch.manual_seed(cfg.seed)
    model = make_model(tcfg)
    ds = make_dataset(tcfg, cases)
    if len(ds) == 0:
        raise ValueError(f"{cfg.data_name}: no training examples in {len(cases)} cases")
    batch = _full_batch(ds)
    if cfg.num_query_points <= 0 and isinstance(ds, NonAutoDataset):
        tcfg.num_query_points = batch[2].shape[-2] * batch[2].shape[-1]
    elif cfg.num_query_points > 0:
        tcfg.num_query_points = cfg.num_query_points
    reference = reference_nmse(ds)
    threshold = max(cfg.target, cfg.ratio * reference)
    params = list(model.parameters())
    result = OverfitResult(
        model=cfg.model,
        params=sum(p.numel() for p in params),
        examples=len(ds),
        reference=reference,
        threshold=threshold,
        nmse=_train_nmse(model, ds),
        reached=False,
        steps=0,
        seconds=0.0,
        losses=[],
    )
    if not params or result.nmse <= threshold:
        result.reached = result.nmse <= threshold
        return result
    opt = torch.optim.Adam(params, lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.train()
    t0 = time.perf_counter()
    bar = tqdm(total=cfg.max_steps, desc=f"overfit {cfg.model}", leave=False)
    while result.steps < cfg.max_steps and time.perf_counter() - t0 < cfg.time_budget_s:
        loss = _batch_loss(model, batch, tcfg, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        result.losses.append(float(loss.detach()))
        result.steps += 1
        bar.update()
        if result.steps % cfg.check_every == 0 or result.steps == cfg.max_steps:
            refresh_batchnorm(model, [batch], lambda b: _batch_loss(model, b, tcfg, gen))
            result.nmse = _train_nmse(model, ds)
            bar.set_postfix(nmse=f"{result.nmse:.3g}", goal=f"{threshold:.3g}")
            if result.nmse <= threshold:
                result.reached = True
                break
    bar.close()
    result.seconds = time.perf_counter() - t0
    if not result.reached:
        refresh_batchnorm(model, [batch], lambda b: _batch_loss(model, b, tcfg, gen))
        result.nmse = _train_nmse(model, ds)
        result.reached = result.nmse <= threshold
    model.eval()
    logger.info(
        "%s: nmse %.3g (goal %.3g, reference %.3g) after %d steps in %.1f s",
        cfg.model,
        result.nmse,
        threshold,
        reference,
        result.steps,
        result.seconds,
    )
    return result
