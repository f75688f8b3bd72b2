"""Identity baseline: predict ``u^{n+k} = u^n`` (the original scores it on u only; we report both channels)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cfdbench.models.base import AutoModel

__all__ = ["IdentityConfig", "Identity"]


@dataclass(kw_only=True)
class IdentityConfig:
    """``out_channels=1`` reproduces the original's u-only identity."""

    n_params: int = 5
    out_channels: int = 2


class Identity(AutoModel):
    """Copies the input frame (masked); has no parameters and needs no training."""

    def __init__(self, cfg: IdentityConfig):
        super().__init__()
        self.cfg = cfg
        self.out_channels = cfg.out_channels

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``. Returns ``[B, C_out, H, W]``."""
        return inputs[:, : self.out_channels] * mask
