"""Plain-torch references of the sparse-FFN row op: the masked dense FFN over all rows, and the gathered torch path.

Contract (shared with the Triton kernel in ``gather.py``): ``x [B, D]`` decode tokens, ``s [B, F]`` gate activations
``σ(W_gate x)`` with every pruned entry already zero, ``idx [K]`` the neurons to compute (a superset of the nonzero
columns of ``s``: for batch 1 exactly the active neurons, for a small batch their union), ``w_up [F, D]`` and
``w_down_t = W_downᵀ [F, D]`` (one contiguous row per neuron). The output is

    y[b] = Σ_{j<K} s[b, idx_j] · (W_up[idx_j] · x[b]) · W_downᵀ[idx_j]          → [B, D]

which equals the dense FFN with the same zeros in ``s`` whenever ``idx`` covers every nonzero of ``s``.
"""

from __future__ import annotations

import torch

__all__ = ["naive_sparse_ffn_rows", "sparse_ffn_rows_torch", "active_neurons"]


def naive_sparse_ffn_rows(
    x: torch.Tensor, s: torch.Tensor, idx: torch.Tensor, w_up: torch.Tensor, w_down_t: torch.Tensor
) -> torch.Tensor:
    """Reference: the dense FFN over all ``F`` rows with the gate restricted to ``idx`` (fp32, fp64 for fp64 inputs).

    Args:
        x: ``[B, D]``. s: ``[B, F]`` masked gate activations. idx: ``[K]`` integer neuron ids.
        w_up: ``[F, D]``. w_down_t: ``[F, D]``.

    Returns:
        ``[B, D]`` in ``x.dtype``.
    """
    cdt = torch.float64 if x.dtype == torch.float64 else torch.float32
    keep = torch.zeros(s.shape[-1], dtype=torch.bool, device=s.device)
    keep[idx.long()] = True
    gate = torch.where(keep, s.to(cdt), torch.zeros((), dtype=cdt, device=s.device))
    return ((gate * (x.to(cdt) @ w_up.to(cdt).T)) @ w_down_t.to(cdt)).to(x.dtype)


def sparse_ffn_rows_torch(
    x: torch.Tensor, s: torch.Tensor, idx: torch.Tensor, w_up: torch.Tensor, w_down_t: torch.Tensor
) -> torch.Tensor:
    """Gathered torch path: only the ``K`` rows of ``W_up`` and ``W_downᵀ`` named by ``idx`` are read.

    Args and returns as :func:`naive_sparse_ffn_rows`.
    """
    idx = idx.long()
    a = s.index_select(-1, idx) * (x @ w_up.index_select(0, idx).T)  # [B, K]
    return a @ w_down_t.index_select(0, idx)


def active_neurons(s: torch.Tensor, eps: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Prune gate outputs ``|s| ≤ eps`` and list the neurons active in any token.

    Args:
        s: ``[B, F]`` gate activations ``σ(W_gate x)``.
        eps: pruning threshold (``0``: exact zeros, i.e. ReLU; FAT-ε otherwise).

    Returns:
        ``(s_masked [B, F], idx [K] int64)``: ``s`` with pruned entries zeroed, and the sorted union over the batch
        of the neurons kept (for batch 1, exactly the active neurons).
    """
    keep = s.abs() > eps
    s_masked = torch.where(keep, s, torch.zeros((), dtype=s.dtype, device=s.device))
    idx = keep.any(dim=0).nonzero().squeeze(-1)
    return s_masked, idx
