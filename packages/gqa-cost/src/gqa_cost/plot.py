"""Plots (the ``[plot]`` extra): loss against inference memory and FLOPs per head configuration (Figure 2 style).

matplotlib comes through :mod:`lc_core.plot` (lazy import, Agg backend, atomic save); figures are written to files,
never shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gqa_cost.laws import Head
from gqa_cost.search import CostWeights, LossModel, SearchResult, evaluate, format_head, shape_for_size
from lc_core.plot import pyplot, save_figure

__all__ = ["pareto_curves", "plot_pareto", "plot_table"]


_EXTRA = "gqa-cost[plot]"


def pareto_curves(
    model: LossModel,
    context: float,
    *,
    heads: Iterable[Head] | None = None,
    sizes: Sequence[float] | None = None,
    weights: CostWeights | None = None,
) -> dict[Head, dict[str, np.ndarray]]:
    """Per H: non-embedding sizes N, predicted loss, memory M (in ``weights.units``) and FLOPs C at ``context``."""
    weights = weights or CostWeights()
    sizes = np.geomspace(1e7, 1e11, 60) if sizes is None else np.asarray(sizes, dtype=float)
    out = {}
    for h in heads or sorted(model.laws):
        M, C, Z = [], [], []
        for n in sizes:
            m, _, c, _, z = evaluate(shape_for_size(float(n), h), context, weights)
            M.append(m)
            C.append(c)
            Z.append(z)
        out[h] = {
            "N": sizes,
            "loss": np.asarray(model.law(h)(sizes)),
            "M": np.asarray(M),
            "C": np.asarray(C),
            "Z": np.asarray(Z),
        }
    return out


def plot_pareto(
    model: LossModel,
    context: float,
    path: str | os.PathLike[str],
    *,
    heads: Iterable[Head] | None = None,
    weights: CostWeights | None = None,
    target_loss: float | None = None,
    result: SearchResult | None = None,
) -> Path:
    """Two panels, loss vs memory and loss vs FLOPs at ``context``, one curve per H; marks the search's pick."""
    plt = pyplot(_EXTRA)
    weights = weights or CostWeights()
    heads = list(heads) if heads is not None else sorted(model.laws)
    curves = pareto_curves(model, context, heads=heads, weights=weights)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    cmap = plt.get_cmap("viridis", max(len(heads), 2))
    for i, h in enumerate(heads):
        c = curves[h]
        axes[0].plot(c["M"], c["loss"], color=cmap(i), lw=1.2, label=format_head(h))
        axes[1].plot(c["C"], c["loss"], color=cmap(i), lw=1.2)
    if target_loss is not None:
        for ax in axes:
            ax.axhline(target_loss, color="k", ls=":", lw=0.8)
    if result is not None:
        b = result.best
        axes[0].plot([b.memory], [result.target_loss], "r*", ms=12)
        axes[1].plot([b.flops], [result.target_loss], "r*", ms=12)
    unit = weights.units.memory
    axes[0].set_xlabel(f"inference memory M ({unit})")
    axes[1].set_xlabel("inference FLOPs per token C")
    axes[0].set_ylabel("predicted loss")
    for ax in axes:
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(title="(n_h, n_kv)", fontsize=6, ncol=3)
    fig.suptitle(f"{model.label}, T = {int(context):,}")
    fig.tight_layout()
    return save_figure(fig, path, dpi=130)


def plot_table(grid: dict[tuple[float, float], SearchResult], path: str | os.PathLike[str]) -> Path:
    """Heat map of log2(n_h·n_kv) of the optimum over (L*, T) with the (n_h, n_kv) written in each cell."""
    plt = pyplot(_EXTRA)
    losses = sorted({k[0] for k in grid}, reverse=True)
    contexts = sorted({k[1] for k in grid})
    values = np.array([[np.log2(grid[(lo, t)].best.head[0] * grid[(lo, t)].best.head[1]) for t in contexts] for lo in losses])
    fig, ax = plt.subplots(figsize=(1.3 * len(contexts) + 2, 0.5 * len(losses) + 1.5))
    ax.imshow(values, cmap="magma_r", aspect="auto")
    for i, lo in enumerate(losses):
        for j, t in enumerate(contexts):
            ax.text(j, i, format_head(grid[(lo, t)].best.head), ha="center", va="center", fontsize=8, color="tab:blue")
    ax.set_xticks(range(len(contexts)), [f"{int(t) // 1024}K" for t in contexts])
    ax.set_yticks(range(len(losses)), [f"{lo:g}" for lo in losses])
    ax.set_xlabel("context T")
    ax.set_ylabel("target loss L*")
    fig.tight_layout()
    return save_figure(fig, path, dpi=130)
