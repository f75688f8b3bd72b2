"""State size N_S of a Mamba-2 config, the paper's reported capacity fits, and our own fits.

Stuffed Mamba (arXiv 2410.07145) reports two laws in the state size ``N_S`` (millions of state elements, SSM + conv
state over all layers) with lengths in thousands of tokens:

* ``T_forget = 5.172 · N_S − 4.469``: the shortest training length at which the model learns to forget;
* ``T_recall = 4.756 · (1.365^N_S − 1) − 0.742``: the longest context with passkey accuracy above 95 %.

Both constants come from secondary sources (the paper's PDF could not be read); they are labelled *paper-reported,
unverified* everywhere. :func:`fit_linear` / :func:`fit_exponential` fit the same forms to our own measurements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "state_size",
    "OFFICIAL_CONFIGS",
    "paper_t_forget",
    "paper_t_recall",
    "Fit",
    "fit_linear",
    "fit_exponential",
]

# the official state-spaces/mamba2-* configs (every other field at the Mamba2 defaults: N=128, P=64, expand 2)
OFFICIAL_CONFIGS: dict[str, dict[str, int]] = {
    "mamba2-130m": {"d_model": 768, "n_layers": 24},
    "mamba2-370m": {"d_model": 1024, "n_layers": 48},
    "mamba2-780m": {"d_model": 1536, "n_layers": 48},
    "mamba2-1.3b": {"d_model": 2048, "n_layers": 48},
    "mamba2-2.7b": {"d_model": 2560, "n_layers": 64},
}


def _get(config: Any, name: str, default: int) -> int:
    if isinstance(config, dict):
        return int(config.get(name, default))
    return int(getattr(config, name, default))


def state_size(config: Any) -> int:
    """Recurrent state elements of a Mamba-2 model: ``L · (H·P·N + (d_conv − 1)·conv_dim)``.

    Args:
        config: a :class:`~lc_core.models.mamba2.Mamba2Config` or a dict with ``d_model``, ``n_layers`` and optional
            ``expand`` (2), ``headdim`` (64), ``d_state`` (128), ``ngroups`` (1), ``d_conv`` (4).

    Returns:
        The element count (130m: 4,847,616; 370m: 12,914,688; 780m: 19,353,600).
    """
    d_model = _get(config, "d_model", 0)
    n_layers = _get(config, "n_layers", 0)
    if d_model <= 0 or n_layers <= 0:
        raise ValueError("state_size needs d_model > 0 and n_layers > 0")
    d_inner = _get(config, "expand", 2) * d_model
    headdim = _get(config, "headdim", 64)
    d_state = _get(config, "d_state", 128)
    nheads = d_inner // headdim
    conv_dim = d_inner + 2 * _get(config, "ngroups", 1) * d_state
    return n_layers * (nheads * headdim * d_state + (_get(config, "d_conv", 4) - 1) * conv_dim)


def paper_t_forget(n_s: float) -> float:
    """Paper-reported (unverified) forget threshold in K tokens for ``n_s`` million state elements."""
    return 5.172 * n_s - 4.469


def paper_t_recall(n_s: float) -> float:
    """Paper-reported (unverified) passkey capacity (accuracy > 95 %) in K tokens for ``n_s`` million elements."""
    return 4.756 * (1.365**n_s - 1.0) - 0.742


@dataclass(kw_only=True)
class Fit:
    """A fitted law ``name``: parameters, R² and the points it was fitted to."""

    form: str
    params: dict[str, float]
    r2: float
    x: list[float]
    y: list[float]

    def __call__(self, x: float) -> float:
        p = self.params
        if self.form == "linear":
            return p["a"] * x + p["b"]
        return p["a"] * (p["base"] ** x - 1.0) + p["c"]

    def to_dict(self) -> dict[str, Any]:
        return {"form": self.form, "params": self.params, "r2": self.r2, "x": self.x, "y": self.y}


def _r2(y: Sequence[float], pred: Sequence[float]) -> float:
    mean = sum(y) / len(y)
    ss_tot = sum((v - mean) ** 2 for v in y)
    ss_res = sum((v - p) ** 2 for v, p in zip(y, pred))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def fit_linear(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Least-squares ``y = a·x + b`` (the paper's T_forget form); needs two or more distinct x."""
    import numpy as np

    if len(x) != len(y) or len(set(x)) < 2:
        raise ValueError("fit_linear needs at least two points with distinct x")
    a, b = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    pred = [a * v + b for v in x]
    return Fit(
        form="linear", params={"a": float(a), "b": float(b)}, r2=_r2(y, pred), x=list(map(float, x)), y=list(map(float, y))
    )


def fit_exponential(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Least-squares ``y = a·(base^x − 1) + c`` (the paper's T_recall form); needs three or more distinct x."""
    import numpy as np
    from scipy.optimize import curve_fit

    if len(x) != len(y) or len(set(x)) < 3:
        raise ValueError("fit_exponential needs at least three points with distinct x")
    xa, ya = np.asarray(x, float), np.asarray(y, float)

    def f(v: Any, a: float, log_base: float, c: float) -> Any:
        return a * np.expm1(log_base * v) + c

    span = max(float(xa.max() - xa.min()), 1e-12)
    best = None
    for lb in (0.1 / span, 1.0 / span, 3.0 / span):
        try:
            popt, _ = curve_fit(
                f, xa, ya, p0=(max(float(ya.max()), 1e-6) / math.expm1(lb * float(xa.max())), lb, 0.0), maxfev=20000
            )
        except RuntimeError:
            continue
        pred = f(xa, *popt)
        r2 = _r2(list(ya), list(pred))
        if best is None or r2 > best[1]:
            best = (popt, r2)
    if best is None:
        raise ValueError("the exponential fit did not converge")
    (a, lb, c), r2 = best
    return Fit(
        form="exponential",
        params={"a": float(a), "base": float(math.exp(lb)), "c": float(c)},
        r2=float(r2),
        x=list(map(float, x)),
        y=list(map(float, y)),
    )
