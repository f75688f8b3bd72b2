"""Training configuration: one ``@dataclass(kw_only=True)`` holding every knob of a run.

Load one from JSON with :meth:`TrainConfig.from_dict` (unknown or mistyped keys raise a
:class:`~lc_core.io.DataError` naming the file and field)::

    cfg = TrainConfig(seq_len=512, micro_batch_size=8, global_batch_size=64, max_steps=2000, lr=1e-3)
    cfg.grad_accum_steps(world_size=4)  # 64 / (8 * 4) = 2
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lc_core.io import config_from_dict

__all__ = ["TrainConfig", "SCHEDULES", "DECAY_SHAPES", "DISTRIBUTED_MODES", "DTYPES"]

SCHEDULES = ("wsd", "cosine", "constant")
DECAY_SHAPES = ("linear", "cosine", "1-sqrt")
DISTRIBUTED_MODES = ("none", "ddp", "fsdp")
DTYPES = ("auto", "bf16", "fp32")


@dataclass(kw_only=True)
class TrainConfig:
    """Every setting of a language-model training run.

    Batch sizes count sequences of ``seq_len`` tokens; the gradient accumulation steps follow from them
    (see :meth:`grad_accum_steps`). Learning-rate steps count optimizer steps.
    """

    # data shape
    seq_len: int = 256
    micro_batch_size: int = 8
    global_batch_size: int = 8
    # optimisation length and schedule
    max_steps: int = 1000
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    schedule: str = "wsd"
    warmup_steps: int = 0
    # WSD only: the last ``decay_fraction`` of the steps decay from ``lr`` to ``lr * min_lr_ratio``
    decay_fraction: float = 0.2
    decay_shape: str = "cosine"
    # AdamW
    weight_decay: float = 0.1
    decay_embeddings: bool = False
    # legacy: decay every parameter (norms, biases, embeddings), as gqa-cost's released code does
    decay_all_params: bool = False
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    # clip the global gradient norm to this value; <= 0 disables clipping (the norm is still logged)
    grad_clip: float = 1.0
    # "auto": bf16 autocast on CUDA, fp32 on CPU; "bf16" on CPU falls back to fp32 with a warning
    dtype: str = "auto"
    seed: int = 0
    # cadence in optimizer steps; 0 disables (the final step is always logged, evaluated and saved)
    log_every: int = 10
    eval_every: int = 0
    # micro-batches per rank in one evaluation; 0 evaluates the whole held-out stream
    eval_batches: int = 0
    save_every: int = 0
    keep_last: int = 2
    out_dir: str = "runs/train"
    # continue from the newest checkpoint in ``out_dir`` when there is one
    resume: bool = True
    distributed: str = "none"
    compile: bool = False
    # a tqdm bar on rank 0 (never on other ranks)
    progress: bool = True

    def __post_init__(self) -> None:
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent field."""
        for name in ("seq_len", "micro_batch_size", "global_batch_size", "max_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.global_batch_size % self.micro_batch_size:
            raise ValueError(
                f"TrainConfig.global_batch_size ({self.global_batch_size}) must be a multiple of "
                f"micro_batch_size ({self.micro_batch_size})"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(f"TrainConfig.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.decay_shape not in DECAY_SHAPES:
            raise ValueError(f"TrainConfig.decay_shape must be one of {DECAY_SHAPES}, got {self.decay_shape!r}")
        if self.distributed not in DISTRIBUTED_MODES:
            raise ValueError(f"TrainConfig.distributed must be one of {DISTRIBUTED_MODES}, got {self.distributed!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"TrainConfig.dtype must be one of {DTYPES}, got {self.dtype!r}")
        if not 0.0 <= self.decay_fraction <= 1.0:
            raise ValueError(f"TrainConfig.decay_fraction must be in [0, 1], got {self.decay_fraction}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"TrainConfig.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.warmup_steps < 0 or self.warmup_steps > self.max_steps:
            raise ValueError(f"TrainConfig.warmup_steps must be in [0, max_steps], got {self.warmup_steps}")
        if len(self.betas) != 2:
            raise ValueError(f"TrainConfig.betas must have two values, got {self.betas}")
        if self.keep_last < 1:
            raise ValueError(f"TrainConfig.keep_last must be >= 1, got {self.keep_last}")

    def grad_accum_steps(self, world_size: int = 1) -> int:
        """Micro-batches each rank accumulates per optimizer step: ``global / (micro * world)``.

        Raises:
            ValueError: the global batch does not split evenly over ``world_size`` ranks.
        """
        per_step = self.micro_batch_size * world_size
        if self.global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not divisible by micro_batch_size "
                f"{self.micro_batch_size} x world_size {world_size}"
            )
        return self.global_batch_size // per_step

    @property
    def tokens_per_step(self) -> int:
        """Tokens (predicted positions) per optimizer step over all ranks."""
        return self.global_batch_size * self.seq_len

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | os.PathLike[str] | None = None) -> TrainConfig:
        """Build a config from a mapping, checking names and types.

        Args:
            data: field name -> value (as in a JSON config file).
            path: the file the mapping came from, named in errors.

        Raises:
            DataError: an unknown field, or a value of the wrong type, naming ``path`` and the field.
        """
        return config_from_dict(cls, data, path=path)
