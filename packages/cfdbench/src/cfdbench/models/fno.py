"""FNO baseline (Li et al. 2021): 1x1 lift, Fourier layers with 1x1 bypass, 1x1 projection (spec §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cfdbench.models.base import AutoModel, param_planes

__all__ = ["FnoConfig", "Fno2d", "SpectralConv2d"]


@dataclass(kw_only=True)
class FnoConfig:
    """Reference config: ``--fno_depth 4 --fno_hidden_dim 32 --fno_modes_x 12 --fno_modes_y 12``, no domain padding."""

    n_params: int = 5
    hidden: int = 32
    depth: int = 4
    modes_x: int = 12
    modes_y: int = 12
    projection: int = 128
    out_channels: int = 2


class SpectralConv2d(nn.Module):
    """Multiply the lowest ``modes_x x modes_y`` Fourier modes (two corner blocks of the rfft2 half-plane) by learned
    complex weights ``[C_in, C_out, m1, m2]``."""

    def __init__(self, c_in: int, c_out: int, modes1: int, modes2: int):
        super().__init__()
        self.modes1, self.modes2 = modes1, modes2
        scale = 1.0 / (c_in * c_out)
        self.weights1 = nn.Parameter(scale * torch.rand(c_in, c_out, modes1, modes2, dtype=torch.cfloat))
        self.weights2 = nn.Parameter(scale * torch.rand(c_in, c_out, modes1, modes2, dtype=torch.cfloat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x ``[B, C_in, H, W]``. Returns ``[B, C_out, H, W]``."""
        b, _, h, w = x.shape
        m1, m2 = min(self.modes1, h // 2), min(self.modes2, w // 2 + 1)
        x_ft = torch.fft.rfft2(x.float())
        out = torch.zeros(b, self.weights1.shape[1], h, w // 2 + 1, dtype=torch.cfloat, device=x.device)
        out[:, :, :m1, :m2] = torch.einsum("bixy,ioxy->boxy", x_ft[:, :, :m1, :m2], self.weights1[:, :, :m1, :m2])
        out[:, :, -m1:, :m2] = torch.einsum("bixy,ioxy->boxy", x_ft[:, :, -m1:, :m2], self.weights2[:, :, :m1, :m2])
        return torch.fft.irfft2(out, s=(h, w)).to(x.dtype)


class Fno2d(AutoModel):
    """Input channels ``(u, v, mask, x, y, params)`` with ``x, y = linspace(0, 1)``; GELU after every Fourier layer
    (including the last, as the original); output masked; no global residual."""

    def __init__(self, cfg: FnoConfig):
        super().__init__()
        self.cfg = cfg
        self.out_channels = cfg.out_channels
        self.lift = nn.Conv2d(5 + cfg.n_params, cfg.hidden, 1)
        self.spectral = nn.ModuleList(
            SpectralConv2d(cfg.hidden, cfg.hidden, cfg.modes_x, cfg.modes_y) for _ in range(cfg.depth)
        )
        self.bypass = nn.ModuleList(nn.Conv2d(cfg.hidden, cfg.hidden, 1) for _ in range(cfg.depth))
        self.proj1 = nn.Conv2d(cfg.hidden, cfg.projection, 1)
        self.proj2 = nn.Conv2d(cfg.projection, cfg.out_channels, 1)

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, 2, H, W]``."""
        b, _, h, w = inputs.shape
        gy = torch.linspace(0, 1, h, device=inputs.device, dtype=inputs.dtype)[None, None, :, None].expand(b, 1, h, w)
        gx = torch.linspace(0, 1, w, device=inputs.device, dtype=inputs.dtype)[None, None, None, :].expand(b, 1, h, w)
        x = torch.cat([inputs, mask, gx, gy, param_planes(case_params, h, w)], dim=1)
        x = self.lift(x)
        for spec, byp in zip(self.spectral, self.bypass):
            x = F.gelu(spec(x) + byp(x))
        x = self.proj2(F.gelu(self.proj1(x)))
        return x * mask
