"""Loss laws and their fitting (paper §4, Eq. 7–8; Appendix I; Chinchilla approach 3).

Laws:

- size law per head configuration H: ``L(N; H) = (a_H / N)^{b_H} + E`` (N = non-embedding parameters);
- head-count law: ``L(n_h) = a·n_h^b + c``;
- Chinchilla: ``L(N, D) = E + A/N^α + B/D^β``.

Fitting follows Chinchilla approach 3 as re-done by Besiroglu et al.: minimise the Huber loss
(δ = 1e-3) of ``log(pred) − log(loss)`` with L-BFGS-B from a grid of starting points and keep the best;
``a`` and ``A``/``B`` are fitted in log space. Confidence intervals come from a seeded bootstrap over runs.

Runs that cannot determine a law are refused with the reason (``ValueError``): fewer distinct sizes than
the law has parameters (duplicate rows add none), a constant loss, or a loss that rises with N (a size law
only falls). A fit that runs but is not trustworthy (R² < 0.9, a parameter at its bound) carries
``FitReport.warnings``, which are also logged.

The runs file (CSV with a header row, or JSONL) has one trained model per row:

========== ======== ==========================================================
column     required meaning
========== ======== ==========================================================
n_heads    yes      query heads n_h
n_kv_heads yes      KV heads n_kv
n_params   yes      non-embedding parameters N
loss       yes      final loss in nats/token
tokens     Chinchilla training tokens D (only for ``fit_chinchilla``)
context    no       training context length T (kept for reference)
run_id     no       a label
========== ======== ==========================================================
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lc_core.io import DataError, iter_jsonl
from lc_core.logging import get_logger

__all__ = [
    "SizeLaw",
    "HeadLaw",
    "ChinchillaLaw",
    "FitReport",
    "Run",
    "huber",
    "fit_size_law",
    "fit_size_laws",
    "fit_head_law",
    "fit_chinchilla",
    "invert_size_law",
    "r_squared",
    "read_runs",
    "group_runs",
    "RUN_COLUMNS",
]

logger = get_logger(__name__)

HUBER_DELTA = 1e-3
RUN_COLUMNS = ("n_heads", "n_kv_heads", "n_params", "loss")

Head = tuple[int, int]


@dataclass(kw_only=True, frozen=True)
class SizeLaw:
    """``L(N) = (a / N)^b + E`` for one head configuration."""

    a: float
    b: float
    E: float

    def __call__(self, n_params: float | np.ndarray) -> float | np.ndarray:
        return (self.a / np.asarray(n_params, dtype=float)) ** self.b + self.E

    def invert(self, target_loss: float) -> float:
        """Eq. 8: the smallest N reaching ``target_loss``, ``a / (L* − E)^{1/b}``."""
        return invert_size_law(target_loss, self.a, self.b, self.E)

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "E": self.E}


@dataclass(kw_only=True, frozen=True)
class HeadLaw:
    """``L(n_h) = a·n_h^b + c`` (Appendix I; b < 0)."""

    a: float
    b: float
    c: float

    def __call__(self, n_heads: float | np.ndarray) -> float | np.ndarray:
        return self.a * np.asarray(n_heads, dtype=float) ** self.b + self.c

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "c": self.c}


@dataclass(kw_only=True, frozen=True)
class ChinchillaLaw:
    """``L(N, D) = E + A/N^α + B/D^β``."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def __call__(self, n_params: float | np.ndarray, tokens: float | np.ndarray) -> float | np.ndarray:
        n = np.asarray(n_params, dtype=float)
        d = np.asarray(tokens, dtype=float)
        return self.E + self.A / n**self.alpha + self.B / d**self.beta

    def to_dict(self) -> dict[str, float]:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}


@dataclass(kw_only=True)
class FitReport:
    """A fitted law with its goodness of fit and bootstrap intervals.

    Attributes:
        law: the fitted law.
        r2: coefficient of determination on the loss values.
        n_points: runs used.
        huber: the final objective.
        ci: per parameter, the (2.5 %, 97.5 %) bootstrap percentiles (empty without bootstrap).
        key: the head configuration, for size laws.
        warnings: why the fit should not be trusted (poor R², a parameter at its bound); empty when fine.
    """

    law: Any
    r2: float
    n_points: int
    huber: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    key: Head | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.key is not None:
            out["n_heads"], out["n_kv_heads"] = self.key
        out.update(self.law.to_dict())
        out.update(r2=self.r2, n_points=self.n_points, huber=self.huber)
        out["ci95"] = {k: list(v) for k, v in self.ci.items()}
        out["warnings"] = list(self.warnings)
        return out


