"""Figures (needs the ``[plot]`` extra): predicted vs true fields with error maps, and rollout error curves.

matplotlib is imported lazily with the Agg backend; figures are saved, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_fields", "plot_rollout_errors"]


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError as e:  # pragma: no cover
        raise ImportError("plotting needs matplotlib: pip install 'cfdbench[plot]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fields(
    pred: np.ndarray, truth: np.ndarray, path: str | Path, *, names: Sequence[str] = ("u", "v"), title: str = ""
) -> Path:
    """One row per channel: truth, prediction, |error| (``origin='lower'``, row 0 = bottom).

    Args:
        pred: ``[C, H, W]`` prediction.
        truth: ``[C, H, W]`` ground truth.
        path: output PNG.
    """
    plt = _plt()
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_rollout_errors(curves: Mapping[str, Sequence[float]], path: str | Path, *, metric: str = "nmse") -> Path:
    """Per-step error curves (log y) for one or more models: ``{"fno": [e_1, e_2, ...], ...}``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, errs in curves.items():
        ax.plot(np.arange(1, len(errs) + 1), errs, marker="o", ms=3, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("rollout step k")
    ax.set_ylabel(metric)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
