"""Dense statistics, perplexity ratio, per-layer CETT thresholds and the CETT-PPL-p% outer search (Algorithm 1).

The dense forward of each checkpoint runs once: its per-layer intermediates and its loss are cached
(:class:`DenseStats`), every candidate CETT turns into per-layer thresholds from that cache without a forward, and
only the sparse forward runs per candidate. The original recomputes the dense pass for every candidate, so it
needs ``2 × iterations`` forwards per checkpoint against our ``1 + iterations`` (:attr:`PPLSearchResult.forwards`
and ``original_forwards``). Candidates whose thresholds equal an already evaluated one reuse its PPL ratio, and the
search stops early once both ends of the bracket give the same thresholds in every layer of every checkpoint
(every CETT in between gives the same masks, so the answer cannot change).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lc_core.logging import get_logger
from sparsing_law.hooks import MLPSite, capture, find_mlps, sparse_forward
from sparsing_law.metrics import LOCAL, Reducer, layer_threshold_for_cett, neuron_thresholds

__all__ = [
    "Batch",
    "DenseStats",
    "SparseEval",
    "PPLSearchResult",
    "token_nll",
    "dense_stats",
    "thresholds_for_cett",
    "evaluate_thresholds",
    "evaluate_mask",
    "cett_for_ppl",
]

logger = get_logger(__name__)

Batch = dict[str, torch.Tensor]  # {"input_ids": [B, T], "attention_mask": [B, T]}


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def token_nll(model: nn.Module, batch: Batch, reducer: Reducer = LOCAL) -> tuple[float, float]:
    """Summed next-token NLL (float64) and the number of predicted tokens over valid positions (reduced over ranks)."""
    ids = batch["input_ids"].to(_device(model))
    mask = batch.get("attention_mask")
    mask = torch.ones_like(ids) if mask is None else mask.to(ids.device)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    logits = logits[:, :-1].float()
    tgt = ids[:, 1:]
    keep = (mask[:, 1:] * mask[:, :-1]).bool()
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
    nll = nll.view_as(tgt)[keep].double().sum().cpu()
    n = torch.tensor(float(keep.sum()), dtype=torch.float64)
    return float(reducer.sum(nll)), float(reducer.sum(n))


@dataclass
class DenseStats:
    """One checkpoint's dense pass over the calibration batches: per-layer ``a`` (``[m, d_f]``) and mean NLL."""

    model: nn.Module
    sites: list[MLPSite]
    intermediates: list[torch.Tensor]
    loss: float
    n_tokens: float
    reducer: Reducer = LOCAL
    _cache: dict[tuple[float, bool], list[float]] = field(default_factory=dict)


def dense_stats(model: nn.Module, batches: Sequence[Batch], *, reducer: Reducer = LOCAL) -> DenseStats:
    """Run the dense forwards once, caching every layer's valid-token intermediate (float32, CPU) and the loss."""
    sites = find_mlps(model)
    total, count = 0.0, 0.0
    per_layer: list[list[torch.Tensor]] = [[] for _ in sites]
    for batch in batches:
        mask = batch.get("attention_mask")
        with capture(model, mask, sites=sites) as cap:
            s, n = token_nll(model, batch, reducer)
        total, count = total + s, count + n
        for i in range(len(sites)):
            per_layer[i].extend(cap.intermediate[i])
    return DenseStats(model, sites, [torch.cat(x) for x in per_layer], total / max(count, 1.0), count, reducer)


def thresholds_for_cett(stats: DenseStats, cett: float, *, legacy: bool = False) -> list[float]:
    """Per-layer thresholds ``t_layer`` for a CETT target from the cached dense intermediates (no forward)."""
    key = (float(cett), legacy)
    if key not in stats._cache:
        stats._cache[key] = [
            layer_threshold_for_cett(a, site.down_proj.weight, cett, legacy=legacy, reducer=stats.reducer)
            for a, site in zip(stats.intermediates, stats.sites)
        ]
    return stats._cache[key]


