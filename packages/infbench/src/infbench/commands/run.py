"""``infbench run``: generate the synthetic tasks if no data is given, run a model, score, write the results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infbench.commands import add_mode_argument
from infbench.generate import SuiteOptions
from infbench.runner import RunConfig
from lc_core.cli import UserError, add_config_arguments, add_legacy_aliases, config_from_args, parse_key_values

__all__ = ["add_arguments", "run"]

_FROM_CONFIG = (
    "model",
    "backend",
    "tasks",
    "model_name",
    "family",
    "truncate",
    "truncation_variant",
    "tokenizer",
    "batch_size",
    "limit",
    "temperature",
    "top_p",
    "top_k",
    "save_prompts",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arguments(p, RunConfig, include=_FROM_CONFIG, defaults={"tasks": "retrieval"})
    p.add_argument(
        "--data", dest="data_dir", default=None, help="folder with <task>.jsonl (omitted: generate the synthetic tasks)"
    )
    p.add_argument("--out", dest="output_dir", default="results", help="results root; everything goes to <out>/<model-name>/")
    p.add_argument(
        "--backend-arg", action="append", default=[], metavar="KEY=VALUE", help="backend keyword argument (repeatable)"
    )
    p.add_argument(
        "--max-new-tokens", action="append", default=[], metavar="TASK=N", help="override a task's budget (repeatable)"
    )
    p.add_argument("--shard", default="0/1", help="i/n: this process runs every n-th example from i")
    add_mode_argument(p)
    p.add_argument("--score", action=argparse.BooleanOptionalAction, default=True, help="score after the run")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress bars")
    add_config_arguments(p, SuiteOptions, exclude=("preset",), defaults={"lengths": "1k,2k,4k"})
    # spellings of 0.1.0 development builds, hidden, with a deprecation warning
    add_legacy_aliases(p, {"--output": "--out"})


def _max_new_tokens(items: list[str]) -> dict[str, int]:
    out = {}
    for task, value in parse_key_values(items, flag="--max-new-tokens").items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UserError(f"--max-new-tokens {task}= needs a non-negative integer, got {value!r}")
        out[task] = value
    return out


def run(args: argparse.Namespace) -> int:
    from infbench.generate import generate_files
    from infbench.report import depth_table, scores_record, scores_table
    from infbench.runner import load_backend
    from infbench.runner import run as run_tasks
    from infbench.scoring import score_folder
    from infbench.tasks import get_task
    from lc_core.eval import parse_shard
    from lc_core.report import emit

    config = config_from_args(
        RunConfig,
        args,
        backend_kwargs=parse_key_values(args.backend_arg, flag="--backend-arg"),
        max_new_tokens=_max_new_tokens(args.max_new_tokens),
        shard=parse_shard(args.shard),
    )
    options = config_from_args(SuiteOptions, args)
    if not config.data_dir:
        realistic = [t for t in config.tasks if not get_task(t).synthetic]
        if realistic:
            raise UserError(f"--data is required for tasks without a generator: {', '.join(realistic)}")
    name = config.resolved_model_name
    folder = Path(config.output_dir) / name
    backend = load_backend(config)
    extra: dict[str, Any] = {}
    try:
        if not config.data_dir:
            data_dir = folder / "data"
            # sized with the model's own tokenizer, so lengths are exact for this model
            extra["data_generation"] = generate_files(
                config.tasks, data_dir, tokenizer=config.tokenizer or backend, progress=args.progress, **options.files_kwargs()
            )
            config.data_dir = str(data_dir)
        manifest = run_tasks(config, backend, progress=args.progress, extra_manifest=extra)
    finally:
        backend.close()
    if not args.score or config.shard[1] > 1:
        print(json.dumps({t: v["completed"] for t, v in manifest["tasks"].items()}))
        return 0
    scores = {name: score_folder(folder, tasks=config.tasks, mode=args.mode)}
    table = scores_table(scores)
    depths = depth_table(scores)
    text = f"Scoring mode: `{args.mode}`.\n\n" + table + ("\n" + depths if depths else "")
    written = emit(config.output_dir, name, scores_record(scores, mode=args.mode), text, manifest=manifest)
    print(table)
    if depths:
        print(depths)
    print(f"results: {written.json}")
    return 0
