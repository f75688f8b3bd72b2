"""Loop reference of the causal depthwise conv1d used by Mamba-2 (kernel width ``K``, left context ``K - 1``).

``y_t[d] = bias[d] + sum_{k<K} weight[d, k] * x_{t - (K - 1) + k}[d]`` where positions before the start
come from ``initial_state`` (zeros by default); the returned state is the last ``K - 1`` inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["naive_causal_conv1d", "apply_activation"]


def apply_activation(y: torch.Tensor, activation: str | None) -> torch.Tensor:
    """Apply ``None`` (identity) or ``"silu"``."""
    if activation is None:
        return y
    if activation in ("silu", "swish"):
        return F.silu(y)
    raise ValueError(f"unknown activation {activation!r}; expected None or 'silu'")


def naive_causal_conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    initial_state: torch.Tensor | None = None,
    activation: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal depthwise conv1d, one output position at a time.

    Args:
        x: inputs ``[B, T, D]``.
        weight: per-channel filters ``[D, K]``.
        bias: ``[D]`` or None.
        initial_state: the ``K - 1`` inputs before ``x`` ``[B, D, K - 1]`` (oldest first) or None (zeros).
        activation: None or ``"silu"``.

    Returns:
        ``(y, final_state)``: ``y [B, T, D]`` in ``x.dtype`` and the last ``K - 1`` inputs
        ``[B, D, K - 1]`` (including those of ``initial_state`` when ``T < K - 1``).
    """
    bsz, seqlen, dim = x.shape
    width = weight.shape[-1]
    cdt = torch.float64 if x.dtype == torch.float64 else torch.float32
    if initial_state is None:
        initial_state = x.new_zeros((bsz, dim, width - 1))
    hist = torch.cat([initial_state.to(cdt).transpose(1, 2), x.to(cdt)], dim=1)  # [B, K - 1 + T, D]
    w = weight.to(cdt)
    ys = []
    for t in range(seqlen):
        window = hist[:, t : t + width]  # [B, K, D]
        y = (window * w.t()[None]).sum(dim=1)
        if bias is not None:
            y = y + bias.to(cdt)
        ys.append(y)
    y_all = torch.stack(ys, dim=1) if ys else hist.new_zeros((bsz, 0, dim))
    final = hist[:, hist.shape[1] - (width - 1) :].transpose(1, 2)
    return apply_activation(y_all, activation).to(x.dtype), final.to(x.dtype)
