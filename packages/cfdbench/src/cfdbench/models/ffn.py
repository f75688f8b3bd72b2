"""Non-autoregressive FFN: an MLP from ``[case_params, row, col, t]`` to u (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cfdbench.models.base import NonAutoModel, mlp

__all__ = ["FfnConfig", "FfnModel"]


@dataclass(kw_only=True)
class FfnConfig:
    """Reference config: ``--ffn_width 100 --ffn_depth 8``, ReLU with NormAct."""

    n_params: int = 5
    hidden: int = 100
    depth: int = 8
    act: str = "relu"
    norm_act: bool = True


class FfnModel(NonAutoModel):
    """MLP ``[p + 3] + [hidden] * depth + [1]`` on ``[case_params, row, col, t]`` (raw pixel indices and frame index)."""

    def __init__(self, cfg: FfnConfig):
        super().__init__()
        self.cfg = cfg
        self.net = mlp([cfg.n_params + 3] + [cfg.hidden] * cfg.depth + [1], act=cfg.act, norm_act=cfg.norm_act)

    def forward(self, case_params: torch.Tensor, t: torch.Tensor, query_idxs: torch.Tensor) -> torch.Tensor:
        """Args: case_params ``[B, p]``, t ``[B, 1]``, query_idxs ``[N, 2]``. Returns ``[B, N]``."""
        b, n = case_params.shape[0], query_idxs.shape[0]
        x = torch.cat(
            [case_params[:, None, :].expand(b, n, -1), query_idxs[None].expand(b, n, 2), t[:, None, :].expand(b, n, 1)],
            dim=-1,
        )
        return self.net(x.reshape(b * n, -1)).reshape(b, n)
