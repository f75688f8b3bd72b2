"""Activation-vs-tokens curves from training logs (:mod:`sparsing_law.callback`) and their sparsing-law fits.

A curve is read from a run folder, a ``sparsity.jsonl`` file or a shipped demo model's folder, at one fixed CETT
(or the zero-threshold ratio). Tokens are expressed in ``unit`` tokens (default millions, since demo models see
far fewer than the paper's billions); both laws are scale-free in form, only their ``c`` changes with the unit.
Points with zero tokens (the initialisation) are left out because both laws need ``D > 0``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparsing_law import laws
from sparsing_law.callback import SPARSITY_LOG, read_sparsity_log

__all__ = ["Curve", "load_run_curve", "fit_curve", "CurveFit", "run_activation"]


@dataclass
class Curve:
    """One activation-vs-tokens curve: ``d`` in ``unit`` tokens, ``a`` activation ratios, the run's FFN activation."""

    name: str
    d: np.ndarray
    a: np.ndarray
    steps: list[int]
    act: str | None
    measure: str
    unit: float

    def to_sparsing_law_data(self) -> dict[str, list[float]]:
        """The released data's format ``{"token_passed": [...], "activation_ratio": [...]}`` (raw token counts)."""
        return {"token_passed": (self.d * self.unit).tolist(), "activation_ratio": self.a.tolist()}


def run_activation(folder: Path) -> str | None:
    """The FFN activation in ``folder/config.json`` (lc-core GQA ``activation`` or HF ``hidden_act``), if any."""
    cfg = folder / "config.json"
    if not cfg.is_file():
        return None
    obj = json.loads(cfg.read_text(encoding="utf-8"))
    act = obj.get("activation", obj.get("hidden_act"))
    return str(act) if act else None


def _log_path(source: str | os.PathLike[str]) -> tuple[Path, Path]:
    p = Path(source)
    if not p.exists():
        from lc_core.models.builtin import is_builtin, resolve_model_path

        if is_builtin(str(source)):
            p = Path(resolve_model_path(str(source)))
    if p.is_dir():
        return p / SPARSITY_LOG, p
    return p, p.parent


def load_run_curve(
    source: str | os.PathLike[str], *, cett: float | None = 0.2, unit: float = 1e6, name: str | None = None
) -> Curve:
    """The curve of a run folder / ``sparsity.jsonl`` / built-in demo model name at CETT ``cett`` (None: zero ratio).

    The activation is read from the ``config.json`` beside the log (a shipped model folder) or in the run's
    newest checkpoint.

    Raises:
        FileNotFoundError: no log there.
        ValueError: the log lacks that CETT (names the values it has) or has fewer than 3 points with tokens > 0.
    """
    log, folder = _log_path(source)
    if not log.is_file():
        raise FileNotFoundError(f"{log}: no {SPARSITY_LOG} (written by sparsing_law.callback.ActivationTracker)")
    rows = [r for r in read_sparsity_log(log) if r["tokens"] > 0]
    key = None if cett is None else f"{cett:g}"
    d, a, steps = [], [], []
    for r in rows:
        if key is None:
            if "zero" not in r:
                raise ValueError(f"{log}: row of step {r['step']} has no zero-threshold ratio")
            val = r["zero"]
        else:
            if key not in r.get("cett", {}):
                have = ", ".join(sorted(r.get("cett", {}))) or "none"
                raise ValueError(f"{log}: step {r['step']} has no activation at CETT {key} (logged: {have})")
            val = r["cett"][key]["activation"]
        d.append(r["tokens"] / unit)
        a.append(val)
        steps.append(r["step"])
    if len(d) < 3:
        raise ValueError(f"{log}: {len(d)} points with tokens > 0; a law fit needs at least 3")
    act = run_activation(folder)
    if act is None:
        from lc_core.train import latest_checkpoint

        ckpt = latest_checkpoint(folder)
        act = run_activation(ckpt) if ckpt is not None else None
    return Curve(
        name or (folder.name if log.name == SPARSITY_LOG else log.stem),
        np.asarray(d, dtype=float),
        np.asarray(a, dtype=float),
        steps,
        act,
        "zero" if key is None else f"CETT {key}",
        unit,
    )


@dataclass
class CurveFit:
    """Both laws and the log baseline fitted to one curve, and the curve's measured trend."""

    curve: Curve
    own: str
    fits: dict[str, laws.LawFit] = field(default_factory=dict)
    drop: int = 0

    @property
    def first(self) -> float:
        return float(self.curve.a[self.drop])

    @property
    def last(self) -> float:
        return float(self.curve.a[-1])

    @property
    def log_slope(self) -> float:
        """``u`` of the ``u·ln D + v`` fit: the change of A per e-fold of tokens (negative: falls with data)."""
        return float(self.fits["log"].params[0])

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.curve.name,
            "act": self.curve.act,
            "measure": self.curve.measure,
            "unit_tokens": self.curve.unit,
            "points": self.curve.to_sparsing_law_data(),
            "steps": self.curve.steps,
            "dropped": self.drop,
            "own_law": self.own,
            "fits": {k: f.as_dict() for k, f in self.fits.items()},
            "first": self.first,
            "last": self.last,
            "log_slope": self.log_slope,
        }


def fit_curve(curve: Curve, *, act: str | None = None, drop: int = 0) -> CurveFit:
    """Fit the ReLU and SiLU laws and the log baseline; ``own`` is the law of the run's activation.

    Raises:
        ValueError: the activation is unknown (pass ``act``) or a fit fails.
    """
    own = act or curve.act
    if own not in ("relu", "silu"):
        raise ValueError(f"{curve.name}: FFN activation {own!r} is neither relu nor silu; pass act='relu' or 'silu'")
    out = CurveFit(curve, own, drop=drop)
    for kind in ("relu", "silu", "log"):
        try:
            out.fits[kind] = laws.fit_law(kind, curve.d, curve.a, drop=drop)
        except ValueError:
            if kind == own or kind == "log":
                raise
    return out
