"""The verbs of the ``readin`` console script: ``add_<verb>_arguments(parser)`` and ``<verb>(args) -> int``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lc_core.cli import UserError
from lc_core.io import DataError, iter_jsonl
from lc_core.logging import get_logger
from lc_core.report import emit, markdown_table
from readin.data import Benchmark, load_benchmark
from readin.tasks import TASKS

logger = get_logger(__name__)


def _add_data_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="a task folder (test_clean/test.json, test_noisy_<noise>_<i>/test.json or flat files)")
    p.add_argument("--task", required=True, help=f"task: {', '.join(TASKS)}")
    p.add_argument("--noises", nargs="+", default=["keyboard", "asr"], help="channels to load (asr alias: speech)")
    p.add_argument("--no-check", action="store_true", help="do not compare the un-noised fields with the clean rows")


def _load(args: argparse.Namespace) -> Benchmark:
    if not Path(args.data).exists():
        raise FileNotFoundError(f"{args.data}: no such file or directory")
    return load_benchmark(args.data, args.task, noises=args.noises, check=not args.no_check)


# ---- check ------------------------------------------------------------------------------------------------------


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)


def check(args: argparse.Namespace) -> int:
    bench = _load(args)
    rows = [{"split": name, "rows": len(s), "file": str(s.path)} for name, s in bench.splits.items()]
    print(markdown_table(rows), end="")
    return 0


# ---- score ------------------------------------------------------------------------------------------------------


def add_score_arguments(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)
    p.add_argument(
        "--preds",
        required=True,
        help="folder of <split>.jsonl (clean.jsonl, keyboard_1.jsonl...): {'id' or 'clean_index', 'prediction'} per line",
    )
    p.add_argument("--legacy", action="store_true", help="CMRC worst-case EM by raw string membership, as READIN's script")
    p.add_argument("--model", default="model", help="the model name in the table and the results folder")
    p.add_argument("--out", default="results", help="results root (<out>/<model>/results_<time>.{json,md})")


def read_predictions(path: Path, bench: Benchmark, split: str) -> dict[int, Any]:
    """``clean_index -> prediction`` from a predictions file (rows keyed by ``clean_index``, ``id`` or position)."""
    clean = bench.clean.rows
    ids = {r["id"]: i for i, r in enumerate(clean) if "id" in r}
    positions = bench.splits[split].index
    out: dict[int, Any] = {}
    for n, (line, row) in enumerate(iter_jsonl(path)):
        if "prediction" not in row:
            raise DataError("missing required field", path=path, line=line, field="prediction")
        if "clean_index" in row:
            key = row["clean_index"]
            if not isinstance(key, int) or not 0 <= key < len(clean):
                raise DataError(
                    f"not an index of the clean split (0..{len(clean) - 1})", path=path, line=line, field="clean_index"
                )
        elif "id" in row and ids:
            if row["id"] not in ids:
                raise DataError(f"id {row['id']!r} is not in the clean split", path=path, line=line, field="id")
            key = ids[row["id"]]
        else:
            if n >= len(positions):
                raise DataError(f"more predictions than the {len(positions)} rows of split {split}", path=path, line=line)
            key = positions[n]
        out[key] = row["prediction"]
    return out


def score_benchmark(bench: Benchmark, preds: dict[str, dict[int, Any]], *, legacy: bool = False) -> dict[str, Any]:
    """Scores per channel: ``{"clean": {...}, "keyboard": {...}, "asr": {...}}`` in the metrics' units."""
    from readin import metrics

    clean_rows = bench.clean.rows
    n = len(clean_rows)
    if "clean" not in preds:
        raise UserError("no predictions for the clean split (clean.jsonl)")
    missing = sorted(set(range(n)) - set(preds["clean"]))
    if missing:
        raise UserError(f"clean predictions miss {len(missing)} examples (first clean index: {missing[0]})")
    clean = [preds["clean"][i] for i in range(n)]
    out: dict[str, Any] = {}
    for noise in bench.noises():
        versions = [preds[s.name] for s in bench.versions(noise) if s.name in preds]
        if not versions:
            continue
        task = bench.task.name
        if task == "afqmc":
            out[noise] = metrics.afqmc_scores([r["label"] for r in clean_rows], clean, versions)
        elif task == "cmrc":
            golds = [[a["text"] for a in r["answers"]] for r in clean_rows]
            out[noise] = metrics.cmrc_scores(golds, clean, versions, legacy=legacy)
        elif task == "wmt":
            out[noise] = metrics.wmt_scores([r["en"] for r in clean_rows], clean, versions)
        else:
            raise UserError(f"scoring {task} is not implemented yet")
    return out


