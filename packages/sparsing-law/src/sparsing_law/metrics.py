"""Activation-sparsity metrics on one FFN layer: neuron norms, CETT, per-layer thresholds, masks, activation ratio.

Notation (spec §1): per token the FFN intermediate is ``a = σ(W_gate x) ⊙ (W_in x)`` (``[m, d_f]``, one row per
token), the output ``y = a W_outᵀ`` with ``W_out`` = ``down_proj.weight`` (``[d_h, d_f]``). Neuron ``i``'s output is
``n_i = a_i · W_out[:, i]``, so ``‖n_i‖ = |a_i| · ‖W_out[:, i]‖``.

CETT at a layer threshold ``t`` is the token mean of ``‖Σ_{i: ‖n_i‖ ≤ t} n_i‖ / ‖y‖`` (the tail that is pruned,
relative to the dense output). :func:`layer_threshold_for_cett` returns the largest threshold whose CETT does not
exceed a target: exactly (search over the achieved neuron norms) or, with ``legacy=True``, on the original's
65,536-point grid, without its wrap-around bug (a target below the smallest achievable CETT means no pruning).

Every statistic is computed in float32 or wider; a :class:`Reducer` sums/mins/maxes across processes so that
calibration data can be split over ranks (``torch.distributed``) with the same result as one process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "Reducer",
    "LOCAL",
    "GRID_POINTS",
    "column_norms",
    "neuron_output_norms",
    "neuron_outputs",
    "cett_value",
    "layer_threshold_for_cett",
    "layer_threshold_exact",
    "layer_threshold_grid",
    "neuron_thresholds",
    "threshold_mask",
    "topk_mask",
    "fat_mask",
    "zero_mask",
    "token_activation",
    "activation_ratio",
]

GRID_POINTS = 65536
# tokens per chunk when the tail output a' W_outᵀ is formed (bounds the [chunk, d_h] temporary)
_CHUNK = 4096


@dataclass(frozen=True)
class Reducer:
    """How per-process partial statistics are combined. :data:`LOCAL` is one process (identity).

    ``sum``/``min``/``max`` take and return a tensor (element-wise over ranks); :func:`sparsing_law.distributed.
    dist_reducer` builds the ``torch.distributed`` one.
    """

    sum: Callable[[Any], Any]
    min: Callable[[Any], Any]
    max: Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


LOCAL = Reducer(sum=_identity, min=_identity, max=_identity)


def column_norms(w_out: torch.Tensor) -> torch.Tensor:
    """``‖W_out[:, i]‖₂`` per neuron: ``w_out`` ``[d_h, d_f]`` -> ``[d_f]`` (float32 or the input's wider dtype)."""
    return _wide(w_out.detach()).norm(dim=0)


def _wide(x: torch.Tensor) -> torch.Tensor:
    import torch

    return x if x.dtype == torch.float64 else x.float()


def neuron_output_norms(a: torch.Tensor, w_out: torch.Tensor) -> torch.Tensor:
    """``‖n_i‖ = |a_i| · ‖W_out[:, i]‖``: ``a`` ``[..., d_f]``, ``w_out`` ``[d_h, d_f]`` -> ``[..., d_f]``."""
    a = _wide(a.detach())
    return a.abs() * column_norms(w_out).to(a.dtype).to(a.device)


def neuron_outputs(a: torch.Tensor, w_out: torch.Tensor) -> torch.Tensor:
    """Every neuron's output vector ``n_i = a_i W_out[:, i]``: ``a`` ``[m, d_f]`` -> ``[m, d_f, d_h]`` (small inputs only)."""
    a = _wide(a.detach())
    return a[..., None] * w_out.detach().to(a.dtype).T


class _LayerStats:
    """Cached pieces of one layer for repeated CETT evaluations: ``a`` ``[m, d_f]``, norms and dense output norms."""

    def __init__(self, a: torch.Tensor, w_out: torch.Tensor, reducer: Reducer) -> None:
        import torch

        self.a = _wide(a.detach())
        self.w = w_out.detach().to(self.a.dtype).to(self.a.device)
        self.norms = self.a.abs() * self.w.norm(dim=0)
        self.reducer = reducer
        self.y_norm = torch.cat([(c @ self.w.T).norm(dim=-1) for c in self.a.split(_CHUNK)]) if len(self.a) else self.a[:, 0]
        self.n_tokens = reducer.sum(torch.tensor(float(len(self.a)), dtype=torch.float64))

    def cett(self, t: float, *, strict: bool = False) -> float:
        """Token-mean ``‖tail‖ / ‖y‖`` with the tail ``norm ≤ t`` (``< t`` when ``strict``), reduced over ranks."""
        import torch

        total = torch.zeros((), dtype=torch.float64)
        start = 0
        for chunk, norms in zip(self.a.split(_CHUNK), self.norms.split(_CHUNK)):
            tail_mask = norms < t if strict else norms <= t
            tail = (chunk * tail_mask) @ self.w.T
            y = self.y_norm[start : start + len(chunk)]
            # a token whose dense output is exactly zero has an empty tail too: its ratio counts as 0
            total += (tail.norm(dim=-1) / y.clamp_min(torch.finfo(y.dtype).tiny)).double().sum().cpu()
            start += len(chunk)
        n = float(self.n_tokens)
        return float(self.reducer.sum(total)) / n if n > 0 else 0.0


def cett_value(
    a: torch.Tensor, w_out: torch.Tensor, threshold: float, *, strict: bool = False, reducer: Reducer = LOCAL
) -> float:
    """CETT of pruning every neuron with ``‖n_i‖ ≤ threshold`` (``<`` when ``strict``).

    Args:
        a: FFN intermediate ``[m, d_f]`` (valid tokens only).
        w_out: ``down_proj.weight`` ``[d_h, d_f]``.
        threshold: layer threshold ``t`` on the neuron output norm.
        strict: prune ``‖n_i‖ < t`` (the inference mask) instead of ``≤ t`` (the search's tail).
        reducer: combines the token sums over processes.

    Returns:
        The token mean of ``‖Σ_{pruned} n_i‖₂ / ‖y‖₂`` in ``[0, 1]``.
    """
    return _LayerStats(a, w_out, reducer).cett(threshold, strict=strict)


def layer_threshold_exact(a: torch.Tensor, w_out: torch.Tensor, cett: float, *, reducer: Reducer = LOCAL) -> float:
    """The exact layer threshold for a CETT target: prune as many neurons as CETT ``≤ cett`` allows.

    CETT is a step function of ``t`` that changes only at achieved neuron norms, so the search runs over those
    values: the bracket is bisected (geometrically once positive) until no achieved norm is left strictly inside
    it, which gives the same result on one process and on any split of the tokens over ranks. The returned
    threshold lies midway between the largest pruned norm ``v_k`` and the next achieved norm ``v_{k+1}``, so the
    strict inference mask ``‖n_i‖ < t`` prunes exactly the searched set ``‖n_i‖ ≤ v_k`` and float round-off cannot flip a tie.

    Args:
        a: FFN intermediate ``[m, d_f]``.
        w_out: ``down_proj.weight`` ``[d_h, d_f]``.
        cett: target in ``[0, 1]``.
        reducer: combines statistics over processes.

    Returns:
        ``t`` (0.0 means no pruning: the target is below the CETT of pruning even the smallest norm).
    """
    import torch

    stats = _LayerStats(a, w_out, reducer)
    norms = stats.norms.flatten()
    dtype = norms.dtype
    inf = torch.tensor(float("inf"), dtype=dtype)
    gmax = float(reducer.max(norms.max().cpu() if norms.numel() else -inf))
    if gmax == float("-inf"):
        return 0.0
    if stats.cett(gmax) <= cett:
        # even pruning every neuron stays within the target
        return float(torch.nextafter(torch.tensor(gmax, dtype=dtype), inf))
    lo = float("-inf")  # cett(lo) <= target (nothing pruned)
    hi = gmax  # cett(hi) > target
    inside = norms
    while True:
        # the bracket only shrinks: the norms strictly inside it are a subset of the previous ones
        inside = inside[(inside > lo) & (inside < hi)]
        count = float(reducer.sum(torch.tensor(float(inside.numel()), dtype=torch.float64)))
        if count == 0:
            break
        # pivot: the midpoint of the bracket (geometric once it is positive), which depends only on the bracket and
        # so is the same on one process and on any split of the tokens over ranks
        pivot = math.sqrt(lo * hi) if lo > 0 else (max(lo, 0.0) + hi) / 2
        if not (lo < pivot < hi):
            pivot = (max(lo, 0.0) + hi) / 2
        if not (lo < pivot < hi):
            break
        if stats.cett(pivot) <= cett:
            lo = pivot
        else:
            hi = pivot
    below = norms[norms <= lo]
    lower = float(reducer.max(below.max().cpu() if below.numel() else -inf))
    if lower == float("-inf"):
        return 0.0
    above = norms[norms >= hi]
    upper = float(reducer.min(above.min().cpu() if above.numel() else inf))
    t = (lower + upper) / 2
    return t if t > lower else upper


def layer_threshold_grid(
    a: torch.Tensor, w_out: torch.Tensor, cett: float, *, grid: int = GRID_POINTS, q: float = 0.99, reducer: Reducer = LOCAL
) -> float:
    """The original's grid search (``legacy``): ``linspace(min norm, q-quantile, grid)``, binary search, ``grid[left-1]``.

    The quantile is taken on the strided subsample ``norms.flatten()[::max(numel // grid, 1)]`` as in the original;
    across ranks the minimum and the quantile are combined with min/max (the original all-reduced min and max).
    Unlike the original, a target below the CETT of the first grid point returns 0.0 (no pruning) instead of the
    wrapped-around ``grid[-1]`` that prunes almost everything.

    Returns:
        The largest grid threshold with CETT ``≤ cett`` (tail ``‖n_i‖ ≤ t``), or 0.0.
    """
    import torch

    stats = _LayerStats(a, w_out, reducer)
    norms = stats.norms.flatten()
    if norms.numel() == 0:
        return 0.0
    sub = norms[:: max(norms.numel() // grid, 1)]
    lo = float(reducer.min(norms.min().cpu()))
    hi = float(reducer.max(torch.quantile(sub.double(), q).to(norms.dtype).cpu()))
    points = torch.linspace(lo, hi, grid, dtype=torch.float64)
    left, right = 0, grid - 1
    while left < right:
        mid = (left + right) // 2
        if stats.cett(float(points[mid])) > cett:
            right = mid
        else:
            left = mid + 1
    # the original never tests the last grid point; keep that
    if left == 0:
        return 0.0
    return float(points[left - 1])


def layer_threshold_for_cett(
    a: torch.Tensor, w_out: torch.Tensor, cett: float, *, legacy: bool = False, reducer: Reducer = LOCAL
) -> float:
    """Layer threshold for a CETT target: :func:`layer_threshold_exact`, or :func:`layer_threshold_grid` when ``legacy``."""
    if not 0.0 <= cett <= 1.0:
        raise ValueError(f"CETT target must be in [0, 1], got {cett}")
    if legacy:
        return layer_threshold_grid(a, w_out, cett, reducer=reducer)
    return layer_threshold_exact(a, w_out, cett, reducer=reducer)


def neuron_thresholds(threshold: float, w_out: torch.Tensor) -> torch.Tensor:
    """Per-neuron thresholds ``θ_i = t / ‖W_out[:, i]‖`` (``[d_f]``); a zero column gets ``+inf`` when ``t > 0``."""
    w = column_norms(w_out)
    return threshold / w


def threshold_mask(a: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Keep mask ``|a_i| ≥ θ_i`` (the pruned set is ``|a_i| < θ_i``): ``a`` ``[..., d_f]``, ``theta`` ``[d_f]``."""
    return a.abs().to(theta.dtype) >= theta.to(a.device)


def topk_mask(s: torch.Tensor, keep: float, *, per_token: bool = True) -> torch.Tensor:
    """Top-k keep mask on the gate output ``s = σ(W_gate x)`` (``[..., d_f]``), largest ``|s_i|`` kept.

    Args:
        s: gate activations ``[..., d_f]``.
        keep: kept fraction ``k / d_f`` in ``[0, 1]``.
        per_token: the paper's definition: every token keeps exactly ``round(keep · d_f)`` neurons. ``False`` is
            the original code (``legacy``): the whole tensor is flattened and its ``int(numel · (1 − keep))``
            smallest entries are zeroed, so ``numel − int(numel · (1 − keep))`` survive per layer tensor and the
            per-token count varies.
    """
    import torch

    if not 0.0 <= keep <= 1.0:
        raise ValueError(f"top-k keep ratio must be in [0, 1], got {keep}")
    mag = s.detach().abs()
    if per_token:
        d_f = s.shape[-1]
        k = min(d_f, max(0, round(keep * d_f)))
        mask = torch.zeros_like(mag, dtype=torch.bool)
        if k:
            idx = mag.topk(k, dim=-1).indices
            mask.scatter_(-1, idx, True)
        return mask
    flat = mag.flatten()
    n_drop = int(flat.numel() * (1 - keep))
    mask = torch.ones_like(flat, dtype=torch.bool)
    if n_drop:
        idx = flat.topk(n_drop, largest=False).indices
        mask[idx] = False
    return mask.view_as(mag)


def fat_mask(s: torch.Tensor, eps: float) -> torch.Tensor:
    """FAT-ε keep mask: ``|s_i| ≥ ε`` (the original prunes ``|s_i| < ε + 1e-18``)."""
    return s.detach().abs() >= eps + 1e-18


def zero_mask(s: torch.Tensor) -> torch.Tensor:
    """Straightforward ReLU sparsity: keep ``s_i ≠ 0``."""
    return s.detach() != 0


def token_activation(keep: torch.Tensor) -> torch.Tensor:
    """Fraction of neurons kept per token: keep mask ``[..., d_f]`` -> ``[...]`` (float32)."""
    return keep.float().mean(dim=-1)


def activation_ratio(per_layer: torch.Tensor, attention_mask: torch.Tensor | None = None) -> float:
    """Model activation ratio: the mean over layers × tokens of the per-token ratios.

    Args:
        per_layer: ``[L, B, T]`` per-token activation ratios of each layer.
        attention_mask: ``[B, T]``; positions where it is 0 (padding) are excluded. ``None`` averages every
            position (the original HF demo, which counts padding).

    Returns:
        The unweighted mean over layers of each layer's mean over valid tokens.
    """
    x = per_layer.double()
    if attention_mask is None:
        return float(x.mean())
    m = attention_mask.to(x.device).bool()
    if not m.any():
        raise ValueError("attention mask has no valid position")
    return float(x[:, m].mean())
