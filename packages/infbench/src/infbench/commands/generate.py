"""``infbench generate``: write seeded synthetic task files and their generation manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from infbench.generate import SuiteOptions
from lc_core.cli import UserError, add_config_arguments, config_from_args

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", default="synthetic", help="comma list of synthetic tasks, or the groups synthetic/retrieval")
    p.add_argument("--out", required=True, help="output folder for <task>.jsonl and generation_manifest.json")
    p.add_argument("--tokenizer", default="byte", help="sizing tokenizer: byte, a tokenizer.json, or a model folder/id")
    p.add_argument("--count-tokens", action="store_true", help="record each row's exact token count (n_tokens)")
    add_config_arguments(p, SuiteOptions, defaults={"lengths": "1k,2k,4k"})


def run(args: argparse.Namespace) -> int:
    from infbench.generate import generate_files
    from infbench.tasks import SYNTHETIC_TASKS, get_task, parse_tasks
    from lc_core.io import atomic_write_json

    tasks = parse_tasks(args.tasks, SYNTHETIC_TASKS)
    realistic = [t for t in tasks if not get_task(t).synthetic]
    if realistic:
        raise UserError(f"not synthetic (download their released data instead): {', '.join(realistic)}")
    options = config_from_args(SuiteOptions, args)
    manifest = generate_files(
        tasks, args.out, tokenizer=args.tokenizer, count_tokens=args.count_tokens, **options.files_kwargs()
    )
    atomic_write_json(Path(args.out) / "generation_manifest.json", manifest)
    for task, info in manifest["tasks"].items():
        print(f"{task}: {info['rows']} rows -> {info['path']}")
    return 0
