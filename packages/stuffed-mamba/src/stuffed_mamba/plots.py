"""PNG figures through :mod:`lc_core.plot` (needs the ``plot`` extra)."""

from __future__ import annotations

from typing import Any

from lc_core.plot import pyplot, save_figure

__all__ = ["plot_state_stats"]


def plot_state_stats(recorder: Any, path: str, *, stat: str = "rms", train_length: int | None = None) -> None:
    """One panel per layer: ``stat`` of every head vs position, a dashed line at the training length."""
    plt = pyplot("stuffed-mamba[plot]")
    layers = sorted(recorder.traces)
    fig, axes = plt.subplots(len(layers), 1, figsize=(7, 2.2 * len(layers)), squeeze=False, sharex=True)
    for ax, layer in zip(axes[:, 0], layers):
        tr = recorder.traces[layer]
        values = tr.stacked(stat).abs().numpy()
        for head in range(values.shape[1]):
            ax.plot(tr.positions, values[:, head], lw=0.8)
        if train_length:
            ax.axvline(train_length, color="r", ls="--", lw=0.8)
        ax.set_ylabel(f"L{layer} {stat}")
        ax.set_xscale("log")
    axes[-1, 0].set_xlabel("position (tokens)")
    save_figure(fig, path)
