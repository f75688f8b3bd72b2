"""Figures (needs the ``[plot]`` extra): predicted vs true fields with error maps, and rollout error curves.

matplotlib comes through :mod:`lc_core.plot` (lazy import, Agg backend, atomic save); figures are saved, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lc_core.plot import line_plot, pyplot, save_figure

__all__ = ["plot_fields", "plot_rollout_errors"]

_EXTRA = "cfdbench[plot]"


def plot_fields(
    pred: np.ndarray, truth: np.ndarray, path: str | Path, *, names: Sequence[str] = ("u", "v"), title: str = ""
) -> Path:
    """One row per channel: truth, prediction, |error| (``origin='lower'``, row 0 = bottom).

    Args:
        pred: ``[C, H, W]`` prediction.
        truth: ``[C, H, W]`` ground truth.
        path: output PNG.
    """
    plt = pyplot(_EXTRA)
    c = pred.shape[0]
    fig, axes = plt.subplots(c, 3, figsize=(10, 3.2 * c), squeeze=False)
    for i in range(c):
        lo, hi = float(min(truth[i].min(), pred[i].min())), float(max(truth[i].max(), pred[i].max()))
        for j, (img, label) in enumerate(
            ((truth[i], "truth"), (pred[i], "prediction"), (np.abs(pred[i] - truth[i]), "|error|"))
        ):
            kw = {"vmin": lo, "vmax": hi} if j < 2 else {}
            im = axes[i, j].imshow(img, origin="lower", cmap="coolwarm" if j < 2 else "viridis", **kw)
            axes[i, j].set_title(f"{names[i] if i < len(names) else i} {label}")
            fig.colorbar(im, ax=axes[i, j], fraction=0.046)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_rollout_errors(curves: Mapping[str, Sequence[float]], path: str | Path, *, metric: str = "nmse") -> Path:
    """Per-step error curves (log y) for one or more models: ``{"fno": [e_1, e_2, ...], ...}``."""
    return line_plot(
        {name: (np.arange(1, len(errs) + 1), errs) for name, errs in curves.items()},
        path,
        xlabel="rollout step k",
        ylabel=metric,
        logy=True,
        markers=True,
        extra=_EXTRA,
    )
