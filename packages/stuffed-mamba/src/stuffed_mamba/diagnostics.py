"""State-collapse diagnostics: per-layer, per-head state statistics, Δ/α statistics and memory-decay curves.

A :class:`StateRecorder` is an ``on_segment`` observer for lc-core's :class:`~lc_core.models.mamba2.SSMHooks`: the
model calls it after every segment of every layer, and it keeps (every ``every`` tokens) per head

* statistics of the state ``h`` (``P × N`` values): mean, variance, RMS ``sqrt(mean(h²))``, median, Frobenius norm;
* the mean Δ and mean α over the segment, and the running ``Σ log α`` (cumulative retention of the first token,
  ``∏ α = exp(Σ log α)``, the memory-decay curve);
* per-channel RMS of the state (over ``N``) at the last record, for outlier-channel detection.

Memory is ``O(T / every)`` small tensors, so streams of a million tokens are fine. :func:`analyze` streams a prompt
through a model with the recorder attached; :func:`exploding_heads` and :func:`outlier_channels` read the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from lc_core.logging import get_logger
from lc_core.models.mamba2 import SegmentSummary, SSMHooks, stream

__all__ = [
    "StateRecorder",
    "LayerTrace",
    "analyze",
    "cumulative_retention",
    "exploding_heads",
    "outlier_channels",
    "summary_table",
    "compose_hooks",
]

logger = get_logger(__name__)

STATS = ("mean", "var", "rms", "median", "norm")


def cumulative_retention(log_alpha: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """``∏_{i≤t} α_i`` computed as ``exp(cumsum(log α))`` in fp64 (stable where a product of 1e6 factors is not).

    Args:
        log_alpha: ``log α_t`` (``Δ_t · A``) along ``dim``, e.g. ``[T, H]``.
        dim: the time dimension.

    Returns:
        The retention of the first token after each step, same shape, fp64.
    """
    return torch.exp(torch.cumsum(log_alpha.double(), dim=dim))


@dataclass
class LayerTrace:
    """Records of one layer; every list has one entry per record (``positions[i]`` tokens consumed)."""

    positions: list[int] = field(default_factory=list)
    stats: dict[str, list[torch.Tensor]] = field(default_factory=lambda: {k: [] for k in STATS})
    dt_mean: list[torch.Tensor] = field(default_factory=list)
    alpha_mean: list[torch.Tensor] = field(default_factory=list)
    log_retention: list[torch.Tensor] = field(default_factory=list)
    channel_rms: torch.Tensor | None = None

    def stacked(self, name: str) -> torch.Tensor:
        """``[records, H]`` fp64 of a statistic: mean, var, rms, median, norm, dt, alpha or retention."""
        if name in STATS:
            rows = self.stats[name]
        elif name == "dt":
            rows = self.dt_mean
        elif name == "alpha":
            rows = self.alpha_mean
        elif name == "retention":
            return torch.exp(torch.stack(self.log_retention)) if self.log_retention else torch.empty(0)
        else:
            raise KeyError(f"unknown statistic {name!r}")
        return torch.stack(rows) if rows else torch.empty(0)


class StateRecorder:
    """``on_segment`` observer keeping per-head statistics every ``every`` tokens (batch row ``batch_index``).

    Args:
        every: record when a segment ends at a multiple of ``every`` (a multiple of the hooks' segment length).
        layers: layers to record (None = all).
        batch_index: which batch row to record.
    """

    def __init__(self, every: int = 128, layers: Iterable[int] | None = None, batch_index: int = 0) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.layers = None if layers is None else set(layers)
        self.batch_index = batch_index
        self.traces: dict[int, LayerTrace] = {}
        self._log_ret: dict[int, torch.Tensor] = {}
        self._seg_dt: dict[int, list[torch.Tensor]] = {}
        self._seg_alpha: dict[int, list[torch.Tensor]] = {}

    def __call__(self, s: SegmentSummary) -> None:
        if self.layers is not None and s.layer not in self.layers:
            return
        b = self.batch_index
        lr = self._log_ret.get(s.layer)
        add = s.log_alpha_sum[b].double()
        self._log_ret[s.layer] = add.clone() if lr is None else lr + add
        n = s.end - s.start
        self._seg_dt.setdefault(s.layer, []).append(s.dt_mean[b].double() * n)
        self._seg_alpha.setdefault(s.layer, []).append(s.alpha_mean[b].double() * n)
        if s.end % self.every != 0:
            return
        trace = self.traces.setdefault(s.layer, LayerTrace())
        h = s.state[b].double()  # [H, P, N]
        flat = h.flatten(1)
        trace.positions.append(s.end)
        trace.stats["mean"].append(flat.mean(1))
        trace.stats["var"].append(flat.var(1, unbiased=False))
        trace.stats["rms"].append(flat.pow(2).mean(1).sqrt())
        trace.stats["median"].append(flat.median(1).values)
        trace.stats["norm"].append(torch.linalg.vector_norm(flat, dim=1))
        span = self.every if len(trace.positions) > 1 else s.end
        trace.dt_mean.append(torch.stack(self._seg_dt[s.layer]).sum(0) / max(span, 1))
        trace.alpha_mean.append(torch.stack(self._seg_alpha[s.layer]).sum(0) / max(span, 1))
        self._seg_dt[s.layer] = []
        self._seg_alpha[s.layer] = []
        trace.log_retention.append(self._log_ret[s.layer].clone())
        trace.channel_rms = h.pow(2).mean(-1).sqrt()  # [H, P]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready records: ``{layer: {"positions": [...], stat: [[per head] per record]}}``."""
        out: dict[str, Any] = {}
        for layer, tr in sorted(self.traces.items()):
            d: dict[str, Any] = {"positions": tr.positions}
            for name in (*STATS, "dt", "alpha", "retention"):
                d[name] = tr.stacked(name).tolist()
            out[str(layer)] = d
        return out


def compose_hooks(
    *observers: Any, segment_tokens: int = 128, interventions: Iterable[Any] = (), state_fn: Any = None
) -> SSMHooks:
    """One :class:`SSMHooks` calling every observer (None entries skipped) on each segment."""
    obs = [o for o in observers if o is not None]

    def on_segment(s: SegmentSummary) -> None:
        for o in obs:
            o(s)

    return SSMHooks(
        segment_tokens=segment_tokens,
        on_segment=on_segment if obs else None,
        interventions=list(interventions),
        state_fn=state_fn,
    )


def exploding_heads(
    recorder: StateRecorder, reference_position: int, *, stat: str = "rms", factor: float = 2.0
) -> list[dict[str, Any]]:
    """Heads whose statistic grows past ``factor`` × its value at ``reference_position`` (e.g. the training length).

    Returns:
        One dict per exploding (layer, head): ``layer``, ``head``, ``ref`` (value at the reference), ``max`` (largest
        later value), ``ratio`` and ``first_position`` (where the ratio first exceeded ``factor``), largest ratio first.
    """
    found = []
    for layer, tr in sorted(recorder.traces.items()):
        if not tr.positions:
            continue
        values = tr.stacked(stat).abs()
        pos = torch.tensor(tr.positions)
        ref_idx = int(torch.searchsorted(pos, torch.tensor(reference_position)).clamp(max=len(pos) - 1))
        ref = values[ref_idx]
        later = values[ref_idx:]
        for head in range(values.shape[1]):
            r = float(ref[head])
            m = float(later[:, head].max())
            ratio = m / r if r > 0 else math.inf if m > 0 else 1.0
            if ratio > factor:
                above = (later[:, head] > factor * r).nonzero()
                first = int(pos[ref_idx + int(above[0])]) if above.numel() else int(pos[-1])
                found.append({"layer": layer, "head": head, "ref": r, "max": m, "ratio": ratio, "first_position": first})
    found.sort(key=lambda d: -d["ratio"])
    return found


def outlier_channels(recorder: StateRecorder, *, z: float = 5.0) -> list[dict[str, Any]]:
    """Channels (rows ``p`` of a head's ``P × N`` state) whose RMS at the last record exceeds ``z`` × the head's median.

    Returns:
        Per (layer, head) with outliers: ``layer``, ``head``, ``channels`` (indices), ``fraction`` of the head's channels.
    """
    out = []
    for layer, tr in sorted(recorder.traces.items()):
        if tr.channel_rms is None:
            continue
        for head in range(tr.channel_rms.shape[0]):
            rms = tr.channel_rms[head]
            med = float(rms.median())
            idx = (rms > z * med).nonzero().flatten().tolist() if med > 0 else []
            if idx:
                out.append({"layer": layer, "head": head, "channels": idx, "fraction": len(idx) / rms.numel()})
    return out


@dataclass(kw_only=True)
class Analysis:
    """What :func:`analyze` returns: the recorder, the per-token losses (or None) and the stream's wall time."""

    recorder: StateRecorder
    losses: torch.Tensor | None
    n_tokens: int
    wall_s: float


def analyze(
    model: torch.nn.Module,
    tokens: Iterable[int] | torch.Tensor,
    *,
    every: int = 128,
    segment_tokens: int = 128,
    chunk_tokens: int = 4096,
    layers: Iterable[int] | None = None,
    interventions: Iterable[Any] = (),
    state_fn: Any = None,
    extra_observers: Iterable[Any] = (),
    total: int | None = None,
    return_losses: bool = True,
    progress: bool = True,
) -> Analysis:
    """Stream ``tokens`` through ``model`` with a :class:`StateRecorder` (and optional interventions) attached.

    Args:
        model: an lc-core ``Mamba2ForCausalLM`` (any loaded checkpoint: lc, HF or state-spaces format).
        tokens: token ids (iterator, list or 1-D tensor), consumed lazily in ``chunk_tokens`` pieces.
        every: record interval in tokens (a multiple of ``segment_tokens``).
        segment_tokens: hook granularity.
        chunk_tokens: tokens per forward call (memory bound).
        layers: layers to record (None = all).
        interventions: lc-core ``SSMIntervention``s to apply while recording.
        state_fn: optional state replacement (e.g. :class:`~stuffed_mamba.methods.StateDifferenceWindow`).
        extra_observers: more ``on_segment`` callbacks.
        total: stream length for the progress bar.
        return_losses: also keep per-token losses.
        progress: show a bar.
    """
    if every % segment_tokens:
        raise ValueError(f"every ({every}) must be a multiple of segment_tokens ({segment_tokens})")
    recorder = StateRecorder(every=every, layers=layers)
    hooks = compose_hooks(
        recorder, *extra_observers, segment_tokens=segment_tokens, interventions=interventions, state_fn=state_fn
    )
    res = stream(
        model, tokens, chunk_tokens=chunk_tokens, ssm_hooks=hooks, return_losses=return_losses, total=total, progress=progress
    )
    return Analysis(recorder=recorder, losses=res.losses, n_tokens=res.n_tokens, wall_s=res.wall_s)


def summary_table(recorder: StateRecorder, positions: Iterable[int], stat: str = "rms") -> list[dict[str, Any]]:
    """Rows ``{layer, position, max_head, max, mean}`` of ``stat`` at the record nearest each position."""
    rows = []
    for layer, tr in sorted(recorder.traces.items()):
        if not tr.positions:
            continue
        values = tr.stacked(stat).abs()
        pos = torch.tensor(tr.positions)
        for p in positions:
            i = int(torch.searchsorted(pos, torch.tensor(p)).clamp(max=len(pos) - 1))
            row = values[i]
            rows.append(
                {
                    "layer": layer,
                    "position": int(pos[i]),
                    "max_head": int(row.argmax()),
                    "max": float(row.max()),
                    "mean": float(row.mean()),
                }
            )
    return rows
