"""Run configurations of the ``cfdbench`` verbs, torch-free so that ``cfdbench <verb> --help`` stays fast.

:class:`TrainConfig` and :class:`OverfitConfig` are re-exported by :mod:`cfdbench.train` and :mod:`cfdbench.overfit`;
the CLI builds them from its flags with :func:`lc_core.cli.config_from_args`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["NONAUTO_MODELS", "TrainConfig", "OverfitConfig"]

# the non-autoregressive baselines (query points -> u); every other model is autoregressive
NONAUTO_MODELS = ("ffn", "deeponet")


@dataclass(kw_only=True)
class TrainConfig:
    """A training run (defaults = the original's ``args.py``).

    Attributes:
        model: baseline name (``fno``, ``unet``, ``resnet``, ``auto_ffn``, ``ffn``, ...).
        data_name: ``{problem}_{subsets}``, e.g. ``cavity_prop_bc_geo``.
        data_dir: dataset root holding ``{problem}/{subset}/caseNNNN``.
        output_dir: results root; the run goes to ``output_dir_for(cfg)`` unless ``run_dir`` is set.
        run_dir: explicit run folder.
        lr: Adam learning rate.
        lr_step_size: StepLR period in epochs.
        lr_gamma: StepLR decay.
        num_epochs: epochs.
        eval_interval: dev evaluation (and checkpoint) every this many epochs (and after the last).
        batch_size: training batch size.
        eval_batch_size: dev batch size.
        delta_time: model step (s) for autoregressive models.
        encoding: ``fixed`` (64x64, correct masks) or ``legacy`` (66x65, the original's masks).
        normalize: normalise case parameters.
        split_rounding: override the problem's split rounding (``round``/``int``).
        num_query_points: random query pixels per batch for non-autoregressive training.
        seed: torch seed (the original never applied its ``--seed``).
        device: torch device.
        model_kwargs: overrides of the model's reference config (e.g. ``{"hidden": 8}`` for tests).
        resume: continue from the newest ``train_state.pt`` in the run folder.
    """

    model: str = "fno"
    data_name: str = "cavity_prop"
    data_dir: str = "data"
    output_dir: str = "result"
    run_dir: str | None = None
    lr: float = 1e-3
    lr_step_size: int = 20
    lr_gamma: float = 0.9
    num_epochs: int = 100
    eval_interval: int = 10
    batch_size: int = 128
    eval_batch_size: int = 16
    delta_time: float = 0.1
    encoding: str = "fixed"
    normalize: bool = True
    split_rounding: str | None = None
    num_query_points: int = 1000
    seed: int = 0
    device: str = "cpu"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    resume: bool = True

    @property
    def task(self) -> str:
        """``nonauto`` for FFN/DeepONet, else ``auto``."""
        return "nonauto" if self.model in NONAUTO_MODELS else "auto"


@dataclass(kw_only=True)
class OverfitConfig:
    """One overfit run.

    Attributes:
        model: baseline name.
        data_name: ``{problem}_{subsets}`` (sets the frame shape and parameter count).
        lr: Adam learning rate (constant: no schedule, the run is short).
        max_steps: full-batch optimiser steps at most.
        time_budget_s: wall-clock budget for the optimiser steps (evaluations included).
        target: absolute NMSE goal.
        ratio: relative goal, as a fraction of the trivial predictor's NMSE.
        check_every: evaluate (eval mode, whole set) every this many steps.
        delta_time: model step (s) for autoregressive models (``None``: one data frame).
        num_query_points: random query pixels per step for non-autoregressive models (the original's training
            default 1000; ``0``: every pixel, which makes the steps deterministic).
        seed: torch seed for the initial weights and query sampling.
        model_kwargs: overrides of the model's reference config.
    """

    model: str = "fno"
    data_name: str = "cavity_bc"
    lr: float = 1e-3
    max_steps: int = 2000
    time_budget_s: float = 120.0
    target: float = 1e-3
    ratio: float = 0.1
    check_every: int = 25
    delta_time: float | None = None
    num_query_points: int = 1000
    seed: int = 0
    model_kwargs: dict[str, Any] = field(default_factory=dict)
