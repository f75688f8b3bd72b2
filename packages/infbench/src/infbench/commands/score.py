"""``infbench score``: score prediction files or results folders (ours and the original repo's)."""

from __future__ import annotations

import argparse
from pathlib import Path

from infbench.commands import add_lenient_argument, add_mode_argument

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="preds_<task>.jsonl, a results/<model>/ folder, or a folder of model folders")
    add_mode_argument(p)
    p.add_argument("--tasks", default=None, help="only these tasks (comma list or group)")
    p.add_argument("--task", default=None, help="the task of a single file whose name is not preds_<task>.jsonl")
    p.add_argument("--model-name", default=None, help="model name for legacy math_calc (default: the folder name)")
    add_lenient_argument(p)
    p.add_argument("--details", action="store_true", help="also print rows and null-prediction counts")
    p.add_argument("--precision", type=int, default=2, help="decimals in the table")
    p.add_argument("--out", default=None, help="also write <out>/<run-name>/results_<time>.{json,md}")
    p.add_argument("--run-name", default=None, help="results folder under --out (default: the model, or 'scores')")
    p.add_argument("--per-row", action="store_true", help="include per-row scores in the JSON")


def run(args: argparse.Namespace) -> int:
    from infbench.report import details_table, score_results, scores_record, scores_table
    from infbench.scoring import score_file
    from infbench.tasks import parse_tasks
    from lc_core.report import emit

    tasks = parse_tasks(args.tasks) if args.tasks else None
    paths = [Path(p) for p in args.paths]
    if len(paths) == 1 and paths[0].is_file():
        s = score_file(paths[0], args.task, mode=args.mode, model_name=args.model_name, lenient=args.lenient, progress=True)
        scores = {paths[0].parent.name: {s.task: s}}
    else:
        scores = score_results(
            paths, mode=args.mode, tasks=tasks, lenient=args.lenient, model_name=args.model_name, progress=True
        )
    table = scores_table(scores, precision=args.precision)
    print(table)
    details = details_table(scores)
    if args.details:
        print(details)
    if args.out:
        run_name = args.run_name or (next(iter(scores)) if len(scores) == 1 else "scores")
        text = f"Scoring mode: `{args.mode}`.\n\n{table}\n{details}"
        config = {"paths": [str(p) for p in paths], "mode": args.mode, "tasks": tasks, "lenient": args.lenient}
        written = emit(
            args.out,
            run_name,
            scores_record(scores, mode=args.mode, rows=args.per_row),
            text,
            config=config,
            packages=["infbench"],
        )
        print(f"results: {written.json}")
    return 0
