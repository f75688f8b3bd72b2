"""Causal depthwise conv1d in plain torch (``F.conv1d`` with ``groups = D``) with an explicit carry state.

Carrying the last ``K - 1`` inputs between calls makes a chunked pass over a sequence identical to a
single pass (the stuffed-mamba and upstream chunked prefills restart each chunk from zero padding).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lc_core.ops.conv1d.naive import apply_activation

__all__ = ["causal_conv1d_torch", "causal_conv1d_update_torch"]


def causal_conv1d_torch(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    initial_state: torch.Tensor | None = None,
    activation: str | None = None,
    seq_idx: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal depthwise conv1d over a whole sequence.

    Args:
        x: inputs ``[B, T, D]``.
        weight: per-channel filters ``[D, K]``.
        bias: ``[D]`` or None.
        initial_state: the ``K - 1`` inputs before ``x`` ``[B, D, K - 1]`` (oldest first) or None (zeros).
        activation: None or ``"silu"``.
        seq_idx: document ids ``[B, T]`` or None; a window never reaches across a change of id (inputs of
            an earlier document, and ``initial_state`` after the first change, count as zeros); the returned
            state keeps only the last document's inputs (earlier documents' columns are zero).

    Returns:
        ``(y, final_state)``: ``y [B, T, D]`` and the last ``K - 1`` inputs ``[B, D, K - 1]``.
    """
    bsz, seqlen, dim = x.shape
    width = weight.shape[-1]
    if weight.shape != (dim, width):
        raise ValueError(f"weight must be [D, K] with D={dim}, got {tuple(weight.shape)}")
    xt = x.transpose(1, 2)  # [B, D, T]
    if initial_state is None:
        initial_state = x.new_zeros((bsz, dim, width - 1))
    elif tuple(initial_state.shape) != (bsz, dim, width - 1):
        raise ValueError(f"initial_state must be [B, D, K - 1] = {(bsz, dim, width - 1)}, got {tuple(initial_state.shape)}")
    hist = torch.cat([initial_state.to(x.dtype), xt], dim=2)  # [B, D, K - 1 + T]
    if seq_idx is not None:
        return _segmented(hist, weight.to(x.dtype), bias, seq_idx, width, activation)
    y = F.conv1d(hist, weight.to(x.dtype)[:, None, :], bias.to(x.dtype) if bias is not None else None, groups=dim)
    final = hist[:, :, hist.shape[2] - (width - 1) :]
    return apply_activation(y.transpose(1, 2), activation), final


def _segmented(
    hist: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    seq_idx: torch.Tensor,
    width: int,
    activation: str | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    from lc_core.ops.ssd.naive import segment_ids

    seqlen = hist.shape[2] - (width - 1)
    seg = segment_ids(seq_idx)
    # the carried inputs belong to the first document (segment 0)
    seg_hist = torch.cat([seg.new_zeros(seg.shape[0], width - 1), seg], dim=1)  # [B, K - 1 + T]
    y = hist.new_zeros(hist.shape[0], hist.shape[1], seqlen)
    for k in range(width):
        same = (seg_hist[:, k : k + seqlen] == seg).to(hist.dtype)[:, None, :]
        y = y + weight[:, k, None] * hist[:, :, k : k + seqlen] * same
    if bias is not None:
        y = y + bias.to(hist.dtype)[:, None]
    # The carried state is the context of the *last* document only: columns of an earlier document (one that
    # ended within the last K - 1 inputs) are zeroed, so a next call continuing that document sees no leak.
    tail = hist.shape[2] - (width - 1)
    own = (seg_hist[:, tail:] == seg[:, -1:]).to(hist.dtype)[:, None, :]  # [B, 1, K - 1]
    return apply_activation(y.transpose(1, 2), activation), hist[:, :, tail:] * own


def causal_conv1d_update_torch(
    x: torch.Tensor,
    conv_state: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One decode step of the causal conv.

    Args:
        x: the new input ``[B, D]``.
        conv_state: the previous ``K - 1`` inputs ``[B, D, K - 1]``.
        weight: ``[D, K]``.
        bias: ``[D]`` or None.
        activation: None or ``"silu"``.

    Returns:
        ``(y [B, D], new_state [B, D, K - 1])``.
    """
    window = torch.cat([conv_state.to(x.dtype), x[:, :, None]], dim=2)  # [B, D, K]
    y = (window * weight.to(x.dtype)).sum(dim=-1)
    if bias is not None:
        y = y + bias.to(x.dtype)
    return apply_activation(y, activation), window[:, :, 1:]
