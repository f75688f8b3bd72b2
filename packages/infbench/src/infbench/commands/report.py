"""``infbench report``: one Markdown/JSON report with tables and heatmaps over many results folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from infbench.commands import add_lenient_argument, add_mode_argument

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="results folders (model folders or their parent)")
    p.add_argument("--out", default="reports", help="reports root; the report goes to <out>/<run-name>/")
    p.add_argument("--run-name", default="report", help="folder of this report under --out")
    add_mode_argument(p)
    add_lenient_argument(p)
    p.add_argument(
        "--plot", action=argparse.BooleanOptionalAction, default=True, help="draw heatmap PNGs (needs infbench[plot])"
    )


def run(args: argparse.Namespace) -> int:
    from infbench.report import depth_table, details_table, plot_heatmaps, score_results, scores_record, scores_table
    from lc_core.report import emit, safe_name, timestamp

    scores = score_results(args.paths, mode=args.mode, lenient=args.lenient, progress=True)
    stamp = timestamp()
    run_dir = Path(args.out) / safe_name(args.run_name)
    parts = ["# ∞Bench results", "", f"Scoring mode: `{args.mode}`.", "", scores_table(scores), details_table(scores)]
    depths = depth_table(scores)
    if depths:
        parts += ["## Retrieval accuracy by needle depth", "", depths]
    if args.plot:
        # one figure folder per report, so an older report's Markdown keeps its own figures
        pngs = plot_heatmaps(scores, run_dir / f"figures_{stamp}")
        if pngs:
            parts += ["## Heatmaps", ""] + [f"![{p.stem}]({p.relative_to(run_dir).as_posix()})" for p in pngs]
    text = "\n".join(parts) + "\n"
    config = {"paths": [str(p) for p in args.paths], "mode": args.mode, "lenient": args.lenient}
    written = emit(
        args.out, args.run_name, scores_record(scores, mode=args.mode), text, config=config, packages=["infbench"], stamp=stamp
    )
    print(scores_table(scores))
    print(f"report: {written.markdown}")
    return 0
