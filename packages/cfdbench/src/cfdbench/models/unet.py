"""U-Net baseline (Milesial-style) with replicate padding and pad-to-match skips (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cfdbench.models.base import AutoModel, param_planes

__all__ = ["UNetConfig", "UNet"]


@dataclass(kw_only=True)
class UNetConfig:
    """Reference config: ``--unet_dim 12 --unet_insert_case_params_at input``."""

    n_params: int = 5
    dim: int = 12
    insert_case_params_at: str = "input"
    out_channels: int = 2


class DoubleConv(nn.Sequential):
    """``2 x (Conv3x3 replicate pad -> BatchNorm -> ReLU)``."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="replicate"),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, padding_mode="replicate"),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """ConvTranspose2x2 (stride 2), pad to the skip's size, concatenate, DoubleConv."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in // 2, 2, stride=2)
        self.conv = DoubleConv(c_in, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x = self.up(x)
        dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(AutoModel):
    """Channels ``dim * [1, 2, 4, 8, 16]``, 4 down and 4 up stages, 1x1 output conv; ``preds = net(x) + u^n``, masked.

    Case parameters enter as constant input planes (``input``) or through ``Linear(p -> 16 * dim)`` added to the
    bottleneck (``hidden``).
    """

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        if cfg.insert_case_params_at not in ("input", "hidden"):
            raise ValueError(f"insert_case_params_at must be 'input' or 'hidden', got {cfg.insert_case_params_at!r}")
        self.cfg = cfg
        self.out_channels = cfg.out_channels
        d = cfg.dim
        c_in = 3 + (cfg.n_params if cfg.insert_case_params_at == "input" else 0)
        chans = [d, 2 * d, 4 * d, 8 * d, 16 * d]
        self.inc = DoubleConv(c_in, chans[0])
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), DoubleConv(chans[i], chans[i + 1])) for i in range(4))
        self.ups = nn.ModuleList(Up(chans[i + 1], chans[i]) for i in reversed(range(4)))
        self.outc = nn.Conv2d(d, cfg.out_channels, 1)
        if cfg.insert_case_params_at == "hidden":
            self.param_proj = nn.Linear(cfg.n_params, chans[-1])

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 2, H, W]``."""
        h, w = inputs.shape[-2:]
        x = torch.cat([inputs, mask], dim=1)
        if self.cfg.insert_case_params_at == "input":
            x = torch.cat([x, param_planes(case_params, h, w)], dim=1)
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        if self.cfg.insert_case_params_at == "hidden":
            y = y + self.param_proj(case_params)[:, :, None, None]
        for up in self.ups:
            y = up(y, skips.pop())
        return (self.outc(y) + inputs[:, : self.out_channels]) * mask
