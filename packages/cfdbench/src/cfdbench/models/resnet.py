"""ResNet baseline: residual blocks of two 7x7 convolutions on ``(u, v, mask, param planes)`` (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cfdbench.models.base import AutoModel, param_planes

__all__ = ["ResNetConfig", "ResNet", "ResidualBlock"]


@dataclass(kw_only=True)
class ResNetConfig:
    """Reference config: ``--resnet_depth 4 --resnet_hidden_chan 16 --resnet_kernel_size 7 --resnet_padding 3``.

    ``unused_batchnorm`` declares the two BatchNorms per block that the original creates but never calls, so the
    parameter count matches the paper's (534,696 for cavity); they do not change the outputs.
    """

    n_params: int = 5
    depth: int = 4
    hidden: int = 16
    block_hidden: int = 64
    kernel_size: int = 7
    padding: int = 3
    dropout: float = 0.2
    out_channels: int = 2
    unused_batchnorm: bool = True


class ResidualBlock(nn.Module):
    """``Conv(k, in -> 64, replicate pad) -> Dropout -> GELU -> Conv(k, 64 -> out) + skip`` (1x1 conv skip if in != out)."""

    def __init__(self, c_in: int, c_out: int, cfg: ResNetConfig):
        super().__init__()
        k, p = cfg.kernel_size, cfg.padding
        self.conv1 = nn.Conv2d(c_in, cfg.block_hidden, k, padding=p, padding_mode="replicate")
        self.drop = nn.Dropout(cfg.dropout)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(cfg.block_hidden, c_out, k, padding=p, padding_mode="replicate")
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        if cfg.unused_batchnorm:
            self.bn1 = nn.BatchNorm2d(cfg.block_hidden)
            self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.conv2(self.act(self.drop(self.conv1(x)))) + self.skip(x)


class ResNet(AutoModel):
    """Input block ``(3 + p) -> 16``, ``depth`` blocks ``16 -> 16``, output block ``16 -> 2``; ``preds = net(x) + u^n``,
    masked."""

    def __init__(self, cfg: ResNetConfig):
        super().__init__()
        self.cfg = cfg
        self.out_channels = cfg.out_channels
        blocks = [ResidualBlock(3 + cfg.n_params, cfg.hidden, cfg)]
        blocks += [ResidualBlock(cfg.hidden, cfg.hidden, cfg) for _ in range(cfg.depth)]
        blocks.append(ResidualBlock(cfg.hidden, cfg.out_channels, cfg))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 2, H, W]``."""
        h, w = inputs.shape[-2:]
        x = torch.cat([inputs, mask, param_planes(case_params, h, w)], dim=1)
        return (self.blocks(x) + inputs[:, : self.out_channels]) * mask
