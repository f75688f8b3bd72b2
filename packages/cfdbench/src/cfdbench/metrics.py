"""Metrics: MSE, RMSE, MAE and NMSE (= MSE / mean(label^2), not the variance), masked, per channel, two aggregations.

The original computes scores per batch and averages over batches (test batch size 1 → mean over frames); that is
``aggregate="batch_mean"`` here. ``aggregate="global"`` pools all elements first (ratio of means).

Example::

    from cfdbench.metrics import compute_metrics

    scores = compute_metrics(preds, labels, mask=mask)   # {"mse": ..., "rmse": ..., "mae": ..., "nmse": ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

__all__ = ["METRICS", "compute_metrics", "per_channel_metrics", "MetricAccumulator", "nmse_loss"]

METRICS = ("mse", "rmse", "mae", "nmse")


def _masked(
    preds: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if preds.shape != labels.shape:
        raise ValueError(f"preds shape {tuple(preds.shape)} != labels shape {tuple(labels.shape)}")
    if mask is None:
        w = torch.ones_like(labels)
    else:
        w = mask.to(labels.dtype).expand_as(labels)
    return preds * w, labels * w, w


def compute_metrics(
    preds: torch.Tensor, labels: torch.Tensor, *, mask: torch.Tensor | None = None, eps: float = 1e-12
) -> dict[str, float]:
    """Scores over every element of ``preds``/``labels`` (any shape, e.g. ``[B, C, H, W]``).

    With a mask (broadcastable to the labels, 1 = keep), masked cells are ignored: sums run over kept cells and
    means divide by their count.
    """
    s = _sums(preds, labels, mask)
    return _finish(s, eps)


def _sums(preds: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None) -> dict[str, float]:
    p, y, w = _masked(preds.detach().double(), labels.detach().double(), mask)
    d = p - y
    return {"se": float((d * d).sum()), "ae": float(d.abs().sum()), "y2": float((y * y).sum()), "n": float(w.sum())}


def _finish(s: Mapping[str, float], eps: float) -> dict[str, float]:
    n = max(s["n"], 1.0)
    mse = s["se"] / n
    return {"mse": mse, "rmse": mse**0.5, "mae": s["ae"] / n, "nmse": mse / max(s["y2"] / n, eps)}


def per_channel_metrics(
    preds: torch.Tensor, labels: torch.Tensor, *, mask: torch.Tensor | None = None, names: Iterable[str] = ("u", "v")
) -> dict[str, dict[str, float]]:
    """Scores per channel of ``[B, C, H, W]`` tensors, keyed by channel name."""
    out = {}
    for c, name in zip(range(preds.shape[1]), names):
        out[name] = compute_metrics(preds[:, c : c + 1], labels[:, c : c + 1], mask=mask)
    return out


def nmse_loss(preds: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-12) -> torch.Tensor:
    """Differentiable NMSE (the loss the original always optimises): ``mean((p - y)^2) / mean(y^2)`` over kept cells."""
    p, y, w = _masked(preds, labels, mask)
    n = w.sum().clamp_min(1.0)
    return ((p - y) ** 2).sum() / n / ((y * y).sum() / n).clamp_min(eps)


class MetricAccumulator:
    """Accumulate scores over batches with both aggregations.

    ``batch_mean`` averages each batch's scores (the original's per-batch mean of ratios); ``global`` pools sums.
    """

    def __init__(self) -> None:
        self._batch: dict[str, list[float]] = {m: [] for m in METRICS}
        self._sums = {"se": 0.0, "ae": 0.0, "y2": 0.0, "n": 0.0}

    def update(self, preds: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, float]:
        """Add one batch; returns its scores."""
        s = _sums(preds, labels, mask)
        for k in self._sums:
            self._sums[k] += s[k]
        scores = _finish(s, 1e-12)
        for m in METRICS:
            self._batch[m].append(scores[m])
        return scores

    def result(self, aggregate: str = "batch_mean") -> dict[str, float]:
        """Final scores: ``"batch_mean"`` or ``"global"``."""
        if aggregate == "global":
            if self._sums["n"] == 0:
                return {m: float("nan") for m in METRICS}
            return _finish(self._sums, 1e-12)
        if aggregate != "batch_mean":
            raise ValueError(f"aggregate must be 'batch_mean' or 'global', got {aggregate!r}")
        return {m: (sum(v) / len(v) if v else float("nan")) for m, v in self._batch.items()}
