"""Per-token loss vs position over arbitrarily long documents, streamed in bounded memory (spec §2.3, §4.2).

:func:`loss_curve` streams token ids through a Mamba-2 (optionally with a mitigation's hooks), keeps one fp32 loss
per token, and :func:`bucket_means` averages them over fixed buckets, dropping the first and last bucket as the
original does. Chunking does not change the losses (the conv carry and SSM state link the chunks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from lc_core.models.mamba2 import stream

__all__ = ["bucket_means", "LossCurve", "loss_curve", "relative_to_reference"]


def bucket_means(losses: torch.Tensor, bucket: int, *, drop_edges: bool = True) -> tuple[list[int], list[float]]:
    """Mean loss per ``bucket`` tokens: ``(bucket centres, means)``; first and last bucket dropped by default.

    Args:
        losses: ``[T − 1]`` per-token losses (entry ``t`` scores token ``t + 1``).
        bucket: bucket size in tokens.
        drop_edges: drop the first bucket (no context yet) and the last (partial or edge).
    """
    if bucket < 1:
        raise ValueError(f"bucket must be >= 1, got {bucket}")
    n = losses.numel()
    centres, means = [], []
    for start in range(0, n, bucket):
        seg = losses[start : start + bucket]
        centres.append(start + 1 + seg.numel() // 2)  # positions of the scored tokens
        means.append(float(seg.double().mean()))
    if drop_edges:
        centres, means = centres[1:-1], means[1:-1]
    return centres, means


@dataclass(kw_only=True)
class LossCurve:
    """A streamed loss curve: bucket centres and means, the overall mean, tokens and wall time."""

    centres: list[int]
    means: list[float]
    mean_loss: float
    n_tokens: int
    wall_s: float
    losses: torch.Tensor | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "centres": self.centres,
            "means": self.means,
            "mean_loss": self.mean_loss,
            "n_tokens": self.n_tokens,
            "wall_s": self.wall_s,
            "tokens_per_s": self.n_tokens / self.wall_s if self.wall_s else None,
        }


def loss_curve(
    model: torch.nn.Module,
    tokens: Iterable[int] | torch.Tensor,
    *,
    bucket: int = 1024,
    chunk_tokens: int = 4096,
    hooks: Any = None,
    total: int | None = None,
    keep_losses: bool = False,
    progress: bool = True,
) -> LossCurve:
    """Stream ``tokens`` and return the bucketed per-token loss (memory: state + one chunk + 4 bytes a token)."""
    res = stream(model, tokens, chunk_tokens=chunk_tokens, ssm_hooks=hooks, total=total, progress=progress)
    centres, means = bucket_means(res.losses, bucket) if res.losses is not None and res.losses.numel() else ([], [])
    return LossCurve(
        centres=centres,
        means=means,
        mean_loss=res.mean_loss,
        n_tokens=res.n_tokens,
        wall_s=res.wall_s,
        losses=res.losses if keep_losses else None,
    )


def relative_to_reference(curve: LossCurve, reference_end: int) -> list[float]:
    """Each bucket's mean divided by the mean of the buckets centred before ``reference_end`` (the in-length level)."""
    ref = [m for c, m in zip(curve.centres, curve.means) if c <= reference_end]
    if not ref:
        raise ValueError(f"no bucket centred before {reference_end}; use smaller buckets")
    level = sum(ref) / len(ref)
    return [m / level for m in curve.means]
