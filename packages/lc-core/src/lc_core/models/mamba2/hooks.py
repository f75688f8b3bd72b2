"""Observation hooks and inference-time interventions on the Mamba-2 SSM (Stuffed-Mamba's knobs).

Attach with ``model.set_ssm_hooks(SSMHooks(...))`` (``None`` detaches). Without hooks the mixer runs the
plain fast path; with hooks it scans in *segments* of ``segment_tokens`` tokens aligned to absolute
positions (so chunked and one-shot runs see the same segments) and after each segment:

1. calls ``on_segment(SegmentSummary)`` with per-head means of Δ and α and the state norm (a few ``[B, H]``
   tensors per segment; nothing ``O(T)`` is kept by the model);
2. applies ``state_norm_threshold`` (Method 2: ``h <- h * min(1, τ / ||h||_F)`` per head);
3. calls ``state_fn(layer, state, position)``, which may return a replacement state.

Per-token scalings (Method 1 and the LongMamba Δ baseline) come from :class:`SSMIntervention`:

* ``dt_scale``   λ_Δ: ``Δ_t <- λ_Δ Δ_t`` (after softplus and clamp; changes both decay and input);
* ``alpha_scale`` λ_α: ``α_t <- λ_α α_t`` exactly (``log α_t + log λ_α``), input unchanged;
* ``B_scale``    λ_B: ``B_t <- λ_B B_t`` for the selected heads (applied as a per-head input scale, which
  is the same thing for ``h_t`` and leaves ``D x_t`` untouched).

Each knob is a float (all selected heads) or a ``[H]`` tensor; ``layers`` / ``heads`` restrict where it applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

__all__ = ["SSMIntervention", "SSMHooks", "SegmentSummary", "LayerKnobs", "resolve_knobs"]


@dataclass(kw_only=True)
class SSMIntervention:
    """Scalings and state normalisation for some layers and heads.

    Args:
        layers: layer indices this applies to (None = all).
        heads: head indices this applies to (None = all).
        dt_scale: λ_Δ, float or ``[H]``.
        alpha_scale: λ_α in ``(0, 1]`` (values > 1 are allowed but make the state grow), float or ``[H]``.
        B_scale: λ_B, float or ``[H]``.
        state_norm_threshold: τ, float or ``[H]`` (per layer: pass one intervention per layer); after every
            segment the state of a head is rescaled to norm ``τ`` if it is above it.
        legacy_state_norm: reproduce the released stuffed-mamba code, which multiplies by ``||h|| / τ``
            (growing the state) instead of ``τ / ||h||``. For comparisons with the original only.
    """

    layers: Sequence[int] | None = None
    heads: Sequence[int] | None = None
    dt_scale: float | torch.Tensor | None = None
    alpha_scale: float | torch.Tensor | None = None
    B_scale: float | torch.Tensor | None = None
    state_norm_threshold: float | torch.Tensor | None = None
    legacy_state_norm: bool = False


@dataclass(kw_only=True)
class SegmentSummary:
    """What ``on_segment`` receives after each segment of one layer.

    Attributes:
        layer: layer index.
        start: absolute position of the first token of the segment.
        end: absolute position one past its last token.
        dt_mean: mean Δ per head ``[B, H]``.
        alpha_mean: mean α per head ``[B, H]`` (after interventions).
        log_alpha_sum: ``Σ log α`` over the segment ``[B, H]``; ``exp`` of its running sum is the retention of
            the first token.
        state_norm: Frobenius norm of the state at the end of the segment ``[B, H]`` (before normalisation).
        state: the state ``[B, H, P, N]`` at the end of the segment (a reference, not a copy; read-only).
    """

    layer: int
    start: int
    end: int
    dt_mean: torch.Tensor
    alpha_mean: torch.Tensor
    log_alpha_sum: torch.Tensor
    state_norm: torch.Tensor
    state: torch.Tensor


@dataclass(kw_only=True)
class SSMHooks:
    """Everything the model needs to observe or change its SSM layers.

    Args:
        segment_tokens: granularity of summaries, state normalisation and ``state_fn`` (128 like stuffed-mamba).
        on_segment: callback receiving a :class:`SegmentSummary` per (layer, segment).
        interventions: scalings / normalisations; several may target the same layer (they multiply).
        state_fn: ``(layer, state [B, H, P, N], position) -> new state or None`` after each segment.
    """

    segment_tokens: int = 128
    on_segment: Callable[[SegmentSummary], None] | None = None
    interventions: list[SSMIntervention] = field(default_factory=list)
    state_fn: Callable[[int, torch.Tensor, int], torch.Tensor | None] | None = None

    def __post_init__(self) -> None:
        if self.segment_tokens < 1:
            raise ValueError(f"SSMHooks.segment_tokens must be >= 1, got {self.segment_tokens}")


@dataclass(kw_only=True)
class LayerKnobs:
    """Per-head factors of one layer, resolved from the interventions (each ``[H]`` fp32 or None)."""

    dt_scale: torch.Tensor | None = None
    log_alpha: torch.Tensor | None = None
    B_scale: torch.Tensor | None = None
    threshold: torch.Tensor | None = None
    legacy_state_norm: bool = False

    @property
    def needs_segments(self) -> bool:
        return self.threshold is not None


def _per_head(value: float | torch.Tensor, heads: Sequence[int] | None, nheads: int, neutral: float) -> torch.Tensor:
    full = torch.full((nheads,), neutral, dtype=torch.float64)
    v = torch.as_tensor(value, dtype=torch.float64)
    if v.dim() == 1 and v.numel() != nheads:
        raise ValueError(f"per-head intervention value has {v.numel()} entries, expected nheads={nheads}")
    idx = torch.arange(nheads) if heads is None else torch.as_tensor(list(heads), dtype=torch.long)
    if idx.numel() and (idx.min() < 0 or idx.max() >= nheads):
        raise ValueError(f"intervention heads {list(heads or [])} out of range for nheads={nheads}")
    full[idx] = v.expand(nheads)[idx] if v.dim() == 1 else v
    return full


def resolve_knobs(hooks: SSMHooks | None, layer: int, nheads: int) -> LayerKnobs:
    """Combine every intervention that targets ``layer`` into per-head factors.

    Args:
        hooks: the attached hooks or None.
        layer: layer index.
        nheads: heads of that layer.

    Returns:
        The :class:`LayerKnobs`; fields stay None where no intervention applies.
    """
    knobs = LayerKnobs()
    if hooks is None:
        return knobs
    for iv in hooks.interventions:
        if iv.layers is not None and layer not in iv.layers:
            continue
        if iv.dt_scale is not None:
            f = _per_head(iv.dt_scale, iv.heads, nheads, 1.0)
            knobs.dt_scale = f if knobs.dt_scale is None else knobs.dt_scale * f
        if iv.alpha_scale is not None:
            f = _per_head(iv.alpha_scale, iv.heads, nheads, 1.0)
            if (f <= 0).any():
                raise ValueError("alpha_scale must be > 0")
            knobs.log_alpha = f.log() if knobs.log_alpha is None else knobs.log_alpha + f.log()
        if iv.B_scale is not None:
            f = _per_head(iv.B_scale, iv.heads, nheads, 1.0)
            knobs.B_scale = f if knobs.B_scale is None else knobs.B_scale * f
        if iv.state_norm_threshold is not None:
            f = _per_head(iv.state_norm_threshold, iv.heads, nheads, float("inf"))
            knobs.threshold = f if knobs.threshold is None else torch.minimum(knobs.threshold, f)
            knobs.legacy_state_norm = knobs.legacy_state_norm or iv.legacy_state_norm
    return knobs


def normalize_state(state: torch.Tensor, threshold: torch.Tensor, legacy: bool = False) -> torch.Tensor:
    """Rescale each head's state to Frobenius norm ``<= threshold`` (Method 2).

    Args:
        state: ``[B, H, P, N]``.
        threshold: τ per head ``[H]`` (``inf`` = off).
        legacy: multiply by ``||h|| / τ`` as the released code does (grows the state; for comparison only).

    Returns:
        The rescaled state; heads at or below their threshold are returned bit-identical.
    """
    norm = torch.linalg.vector_norm(state.float(), dim=(-2, -1))  # [B, H]
    tau = threshold.to(norm)
    over = norm > tau
    scale = torch.where(over, (norm / tau) if legacy else (tau / norm), torch.ones_like(norm))
    return torch.where(over[..., None, None], state * scale[..., None, None].to(state.dtype), state)
