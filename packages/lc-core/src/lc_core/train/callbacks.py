"""Trainer callbacks: a small protocol for hooks such as sparsity tracking or early stopping.

Subclass :class:`Callback` and override what you need; every hook gets the live :class:`TrainState`::

    class PrintSparsity(Callback):
        def on_step_end(self, state):
            if state.step % 100 == 0:
                state.metrics["sparsity"] = measure(state.model)  # lands in metrics.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

    from lc_core.train.config import TrainConfig

__all__ = ["TrainState", "Callback", "StopTraining"]


class StopTraining(Exception):
    """Raise from a callback to end training after the current step (a checkpoint is written)."""


@dataclass(kw_only=True)
class TrainState:
    """What the trainer knows after an optimizer step.

    ``step`` counts completed optimizer steps (1 after the first). ``metrics`` is emptied before each
    step; values a callback puts there in ``on_step_end`` are logged with the step's row.
    """

    config: TrainConfig
    model: nn.Module
    optimizer: torch.optim.Optimizer
    rank: int = 0
    world_size: int = 1
    step: int = 0
    tokens_seen: int = 0
    loss: float = float("nan")
    lr: float = 0.0
    grad_norm: float = float("nan")
    elapsed_s: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Base class: every hook is a no-op. Hooks run on every rank (guard with ``state.rank == 0``)."""

    def on_train_begin(self, state: TrainState) -> None:
        """Before the first step (after a resume, ``state.step`` is the resumed step)."""

    def on_step_end(self, state: TrainState) -> None:
        """After each optimizer step; may raise :class:`StopTraining`."""

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        """After an evaluation; ``metrics`` holds ``eval_loss`` and ``eval_tokens``."""

    def on_save(self, state: TrainState, path: Path) -> None:
        """After a checkpoint folder was completed (on every rank)."""

    def on_train_end(self, state: TrainState) -> None:
        """After the last step (also after :class:`StopTraining`)."""
