"""Auto-DeepONet and Auto-EDeepONet: DeepONets whose branch sees the current field (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cfdbench.models.base import AutoModel, mlp, pixel_grid

__all__ = ["AutoDeepONetConfig", "AutoDeepONet", "AutoEDeepONetConfig", "AutoEDeepONet", "trunk_coords"]


def trunk_coords(height: int, width: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The original's trunk input ``((row, col) - 50) / 100``, ``[H * W, 2]``."""
    return (pixel_grid(height, width, device) - 50.0) / 100.0


@dataclass(kw_only=True)
class AutoDeepONetConfig:
    """Reference config: ``--deeponet_width 100 --branch_depth 8 --trunk_depth 8``."""

    n_params: int = 5
    height: int = 64
    width: int = 64
    hidden: int = 100
    branch_depth: int = 8
    trunk_depth: int = 8
    act: str = "relu"


class AutoDeepONet(AutoModel):
    """Branch MLP ``[H*W + p] + [hidden] * depth`` on ``[flatten(u^n), params]``, trunk ``[2] + [hidden] * depth``;
    ``u^{n+1} = u^n + branch . trunk + bias`` (u only)."""

    out_channels = 1

    def __init__(self, cfg: AutoDeepONetConfig):
        super().__init__()
        self.cfg = cfg
        self.branch = mlp([cfg.height * cfg.width + cfg.n_params] + [cfg.hidden] * cfg.branch_depth, act=cfg.act)
        self.trunk = mlp([2] + [cfg.hidden] * cfg.trunk_depth, act=cfg.act)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 1, H, W]``."""
        b, _, h, w = inputs.shape
        br = self.branch(torch.cat([inputs[:, 0].reshape(b, -1), case_params], dim=1))  # [B, k]
        tr = self.trunk(trunk_coords(h, w, inputs.device))  # [HW, k]
        out = (br @ tr.T + self.bias).reshape(b, 1, h, w)
        return (out + inputs[:, :1]) * mask


@dataclass(kw_only=True)
class AutoEDeepONetConfig:
    """Reference config: ``--autoedeeponet_width 100 --autoedeeponet_depth 8``."""

    n_params: int = 5
    height: int = 64
    width: int = 64
    hidden: int = 100
    depth: int = 8
    act: str = "relu"


class AutoEDeepONet(AutoModel):
    """Enhanced DeepONet: branch1 on flatten(u^n), branch2 on params, combined by a Hadamard product, dotted with the
    trunk; residual on u^n (u only)."""

    out_channels = 1

    def __init__(self, cfg: AutoEDeepONetConfig):
        super().__init__()
        self.cfg = cfg
        self.branch_field = mlp([cfg.height * cfg.width] + [cfg.hidden] * cfg.depth, act=cfg.act)
        self.branch_params = mlp([cfg.n_params] + [cfg.hidden] * cfg.depth, act=cfg.act)
        self.trunk = mlp([2] + [cfg.hidden] * cfg.depth, act=cfg.act)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 1, H, W]``."""
        b, _, h, w = inputs.shape
        br = self.branch_field(inputs[:, 0].reshape(b, -1)) * self.branch_params(case_params)
        tr = self.trunk(trunk_coords(h, w, inputs.device))
        out = (br @ tr.T + self.bias).reshape(b, 1, h, w)
        return (out + inputs[:, :1]) * mask
