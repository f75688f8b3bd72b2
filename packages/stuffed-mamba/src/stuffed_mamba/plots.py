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


def plot_heatmap(lengths: list[int], matrix: list[list[float | None]], path: str, *, title: str = "") -> None:
    """Depth-bin × length passkey accuracy (RdYlGn, vmin −0.2, vmax 1.2 as the original)."""
    import numpy as np

    plt = pyplot("stuffed-mamba[plot]")
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(lengths), 4))
    ax.imshow(data, cmap="RdYlGn", vmin=-0.2, vmax=1.2, aspect="auto")
    ax.set_xticks(range(len(lengths)), [str(n) for n in lengths], rotation=45)
    ax.set_yticks(range(len(matrix)), [f"{b / 10:.1f}" for b in range(len(matrix))])
    ax.set_xlabel("length (tokens)")
    ax.set_ylabel("needle depth")
    ax.set_title(title)
    save_figure(fig, path)


def plot_loss_curve(curves: dict[str, Any], path: str, *, train_length: int | None = None) -> None:
    """Bucket-mean loss vs position for several runs (log x), a dashed line at the training length."""
    plt = pyplot("stuffed-mamba[plot]")
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, curve in curves.items():
        ax.plot(curve.centres, curve.means, label=label)
    if train_length:
        ax.axvline(train_length, color="r", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("position (tokens)")
    ax.set_ylabel("loss (nats/token)")
    ax.legend()
    save_figure(fig, path)
