"""Non-autoregressive DeepONet: branch MLP on the case parameters, trunk on ``(t, row, col)`` (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cfdbench.models.base import NonAutoModel, mlp

__all__ = ["DeepONetConfig", "DeepONet"]


@dataclass(kw_only=True)
class DeepONetConfig:
    """Reference config: ``--deeponet_width 100 --branch_depth 8 --trunk_depth 8 --act_fn relu --act_scale_invariant 1``."""

    n_params: int = 5
    hidden: int = 100
    branch_depth: int = 8
    trunk_depth: int = 8
    act: str = "relu"
    norm_act: bool = True


class DeepONet(NonAutoModel):
    """``u(t, row, col) = sum_k branch_k(params) * trunk_k(t, row, col) + bias``.

    The trunk input is ``Linear(1 -> width)(t) + Linear(2 -> width)(row, col)`` followed by an MLP ``[width] * depth``.
    """

    def __init__(self, cfg: DeepONetConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.hidden
        self.branch = mlp([cfg.n_params] + [w] * cfg.branch_depth, act=cfg.act, norm_act=cfg.norm_act)
        self.t_in = nn.Linear(1, w)
        self.x_in = nn.Linear(2, w)
        self.trunk = mlp([w] * cfg.trunk_depth, act=cfg.act, norm_act=cfg.norm_act)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, case_params: torch.Tensor, t: torch.Tensor, query_idxs: torch.Tensor) -> torch.Tensor:
        """Args: case_params ``[B, p]``, t ``[B, 1]``, query_idxs ``[N, 2]``. Returns ``[B, N]``."""
        b = self.branch(case_params)  # [B, w]
        b_n, n = case_params.shape[0], query_idxs.shape[0]
        z = self.t_in(t)[:, None, :] + self.x_in(query_idxs)[None, :, :]  # [B, N, w]
        tr = self.trunk(z.reshape(b_n * n, -1)).reshape(b_n, n, -1)
        return torch.einsum("bk,bnk->bn", b, tr) + self.bias
