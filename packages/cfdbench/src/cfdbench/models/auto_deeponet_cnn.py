"""Auto-DeepONetCNN: a CNN branch on ``(u, v, mask, param planes)`` and an MLP trunk on pixel coordinates (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cfdbench.models.auto_deeponet import trunk_coords
from cfdbench.models.base import AutoModel, mlp, param_planes

__all__ = ["AutoDeepONetCnnConfig", "AutoDeepONetCnn"]


@dataclass(kw_only=True)
class AutoDeepONetCnnConfig:
    """The original's fixed architecture (not configurable from its CLI)."""

    n_params: int = 5
    channels: int = 32
    kernel_size: int = 5
    num_pools: int = 4
    pooled: int = 4
    trunk_width: int = 100
    trunk_depth: int = 4
    head_width: int = 512


class AutoDeepONetCnn(AutoModel):
    """Branch: Conv5x5 -> 32, 4 x [Conv5x5, MaxPool2, ReLU], Conv5x5 -> ``32 x 4 x 4 = 512`` features (adaptive
    pooling guarantees 4x4 for 64x64 and 66x65 inputs); trunk MLP ``[2] + [100] * 4 + [512]``; elementwise product,
    head MLP ``512 -> 512 -> 512 -> 1``, plus a bias and the residual u^n (u only)."""

    out_channels = 1

    def __init__(self, cfg: AutoDeepONetCnnConfig):
        super().__init__()
        self.cfg = cfg
        c, k = cfg.channels, cfg.kernel_size
        layers: list[nn.Module] = [nn.Conv2d(3 + cfg.n_params, c, k, padding=k // 2)]
        for _ in range(cfg.num_pools):
            layers += [nn.Conv2d(c, c, k, padding=k // 2), nn.MaxPool2d(2), nn.ReLU()]
        layers += [nn.Conv2d(c, c, k, padding=k // 2), nn.AdaptiveAvgPool2d(cfg.pooled), nn.Flatten()]
        self.branch = nn.Sequential(*layers)
        n_feat = c * cfg.pooled * cfg.pooled
        self.trunk = mlp([2] + [cfg.trunk_width] * cfg.trunk_depth + [n_feat])
        self.head = mlp([n_feat, cfg.head_width, cfg.head_width, 1])
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 1, H, W]``."""
        b, _, h, w = inputs.shape
        x = torch.cat([inputs, mask, param_planes(case_params, h, w)], dim=1)
        br = self.branch(x)  # [B, 512]
        tr = self.trunk(trunk_coords(h, w, inputs.device))  # [HW, 512]
        out = self.head(br[:, None, :] * tr[None]).reshape(b, 1, h, w) + self.bias
        return (out + inputs[:, :1]) * mask
