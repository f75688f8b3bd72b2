"""PNG figures through :mod:`lc_core.plot` (needs the ``plot`` extra).

The ``*_from_results`` functions draw from the result JSONs that the verbs write with ``--out`` (``passkey``:
``heatmap``; ``loss-curve``: ``curve``; ``analyze``: ``traces`` and ``exploding_heads``), so a README figure is
remade from a committed JSON without rerunning the model (``stuffed-mamba plot``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_core.plot import heatmap, line_plot, pyplot, save_figure

__all__ = [
    "plot_state_stats",
    "plot_heatmap",
    "plot_loss_curve",
    "result_kind",
    "heatmap_from_results",
    "loss_from_results",
    "state_from_result",
]

EXTRA = "stuffed-mamba[plot]"


def plot_state_stats(recorder: Any, path: str, *, stat: str = "rms", train_length: int | None = None) -> None:
    """One panel per layer: ``stat`` of every head vs position, a dashed line at the training length."""
    plt = pyplot(EXTRA)
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


def plot_heatmap(lengths: Sequence[int], matrix: Sequence[Sequence[float | None]], path: str, *, title: str = "") -> Path:
    """Depth-bin × length passkey accuracy in % (RdYlGn; empty cells blank)."""
    data = [[float("nan") if v is None else 100.0 * v for v in row] for row in matrix]
    bins = len(matrix)
    return heatmap(
        data, row_labels=[f"{b / bins:.1f}-{(b + 1) / bins:.1f}" for b in range(bins)], col_labels=list(lengths),
        path=path, title=title, xlabel="length (tokens)", ylabel="needle depth", vmin=0, vmax=100,
        colorbar_label="accuracy (%)", extra=EXTRA,
    )  # fmt: skip


def plot_loss_curve(curves: Mapping[str, Any], path: str, *, train_length: int | None = None) -> Path:
    """Bucket-mean loss vs position for several runs (log x), a dotted line at the training length."""
    data = {
        label: (c["centres"], c["means"]) if isinstance(c, Mapping) else (c.centres, c.means) for label, c in curves.items()
    }
    return line_plot(
        data, path, xlabel="position (tokens)", ylabel="loss (nats/token)", logx=True, logy=True,
        vlines={f"training length {train_length}": train_length} if train_length else None, extra=EXTRA,
    )  # fmt: skip


def result_kind(record: Mapping[str, Any]) -> str:
    """``heatmap`` (a passkey result), ``loss`` (loss-curve) or ``state`` (analyze); ValueError otherwise."""
    if "heatmap" in record:
        return "heatmap"
    if "curve" in record:
        return "loss"
    if "traces" in record:
        return "state"
    if "rows" in record and any("recall_curve" in r for r in record["rows"]):
        return "capacity"
    raise ValueError(
        "not a passkey, loss-curve, analyze or lexicon capacity result (no 'heatmap', 'curve', 'traces' or "
        "'rows' with recall curves)"
    )


def capacity_from_result(record: Mapping[str, Any], path: str, *, train_length: int | None = None) -> Path:
    """Loss of the recallable letters vs position, one line per state size, of a lexicon ``capacity --sweep``
    result (log-log; the training length dashed)."""
    curves = {}
    for r in record["rows"]:
        if "recall_curve" not in r:
            continue
        x, y = zip(*r["recall_curve"]) if r["recall_curve"] else ((), ())
        curves[f"d_state {r['d_state']} (N_S {r['N_S']:,})"] = (x, y)
    return line_plot(
        curves, path, title="recallable-letter loss vs position", xlabel="position (tokens)",
        ylabel="loss (nats)", logx=True, logy=True,
        vlines={"training length": float(train_length)} if train_length else None,
    )  # fmt: skip


def heatmap_from_results(records: Sequence[Mapping[str, Any]], path: str, *, title: str | None = None) -> Path:
    """The depth × length heatmap of one or more ``passkey`` results of the same model and method (their lengths
    side by side, e.g. a short-length run and a long-length run).

    Raises:
        ValueError: two results measure the same length, or their depth bins differ.
    """
    columns: dict[int, list[float | None]] = {}
    bins = {len(r["heatmap"]["matrix"]) for r in records}
    if len(bins) > 1:
        raise ValueError(f"the results have different depth bins {sorted(bins)}")
    for rec in records:
        hm = rec["heatmap"]
        for j, n in enumerate(hm["lengths"]):
            if int(n) in columns:
                raise ValueError(f"length {n} appears in two results")
            columns[int(n)] = [row[j] for row in hm["matrix"]]
    lengths = sorted(columns)
    matrix = [[columns[n][b] for n in lengths] for b in range(bins.pop())]
    methods = sorted({str(r.get("method", "?")) for r in records})
    return plot_heatmap(lengths, matrix, path, title=title or f"passkey, {', '.join(methods)}")


def loss_from_results(records: Sequence[Mapping[str, Any]], path: str, *, train_length: int | None = None) -> Path:
    """Loss vs position of several ``loss-curve`` results, labelled by their method (duplicates numbered)."""
    curves: dict[str, Any] = {}
    for i, rec in enumerate(records):
        label = str(rec.get("method", f"run {i}"))
        curves[label if label not in curves else f"{label} ({i})"] = rec["curve"]
    return plot_loss_curve(curves, path, train_length=train_length)


def state_from_result(
    record: Mapping[str, Any], path: str, *, top: int = 6, stat: str = "rms", train_length: int | None = None
) -> Path:
    """``stat`` vs position of the ``top`` exploding heads of an ``analyze`` result (largest ratio first).

    Raises:
        ValueError: the result lists no exploding head.
    """
    heads = list(record.get("exploding_heads") or [])[:top]
    if not heads:
        raise ValueError("the analyze result lists no exploding head")
    curves = {}
    for h in heads:
        tr = record["traces"][str(h["layer"])]
        values = [abs(row[h["head"]]) for row in tr[stat]]
        curves[f"L{h['layer']} h{h['head']} ({h['ratio']:.1f}x)"] = (tr["positions"], values)
    return line_plot(
        curves, path, xlabel="position (tokens)", ylabel=f"state {stat}", logx=True,
        title=f"exploding heads, {record.get('method', '?')}",
        vlines={f"training length {train_length}": train_length} if train_length else None, extra=EXTRA,
    )  # fmt: skip
