"""LM training for lc experiments: packed data, AdamW + WSD/cosine, exact resume, DDP/FSDP.

See ``docs/train.md``. Needs the ``torch`` extra. Run ``lc-core train --config cfg.json`` or
``python -m lc_core.train --config cfg.json`` (also under ``torchrun``).

Names are imported on first use, so ``lc_core.train.cli`` (loaded by ``lc-core --help``) does not
import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lc_core.train.callbacks import Callback, StopTraining, TrainState
    from lc_core.train.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
    from lc_core.train.config import TrainConfig
    from lc_core.train.data import (
        ByteTokenizer,
        PackedDataset,
        PackedLoader,
        eval_batches,
        iter_documents,
        load_tokenizer,
        pack_documents,
    )
    from lc_core.train.optim import build_optimizer, param_groups
    from lc_core.train.schedule import constant_lr, cosine_lr, lr_at, wsd_lr
    from lc_core.train.trainer import TrainResult, causal_lm_loss, evaluate, train

_EXPORTS = {
    "lc_core.train.callbacks": ("Callback", "StopTraining", "TrainState"),
    "lc_core.train.checkpoint": ("latest_checkpoint", "list_checkpoints", "load_checkpoint", "save_checkpoint"),
    "lc_core.train.config": ("TrainConfig",),
    "lc_core.train.data": (
        "ByteTokenizer",
        "PackedDataset",
        "PackedLoader",
        "eval_batches",
        "iter_documents",
        "load_tokenizer",
        "pack_documents",
    ),
    "lc_core.train.optim": ("build_optimizer", "param_groups"),
    "lc_core.train.schedule": ("constant_lr", "cosine_lr", "lr_at", "wsd_lr"),
    "lc_core.train.trainer": ("TrainResult", "causal_lm_loss", "evaluate", "train"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "Callback",
    "StopTraining",
    "TrainState",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "save_checkpoint",
    "TrainConfig",
    "ByteTokenizer",
    "PackedDataset",
    "PackedLoader",
    "eval_batches",
    "iter_documents",
    "load_tokenizer",
    "pack_documents",
    "build_optimizer",
    "param_groups",
    "constant_lr",
    "cosine_lr",
    "lr_at",
    "wsd_lr",
    "TrainResult",
    "causal_lm_loss",
    "evaluate",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'lc_core.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
