"""The three training-free state-collapse mitigations of Stuffed Mamba, as composable inference-time wrappers.

* **Method 1** — forget more, remember less (:func:`method1`): ``α_t ← λ_α α_t`` exactly (``log α + log λ_α``),
  ``B_t ← λ_B B_t``, ``Δ_t ← λ_Δ Δ_t``; all ones is the identity. With ``α ≤ 1`` the state is bounded by
  ``max ‖Δx ⊗ λ_B B‖ / (1 − λ_α)``.
* **Method 2** — state normalisation (:func:`method2`, :func:`calibrate_thresholds`): after every segment
  ``h ← h · min(1, τ_{l,h} / ‖h‖_F)``, with ``τ`` the per-(layer, head) state norm at the end of a calibration prompt
  (× a multiplier). ``legacy=True`` reproduces the released code, which multiplies by ``‖h‖/τ`` (grows the state).
* **Method 3** — sliding window by state difference (:class:`StateDifferenceWindow`): the state is a decayed sum,
  so the state restricted to the tokens after ``s`` is exactly ``h_t − α_{s+1:t} h_s`` with
  ``α_{s+1:t} = exp(Σ_{k=s+1}^{t} Δ_k A)``. The bounded-memory two-anchor variant keeps one snapshot besides the
  running state and cuts every ``window / 2`` tokens, so every output sees the last ``[window/2, window]`` tokens of
  SSM history. The original repository never implemented this method.

Each wrapper returns lc-core objects (``SSMIntervention`` lists and ``state_fn`` callables); :func:`build_hooks`
combines a method with any observers into one :class:`~lc_core.models.mamba2.SSMHooks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from lc_core.logging import get_logger
from lc_core.models.mamba2 import SegmentSummary, SSMHooks, SSMIntervention, stream

__all__ = [
    "METHODS",
    "MethodSpec",
    "method1",
    "method2",
    "calibrate_thresholds",
    "StateDifferenceWindow",
    "build_hooks",
]

logger = get_logger(__name__)

METHODS = ("none", "m1", "m2", "m3")


def method1(
    *,
    alpha_scale: float | torch.Tensor = 1.0,
    B_scale: float | torch.Tensor = 1.0,
    dt_scale: float | torch.Tensor = 1.0,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
) -> list[SSMIntervention]:
    """Method 1 knobs (λ_α, λ_B, λ_Δ) for some layers/heads; an empty list when all are exactly 1 (identity).

    ``alpha_scale`` must lie in ``(0, 1]`` to make the model forget more (values above 1 are rejected: they remove
    forgetting). lc-core applies it as ``log α_t + log λ_α`` inside the scan, i.e. exactly ``α_t ← λ_α α_t``.
    """
    a = torch.as_tensor(alpha_scale, dtype=torch.float64)
    if (a <= 0).any() or (a > 1).any():
        raise ValueError(f"alpha_scale must be in (0, 1], got {alpha_scale}")
    knobs = {}
    for name, value in (("alpha_scale", alpha_scale), ("B_scale", B_scale), ("dt_scale", dt_scale)):
        if not bool((torch.as_tensor(value, dtype=torch.float64) == 1.0).all()):
            knobs[name] = value
    if not knobs:
        return []
    return [SSMIntervention(layers=layers, heads=heads, **knobs)]


def method2(thresholds: torch.Tensor | Sequence[Sequence[float]], *, legacy: bool = False) -> list[SSMIntervention]:
    """Method 2: one normalising intervention per layer from ``τ`` of shape ``[L, H]``.

    Args:
        thresholds: per-layer, per-head Frobenius-norm thresholds (``inf`` disables a head).
        legacy: the released code's inverted rescale ``h · ‖h‖/τ`` (grows the state; for comparisons only).
    """
    tau = torch.as_tensor(thresholds, dtype=torch.float64)
    if tau.dim() != 2:
        raise ValueError(f"thresholds must be [layers, heads], got shape {tuple(tau.shape)}")
    if (tau <= 0).any():
        raise ValueError("thresholds must be > 0")
    return [
        SSMIntervention(layers=[layer], state_norm_threshold=tau[layer].clone(), legacy_state_norm=legacy)
        for layer in range(tau.shape[0])
    ]


@torch.inference_mode()
def calibrate_thresholds(
    model: torch.nn.Module,
    tokens: Iterable[int] | torch.Tensor,
    *,
    multiplier: float = 1.0,
    segment_tokens: int = 128,
    chunk_tokens: int = 4096,
    progress: bool = False,
) -> torch.Tensor:
    """τ for Method 2: each (layer, head)'s state norm at the end of ``tokens`` (a prompt within the training length).

    Returns:
        ``[L, H]`` fp64 thresholds ``multiplier · ‖h^{(l,h)}_T‖_F``.
    """
    if multiplier <= 0:
        raise ValueError(f"multiplier must be > 0, got {multiplier}")
    res = stream(model, tokens, chunk_tokens=chunk_tokens, return_losses=False, progress=progress)
    if res.n_tokens == 0 or res.cache is None:
        raise ValueError("calibration prompt is empty")
    norms = torch.stack([torch.linalg.vector_norm(s[0].double(), dim=(-2, -1)) for s in res.cache.ssm_states])
    tau = norms * multiplier
    # a head whose state never moved would get τ = 0 and be zeroed forever: leave it unconstrained instead
    return torch.where(tau > 0, tau, torch.full_like(tau, float("inf")))


@dataclass
class _Anchor:
    snapshot: torch.Tensor | None = None  # state at the last cut, fp64 [B, H, P, N]
    log_ret: torch.Tensor | None = None  # Σ log α since the snapshot [B, H] fp64
    last_pos: int = -1
    last_cut: int = 0


@dataclass
class StateDifferenceWindow:
    """Method 3: a sliding window over the SSM history by subtracting a decayed anchor state.

    Use as ``on_segment`` observer *and* ``state_fn`` of the same :class:`SSMHooks` (:func:`build_hooks` does).
    Every ``window // 2`` tokens (a multiple of the hooks' segment length) the running state ``h_t`` of every layer is
    replaced by ``h_t − exp(Σ log α since the previous cut) · h_cut`` computed in fp64 (exact up to the state's own
    rounding), and the result becomes the new anchor. So at most two states per layer are held (the running one and
    the snapshot), and the history behind any output is between ``window // 2`` and ``window`` tokens long.

    Per layer this is exact; in a multi-layer model deeper layers see inputs computed with their own windows, so
    the model is *not* identical to re-running it on the window. The conv carry (``d_conv − 1`` tokens) is kept.

    Args:
        window: ``r``, the maximal window length in tokens (even; ``r/2`` a multiple of ``segment_tokens``).
        segment_tokens: the hooks' segment length.
        layers: layers to window (None = all).
    """

    window: int
    segment_tokens: int = 128
    layers: Sequence[int] | None = None
    _anchors: dict[int, _Anchor] = field(default_factory=dict, init=False, repr=False)
    cuts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.window < 2 or self.window % 2:
            raise ValueError(f"window must be an even number >= 2, got {self.window}")
        if (self.window // 2) % self.segment_tokens:
            raise ValueError(f"window/2 ({self.window // 2}) must be a multiple of segment_tokens ({self.segment_tokens})")

    @property
    def half(self) -> int:
        return self.window // 2

    def reset(self) -> None:
        """Forget every anchor (a new stream starts)."""
        self._anchors.clear()
        self.cuts = 0

    def stored_states(self) -> int:
        """Snapshots held per layer at most (1; with the running state that makes the two of the method)."""
        return max((1 for a in self._anchors.values() if a.snapshot is not None), default=0)

    def history_length(self, position: int, layer: int = 0) -> int:
        """Tokens of SSM history behind the output at ``position`` (0-based, at or after the last cut of ``layer``)."""
        a = self._anchors.get(layer)
        cut = a.last_cut if a is not None else 0
        return position + 1 - cut

    def _applies(self, layer: int) -> bool:
        return self.layers is None or layer in self.layers

    def __call__(self, s: SegmentSummary) -> None:
        """``on_segment``: accumulate ``Σ log α`` since the anchor."""
        if not self._applies(s.layer):
            return
        a = self._anchors.setdefault(s.layer, _Anchor())
        if s.start <= a.last_pos:  # positions went back: a new stream
            self._anchors[s.layer] = a = _Anchor()
        add = s.log_alpha_sum.double()
        a.log_ret = add.clone() if a.log_ret is None else a.log_ret + add
        a.last_pos = s.end - 1

    def state_fn(self, layer: int, state: torch.Tensor, position: int) -> torch.Tensor | None:
        """``state_fn``: at every multiple of ``window // 2`` subtract the decayed anchor and move the anchor here."""
        if not self._applies(layer) or position % self.half:
            return None
        a = self._anchors.setdefault(layer, _Anchor())
        new = None
        if a.snapshot is not None:
            if a.log_ret is None:
                raise RuntimeError("StateDifferenceWindow.state_fn needs the same object as on_segment observer")
            decay = torch.exp(a.log_ret)[..., None, None]
            new = (state.double() - decay * a.snapshot).to(state.dtype)
            self.cuts += 1
        a.snapshot = (new if new is not None else state).double().clone()
        a.log_ret = torch.zeros_like(a.snapshot[..., 0, 0])
        a.last_cut = position - self.half if new is not None else 0
        return new


