"""Score tables (Markdown, and the JSON record) and depth × length heatmaps. Torch-free; matplotlib only for PNGs.

Files are written by :func:`lc_core.report.emit` (the house layout ``<out>/<run-name>/results_<time>.{json,md}``)
and heatmaps by :func:`lc_core.plot.heatmap`.

Example::

    from infbench.report import score_results, scores_table

    scores = score_results(["results/gpt4", "results/kimi"], mode="legacy")  # default: fixed
    print(scores_table(scores))
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infbench.scoring import DEFAULT_MODE, TaskScore, find_prediction_files, score_folder
from infbench.tasks import ALL_TASKS, PAPER_NAMES, RETRIEVAL_TASKS
from lc_core.logging import get_logger
from lc_core.report import markdown_table, safe_name

__all__ = ["result_folders", "score_results", "scores_table", "details_table", "depth_table", "plot_heatmaps", "scores_record"]

logger = get_logger(__name__)


def scores_record(scores: Mapping[str, Mapping[str, TaskScore]], *, mode: str, rows: bool = False) -> dict[str, Any]:
    """The JSON record of scored models: ``{"mode", "scores": {model: {task: TaskScore.to_dict()}}}``."""
    return {"mode": mode, "scores": {m: {t: s.to_dict(rows=rows) for t, s in per.items()} for m, per in scores.items()}}


def result_folders(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand each path to the model folders below it (a folder holding ``preds_*.jsonl`` is itself one)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            raise FileNotFoundError(f"{p}: not a folder")
        if find_prediction_files(p):
            out.append(p)
            continue
        subs = [d for d in sorted(p.iterdir()) if d.is_dir() and find_prediction_files(d)]
        if not subs:
            raise FileNotFoundError(f"{p}: no preds_<task>.jsonl files here or one level below")
        out.extend(subs)
    return out


def score_results(
    paths: Sequence[str | os.PathLike[str]],
    *,
    mode: str = DEFAULT_MODE,
    tasks: Sequence[str] | None = None,
    lenient: bool = False,
    model_name: str | None = None,
    progress: bool = False,
) -> dict[str, dict[str, TaskScore]]:
    """Score every model folder found under ``paths``; returns ``{model: {task: TaskScore}}``."""
    out: dict[str, dict[str, TaskScore]] = {}
    for folder in result_folders(paths):
        out[folder.name] = score_folder(
            folder, tasks=tasks, mode=mode, lenient=lenient, model_name=model_name, progress=progress
        )
    return out


def scores_table(scores: Mapping[str, Mapping[str, TaskScore]], *, precision: int = 2) -> str:
    """Tasks as rows, models as columns, scores in percent (the README layout), plus the mean."""
    models = list(scores)
    tasks = [t for t in ALL_TASKS if any(t in scores[m] for m in models)]
    rows: list[dict[str, Any]] = []
    for t in tasks:
        row: dict[str, Any] = {"task": f"{PAPER_NAMES[t]} (`{t}`)"}
        for m in models:
            s = scores[m].get(t)
            row[m] = None if s is None else s.score
        rows.append(row)
    avg: dict[str, Any] = {"task": "**average**"}
    for m in models:
        vals = [s.score for s in scores[m].values()]
        avg[m] = sum(vals) / len(vals) if vals else None
    rows.append(avg)
    return markdown_table(rows, ["task", *models], precision=precision)


def details_table(scores: Mapping[str, Mapping[str, TaskScore]]) -> str:
    """One row per (model, task): score, rows, empty predictions, rows the legacy scorer would crash on."""
    rows = [
        {"model": m, "task": t, "score": s.score, "n": s.n, "null predictions": s.null_predictions}
        for m, per in scores.items()
        for t, s in per.items()
    ]
    return markdown_table(rows, ["model", "task", "score", "n", "null predictions"])


def depth_table(scores: Mapping[str, Mapping[str, TaskScore]]) -> str:
    """Retrieval accuracy by needle depth (rows) per model × task (columns), depths rounded to tenths."""
    cols: dict[str, dict[str, list[float]]] = {}
    for m, per in scores.items():
        for t in RETRIEVAL_TASKS:
            s = per.get(t)
            if s is None or not s.per_row or not s.by_depth:
                continue
            buckets: dict[str, list[float]] = {}
            for d, v in s.by_depth.items():
                buckets.setdefault(f"{round(float(d), 1):.1f}", []).append(v)
            cols[f"{m} {t}"] = buckets
    if not cols:
        return ""
    depths = sorted({d for b in cols.values() for d in b}, key=float)
    rows = []
    for d in depths:
        row: dict[str, Any] = {"depth": d}
        for c, b in cols.items():
            row[c] = sum(b[d]) / len(b[d]) if d in b else None
        rows.append(row)
    return markdown_table(rows, ["depth", *cols], precision=1)


def plot_heatmaps(scores: Mapping[str, Mapping[str, TaskScore]], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``heatmap_<model>_<task>.png`` (accuracy by needle depth x context length) for retrieval tasks.

    Tasks without a ``length`` field get a single-column map. Needs the ``plot`` extra.
    """
    from lc_core.plot import heatmap

    out = Path(out_dir)
    written: list[Path] = []
    for m, per in scores.items():
        for t in RETRIEVAL_TASKS:
            s = per.get(t)
            if s is None or not s.by_depth:
                continue
            grid = s.by_length_depth or {"all": s.by_depth}
            lengths = sorted(grid, key=_length_key)
            depths = sorted({d for g in grid.values() for d in g}, key=float)
            data = [[grid[ln].get(d, float("nan")) for ln in lengths] for d in depths]
            path = heatmap(
                data,
                row_labels=[f"{float(d):.2f}" for d in depths],
                col_labels=lengths,
                path=out / f"heatmap_{safe_name(m)}_{t}.png",
                title=f"{m}: {t}",
                xlabel="context length",
                ylabel="needle depth",
                vmin=0,
                vmax=100,
                colorbar_label="accuracy (%)",
                extra="infbench[plot]",
            )
            written.append(path)
    return written


def _length_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
