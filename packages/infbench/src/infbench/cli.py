"""``infbench`` console script: ``generate``, ``run``, ``score``, ``report``.

Quick start (offline, embedded demo model)::

    infbench run --model lc-core/demo-mamba2 --tasks retrieval --lengths 1k,2k,4k

Importing this module imports neither torch nor a backend; ``run`` builds the backend lazily.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infbench.tasks import DEFAULT_MODEL, SYNTHETIC_TASKS, parse_tasks
from lc_core.logging import get_logger, setup_logging

__all__ = ["main", "build_parser"]

logger = get_logger(__name__)

EPILOG = f"""quick start:
  infbench run --model {DEFAULT_MODEL} --tasks retrieval --lengths 1k,2k,4k   # generate, run, score, print
  infbench generate --tasks synthetic --preset paper --out data/               # the released 128K structure
  infbench run --backend openai --model gpt-4o-mini --data data/ --tasks passkey --truncate 127000
  infbench score results/gpt4 --mode legacy                                    # also the original's results/<model>/
  infbench report results/ --out report/                                       # table + depth x length heatmaps
"""


def _key_values(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"{what} must look like KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v
    return out


def _coerce(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _lengths(text: str | None) -> list[int]:
    from infbench.generate import parse_length

    return [parse_length(x) for x in text.split(",") if x.strip()] if text else []


def _add_generation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lengths", default="1k,2k,4k", help="comma list of target token lengths, e.g. 4k,32k,128k,1m")
    p.add_argument("--seed", type=int, default=0, help="generator base seed (rows derive their own); also the sampling seed")
    p.add_argument("--n-depths", type=int, default=5, help="needle depths for passkey/number_string")
    p.add_argument("--repeats", type=int, default=2, help="rows per depth for passkey/number_string")
    p.add_argument("--n-rows", type=int, default=10, help="rows for kv/math_calc; per sub-task/depth for math_find/code_run")


def _cmd_generate(args: argparse.Namespace) -> int:
    from infbench.generate import generate_files
    from lc_core.io import atomic_write_json

    tasks = parse_tasks(args.tasks, SYNTHETIC_TASKS)
    bad = [t for t in tasks if t not in SYNTHETIC_TASKS]
    if bad:
        raise SystemExit(f"not synthetic (download these instead): {', '.join(bad)}")
    manifest = generate_files(
        tasks,
        args.out,
        lengths=_lengths(args.lengths),
        preset=args.preset,
        seed=args.seed,
        tokenizer=args.tokenizer,
        n_depths=args.n_depths,
        repeats=args.repeats,
        n_rows=args.n_rows,
        count_tokens=args.count_tokens,
    )
    atomic_write_json(Path(args.out) / "generation_manifest.json", manifest)
    for task, info in manifest["tasks"].items():
        print(f"{task}: {info['rows']} rows -> {info['path']}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from infbench.report import depth_table, scores_table, write_record
    from infbench.runner import RunConfig, load_backend, parse_shard, run
    from infbench.scoring import score_folder
    from lc_core.report import timestamp

    tasks = parse_tasks(args.tasks, ("passkey", "number_string", "kv_retrieval"))
    config = RunConfig(
        tasks=tasks,
        data_dir=args.data or "",
        output_dir=args.output,
        model=args.model,
        backend=args.backend,
        backend_kwargs={k: _coerce(v) for k, v in _key_values(args.backend_arg, "--backend-arg").items()},
        model_name=args.model_name,
        family=args.family,
        truncate=args.truncate,
        truncation_variant=args.truncation_variant,
        tokenizer=args.tokenizer,
        batch_size=args.batch_size,
        shard=parse_shard(args.shard),
        limit=args.limit,
        max_new_tokens={k: int(v) for k, v in _key_values(args.max_new_tokens, "--max-new-tokens").items()},
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        seed=args.seed,
        save_prompts=args.save_prompts,
    )
    backend = load_backend(config)
    extra: dict[str, Any] = {}
    try:
        if not args.data:
            from infbench.generate import generate_files

            bad = [t for t in tasks if t not in SYNTHETIC_TASKS]
            if bad:
                raise SystemExit(f"--data is required for non-synthetic tasks: {', '.join(bad)}")
            data_dir = Path(args.output) / config.resolved_model_name / "data"
            # sized with the model's own tokenizer so lengths are exact for this model
            tok = config.tokenizer or backend
            extra["data_generation"] = generate_files(
                tasks,
                data_dir,
                lengths=_lengths(args.lengths),
                seed=args.seed if args.seed is not None else 0,
                tokenizer=tok,
                n_depths=args.n_depths,
                repeats=args.repeats,
                n_rows=args.n_rows,
            )
            config.data_dir = str(data_dir)
        manifest = run(config, backend, progress=not args.no_progress, extra_manifest=extra)
    finally:
        backend.close()
    if args.no_score or config.shard[1] > 1:
        print(json.dumps({t: v["completed"] for t, v in manifest["tasks"].items()}))
        return 0
    folder = Path(args.output) / config.resolved_model_name
    scores = {config.resolved_model_name: score_folder(folder, tasks=tasks, mode=args.mode)}
    table = scores_table(scores)
    depths = depth_table(scores)
    per_task = scores[config.resolved_model_name]
    record = {"manifest": manifest, "mode": args.mode, "scores": {t: s.to_dict() for t, s in per_task.items()}}
    json_path, _ = write_record(folder / f"results_{timestamp()}", record, table + ("\n" + depths if depths else ""))
    print(table)
    if depths:
        print(depths)
    print(f"results: {json_path}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from infbench.report import details_table, score_results, scores_table, write_record
    from infbench.scoring import score_file

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
    if args.details:
        print(details_table(scores))
    if args.out:
        dumped = {m: {t: s.to_dict(rows=args.per_row) for t, s in per.items()} for m, per in scores.items()}
        record = {"mode": args.mode, "scores": dumped}
        json_path, _ = write_record(args.out, record, table)
        print(f"results: {json_path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from infbench.report import depth_table, details_table, plot_heatmaps, score_results, scores_table, write_record

    scores = score_results(args.paths, mode=args.mode, lenient=args.lenient, progress=True)
    out = Path(args.out)
    parts = ["# ∞Bench results", "", f"Scoring mode: `{args.mode}`.", "", scores_table(scores), details_table(scores)]
    depths = depth_table(scores)
    if depths:
        parts += ["## Retrieval accuracy by needle depth", "", depths]
    if not args.no_plot:
        pngs = plot_heatmaps(scores, out)
        if pngs:
            parts += ["## Heatmaps", ""] + [f"![{p.stem}]({p.name})" for p in pngs]
    text = "\n".join(parts) + "\n"
    record = {"mode": args.mode, "scores": {m: {t: s.to_dict() for t, s in per.items()} for m, per in scores.items()}}
    json_path, md_path = write_record(out / "report", record, text)
    print(scores_table(scores))
    print(f"report: {md_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infbench",
        description="∞Bench (InfiniteBench): generate synthetic tasks, run models, score exactly, report.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter

    g = sub.add_parser("generate", help="write seeded synthetic task files", formatter_class=fmt)
    g.add_argument("--tasks", default="synthetic", help="comma list of synthetic tasks, or 'synthetic'/'retrieval'")
    g.add_argument("--out", required=True, help="output folder for <task>.jsonl")
    g.add_argument("--preset", choices=["paper", "custom"], default="custom", help="paper: the released 128K structure")
    g.add_argument("--tokenizer", default="byte", help="sizing tokenizer: 'byte', a tokenizer.json, or a model folder/id")
    g.add_argument("--count-tokens", action="store_true", help="record each row's exact token count (n_tokens)")
    _add_generation_args(g)
    g.set_defaults(func=_cmd_generate)

    r = sub.add_parser("run", help="run a model over tasks, then score", formatter_class=fmt)
    r.add_argument("--model", default=DEFAULT_MODEL, help="model path, hub id, built-in lc-core model or API model name")
    r.add_argument("--backend", default="hf", help="lc-core backend: hf, openai or vllm")
    r.add_argument("--backend-arg", action="append", default=[], metavar="KEY=VALUE", help="extra backend kwarg (repeatable)")
    r.add_argument("--tasks", default="retrieval", help="comma list of tasks or groups (all, synthetic, retrieval, realistic)")
    r.add_argument("--data", default=None, help="folder with <task>.jsonl; omitted: generate synthetic tasks for this model")
    r.add_argument("--output", default="results", help="results root; predictions go to <output>/<model-name>/")
    r.add_argument("--model-name", default=None, help="results folder name (default: from --model)")
    r.add_argument("--family", default="auto", help="prompt family: auto, gpt4, yarn-mistral, claude2, kimi, chat")
    r.add_argument("--truncate", type=int, default=None, help="middle-truncate prompts to this many tokens")
    r.add_argument("--truncation-variant", choices=["runner", "legacy"], default="runner", help="L//2 per side, or eval_utils")
    r.add_argument("--tokenizer", default=None, help="tokenizer for truncation and sizing (default: the backend's)")
    r.add_argument("--batch-size", type=int, default=1, help="prompts per backend call (concurrency for API backends)")
    r.add_argument("--shard", default="0/1", help="i/n: this process runs every n-th example from i")
    r.add_argument("--limit", type=int, default=None, help="only the first N examples per task")
    r.add_argument("--max-new-tokens", action="append", default=[], metavar="TASK=N", help="override a task's budget")
    r.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    r.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass")
    r.add_argument("--top-k", type=int, default=0, help="top-k sampling (0 = off)")
    r.add_argument("--mode", choices=["legacy", "fixed"], default="fixed", help="scoring mode after the run")
    r.add_argument("--no-score", action="store_true", help="only write predictions")
    r.add_argument("--save-prompts", action="store_true", help="store each final prompt in the prediction rows")
    r.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_generation_args(r)
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser("score", help="score prediction files or results folders", formatter_class=fmt)
    s.add_argument("paths", nargs="+", help="preds_<task>.jsonl, a results/<model>/ folder, or a folder of model folders")
    s.add_argument("--mode", choices=["legacy", "fixed"], default="legacy", help="legacy = the original scorer exactly")
    s.add_argument("--tasks", default=None, help="only these tasks (comma list)")
    s.add_argument("--task", default=None, help="task of a single file whose name is not preds_<task>.jsonl")
    s.add_argument("--model-name", default=None, help="model name for legacy math_calc (default: folder name)")
    s.add_argument("--lenient", action="store_true", help="tolerate lines with trailing garbage (warns)")
    s.add_argument("--details", action="store_true", help="also print rows and null-prediction counts")
    s.add_argument("--precision", type=int, default=2, help="decimals in the table")
    s.add_argument("--out", default=None, help="write <out>.json and <out>.md")
    s.add_argument("--per-row", action="store_true", help="include per-row scores in the JSON")
    s.set_defaults(func=_cmd_score)

    p = sub.add_parser("report", help="tables and heatmaps over many results folders", formatter_class=fmt)
    p.add_argument("paths", nargs="+", help="results folders (model folders or their parent)")
    p.add_argument("--out", required=True, help="output folder for report.md, report.json and PNGs")
    p.add_argument("--mode", choices=["legacy", "fixed"], default="legacy", help="scoring mode")
    p.add_argument("--lenient", action="store_true", help="tolerate lines with trailing garbage (warns)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG heatmaps (no matplotlib needed)")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from infbench.scoring import ScoringError
    from lc_core.io import DataError

    setup_logging()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DataError, ScoringError, FileNotFoundError, ImportError, KeyError, ValueError) as e:
        # user errors (bad data, missing files or extras, unknown names) get one clear line, not a traceback
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"infbench {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