@dataclass(kw_only=True)
class MethodSpec:
    """A mitigation by name with its parameters (what the CLI's ``--method`` flags build).

    Args:
        method: ``none``, ``m1``, ``m2`` or ``m3``.
        alpha_scale: Method 1 λ_α.
        B_scale: Method 1 λ_B.
        dt_scale: Method 1 λ_Δ.
        thresholds: Method 2 τ ``[L, H]`` (from :func:`calibrate_thresholds`).
        legacy_state_norm: Method 2 as released (inverted rescale).
        window: Method 3 window ``r`` in tokens.
        segment_tokens: hook granularity.
    """

    method: str = "none"
    alpha_scale: float = 1.0
    B_scale: float = 1.0
    dt_scale: float = 1.0
    thresholds: Any = None
    legacy_state_norm: bool = False
    window: int = 4096
    segment_tokens: int = 128

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.method == "m2" and self.thresholds is None:
            raise ValueError("method m2 needs thresholds (calibrate them first)")

    def describe(self) -> str:
        if self.method == "m1":
            return f"m1(alpha={self.alpha_scale:g}, B={self.B_scale:g}, dt={self.dt_scale:g})"
        if self.method == "m2":
            return "m2(legacy)" if self.legacy_state_norm else "m2"
        if self.method == "m3":
            return f"m3(window={self.window})"
        return "none"


def build_hooks(spec: MethodSpec, *observers: Any) -> SSMHooks | None:
    """The hooks realising ``spec`` plus ``observers`` (``on_segment`` callbacks); None when there is nothing to do.

    A fresh :class:`StateDifferenceWindow` is created per call, so build new hooks for every independent stream.
    """
    obs = [o for o in observers if o is not None]
    interventions: list[SSMIntervention] = []
    state_fn = None
    if spec.method == "m1":
        interventions = method1(alpha_scale=spec.alpha_scale, B_scale=spec.B_scale, dt_scale=spec.dt_scale)
    elif spec.method == "m2":
        interventions = method2(spec.thresholds, legacy=spec.legacy_state_norm)
    elif spec.method == "m3":
        win = StateDifferenceWindow(window=spec.window, segment_tokens=spec.segment_tokens)
        obs.append(win)
        state_fn = win.state_fn
    if not obs and not interventions and state_fn is None:
        return None

    def on_segment(s: SegmentSummary) -> None:
        for o in obs:
            o(s)

    return SSMHooks(
        segment_tokens=spec.segment_tokens,
        on_segment=on_segment if obs else None,
        interventions=interventions,
        state_fn=state_fn,
    )
