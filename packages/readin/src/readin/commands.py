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
    p.add_argument("--db-dir", help="CSpider: Spider's database/ folder (<db_id>/<db_id>.sqlite) for execution match")
    p.add_argument("--tables", help="CSpider: Spider's tables.json (schemas and foreign keys for the exact set match)")
    p.add_argument(
        "--sql-match",
        choices=["set", "string"],
        default="set",
        help="CSpider exact match: Spider's component set match, or the legacy normalised string match",
    )
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


def _table(task: str, scores: dict[str, Any], model: str) -> str:
    from readin.report import table1

    channels = {k: v for k, v in scores.items() if isinstance(v, dict)}
    if task in ("afqmc", "cmrc"):
        return table1([{"noise": noise, "model": model, **s} for noise, s in channels.items()])
    from readin.report import clean_avg_worst_table

    metric, label, scale = ("bleu", "WMT", 1.0) if task == "wmt" else ("em", "CSpider EM", 100.0)
    metrics = [(metric, label, scale)]
    if task == "cspider" and any("ex_clean" in s for s in channels.values()):
        metrics.append(("ex", "CSpider EX", 100.0))
    row: dict[str, Any] = {"model": model}
    for key, _, _ in metrics:
        rec: dict[str, Any] = {"clean": next(iter(channels.values()))[f"{key}_clean"] if channels else None}
        for noise, s in channels.items():
            rec[noise] = {"avg": s[f"{key}_avg"], "worst": s[f"{key}_worst"]}
        row[key] = rec
    return clean_avg_worst_table([row], [(k, label, k, scale) for k, label, scale in metrics])


def score(args: argparse.Namespace) -> int:
    from readin.evaluate import score_predictions

    bench = _load(args)
    folder = Path(args.preds)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such directory")
    preds = {}
    for name in bench.splits:
        path = folder / f"{name}.jsonl"
        if path.is_file():
            preds[name] = read_predictions(path, bench, name)
    if "clean" not in preds:
        raise UserError(f"{folder}: no predictions for the clean split (clean.jsonl)")
    scores = score_predictions(
        bench, preds, legacy=args.legacy, db_dir=args.db_dir, sql_match=args.sql_match, tables=args.tables
    )
    table = _table(bench.task.name, scores, args.model)
    print(table, end="")
    paths = emit(
        args.out, args.model, {"task": bench.task.name, "scores": scores}, table, config=vars(args), packages=["readin"]
    )
    logger.info("wrote %s", paths.json)
    return 0


# ---- consistency ------------------------------------------------------------------------------------------------


def add_consistency_arguments(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)
    p.add_argument(
        "--tokenizer",
        nargs="+",
        default=["char", "jieba", "pinyin"],
        help="char, jieba, pinyin (toneless, SubChar-like), a local Hugging Face tokenizer folder or a .model file",
    )
    p.add_argument("--fields", nargs="+", help="fields to compare (default: the task's re-entered fields)")
    p.add_argument("--out", help="also write the scores with lc_core.report (<out>/consistency/results_<time>.*)")


def consistency(args: argparse.Namespace) -> int:
    from readin.consistency import consistency_scores, get_tokenizer

    tokenizers = {spec: get_tokenizer(spec) for spec in args.tokenizer}
    bench = _load(args)
    scores: dict[str, Any] = {}
    rows = []
    for spec, tokenize in tokenizers.items():
        scores[spec] = consistency_scores(bench, tokenize, fields=args.fields)
        for noise, block in scores[spec].items():
            versions = {f"v{k.rsplit('_', 1)[1]}": v for k, v in block.items() if k.startswith(f"{noise}_")}
            label = "speech" if noise == "asr" else noise
            rows.append({"tokenizer": spec, "noise": label, **versions, "avg": block["avg"], "all three": block["all"],
                         "units": block["units"]})  # fmt: skip
    fields = ", ".join(args.fields or bench.task.noised)
    print(f"tokenization consistency, {bench.task.name} ({fields}): share of units tokenized exactly as the clean text")
    table = markdown_table(rows, precision=3)
    print(table, end="")
    if args.out:
        paths = emit(
            args.out,
            "consistency",
            {"task": bench.task.name, "consistency": scores},
            table,
            config=vars(args),
            packages=["readin"],
        )
        logger.info("wrote %s", paths.json)
    return 0


