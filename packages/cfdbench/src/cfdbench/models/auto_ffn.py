"""Auto-FFN: an MLP on ``[flatten(u^n), case_params, row, col]`` evaluated at every pixel, plus u^n (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cfdbench.models.base import AutoModel, make_act, mlp, pixel_grid

__all__ = ["AutoFfnConfig", "AutoFfn"]


@dataclass(kw_only=True)
class AutoFfnConfig:
    """Reference config: ``--autoffn_width 200 --autoffn_depth 8``."""

    n_params: int = 5
    height: int = 64
    width: int = 64
    hidden: int = 200
    depth: int = 8
    act: str = "relu"


class AutoFfn(AutoModel):
    """Widths ``[H*W + p + 2] + [hidden] * depth + [1]``; predicts u only, residual on u^n.

    The first layer is applied as ``W_field @ [u, params] + W_query @ (row, col)`` so the field part is computed
    once per example instead of once per query point (same parameters, same result).
    """

    out_channels = 1

    def __init__(self, cfg: AutoFfnConfig):
        super().__init__()
        self.cfg = cfg
        n_in = cfg.height * cfg.width + cfg.n_params + 2
        self.first = nn.Linear(n_in, cfg.hidden)
        self.act = make_act(cfg.act)
        self.rest = mlp([cfg.hidden] * cfg.depth + [1], act=cfg.act)

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 1, H, W]``."""
        b, _, h, w = inputs.shape
        u = inputs[:, 0].reshape(b, -1)
        n_field = h * w + case_params.shape[1]
        wt = self.first.weight
        field = torch.cat([u, case_params], dim=1) @ wt[:, :n_field].T + self.first.bias  # [B, hidden]
        q = pixel_grid(h, w, inputs.device) @ wt[:, n_field:].T  # [HW, hidden]
        z = self.act(field[:, None, :] + q[None])
        out = self.rest(z).reshape(b, 1, h, w)
        return (out + inputs[:, :1]) * mask
