"""Shared model pieces: the two model contracts, MLPs with the original's NormAct, and input planes.

Autoregressive models map ``inputs [B, 2, H, W]`` (u, v), ``case_params [B, p]`` and ``mask [B, 1, H, W]`` to
``preds [B, C_out, H, W]`` (C_out = 1 for the u-only DeepONet/FFN family, 2 for the CNNs); outputs are multiplied by
the mask so obstacle/boundary cells are exactly zero. Non-autoregressive models map ``case_params [B, p]``,
``t [B, 1]`` and query pixel indices ``[N, 2]`` (row, col) to ``[B, N]`` values of u.
"""

from __future__ import annotations

import abc

import torch
from torch import nn

__all__ = ["AutoModel", "NonAutoModel", "NormAct", "make_act", "mlp", "param_planes", "pixel_grid", "count_params"]


def count_params(model: nn.Module) -> int:
    """Number of parameters (a complex weight counts once, as ``numel``)."""
    return sum(p.numel() for p in model.parameters())


class NormAct(nn.Module):
    """Scale-invariant activation: standardise each sample over its non-batch dims, apply ``act``, undo the scaling."""

    def __init__(self, act: nn.Module, eps: float = 1e-6):
        super().__init__()
        self.act = act
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, x.dim()))
        std, mean = torch.std_mean(x, dim=dims, keepdim=True)
        std = std + self.eps
        return self.act((x - mean) / std) * std + mean


def make_act(name: str, *, norm: bool = False) -> nn.Module:
    """``relu``, ``tanh``, ``gelu`` or ``swish``, optionally wrapped in :class:`NormAct`."""
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "swish": nn.SiLU}
    if name not in acts:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(acts)}")
    act = acts[name]()
    return NormAct(act) if norm else act


def mlp(dims: list[int], *, act: str = "relu", norm_act: bool = False, act_on_output: bool = False) -> nn.Sequential:
    """``Linear -> act`` for each consecutive pair of ``dims``; the last Linear has no activation unless asked."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2 or act_on_output:
            layers.append(make_act(act, norm=norm_act))
    return nn.Sequential(*layers)


def param_planes(case_params: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Broadcast each case parameter to a constant plane: ``[B, p]`` -> ``[B, p, H, W]``."""
    return case_params[:, :, None, None].expand(-1, -1, height, width)


def pixel_grid(height: int, width: int, device: torch.device | str | None = None) -> torch.Tensor:
    """All (row, col) integer pixel indices as float, ``[H * W, 2]``, row-major."""
    rows = torch.arange(height, device=device, dtype=torch.float32)
    cols = torch.arange(width, device=device, dtype=torch.float32)
    return torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1).reshape(-1, 2)


class AutoModel(nn.Module, abc.ABC):
    """Base class of autoregressive models: ``(inputs, case_params, mask) -> preds``.

    Attributes:
        out_channels: 1 (predicts u) or 2 (u and v).
    """

    out_channels: int = 2

    @abc.abstractmethod
    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predict the next frame (``out_channels`` fields) from the current frame, case parameters and mask."""

    def next_frame(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Full ``[B, 2, H, W]`` next state; u-only models carry v over from ``inputs`` unchanged."""
        preds = self(inputs, case_params, mask)
        if preds.shape[1] == 2:
            return preds
        return torch.cat([preds, inputs[:, 1:2] * mask], dim=1)


class NonAutoModel(nn.Module, abc.ABC):
    """Base class of non-autoregressive models: ``(case_params, t, query_idxs) -> u`` at the query pixels."""

    @abc.abstractmethod
    def forward(self, case_params: torch.Tensor, t: torch.Tensor, query_idxs: torch.Tensor) -> torch.Tensor:
        """Predict u at the query pixels from the case parameters and the time."""

    @torch.no_grad()
    def generate_one(self, case_params: torch.Tensor, t: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Predict a whole frame of u: ``[B, 1, H, W]``."""
        q = pixel_grid(height, width, case_params.device)
        return self(case_params, t, q).reshape(-1, 1, height, width)