@dataclass
class SparseEval:
    """Sparse pass result: PPL ratio against dense, mean and per-layer activation ratio (valid tokens)."""

    ppl_ratio: float
    activation: float
    layer_activation: list[float]
    loss: float


def evaluate_mask(
    model: nn.Module,
    batches: Sequence[Batch],
    mask_fn: Any,
    *,
    dense_loss: float | None = None,
    needs_gate: bool = False,
    reducer: Reducer = LOCAL,
    include_padding: bool = False,
) -> SparseEval:
    """Run ``batches`` with a keep-mask rule (see :func:`sparsing_law.hooks.sparse_forward`) and measure it.

    ``dense_loss`` (mean NLL) is measured with a dense pass when not given. ``include_padding`` averages the
    activation over padded positions too (the original HF demo).
    """
    sites = find_mlps(model)
    if dense_loss is None:
        tot = [token_nll(model, b, reducer) for b in batches]
        dense_loss = sum(t[0] for t in tot) / max(sum(t[1] for t in tot), 1.0)
    total, count = 0.0, 0.0
    act_sum = torch.zeros(len(sites), dtype=torch.float64)
    act_n = torch.zeros((), dtype=torch.float64)
    with sparse_forward(model, mask_fn, needs_gate=needs_gate, sites=sites) as state:
        for batch in batches:
            s, n = token_nll(model, batch, reducer)
            total, count = total + s, count + n
            per = state.per_layer().double()  # [L, B, T]
            mask = batch.get("attention_mask")
            valid = torch.ones(per.shape[1:], dtype=torch.bool) if mask is None or include_padding else mask.bool().cpu()
            act_sum += per[:, valid].sum(dim=1)
            act_n += valid.sum()
    act_sum, act_n = reducer.sum(act_sum), reducer.sum(act_n)
    layer = (act_sum / act_n.clamp_min(1)).tolist()
    loss = total / max(count, 1.0)
    return SparseEval(math.exp(loss - dense_loss), sum(layer) / len(layer), layer, loss)


def evaluate_thresholds(
    model: nn.Module,
    batches: Sequence[Batch],
    thresholds: Sequence[float],
    *,
    dense_loss: float | None = None,
    reducer: Reducer = LOCAL,
) -> SparseEval:
    """Sparse pass with per-layer thresholds: mask ``|a_i| < t_layer / ‖W_out[:, i]‖``."""
    sites = find_mlps(model)
    if len(thresholds) != len(sites):
        raise ValueError(f"{len(thresholds)} thresholds for a model with {len(sites)} MLP layers")
    thetas = [neuron_thresholds(t, s.down_proj.weight) for t, s in zip(thresholds, sites)]

    def keep(i: int, a: torch.Tensor, _s: torch.Tensor | None) -> torch.Tensor:
        th = thetas[i].to(a.device)
        return a.detach().abs().to(th.dtype) >= th

    return evaluate_mask(model, batches, keep, dense_loss=dense_loss, reducer=reducer)


@dataclass
class PPLSearchResult:
    """CETT-PPL-p% result; thresholds/activations are per checkpoint (one list per checkpoint)."""

    cett: float
    target_ratio: float
    ppl_ratio: float
    ppl_ratios: list[float]
    thresholds: list[list[float]]
    layer_activation: list[list[float]]
    activation: float
    iterations: int
    forwards: int
    original_forwards: int
    history: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _power_estimate(lo: float, hi: float, g_lo: float, g_hi: float, g_t: float, x0: float) -> float:
    """Where ``g = ln(PPL ratio)`` reaches ``g_t``, modelling ``g = k·c^q`` between the bracket ends.

    With ``g(lo) > 0`` both ends give ``q``; otherwise ``q = 2`` through the origin (``g(0) = 0``). Before a point
    above the target is known: ``x0``, then doubling.
    """
    if math.isnan(g_hi):
        return x0 if lo == 0.0 else 2 * lo
    if g_hi <= 0:
        return (lo + hi) / 2
    q = 2.0
    if lo > 0 and 0 < g_lo < g_hi:
        fitted = math.log(g_hi / g_lo) / math.log(hi / lo)
        if 0.5 <= fitted <= 8.0:
            q = fitted
    return hi * (g_t / g_hi) ** (1.0 / q)


