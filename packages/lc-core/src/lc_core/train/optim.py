"""AdamW with decoupled weight decay on weight matrices only.

Decay goes to parameters with ``ndim >= 2`` (linear and conv weights). Biases, norm gains and other
vectors are never decayed, and neither are embedding tables (``nn.Embedding`` weights, and so also an
LM head tied to them) unless ``decay_embeddings=True``: decaying rows of tokens that rarely occur
pulls them to zero for no benefit, the common choice in GPT-2/nanoGPT-style and Llama recipes.
(gqa-cost's released code decays every parameter, a bug against its paper's "linear layers only";
``decay_all_params=True`` reproduces it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from lc_core.train.config import TrainConfig

__all__ = ["param_groups", "build_optimizer"]


def param_groups(
    model: nn.Module, weight_decay: float, *, decay_embeddings: bool = False, decay_all: bool = False
) -> list[dict[str, Any]]:
    """Split trainable parameters into a decayed and a non-decayed AdamW group.

    Args:
        model: the model (possibly wrapped by DDP/FSDP).
        weight_decay: decay of the matrix group.
        decay_embeddings: also decay ``nn.Embedding`` weights.
        decay_all: legacy gqa-cost behaviour: decay every parameter (one group).

    Returns:
        ``[{"params", "weight_decay", "names"}, ...]``, empty groups left out; each parameter appears once
        even when tied.
    """
    embedding_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    decay_names: list[str] = []
    no_decay_names: list[str] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_embedding = id(p) in embedding_ids
        if decay_all or (p.ndim >= 2 and (decay_embeddings or not is_embedding)):
            decay.append(p)
            decay_names.append(name)
        else:
            no_decay.append(p)
            no_decay_names.append(name)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay, "names": decay_names})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0, "names": no_decay_names})
    return groups


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups` with ``cfg``'s betas, eps and weight decay.

    The initial learning rate is the schedule's value at step 0; the trainer sets it before every step.
    """
    from lc_core.train.schedule import lr_at

    groups = [
        {k: v for k, v in g.items() if k != "names"}
        for g in param_groups(model, cfg.weight_decay, decay_embeddings=cfg.decay_embeddings, decay_all=cfg.decay_all_params)
    ]
    if not groups:
        raise ValueError("the model has no trainable parameters")
    return torch.optim.AdamW(groups, lr=lr_at(cfg, 0), betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
