"""Figures for every package: one lazy matplotlib import, one atomic save, and the two plots everyone draws.

matplotlib is an optional extra (``<package>[plot]``); importing this module does not import it. Figures are
written to files with the non-interactive Agg backend, never shown::

    from lc_core.plot import heatmap, line_plot, pyplot, save_figure

    heatmap(acc, row_labels=depths, col_labels=lengths, path="out/heatmap.png", title="passkey",
            xlabel="context length", ylabel="needle depth", vmin=0, vmax=100, colorbar_label="accuracy (%)")
    line_plot({"relu": (tokens, ratio), "silu": (tokens, ratio2)}, "out/ratio.png", xlabel="tokens", logx=True)

    plt = pyplot("cfdbench[plot]")          # anything else: the pyplot module, Agg backend
    fig, ax = plt.subplots()
    ...
    save_figure(fig, "out/custom.png")
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_core.io import atomic_write_bytes

__all__ = ["pyplot", "save_figure", "heatmap", "line_plot"]

PathLike = str | os.PathLike[str]


def pyplot(extra: str = "lc-core[plot]") -> Any:
    """``matplotlib.pyplot`` on the Agg backend.

    Args:
        extra: the install hint in the error when matplotlib is missing (``"infbench[plot]"``).

    Raises:
        ImportError: matplotlib is not installed; the message names ``pip install '<extra>'``.
    """
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError(f"plotting needs matplotlib: pip install '{extra}'") from e
    # figures go to files; an interactive backend would need a display (and fail on servers)
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: PathLike, *, dpi: int = 120, close: bool = True) -> Path:
    """Write ``fig`` atomically (format from the suffix: png, pdf, svg) and close it.

    Readers never see half a file, and the folder is created if needed.
    """
    p = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=(p.suffix.lstrip(".") or "png"), dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(p, buf.getvalue())
    if close:
        pyplot().close(fig)
    return p


def heatmap(
    data: Sequence[Sequence[float]] | Any,
    *,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any],
    path: PathLike,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "RdYlGn",
    colorbar_label: str = "",
    annotate: bool = True,
    fmt: str = "{:.0f}",
    extra: str = "lc-core[plot]",
) -> Path:
    """A ``rows × cols`` grid of values (depth × length accuracy, layer × head statistics), saved to ``path``.

    Args:
        data: ``[R, C]`` values; NaN cells (not measured) are left blank.
        row_labels: ``R`` labels, top to bottom.
        col_labels: ``C`` labels, left to right.
        annotate: write each value in its cell (skipped above 400 cells).
        fmt: format of the annotations.
    """
    import numpy as np

    plt = pyplot(extra)
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2 or arr.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"heatmap data has shape {arr.shape}, labels say ({len(row_labels)}, {len(col_labels)})")
    fig, ax = plt.subplots(figsize=(1.6 + 0.8 * arr.shape[1], 1.2 + 0.35 * arr.shape[0]))
    im = ax.imshow(np.ma.masked_invalid(arr), vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(range(arr.shape[1]), [str(c) for c in col_labels])
    ax.set_yticks(range(arr.shape[0]), [str(r) for r in row_labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if annotate and arr.size <= 400:
        for (r, c), v in np.ndenumerate(arr):
            if np.isfinite(v):
                ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label=colorbar_label)
    return save_figure(fig, path)


def line_plot(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: PathLike,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    markers: bool = False,
    hlines: Mapping[str, float] | None = None,
    vlines: Mapping[str, float] | None = None,
    extra: str = "lc-core[plot]",
) -> Path:
    """One line per named curve (loss vs position, activation ratio vs tokens), saved to ``path``.

    Args:
        curves: label -> ``(x, y)``.
        hlines / vlines: label -> a reference level drawn dashed (a training length, a 5 % band).
    """
    plt = pyplot(extra)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, (x, y) in curves.items():
        ax.plot(list(x), list(y), label=label, marker="o" if markers else None, markersize=3)
    for label, y in (hlines or {}).items():
        ax.axhline(y, linestyle="--", linewidth=0.8, color="grey", label=label)
    for label, x in (vlines or {}).items():
        ax.axvline(x, linestyle=":", linewidth=0.8, color="black", label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if curves or hlines or vlines:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
