"""Decode-time sparse FFN: compute the gate, then only the active neurons' rows of ``W_up`` and columns of ``W_down``.

For a gated FFN ``y = W_down [σ(W_gate x) ⊙ (W_up x)]`` a neuron whose gate output is pruned (``|s_i| < ε``: zero for
ReLU, FAT-ε in general) contributes nothing, so after the full gate matmul only ``k`` of ``d_f`` rows of ``W_up``
and columns of ``W_down`` are needed: ``2·k·d_h`` instead of ``2·d_f·d_h`` multiply-adds for those two matrices.
:func:`masked_dense_ffn` is the reference (the dense FFN with the same mask); :class:`SparseFFN` holds ``W_down``
transposed so that the active columns are contiguous rows.

Backends: ``"torch"`` (this module, one token at a time) and ``"triton"`` (the kernels of
:mod:`sparsing_law.ops.sparse_ffn`, a small batch at once over the union of its active neurons); ``"auto"`` takes
Triton for CUDA tensors and torch elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from sparsing_law.ops.sparse_ffn import Backend, resolve_backend, sparse_ffn_rows
from sparsing_law.ops.sparse_ffn.naive import active_neurons

__all__ = ["masked_dense_ffn", "sparse_ffn", "sparse_ffn_batch", "SparseFFN"]


def masked_dense_ffn(
    x: torch.Tensor,
    w_gate: torch.Tensor,
    w_up: torch.Tensor,
    w_down: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    eps: float = 0.0,
) -> torch.Tensor:
    """Reference: dense gated FFN with gate outputs ``|s_i| ≤ eps`` zeroed (``eps=0``: exact zeros, i.e. ReLU).

    Args:
        x: ``[..., d_h]``. w_gate, w_up: ``[d_f, d_h]``. w_down: ``[d_h, d_f]``.

    Returns:
        ``[..., d_h]``.
    """
    s = act(x @ w_gate.T)
    s = torch.where(s.abs() > eps, s, torch.zeros_like(s))
    return (s * (x @ w_up.T)) @ w_down.T


def sparse_ffn(
    x: torch.Tensor,
    w_gate: torch.Tensor,
    w_up: torch.Tensor,
    w_down_t: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    eps: float = 0.0,
) -> torch.Tensor:
    """Sparse gated FFN for one token: gate, then the active neurons only (same output as :func:`masked_dense_ffn`).

    Args:
        x: ``[d_h]`` (batch 1 decoding).
        w_gate, w_up: ``[d_f, d_h]``.
        w_down_t: ``W_downᵀ``, ``[d_f, d_h]`` (contiguous rows per neuron).
        eps: gate outputs ``|s_i| ≤ eps`` are pruned.

    Returns:
        ``[d_h]``.
    """
    s = act(w_gate @ x)
    idx = (s.abs() > eps).nonzero().squeeze(-1)
    a = s.index_select(0, idx) * (w_up.index_select(0, idx) @ x)
    return a @ w_down_t.index_select(0, idx)


def sparse_ffn_batch(
    x: torch.Tensor,
    w_gate: torch.Tensor,
    w_up: torch.Tensor,
    w_down_t: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    eps: float = 0.0,
    *,
    backend: Backend = "auto",
) -> torch.Tensor:
    """Sparse gated FFN for a small decode batch: dense gate, then only the union of the batch's active neurons.

    Each token keeps its own mask (its pruned gate entries are zero), so the output equals
    :func:`masked_dense_ffn` row by row; the union only decides which rows of ``W_up`` / ``W_downᵀ`` are read.

    Args:
        x: ``[B, d_h]``.
        w_gate, w_up: ``[d_f, d_h]``.
        w_down_t: ``W_downᵀ``, ``[d_f, d_h]``.
        eps: gate outputs ``|s_i| ≤ eps`` are pruned.
        backend: ``"torch"`` (gathered torch), ``"triton"`` (the kernels) or ``"auto"`` (Triton on CUDA).

    Returns:
        ``[B, d_h]``.
    """
    s, idx = active_neurons(act(x @ w_gate.T), eps)
    return sparse_ffn_rows(x, s, idx, w_up, w_down_t, backend=backend)


class SparseFFN(nn.Module):
    """A gated MLP (``gate_proj``/``up_proj``/``down_proj``, e.g. an lc-core GQA or Llama MLP) as a batch-1 sparse FFN.

    ``forward(x)`` takes ``[..., d_h]``. Backend ``"torch"`` runs every token through :func:`sparse_ffn` (decoding
    has one); ``"triton"`` runs all tokens through :func:`sparse_ffn_batch` with the Triton kernels (CUDA, or CPU
    under ``TRITON_INTERPRET=1``); ``"auto"`` (default) resolves per call: Triton for CUDA inputs, else torch.
    """

    def __init__(self, mlp: nn.Module, eps: float = 0.0, backend: Backend = "auto") -> None:
        super().__init__()
        if backend not in ("auto", "torch", "triton"):
            raise ValueError(f"unknown sparse-FFN backend {backend!r}; choose one of auto, torch, triton")
        self.w_gate = mlp.gate_proj.weight.detach()
        self.w_up = mlp.up_proj.weight.detach()
        self.w_down_t = mlp.down_proj.weight.detach().T.contiguous()
        self.act = mlp.act_fn
        self.eps = eps
        self.backend = backend

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        if resolve_backend(self.backend, flat) == "triton":
            out = sparse_ffn_batch(flat, self.w_gate, self.w_up, self.w_down_t, self.act, self.eps, backend="triton")
            return out.view_as(x)
        out = torch.stack([sparse_ffn(t, self.w_gate, self.w_up, self.w_down_t, self.act, self.eps) for t in flat])
        return out.view_as(x)