def invert_size_law(target_loss: float, a: float, b: float, E: float) -> float:
    """Eq. 8: ``N* = a / (L* − E)^{1/b}``.

    Raises:
        ValueError: when ``L* <= E`` (the target is below the irreducible loss; no size reaches it).
    """
    if target_loss <= E:
        raise ValueError(f"target loss {target_loss:g} is not above the irreducible loss E = {E:g}: no model size reaches it")
    return a / (target_loss - E) ** (1.0 / b)


def huber(r: np.ndarray, delta: float = HUBER_DELTA) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss of residuals and its derivative."""
    absr = np.abs(r)
    quad = absr <= delta
    value = np.where(quad, 0.5 * r * r, delta * (absr - 0.5 * delta))
    grad = np.where(quad, r, delta * np.sign(r))
    return value, grad


def r_squared(observed: Sequence[float] | np.ndarray, predicted: Sequence[float] | np.ndarray) -> float:
    """``1 − SS_res / SS_tot`` on the raw values."""
    y = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ss_res = float(np.sum((y - p) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


# A model maps (theta, X) to (pred [n], jacobian [n, p]).
Model = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# below this R² a fitted law explains too little of the loss variation to extrapolate from
MIN_R2 = 0.9


def _where(key: Head | None) -> str:
    return "" if key is None else f"H={key}: "


def _require_identifiable(
    x: np.ndarray, y: np.ndarray, *, n_distinct: int, key: Head | None = None, xname: str = "n_params", falling: bool = True
) -> None:
    """Refuse runs from which the law cannot be determined; the message says why.

    Args:
        x: sizes (or head counts).
        y: losses.
        n_distinct: distinct x values the law needs at least.
        key: the head configuration, for the message.
        xname: what x is.
        falling: the law only falls with x (a size law), so a rising trend is refused.
    """
    where = _where(key)
    distinct = int(np.unique(x).size)
    if distinct < n_distinct:
        raise ValueError(
            f"{where}{x.size} run(s) but only {distinct} distinct {xname} value(s); the law needs at least {n_distinct} "
            "(duplicate rows add no information about the slope)"
        )
    if float(np.ptp(y)) == 0.0:
        raise ValueError(f"{where}every loss is {float(y[0]):g}; a law cannot be fitted to a constant (R² is undefined)")
    if falling:
        # least-squares trend of loss against log N: (a/N)^b + E with a, b > 0 can only fall
        slope = float(np.polyfit(np.log(x), y, 1)[0])
        if slope >= 0:
            raise ValueError(
                f"{where}loss rises with {xname} (trend {slope:+.3g} per e-fold); L(N) = (a/N)^b + E only falls with N "
                "-- check the n_params and loss columns"
            )


def _fit_warnings(
    r2: float, values: Mapping[str, float], bounds: Mapping[str, tuple[float | None, float | None]], key: Head | None = None
) -> list[str]:
    """Reasons not to trust a fit: a poor R², a parameter pinned at a bound of the optimiser."""
    where = _where(key)
    out = []
    if not math.isfinite(r2) or r2 < MIN_R2:
        out.append(f"{where}R² = {r2:.3g} < {MIN_R2}: the law explains little of the loss variation")
    for name, value in values.items():
        lo, hi = bounds[name]
        for edge in (lo, hi):
            if edge is not None and abs(value - edge) <= 1e-6 * max(1.0, abs(edge)):
                out.append(f"{where}{name} = {value:.4g} sits at its bound {edge:.4g}: not determined by these runs")
    for w in out:
        logger.warning("fit: %s", w)
    return out


def _fit(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    starts: Iterable[Sequence[float]],
    bounds: Sequence[tuple[float | None, float | None]],
    delta: float,
    max_starts: int = 4,
    polish: bool = True,
) -> tuple[np.ndarray, float]:
    # imported here so that `gqa-cost --help` and the cost verbs do not pay for scipy
    from scipy.optimize import minimize

    logy = np.log(y)
    # dividing by delta² keeps the objective O(1) in the quadratic region, so L-BFGS-B's relative
    # tolerances do not stop it early on near-perfect fits
    scale = 1.0 / (delta * delta)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        pred, jac = model(theta, X)
        if np.any(pred <= 0) or not np.all(np.isfinite(pred)):
            return 1e30, np.zeros_like(theta)
        r = np.log(pred) - logy
        value, g = huber(r, delta)
        return scale * float(value.sum()), scale * ((g / pred)[:, None] * jac).sum(axis=0)

    # rank the whole start grid by objective value, run L-BFGS-B from the best few, then polish the
    # winner with tight tolerances (a full-grid run at tight tolerances costs minutes on a busy CPU)
    starts_list = [np.asarray(x0, dtype=float) for x0 in starts]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ranked = sorted(starts_list, key=lambda x0: objective(x0)[0])[:max_starts]
        best_theta: np.ndarray | None = None
        best = math.inf
        for x0 in ranked:
            res = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
            if np.all(np.isfinite(res.x)) and res.fun < best:
                best, best_theta = float(res.fun), res.x
        if best_theta is None:
            raise RuntimeError("every optimisation start failed")
        res = minimize(
            objective,
            best_theta,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-12},
        )
        if np.all(np.isfinite(res.x)) and res.fun <= best:
            best, best_theta = float(res.fun), res.x
    return best_theta, best / scale


def _size_model(groups: np.ndarray, n_groups: int) -> Model:
    # theta = [log a_0, b_0, log a_1, b_1, ..., E]
    def model(theta: np.ndarray, logn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        loga = theta[0:-1:2][groups]
        b = theta[1:-1:2][groups]
        u = loga - logn
        t = np.exp(b * u)
        jac = np.zeros((logn.size, theta.size))
        rows = np.arange(logn.size)
        jac[rows, 2 * groups] = t * b
        jac[rows, 2 * groups + 1] = t * u
        jac[:, -1] = 1.0
        return t + theta[-1], jac

    return model


def _check_xy(x: Sequence[float], y: Sequence[float], xname: str) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"{xname} and loss must be 1-D sequences of the same length, got {xa.shape} and {ya.shape}")
    if np.any(~np.isfinite(xa)) or np.any(xa <= 0):
        raise ValueError(f"{xname} must be positive and finite")
    if np.any(~np.isfinite(ya)) or np.any(ya <= 0):
        raise ValueError("loss values must be positive and finite")
    return xa, ya


def _bootstrap(
    fit_one: Callable[[np.ndarray], np.ndarray],
    n: int,
    n_boot: int,
    seed: int,
    names: Sequence[str],
    strata: np.ndarray | None = None,
) -> dict[str, tuple[float, float]]:
    if n_boot <= 0:
        return {}
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_boot):
        if strata is None:
            idx = rng.integers(0, n, n)
        else:
            idx = np.concatenate(
                [rng.choice(np.flatnonzero(strata == s), size=int(np.sum(strata == s))) for s in np.unique(strata)]
            )
        try:
            samples.append(fit_one(idx))
        except RuntimeError:
            continue
    arr = np.asarray(samples)
    return {
        name: (float(np.percentile(arr[:, i], 2.5)), float(np.percentile(arr[:, i], 97.5))) for i, name in enumerate(names)
    }


_LOGA_STARTS = tuple(math.log(10.0**k) for k in (6, 9, 12, 15))
_B_STARTS = (0.05, 0.1, 0.2, 0.4)
_E_STARTS = (0.5, 1.0, 1.5, 2.0)


def fit_size_laws(
    data: Mapping[Head, tuple[Sequence[float], Sequence[float]]],
    *,
    shared_E: bool = True,
    delta: float = HUBER_DELTA,
    n_boot: int = 0,
    seed: int = 0,
) -> dict[Head, FitReport]:
    """Fit ``L(N; H) = (a_H/N)^{b_H} + E`` for every head configuration.

    Args:
        data: H -> (non-embedding sizes N, losses).
        shared_E: one E for all H (the paper's reading) or one per H.
        delta: Huber threshold on log-loss residuals.
        n_boot: bootstrap resamples for 95 % intervals (0 = none); resampling is within each H.
        seed: bootstrap seed.

    Returns:
        H -> fit report (with a shared E every report carries the same E).
    """
    if not data:
        raise ValueError("no runs to fit")
    if not shared_E:
        return {h: _fit_single(h, *xy, delta=delta, n_boot=n_boot, seed=seed) for h, xy in data.items()}
    keys = list(data)
    xs, ys, gs = [], [], []
    for g, h in enumerate(keys):
        x, y = _check_xy(*data[h], xname="n_params")
        # with E shared, each H still has its own a and b: two distinct sizes at least
        _require_identifiable(x, y, n_distinct=2, key=h)
        xs.append(x)
        ys.append(y)
        gs.append(np.full(x.size, g))
    logn, y, groups = np.log(np.concatenate(xs)), np.concatenate(ys), np.concatenate(gs)
    k = len(keys)
    n_points = len({(int(g), float(n)) for g, n in zip(groups, logn)})
    if n_points < 2 * k + 1:
        raise ValueError(
            f"a shared-E fit of {k} head configuration(s) has {2 * k + 1} parameters but the runs give only {n_points} "
            "distinct (H, n_params) points; add sizes or fit with --per-head-e on H with 3+ sizes"
        )
    bounds = [(None, None), (1e-4, 5.0)] * k + [(0.0, float(y.min()) - 1e-9)]
    starts = [
        [v for _ in range(k) for v in (la, b)] + [min(e, float(y.min()) * 0.9)]
        for la in _LOGA_STARTS
        for b in _B_STARTS
        for e in _E_STARTS
    ]

    def fit_idx(idx: np.ndarray, starts_: Iterable[Sequence[float]], polish: bool = True) -> tuple[np.ndarray, float]:
        return _fit(_size_model(groups[idx], k), logn[idx], y[idx], starts_, bounds, delta, polish=polish)

    theta, obj = fit_idx(np.arange(y.size), starts)
    names = [f"{p}_{h[0]}_{h[1]}" for h in keys for p in ("a", "b")] + ["E"]

    def boot(idx: np.ndarray) -> np.ndarray:
        t, _ = fit_idx(idx, [theta], polish=False)
        t = t.copy()
        t[0:-1:2] = np.exp(t[0:-1:2])
        return t

    ci = _bootstrap(boot, y.size, n_boot, seed, names, strata=groups)
    reports = {}
    for g, h in enumerate(keys):
        law = SizeLaw(a=float(math.exp(theta[2 * g])), b=float(theta[2 * g + 1]), E=float(theta[-1]))
        sel = groups == g
        pred = law(np.exp(logn[sel]))
        sub_ci = {p: ci[f"{p}_{h[0]}_{h[1]}"] for p in ("a", "b") if f"{p}_{h[0]}_{h[1]}" in ci}
        if "E" in ci:
            sub_ci["E"] = ci["E"]
        r2 = r_squared(y[sel], pred)
        warns = _fit_warnings(r2, {"b": law.b, "E": law.E}, {"b": bounds[2 * g + 1], "E": bounds[-1]}, key=h)
        reports[h] = FitReport(law=law, r2=r2, n_points=int(sel.sum()), huber=obj, ci=sub_ci, key=h, warnings=warns)
    return reports


def _fit_single(
    key: Head | None, n_params: Sequence[float], loss: Sequence[float], *, delta: float, n_boot: int, seed: int
) -> FitReport:
    x, y = _check_xy(n_params, loss, "n_params")
    if x.size < 3:
        raise ValueError(f"a size law has 3 parameters; got {x.size} run(s){'' if key is None else f' for H={key}'}")
    _require_identifiable(x, y, n_distinct=3, key=key)
    logn = np.log(x)
    bounds = [(None, None), (1e-4, 5.0), (0.0, float(y.min()) - 1e-9)]
    starts = [(la, b, min(e, float(y.min()) * 0.9)) for la in _LOGA_STARTS for b in _B_STARTS for e in _E_STARTS]
    model = _size_model(np.zeros(x.size, dtype=int), 1)
    theta, obj = _fit(model, logn, y, starts, bounds, delta)

    def boot(idx: np.ndarray) -> np.ndarray:
        t, _ = _fit(model, logn[idx], y[idx], [theta], bounds, delta, polish=False)
        return np.array([math.exp(t[0]), t[1], t[2]])

    ci = _bootstrap(boot, x.size, n_boot, seed, ("a", "b", "E"))
    law = SizeLaw(a=float(math.exp(theta[0])), b=float(theta[1]), E=float(theta[2]))
    r2 = r_squared(y, law(x))
    warns = _fit_warnings(r2, {"b": law.b, "E": law.E}, {"b": bounds[1], "E": bounds[2]}, key=key)
    return FitReport(law=law, r2=r2, n_points=int(x.size), huber=obj, ci=ci, key=key, warnings=warns)


def fit_size_law(
    n_params: Sequence[float], loss: Sequence[float], *, delta: float = HUBER_DELTA, n_boot: int = 0, seed: int = 0
) -> FitReport:
    """Fit ``L(N) = (a/N)^b + E`` to one head configuration's runs (parameterised in log a)."""
    return _fit_single(None, n_params, loss, delta=delta, n_boot=n_boot, seed=seed)


def fit_head_law(
    n_heads: Sequence[float], loss: Sequence[float], *, delta: float = HUBER_DELTA, n_boot: int = 0, seed: int = 0
) -> FitReport:
    """Fit ``L(n_h) = a·n_h^b + c`` (Appendix I) by Huber on log-loss from a grid of starts."""
    x, y = _check_xy(n_heads, loss, "n_heads")
    if x.size < 3:
        raise ValueError(f"the head law has 3 parameters; got {x.size} point(s)")
    # a·n_h^b + c may rise or fall (b is free), so only duplicates and a constant loss are refused
    _require_identifiable(x, y, n_distinct=3, xname="n_heads", falling=False)
    logx = np.log(x)

    def model(theta: np.ndarray, lx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.exp(theta[0] + theta[1] * lx)
        return t + theta[2], np.stack([t, t * lx, np.ones_like(lx)], axis=1)

    bounds = [(None, None), (-5.0, 5.0), (0.0, float(y.min()) - 1e-9)]
    starts = [(la, b, c * float(y.min())) for la in (-3.0, -1.0, 0.5) for b in (-1.0, -0.3, -0.05) for c in (0.3, 0.6, 0.9)]
    theta, obj = _fit(model, logx, y, starts, bounds, delta)

    def boot(idx: np.ndarray) -> np.ndarray:
        t, _ = _fit(model, logx[idx], y[idx], [theta], bounds, delta, polish=False)
        return np.array([math.exp(t[0]), t[1], t[2]])

    ci = _bootstrap(boot, x.size, n_boot, seed, ("a", "b", "c"))
    law = HeadLaw(a=float(math.exp(theta[0])), b=float(theta[1]), c=float(theta[2]))
    r2 = r_squared(y, law(x))
    warns = _fit_warnings(r2, {"b": law.b, "c": law.c}, {"b": bounds[1], "c": bounds[2]})
    return FitReport(law=law, r2=r2, n_points=int(x.size), huber=obj, ci=ci, warnings=warns)


def fit_chinchilla(
    n_params: Sequence[float],
    tokens: Sequence[float],
    loss: Sequence[float],
    *,
    delta: float = HUBER_DELTA,
    n_boot: int = 0,
    seed: int = 0,
) -> FitReport:
    """Chinchilla approach 3: ``L(N, D) = E + A/N^α + B/D^β`` (A, B in log space), Hoffmann's start grid."""
    n, y = _check_xy(n_params, loss, "n_params")
    d, _ = _check_xy(tokens, loss, "tokens")
    if n.size < 5:
        raise ValueError(f"the Chinchilla law has 5 parameters; got {n.size} run(s)")
    distinct = len(set(zip(n.tolist(), d.tolist())))
    if distinct < 5:
        raise ValueError(
            f"{n.size} run(s) but only {distinct} distinct (n_params, tokens) pair(s); the Chinchilla law needs at least 5 "
            "(duplicate rows add no information)"
        )
    if float(np.ptp(y)) == 0.0:
        raise ValueError(f"every loss is {float(y[0]):g}; a law cannot be fitted to a constant (R² is undefined)")
    X = np.stack([np.log(n), np.log(d)], axis=1)

    def model(theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        la, alpha, lb, beta, E = theta
        tn = np.exp(la - alpha * x[:, 0])
        td = np.exp(lb - beta * x[:, 1])
        jac = np.stack([tn, -tn * x[:, 0], td, -td * x[:, 1], np.ones(x.shape[0])], axis=1)
        return E + tn + td, jac

    bounds = [(None, None), (1e-3, 3.0), (None, None), (1e-3, 3.0), (0.0, float(y.min()) - 1e-9)]
    starts = [
        (la, al, lb, be, min(e, float(y.min()) * 0.9))
        for la in (0.0, 5.0, 10.0, 15.0)
        for lb in (0.0, 5.0, 10.0, 15.0)
        for al in (0.1, 0.3, 0.6)
        for be in (0.1, 0.3, 0.6)
        for e in (0.5, 1.5)
    ]
    theta, obj = _fit(model, X, y, starts, bounds, delta)

    def boot(idx: np.ndarray) -> np.ndarray:
        t, _ = _fit(model, X[idx], y[idx], [theta], bounds, delta, polish=False)
        return np.array([t[4], math.exp(t[0]), math.exp(t[2]), t[1], t[3]])

    ci = _bootstrap(boot, n.size, n_boot, seed, ("E", "A", "B", "alpha", "beta"))
    law = ChinchillaLaw(
        E=float(theta[4]),
        A=float(math.exp(theta[0])),
        B=float(math.exp(theta[2])),
        alpha=float(theta[1]),
        beta=float(theta[3]),
    )
    r2 = r_squared(y, law(n, d))
    warns = _fit_warnings(
        r2,
        {"alpha": law.alpha, "beta": law.beta, "E": law.E},
        {"alpha": bounds[1], "beta": bounds[3], "E": bounds[4]},
    )
    return FitReport(law=law, r2=r2, n_points=int(n.size), huber=obj, ci=ci, warnings=warns)


@dataclass(kw_only=True, frozen=True)
class Run:
    """One trained model from a runs file (``line`` is where it came from)."""

    n_heads: int
    n_kv_heads: int
    n_params: float
    loss: float
    tokens: float | None = None
    context: float | None = None
    run_id: str | None = None
    line: int | None = None

    @property
    def head(self) -> Head:
        return (self.n_heads, self.n_kv_heads)


def _number(value: Any, field: str, path: Path, line: int, *, integer: bool = False, optional: bool = False) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if optional:
            return None
        raise DataError("missing value", path=path, line=line, field=field)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DataError(f"expected a number, got {value!r}", path=path, line=line, field=field) from None
    if not math.isfinite(x) or x <= 0:
        raise DataError(f"expected a positive number, got {value!r}", path=path, line=line, field=field)
    if integer:
        if not x.is_integer():
            raise DataError(f"expected an integer, got {value!r}", path=path, line=line, field=field)
        return int(x)
    return x


def read_runs(path: str | os.PathLike[str], *, require: Sequence[str] = ()) -> list[Run]:
    """Read a runs file (``.csv`` with a header, otherwise JSONL); see the module docstring for columns.

    Args:
        path: the file.
        require: extra columns that must be present (e.g. ``("tokens",)`` for a Chinchilla fit).

    Raises:
        DataError: naming the file, line and column of a missing or bad value, or an n_kv that does not divide n_h.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    needed = tuple(RUN_COLUMNS) + tuple(require)
    records: list[tuple[int, Mapping[str, Any]]] = []
    if p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for name in needed:
                if name not in header:
                    raise DataError(
                        f"missing column (header has: {', '.join(header) or 'nothing'})", path=p, line=1, field=name
                    )
            # line 1 is the header
            records = [(i, row) for i, row in enumerate(reader, start=2)]
    else:
        records = list(iter_jsonl(p))
    runs = []
    for line, row in records:
        for name in needed:
            if name not in row:
                raise DataError("missing required field", path=p, line=line, field=name)
        n_h = _number(row["n_heads"], "n_heads", p, line, integer=True)
        n_kv = _number(row["n_kv_heads"], "n_kv_heads", p, line, integer=True)
        if n_kv > n_h or n_h % n_kv:
            raise DataError(f"n_kv_heads ({n_kv}) must divide n_heads ({n_h})", path=p, line=line, field="n_kv_heads")
        runs.append(
            Run(
                n_heads=n_h,
                n_kv_heads=n_kv,
                n_params=_number(row["n_params"], "n_params", p, line),
                loss=_number(row["loss"], "loss", p, line),
                tokens=_number(row.get("tokens"), "tokens", p, line, optional="tokens" not in require),
                context=_number(row.get("context"), "context", p, line, optional=True),
                run_id=None if row.get("run_id") in (None, "") else str(row["run_id"]),
                line=line,
            )
        )
    if not runs:
        raise DataError("no runs in file", path=p)
    return runs


def group_runs(runs: Iterable[Run]) -> dict[Head, tuple[list[float], list[float]]]:
    """H -> (sizes, losses), in file order."""
    out: dict[Head, tuple[list[float], list[float]]] = {}
    for r in runs:
        xs, ys = out.setdefault(r.head, ([], []))
        xs.append(r.n_params)
        ys.append(r.loss)
    return out
