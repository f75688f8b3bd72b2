"""The sparsing laws (activation ratio vs training tokens), baselines, derived quantities and the width-depth fit.

``D`` is in billions of tokens (``token_passed / 1e9``), as in the paper and its data repository.

- ReLU (decreasing):   ``A(D) = exp(−c·D^α + b) + A₀``; parameters ``(α, b, c, A₀)`` (the paper's tuple order).
- SiLU (increasing):   ``A(D) = −c·D^(−α) + A₀``;       parameters ``(α, c, A₀)``.
- Baselines: logarithmic ``A = u·ln D + v`` and sigmoid-like ``A = A₀ + s / (1 + exp(k·(ln D − m)))``.

Fits use ``scipy.optimize.curve_fit`` (trust-region reflective with bounds ``A₀ ∈ (0, 1)``, ``c, α > 0``). scipy
is imported inside the functions.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lc_core.io import DataError

__all__ = [
    "PAPER_PARAMS",
    "LawFit",
    "relu_law",
    "silu_law",
    "log_law",
    "sigmoid_law",
    "load_curve",
    "fit_relu_law",
    "fit_silu_law",
    "fit_log_law",
    "fit_sigmoid_law",
    "fit_law",
    "mae",
    "mse",
    "limit_sparsity",
    "tokens_for_activation",
    "law_derivative",
    "fit_width_depth",
    "WidthDepthFit",
]

# Table 2 of the paper (ReLU: (α, b, c, A₀); SiLU: (α, c, A₀)); 2.4B from §6
PAPER_PARAMS: dict[str, tuple[float, ...]] = {
    "0.1b_relu": (1.01e-1, -1.51e-2, 3.20e0, 6.14e-2),
    "0.2b_relu": (4.49e-1, -3.05e0, 2.86e-1, 6.74e-2),
    "0.4b_relu": (6.83e-1, -3.46e0, 7.90e-2, 6.90e-2),
    "0.8b_relu": (1.01e0, -3.49e0, 7.97e-3, 7.21e-2),
    "1.2b_relu": (1.33e0, -3.89e0, 9.03e-4, 7.82e-2),
    "2.4b_relu": (1.53e0, -3.46e0, 1.56e-4, 6.48e-2),
    "0.1b_silu": (4.79e-1, 1.02e-1, 4.09e-1),
    "0.2b_silu": (8.44e-1, 2.08e-1, 3.90e-1),
    "0.4b_silu": (1.03e0, 4.20e-1, 3.85e-1),
    "0.8b_silu": (9.95e-1, 5.62e-1, 3.83e-1),
    "1.2b_silu": (9.67e-1, 5.38e-1, 3.82e-1),
}


def relu_law(d: Any, alpha: float, b: float, c: float, a0: float) -> Any:
    """``exp(−c·D^α + b) + A₀`` (``d`` in billions of tokens)."""
    return np.exp(-c * np.power(d, alpha) + b) + a0


def silu_law(d: Any, alpha: float, c: float, a0: float) -> Any:
    """``−c·D^(−α) + A₀``."""
    return -c * np.power(d, -alpha) + a0


def log_law(d: Any, u: float, v: float) -> Any:
    """Baseline ``u·ln D + v``."""
    return u * np.log(d) + v


def sigmoid_law(d: Any, a0: float, s: float, k: float, m: float) -> Any:
    """Baseline ``A₀ + s / (1 + exp(k·(ln D − m)))`` (a sigmoid in log-tokens)."""
    return a0 + s / (1.0 + np.exp(np.clip(k * (np.log(d) - m), -500, 500)))


_LAWS = {"relu": relu_law, "silu": silu_law, "log": log_law, "sigmoid": sigmoid_law}
_NAMES = {
    "relu": ("alpha", "b", "c", "A0"),
    "silu": ("alpha", "c", "A0"),
    "log": ("u", "v"),
    "sigmoid": ("A0", "s", "k", "m"),
}


def load_curve(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``{"token_passed": [...], "activation_ratio": [...]}`` file; returns ``(D in billions, A)``.

    Raises:
        DataError: unreadable JSON, missing field, unequal lengths or non-finite / non-positive values.
    """
    p = Path(path)
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{p}: line {e.lineno}: not JSON ({e.msg})") from e
    if not isinstance(obj, dict):
        raise DataError(f"{p}: expected an object with token_passed and activation_ratio")
    for key in ("token_passed", "activation_ratio"):
        if not isinstance(obj.get(key), list):
            raise DataError(f"{p}: field {key!r} missing or not a list")
    d = np.asarray(obj["token_passed"], dtype=float) / 1e9
    a = np.asarray(obj["activation_ratio"], dtype=float)
    if d.shape != a.shape:
        raise DataError(f"{p}: token_passed has {d.size} values, activation_ratio {a.size}")
    if d.size < 3 or not np.all(np.isfinite(d)) or not np.all(np.isfinite(a)) or np.any(d <= 0):
        raise DataError(f"{p}: need >= 3 finite points with token_passed > 0")
    return d, a