def score(args: argparse.Namespace) -> int:
    from readin.report import table1, table2

    bench = _load(args)
    folder = Path(args.preds)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such directory")
    preds = {}
    for name in bench.splits:
        path = folder / f"{name}.jsonl"
        if path.is_file():
            preds[name] = read_predictions(path, bench, name)
    scores = score_benchmark(bench, preds, legacy=args.legacy)
    task = bench.task.name
    if task in ("afqmc", "cmrc"):
        table = table1([{"noise": noise, "model": args.model, **s} for noise, s in scores.items()])
    else:
        key = "bleu"
        rec = {task: {"clean": next(iter(scores.values()))[f"{key}_clean"] if scores else None}}
        for noise, s in scores.items():
            rec[task][noise] = {"avg": s[f"{key}_avg"], "worst": s[f"{key}_worst"]}
        table = table2([{"model": args.model, **rec}])
    print(table, end="")
    paths = emit(args.out, args.model, {"task": task, "scores": scores}, table, config=vars(args), packages=["readin"])
    logger.info("wrote %s", paths.json)
    return 0


# ---- noise ------------------------------------------------------------------------------------------------------


def add_noise_arguments(p: argparse.ArgumentParser) -> None:
    from lc_core.cli import add_config_arguments
    from readin.simulate import NoiseSettings

    p.add_argument("data", nargs="?", help="a clean JSONL file or a task folder (its clean split); omit with --sample")
    p.add_argument("--task", help=f"task: {', '.join(TASKS)} (with --sample: one task or 'all')")
    p.add_argument("--sample", action="store_true", help="noise the shipped licence-clean sample instead of DATA")
    p.add_argument("--out", help="write a READIN-style benchmark folder here (test_clean/, test_noisy_<noise>_<i>/, edits)")
    p.add_argument("--noises", nargs="+", default=["keyboard", "asr"], help="channels (asr alias: speech)")
    p.add_argument("--show", type=int, default=3, help="print the edit log of the first N noised fields per version")
    add_config_arguments(p, NoiseSettings)


def _clean_rows(args: argparse.Namespace, task: str) -> list[dict[str, Any]]:
    from readin.data import load_split, split_file
    from readin.sample import SAMPLES

    if args.sample:
        return [dict(r) for r in SAMPLES[task][0]]
    if not args.data:
        raise UserError("give a clean file or task folder, or --sample")
    path = Path(args.data)
    if path.is_dir():
        found = split_file(path, "clean")
        if found is None:
            raise FileNotFoundError(f"{path}: no test_clean/test.json or test_clean.json")
        path = found
    return load_split(path, task).rows


def noise(args: argparse.Namespace) -> int:
    from lc_core.cli import config_from_args
    from readin.sample import SAMPLES
    from readin.simulate import NoiseSettings, make_benchmark, noise_rows
    from readin.tasks import canonical_noise, get_task

    settings = config_from_args(NoiseSettings, args)
    if args.sample and (args.task in (None, "all")):
        tasks = list(SAMPLES)
    elif args.task is None:
        raise UserError("--task is required (or --sample)")
    else:
        tasks = [get_task(args.task).name]
    for task in tasks:
        rows = _clean_rows(args, task)
        if args.out:
            out = Path(args.out) / task if len(tasks) > 1 else Path(args.out)
            stats = make_benchmark(rows, task, out, settings, noises=args.noises)
            print(f"{task}: wrote {out} ({stats['sentences']} fields noised, {stats['sentences_per_s']:.0f} sentences/s)")
        if args.show <= 0:
            continue
        for ch in dict.fromkeys(canonical_noise(n) for n in args.noises):
            for v in (1, 2, 3):
                _, log = noise_rows(rows[: max(args.show, 1) * 2], task, ch, v, settings)
                for entry in log[: args.show]:
                    edits = "; ".join(
                        f"{e['op']} {e['src'] or '∅'}→{e['dst'] or '∅'} ({e['src_pinyin']}→{e['dst_pinyin']})"
                        for e in entry["edits"]
                    )
                    print(
                        f"[{task} {ch}_{v} #{entry['index']} {entry['field']}] {entry['text']} → {entry['noisy']}  | {edits}"
                    )
    return 0


# ---- augment ----------------------------------------------------------------------------------------------------


def add_augment_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="a training file (JSON Lines) in the task's schema")
    p.add_argument("--task", required=True, help=f"task: {', '.join(TASKS)}")
    p.add_argument("--out", required=True, help="the augmented JSON Lines file (clean rows, then the noised copies)")
    p.add_argument("--ratio", type=float, default=0.5, help="replacement probability per character with a homophone group")
    p.add_argument("--copies", type=int, default=2, help="noised copies appended after the clean rows")
    p.add_argument("--seed", type=int, default=0, help="seeds one RNG for the whole run")


def augment(args: argparse.Namespace) -> int:
    from lc_core.io import write_jsonl
    from readin.augment import ada_augment
    from readin.data import load_split

    rows = load_split(args.data, args.task).rows
    out = ada_augment(rows, args.task, ratio=args.ratio, copies=args.copies, seed=args.seed)
    n = write_jsonl(args.out, out)
    print(f"wrote {n} rows ({len(rows)} clean + {args.copies} ADA copies, ratio {args.ratio}) to {args.out}")
    return 0