# ---- eval -------------------------------------------------------------------------------------------------------


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)
    p.add_argument("--backend", default="hf", help="lc-core backend: hf, openai (any OpenAI-compatible server), vllm")
    p.add_argument("--model", required=True, help="model path or name for the backend")
    p.add_argument("--backend-arg", action="append", default=[], metavar="KEY=VALUE", help="backend keyword (repeatable)")
    p.add_argument("--shots", help="few-shot examples: a JSON Lines file in the task's schema (e.g. the training set)")
    p.add_argument("--k", type=int, default=0, help="number of few-shot examples taken from --shots")
    p.add_argument("--max-new-tokens", type=int, help="override the task's answer length")
    p.add_argument("--batch-size", type=int, default=1, help="prompts per backend call")
    p.add_argument("--limit", type=int, help="only the first N examples of each split")
    p.add_argument("--shard", default="0/1", help="i/n: this process handles every n-th example from i")
    p.add_argument("--legacy", action="store_true", help="CMRC worst-case EM by raw string membership")
    p.add_argument("--db-dir", help="CSpider: Spider's database/ folder (<db_id>/<db_id>.sqlite) for execution match")
    p.add_argument("--tables", help="CSpider: Spider's tables.json (schemas and foreign keys for the exact set match)")
    p.add_argument(
        "--sql-match",
        choices=["set", "string"],
        default="set",
        help="CSpider exact match: Spider's component set match, or the legacy normalised string match",
    )
    p.add_argument("--run-name", help="results folder name (default: the model's name)")
    p.add_argument("--out", default="results", help="results root: <out>/<run>/preds_<split>.jsonl and results_<time>")


def eval(args: argparse.Namespace) -> int:  # noqa: A001 - the verb's name
    from lc_core.cli import parse_key_values
    from lc_core.eval import EvalConfig, parse_shard
    from lc_core.inference import get_backend
    from lc_core.inference.base import GenerationConfig
    from lc_core.report import safe_name
    from readin.data import load_split
    from readin.evaluate import PROMPTS, run_benchmark, score_predictions

    bench = _load(args)
    shots = load_split(args.shots, bench.task).rows[: args.k] if args.shots and args.k > 0 else []
    shard = parse_shard(args.shard)
    run = args.run_name or safe_name(args.model)
    run_dir = Path(args.out) / safe_name(run)
    gen = GenerationConfig(max_new_tokens=args.max_new_tokens or PROMPTS[bench.task.name].max_new_tokens, stop=["\n"])
    backend = get_backend(args.backend, model=args.model, **parse_key_values(args.backend_arg, flag="--backend-arg"))
    config = EvalConfig(batch_size=args.batch_size, shard=shard, limit=args.limit)
    sig = {"model": args.model, "backend": args.backend, "max_new_tokens": gen.max_new_tokens}
    rows = run_benchmark(bench, backend, run_dir, shots=shots, config=config, generation=gen, signature=sig)
    if shard[1] > 1:
        print(
            f"shard {shard[0]}/{shard[1]} done; after the last shard, the same command without --shard joins and scores them"
        )
        return 0
    preds = {name: {r["clean_index"]: r["parsed"] for r in split_rows} for name, split_rows in rows.items()}
    scores = score_predictions(
        bench, preds, legacy=args.legacy, db_dir=args.db_dir, sql_match=args.sql_match, tables=args.tables
    )
    table = _table(bench.task.name, scores, run)
    print(table, end="")
    emit(
        args.out,
        run,
        {"task": bench.task.name, "scores": scores, "preds": str(run_dir)},
        table,
        config=vars(args),
        packages=["readin"],
    )
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
    p.add_argument("--stats", action="store_true", help="print the realism table (vs the homophone-only baseline)")
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


def _print_stats(rows: list[dict[str, Any]], task: str, settings: Any) -> None:
    from readin.stats import realism
    from readin.tasks import get_task

    texts = [r[f] for r in rows for f in get_task(task).noised if isinstance(r.get(f), str)]
    table = realism(
        texts,
        keyboard_rate=settings.keyboard_rate,
        speech_rate=settings.speech_rate,
        seed=settings.seed,
        keyboard=settings.config("keyboard", 1),
    )
    print(f"realism, {task} ({len(texts)} fields, {sum(map(len, texts))} characters, 3 versions):")
    print(markdown_table(table, precision=3), end="")


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
        if args.stats:
            _print_stats(rows, task, settings)
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


# ---- train ------------------------------------------------------------------------------------------------------


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, help="task: afqmc (classification), cmrc (span extraction), wmt (seq2seq)")
    p.add_argument("--model", required=True, help="a local checkpoint folder, or 'tiny' for a random tiny model (smoke tests)")
    p.add_argument("--train", required=True, help="training rows (JSON Lines in the task's schema)")
    p.add_argument("--dev", required=True, help="dev rows: model selection by dev loss")
    p.add_argument("--out", required=True, help="the fine-tuned model folder (checkpoints inside)")
    p.add_argument("--ada", action="store_true", help="train on READIN's ADA augmentation (clean + 2 noised copies)")
    p.add_argument("--epochs", type=float, default=4.0, help="READIN: 4 (6 in its README command)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--grad-acc", type=int, default=1, help="gradient accumulation (READIN's README: 32)")
    p.add_argument("--max-length", type=int, default=128, help="input tokens (CMRC: per window)")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after N optimiser steps (overrides --epochs)")
    p.add_argument("--doc-stride", type=int, default=128, help="CMRC: overlap between context windows")
    p.add_argument("--max-target-length", type=int, default=128, help="WMT: reference / generation tokens")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--predict", help="then predict every split of this benchmark folder into <out>/preds/ and score it")