def mae(y: Any, pred: Any) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(pred))))


def mse(y: Any, pred: Any) -> float:
    return float(np.mean((np.asarray(y) - np.asarray(pred)) ** 2))


@dataclass
class LawFit:
    """A fitted law: kind, parameters (in the paper's order), error on the fitted points, points dropped."""

    kind: str
    params: tuple[float, ...]
    mae: float
    mse: float
    n_points: int
    dropped: int = 0
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.names:
            self.names = _NAMES[self.kind]

    def __call__(self, d: Any) -> Any:
        return _LAWS[self.kind](np.asarray(d, dtype=float), *self.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "params": dict(zip(self.names, self.params)),
            "mae": self.mae,
            "mse": self.mse,
            "n_points": self.n_points,
            "dropped": self.dropped,
        }


def _curve_fit(kind: str, d: np.ndarray, a: np.ndarray, p0: Sequence[float], bounds: Any) -> tuple[float, ...]:
    from scipy.optimize import curve_fit

    popt, _ = curve_fit(_LAWS[kind], d, a, p0=list(p0), bounds=bounds, maxfev=200000, method="trf", xtol=1e-15, ftol=1e-15)
    return tuple(float(x) for x in popt)


def _finish(kind: str, params: tuple[float, ...], d: np.ndarray, a: np.ndarray, dropped: int) -> LawFit:
    pred = _LAWS[kind](d, *params)
    return LawFit(kind, params, mae(a, pred), mse(a, pred), len(d), dropped)


def _drop(d: Any, a: Any, drop: int) -> tuple[np.ndarray, np.ndarray]:
    d, a = np.asarray(d, dtype=float), np.asarray(a, dtype=float)
    if drop >= len(d) - 2:
        raise ValueError(f"cannot drop {drop} warm-up points of {len(d)}")
    return d[drop:], a[drop:]


def fit_relu_law(d: Any, a: Any, *, p0: Sequence[float] | None = None, drop: int = 0) -> LawFit:
    """Fit ``exp(−c·D^α + b) + A₀`` (bounds ``α, c > 0``, ``A₀ ∈ (0, 1)``) after dropping ``drop`` warm-up points.

    Several starts are tried (``p0`` if given, then generic ones); the lowest-MSE fit is returned.
    """
    d, a = _drop(d, a, drop)
    bounds = ([1e-6, -50.0, 1e-9, 1e-9], [10.0, 50.0, 1e4, 1.0])
    a_min = float(np.min(a))
    starts = [tuple(p0)] if p0 is not None else []
    starts += [
        (1.0, math.log(max(a[0] - a_min * 0.9, 1e-6)), 0.01, a_min * 0.9),
        (0.5, -3.0, 0.3, a_min * 0.95),
        (0.1, 0.0, 3.0, a_min * 0.9),
    ]
    best: LawFit | None = None
    for s in starts:
        s = tuple(min(max(x, lo + 1e-12), hi - 1e-12) for x, lo, hi in zip(s, *bounds))
        try:
            fit = _finish("relu", _curve_fit("relu", d, a, s, bounds), d, a, drop)
        except (RuntimeError, ValueError):
            continue
        if best is None or fit.mse < best.mse:
            best = fit
    if best is None:
        raise ValueError("the ReLU law fit did not converge from any start")
    return best


def fit_silu_law(d: Any, a: Any, *, p0: Sequence[float] | None = None, drop: int = 0) -> LawFit:
    """Fit ``−c·D^(−α) + A₀`` (bounds ``α, c > 0``, ``A₀ ∈ (0, 1)``) after dropping ``drop`` warm-up points."""
    d, a = _drop(d, a, drop)
    bounds = ([1e-6, 1e-9, 1e-9], [10.0, 1e3, 1.0])
    starts = [tuple(p0)] if p0 is not None else []
    starts += [(1.0, 0.4, float(np.max(a)) * 1.01), (0.5, 0.1, float(np.max(a)) * 1.01)]
    best: LawFit | None = None
    for s in starts:
        s = tuple(min(max(x, lo + 1e-12), hi - 1e-12) for x, lo, hi in zip(s, *bounds))
        try:
            fit = _finish("silu", _curve_fit("silu", d, a, s, bounds), d, a, drop)
        except (RuntimeError, ValueError):
            continue
        if best is None or fit.mse < best.mse:
            best = fit
    if best is None:
        raise ValueError("the SiLU law fit did not converge from any start")
    return best


def fit_log_law(d: Any, a: Any, *, drop: int = 0) -> LawFit:
    """Least-squares ``u·ln D + v`` (linear in ``ln D``)."""
    d, a = _drop(d, a, drop)
    u, v = np.polyfit(np.log(d), a, 1)
    return _finish("log", (float(u), float(v)), d, a, drop)


