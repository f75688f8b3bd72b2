"""Learning-rate schedules as pure functions of the optimizer step.

``step`` is the 0-based index of the optimizer step about to be taken, so step 0 already gets a
non-zero rate during warmup (``lr * 1 / warmup_steps``) and the last step (``max_steps - 1``) reaches
the final rate ``lr * min_lr_ratio`` exactly.

- **WSD** (warmup-stable-decay; MiniCPM, used by gqa-cost and stuffed-mamba): linear warmup, a flat
  stable phase at ``max_lr``, then the last ``decay_fraction`` of the steps decay to
  ``max_lr * min_lr_ratio`` with a ``linear``, ``cosine`` or ``1-sqrt`` shape.
- **cosine**: linear warmup, then one half cosine from ``max_lr`` to ``max_lr * min_lr_ratio``.
- **constant**: linear warmup, then ``max_lr``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lc_core.train.config import TrainConfig

__all__ = ["wsd_lr", "cosine_lr", "constant_lr", "lr_at", "decay_steps"]


def _warmup(step: int, max_lr: float, warmup_steps: int) -> float | None:
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    return None


def decay_steps(max_steps: int, decay_fraction: float) -> int:
    """Number of steps in the WSD decay phase: ``round(decay_fraction * max_steps)``."""
    return int(round(decay_fraction * max_steps))


def wsd_lr(
    step: int,
    *,
    max_lr: float,
    max_steps: int,
    warmup_steps: int,
    decay_fraction: float,
    min_lr_ratio: float,
    decay_shape: str = "linear",
) -> float:
    """Warmup-stable-decay learning rate at optimizer step ``step``.

    Args:
        step: 0-based optimizer step.
        max_lr: the stable-phase rate.
        max_steps: total optimizer steps.
        warmup_steps: linear warmup length.
        decay_fraction: share of ``max_steps`` spent decaying at the end.
        min_lr_ratio: final rate as a fraction of ``max_lr``.
        decay_shape: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.

    Returns:
        The learning rate (a float).
    """
    warm = _warmup(step, max_lr, warmup_steps)
    if warm is not None:
        return warm
    n_decay = decay_steps(max_steps, decay_fraction)
    start = max_steps - n_decay
    if n_decay == 0 or step < start:
        return max_lr
    progress = min(1.0, (step + 1 - start) / n_decay)
    min_lr = max_lr * min_lr_ratio
    if decay_shape == "linear":
        frac = 1.0 - progress
    elif decay_shape == "cosine":
        frac = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif decay_shape == "1-sqrt":
        frac = 1.0 - math.sqrt(progress)
    else:
        raise ValueError(f"decay_shape must be 'linear', 'cosine' or '1-sqrt', got {decay_shape!r}")
    return min_lr + (max_lr - min_lr) * frac


def cosine_lr(step: int, *, max_lr: float, max_steps: int, warmup_steps: int, min_lr_ratio: float) -> float:
    """Linear warmup then a half cosine to ``max_lr * min_lr_ratio`` at the last step."""
    warm = _warmup(step, max_lr, warmup_steps)
    if warm is not None:
        return warm
    span = max_steps - warmup_steps
    progress = min(1.0, (step + 1 - warmup_steps) / span) if span > 0 else 1.0
    min_lr = max_lr * min_lr_ratio
    return min_lr + (max_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def constant_lr(step: int, *, max_lr: float, warmup_steps: int) -> float:
    """Linear warmup then a constant ``max_lr``."""
    warm = _warmup(step, max_lr, warmup_steps)
    return max_lr if warm is None else warm


def lr_at(cfg: TrainConfig, step: int) -> float:
    """The learning rate of ``cfg``'s schedule at optimizer step ``step``."""
    if cfg.schedule == "wsd":
        return wsd_lr(
            step,
            max_lr=cfg.lr,
            max_steps=cfg.max_steps,
            warmup_steps=cfg.warmup_steps,
            decay_fraction=cfg.decay_fraction,
            min_lr_ratio=cfg.min_lr_ratio,
            decay_shape=cfg.decay_shape,
        )
    if cfg.schedule == "cosine":
        return cosine_lr(
            step, max_lr=cfg.lr, max_steps=cfg.max_steps, warmup_steps=cfg.warmup_steps, min_lr_ratio=cfg.min_lr_ratio
        )
    if cfg.schedule == "constant":
        return constant_lr(step, max_lr=cfg.lr, warmup_steps=cfg.warmup_steps)
    raise ValueError(f"unknown schedule {cfg.schedule!r}")