def cett_for_ppl(
    models: nn.Module | Sequence[nn.Module],
    batches: Sequence[Batch],
    p: float = 0.01,
    *,
    eps: float = 1e-3,
    legacy: bool = False,
    reducer: Reducer = LOCAL,
    max_cett: float = 1.0,
    method: str = "secant",
    x0: float = 0.2,
) -> PPLSearchResult:
    """Algorithm 1: the largest CETT (to ``eps``) whose mean PPL ratio over checkpoints stays below ``1 + p``.

    Args:
        models: one model or several checkpoints (the mean of their PPL ratios is compared, as in the paper's
            sparsity-stabilising strategy); the returned single CETT applies to every checkpoint.
        batches: calibration batches (also the measurement set, as in the original demo).
        p: tolerated relative PPL increase (0.01 = PPL-1%).
        eps: width of the final bracket (a CETT below the target and one at or above it, ``eps`` apart).
        legacy: per-layer thresholds on the original's grid instead of the exact solution.
        reducer: combines statistics over processes (torchrun).
        max_cett: upper end of the initial bracket.
        method: ``"bisect"``: Algorithm 1's bisection, returning the final bracket's midpoint (its lower end when
            the midpoint misses the target). ``"secant"`` (default): the same bracket, shrunk by interpolating
            ``ln(PPL ratio)`` as a power of CETT between the bracket ends (first candidate ``x0``; CETT 0 is known
            to give ratio 1 without a forward); an estimate within ``eps`` of an end is tested ``eps`` from that end,
            a settled one is straddled at ``±eps/2``, and an end kept twice in a row triggers a bisection step. It
            returns the bracket's lower end, the largest evaluated CETT that meets the target.
        x0: first candidate of ``"secant"``.

    Returns:
        The CETT, its per-checkpoint thresholds, PPL ratios and activation ratios, the number of candidate
        evaluations, our model forwards and the original's for the same ``eps``.
    """
    if method not in ("secant", "bisect"):
        raise ValueError(f"unknown search method {method!r} (secant, bisect)")
    ckpts = [models] if isinstance(models, nn.Module) else list(models)
    stats = [dense_stats(m, batches, reducer=reducer) for m in ckpts]
    forwards = len(ckpts) * len(batches)
    seen: dict[tuple[tuple[float, ...], ...], list[SparseEval]] = {}
    history: list[dict[str, float]] = []

    def thresholds(c: float) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(thresholds_for_cett(s, c, legacy=legacy)) for s in stats)

    def run(c: float) -> tuple[tuple[tuple[float, ...], ...], list[SparseEval]]:
        nonlocal forwards
        ths = thresholds(c)
        if ths not in seen:
            seen[ths] = [
                evaluate_thresholds(s.model, batches, t, dense_loss=s.loss, reducer=reducer) for s, t in zip(stats, ths)
            ]
            forwards += len(ckpts) * len(batches)
        return ths, seen[ths]

    def mean_ratio(evals: list[SparseEval]) -> float:
        return sum(e.ppl_ratio for e in evals) / len(evals)

    lo, hi = 0.0, max_cett
    target = 1.0 + p
    iterations = 0
    if method == "bisect":
        th_lo, _ = run(lo)
        th_hi, _ = run(hi)
        while hi - lo > eps:
            if th_lo == th_hi:
                # every CETT in [lo, hi] gives the same masks: the ratio cannot cross inside the bracket
                break
            mid = (lo + hi) / 2
            ths, evals = run(mid)
            ratio = mean_ratio(evals)
            history.append({"cett": mid, "ppl_ratio": ratio, "activation": sum(e.activation for e in evals) / len(evals)})
            iterations += 1
            if ratio < target:
                lo, th_lo = mid, ths
            else:
                hi, th_hi = mid, ths
        cett = (lo + hi) / 2
        ths, evals = run(cett)
        if mean_ratio(evals) >= target:
            # the midpoint of the final bracket crossed the target: its lower end is the last CETT known to be below
            cett = lo
            ths, evals = run(cett)
    else:
        # interpolation of g(c) = ln(ratio(c)) as a power of c, inside a bracket g(lo) < ln(1 + p) <= g(hi).
        # CETT 0 prunes nothing: ratio exactly 1 (g = 0), no forward needed.
        g_t = math.log(target)
        g_lo, g_hi = 0.0, math.nan
        th_lo, th_hi = thresholds(lo), thresholds(hi)
        kept, streak = 0, 0  # which end the last steps kept (+1: hi kept, -1: lo kept) and for how many steps
        last_x = math.nan
        while hi - lo > eps * (1 + 1e-9) and th_lo != th_hi and iterations < 200:
            x = _power_estimate(lo, hi, g_lo, g_hi, g_t, x0)
            if streak >= 2 and not math.isnan(g_hi):
                # one end kept twice in a row: the model is off on that side, bisect instead
                x = (lo + hi) / 2
            if not (lo < x < hi) or not math.isfinite(x):
                x = (lo + hi) / 2
            if hi - x <= eps:
                # one candidate eps below hi closes the bracket if it is below the target
                cands = [hi - eps]
            elif x - lo <= eps:
                cands = [lo + eps]
            elif abs(x - last_x) <= eps:
                # a settled estimate is straddled by two candidates eps apart
                cands = [x - eps / 2, x + eps / 2]
            else:
                cands = [x]
            last_x = x
            # round-off can put a candidate on an end: fall back to the midpoint
            cands = [c for c in cands if lo < c < hi] or [(lo + hi) / 2]
            for c in cands:
                if not lo < c < hi:
                    # outside the bracket (a straddle candidate beyond an end the first one moved)
                    continue
                ths, evals = run(c)
                ratio = mean_ratio(evals)
                history.append({"cett": c, "ppl_ratio": ratio, "activation": sum(e.activation for e in evals) / len(evals)})
                iterations += 1
                g = math.log(max(ratio, 1e-300))
                side = 1 if g < g_t else -1
                streak = streak + 1 if side == kept else 1
                kept = side
                if g < g_t:
                    lo, th_lo, g_lo = c, ths, g
                else:
                    hi, th_hi, g_hi = c, ths, g
        cett = lo
        ths, evals = run(cett) if lo > 0.0 else (th_lo, None)
        if evals is None:
            # nothing met the target above CETT 0: no pruning
            ths, evals = run(0.0)
    # the original does a dense and a sparse forward per candidate and checkpoint, for ceil(log2(max/eps)) candidates
    original_iterations = max(0, math.ceil(math.log2(max_cett / eps))) if eps < max_cett else 0
    original_forwards = 2 * original_iterations * len(ckpts) * len(batches)
    result = PPLSearchResult(
        cett=cett,
        target_ratio=target,
        ppl_ratio=mean_ratio(evals),
        ppl_ratios=[e.ppl_ratio for e in evals],
        thresholds=[list(t) for t in ths],
        layer_activation=[e.layer_activation for e in evals],
        activation=sum(e.activation for e in evals) / len(evals),
        iterations=iterations,
        forwards=forwards,
        original_forwards=original_forwards,
        history=history,
    )
    logger.info(
        "CETT-PPL-%g%% (%s): cett %.6f, PPL ratio %.5f, activation %.4f, %d candidates, %d forwards (original: %d)",
        p * 100,
        method,
        cett,
        result.ppl_ratio,
        result.activation,
        iterations,
        forwards,
        original_forwards,
    )
    return result