def train(args: argparse.Namespace) -> int:
    from lc_core.io import write_jsonl
    from readin.data import load_split
    from readin.train import TrainConfig, predict_split, tiny_bert, tiny_seq2seq, train_task

    if args.task not in ("afqmc", "cmrc", "wmt"):
        raise UserError(f"--task {args.task}: fine-tuning runners exist for afqmc, cmrc and wmt")
    for flag, path in (("--train", args.train), ("--dev", args.dev)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such file ({flag})")
    train_rows = load_split(args.train, args.task).rows
    dev_rows = load_split(args.dev, args.task).rows
    if args.ada:
        from readin.augment import ada_augment

        train_rows = ada_augment(train_rows, args.task)
    config = TrainConfig(
        out=args.out,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        grad_acc=args.grad_acc,
        max_length=args.max_length,
        max_steps=args.max_steps,
        doc_stride=args.doc_stride,
        max_target_length=args.max_target_length,
        seed=args.seed,
    )
    model = args.model
    if model == "tiny":
        fields = {"afqmc": ("sentence1", "sentence2"), "cmrc": ("context", "question"), "wmt": ("zh", "en")}[args.task]
        texts = ["".join(str(r[f]) for f in fields) for r in [*train_rows, *dev_rows]]
        if args.predict:
            bench = load_benchmark(args.predict, args.task)
            texts += ["".join(str(r[f]) for f in fields) for s in bench.splits.values() for r in s.rows]
        init = Path(args.out) / "tiny-init"
        if args.task == "wmt":
            model = str(tiny_seq2seq(texts, init))
        else:
            model = str(tiny_bert(texts, init, head="qa" if args.task == "cmrc" else "classification"))
    elif not Path(model).is_dir():
        raise FileNotFoundError(f"{model}: no such model folder (--model takes a local checkpoint or 'tiny')")
    metrics = train_task(args.task, model, train_rows, dev_rows, config)
    print(
        f"trained {args.task} on {len(train_rows)} rows -> {args.out}; dev loss {metrics.get('eval_loss', float('nan')):.4f}"
    )
    if not args.predict:
        return 0
    from readin.evaluate import score_predictions

    bench = load_benchmark(args.predict, args.task)
    preds: dict[str, dict[int, Any]] = {}
    for name, split in bench.splits.items():
        out = predict_split(args.task, args.out, split.rows, config)
        preds[name] = dict(zip(split.index, out, strict=True))
        write_jsonl(
            Path(args.out) / "preds" / f"{name}.jsonl",
            [{"clean_index": i, "prediction": p} for i, p in zip(split.index, out, strict=True)],
        )
    scores = score_predictions(bench, preds)
    model_name = Path(args.out).name
    print(_table(args.task, scores, model_name), end="")
    emit(
        Path(args.out) / "results",
        model_name,
        {"task": args.task, "scores": scores, "train": metrics},
        _table(args.task, scores, model_name),
        config=vars(args),
        packages=["readin"],
    )
    return 0


# ---- report -----------------------------------------------------------------------------------------------------

#: the headline metric per task in a results record
_HEADLINE = {"afqmc": ("pos", "neg"), "cmrc": ("em", "f1"), "wmt": ("bleu",), "cspider": ("em", "ex")}


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", help="results_<time>.json files written by `readin score` / `readin eval`")
    p.add_argument("--plot", help="also draw clean -> average -> worst curves per model and channel (png/pdf/svg)")


def report(args: argparse.Namespace) -> int:
    from lc_core.io import read_json_object

    by_task: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path in args.results:
        rec = read_json_object(path, what="readin results file")
        if "task" not in rec or "scores" not in rec:
            raise DataError("not a readin results file (no 'task'/'scores')", path=path)
        by_task.setdefault(rec["task"], []).append((Path(path).parent.name, rec["scores"]))
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for task, runs in by_task.items():
        print(f"## {task}\n")
        for model, scores in runs:
            print(_table(task, scores, model))
            for noise, block in scores.items():
                if not isinstance(block, dict):
                    continue
                for metric in _HEADLINE.get(task, ()):
                    ys = [block.get(f"{metric}_{part}") for part in ("clean", "avg", "worst")]
                    if all(isinstance(y, int | float) for y in ys):
                        scale = 1.0 if metric == "bleu" else 100.0
                        curves[f"{model} {task} {metric} {noise}"] = ([0, 1, 2], [y * scale for y in ys])
    if args.plot:
        from lc_core.plot import line_plot

        path = line_plot(
            curves,
            args.plot,
            title="READIN: clean (0) -> average (1) -> worst (2)",
            ylabel="score (accuracy / EM / F1 %, BLEU)",
            markers=True,
            extra="readin[plot]",
        )
        print(f"wrote {path}")
    return 0