def fit_sigmoid_law(d: Any, a: Any, *, drop: int = 0) -> LawFit:
    """Sigmoid-like baseline in ``ln D``."""
    d, a = _drop(d, a, drop)
    lnd = np.log(d)
    p0 = (float(a[-1]), float(a[0] - a[-1]) * 2, 1.0, float(np.median(lnd)))
    bounds = ([-1.0, -2.0, 1e-6, -20.0], [2.0, 2.0, 50.0, 50.0])
    try:
        params = _curve_fit("sigmoid", d, a, p0, bounds)
    except (RuntimeError, ValueError):
        params = p0
    return _finish("sigmoid", params, d, a, drop)


def fit_law(kind: str, d: Any, a: Any, *, drop: int = 0, p0: Sequence[float] | None = None) -> LawFit:
    """Dispatch on ``kind`` in ``relu``, ``silu``, ``log``, ``sigmoid``."""
    if kind == "relu":
        return fit_relu_law(d, a, p0=p0, drop=drop)
    if kind == "silu":
        return fit_silu_law(d, a, p0=p0, drop=drop)
    if kind == "log":
        return fit_log_law(d, a, drop=drop)
    if kind == "sigmoid":
        return fit_sigmoid_law(d, a, drop=drop)
    raise ValueError(f"unknown law {kind!r} (relu, silu, log, sigmoid)")


def limit_sparsity(a0: float) -> float:
    """Limit sparsity ratio ``1 − A₀`` as ``D → ∞``."""
    return 1.0 - a0


def tokens_for_activation(kind: str, params: Sequence[float], target: float) -> float:
    """Billions of tokens at which the law reaches ``target`` (inverse of the law).

    Raises:
        ValueError: the target is never reached (beyond the limit ``A₀`` or before ``D > 0``).
    """
    if kind == "relu":
        alpha, b, c, a0 = params
        gap = target - a0
        if gap <= 0:
            raise ValueError(f"ReLU law never reaches {target} (limit A0 = {a0})")
        x = (b - math.log(gap)) / c
        if x <= 0:
            raise ValueError(f"ReLU law is below {target} already at D -> 0")
        return x ** (1.0 / alpha)
    if kind == "silu":
        alpha, c, a0 = params
        gap = a0 - target
        if gap <= 0:
            raise ValueError(f"SiLU law never reaches {target} (limit A0 = {a0})")
        return (c / gap) ** (1.0 / alpha)
    raise ValueError(f"no inverse for law {kind!r}")


def law_derivative(kind: str, params: Sequence[float], d: Any) -> Any:
    """``dA/dD`` of the ReLU (negative) or SiLU (positive) law at ``d`` (billions of tokens)."""
    d = np.asarray(d, dtype=float)
    if kind == "relu":
        alpha, b, c, _ = params
        return -c * alpha * np.power(d, alpha - 1) * np.exp(-c * np.power(d, alpha) + b)
    if kind == "silu":
        alpha, c, _ = params
        return c * alpha * np.power(d, -alpha - 1)
    raise ValueError(f"no derivative for law {kind!r}")


@dataclass
class WidthDepthFit:
    """Limit activation vs width-depth ratio: linear up to the bottleneck, flat (``plateau``) above it."""

    slope: float
    intercept: float
    bottleneck: float
    plateau: float
    mae: float

    def __call__(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        return np.where(x < self.bottleneck, self.intercept + self.slope * x, self.plateau)


def fit_width_depth(ratio: Any, limit: Any) -> WidthDepthFit:
    """Piecewise-linear fit (continuous at the breakpoint) of limit activation vs ``d/L``.

    Every breakpoint on a fine grid between the data's extremes is tried with a least-squares fit of the two
    pieces (slope, plateau), then refined with ``scipy.optimize.minimize_scalar``.
    """
    from scipy.optimize import minimize_scalar

    x, y = np.asarray(ratio, dtype=float), np.asarray(limit, dtype=float)
    if x.size < 4:
        raise ValueError("need >= 4 points for the width-depth fit")

    def solve(bk: float) -> tuple[float, float, float]:
        # y = plateau + slope * min(x - bk, 0): linear in (plateau, slope)
        design = np.stack([np.ones_like(x), np.minimum(x - bk, 0.0)], axis=1)
        (plateau, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
        return float(plateau), float(slope), float(np.mean((design @ np.array([plateau, slope]) - y) ** 2))

    grid = np.linspace(x.min(), x.max(), 400)
    errs = [solve(b)[2] for b in grid]
    i = int(np.argmin(errs))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    bk = float(minimize_scalar(lambda b: solve(b)[2], bounds=(lo, hi), method="bounded").x) if hi > lo else float(grid[i])
    plateau, slope, _ = solve(bk)
    fit = WidthDepthFit(slope, plateau - slope * bk, bk, plateau, 0.0)
    fit.mae = mae(y, fit(x))
    return fit
