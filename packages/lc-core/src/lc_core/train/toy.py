"""A tiny pure-torch causal LM for smoke runs and multi-process tests.

It imports no ``transformers`` (so a torchrun worker starts in seconds) yet has what the trainer
needs: an embedding, a ``nn.ModuleList`` of residual blocks (FSDP shards each one), a causal token
mixer (a depthwise causal convolution) and an untied head returning ``.logits``.

Example::

    model = ToyCausalLM(ToyConfig(vocab_size=384, hidden_size=32, num_layers=2))
    logits = model(input_ids=torch.randint(0, 384, (2, 16))).logits  # [2, 16, 384]
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ToyConfig", "ToyCausalLM"]


@dataclass(kw_only=True)
class ToyConfig:
    """Shape of :class:`ToyCausalLM`."""

    vocab_size: int = 384
    hidden_size: int = 32
    num_layers: int = 2
    # causal convolution width: how many past tokens each block mixes
    kernel_size: int = 4


class _Block(nn.Module):
    def __init__(self, cfg: ToyConfig):
        super().__init__()
        self.norm = nn.LayerNorm(cfg.hidden_size)
        self.conv = nn.Conv1d(cfg.hidden_size, cfg.hidden_size, cfg.kernel_size, groups=cfg.hidden_size)
        self.up = nn.Linear(cfg.hidden_size, 2 * cfg.hidden_size)
        self.down = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size)
        self.pad = cfg.kernel_size - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x).transpose(1, 2)
        # left padding only, so position t sees tokens <= t
        h = self.conv(F.pad(h, (self.pad, 0))).transpose(1, 2)
        return x + self.down(F.gelu(self.up(h)))


class ToyCausalLM(nn.Module):
    """Embedding -> ``num_layers`` causal conv/MLP blocks -> LayerNorm -> head.

    ``forward(input_ids [B, T])`` returns an object with ``.logits`` ``[B, T, V]``.
    """

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        self.config = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(_Block(cfg) for _ in range(cfg.num_layers))
        self.norm = nn.LayerNorm(cfg.hidden_size)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def forward(self, input_ids: torch.Tensor) -> SimpleNamespace:
        x = self.embed(input_ids)
        for layer in self.layers:
            x = layer(x)
        return SimpleNamespace(logits=self.head(self.norm(x)))
