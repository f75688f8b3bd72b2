"""Evaluate any model on a READIN task through lc-core backends: prompts, answer parsing, clean + noisy in one run.

Each split goes through :func:`lc_core.eval.evaluate` (one fsynced row per example: resumable, shardable, limit),
into ``<out>/preds_<split>.jsonl``; rows keep the raw generation (``prediction``) next to the parsed answer
(``parsed``) and the ``clean_index``. :func:`score_predictions` then computes clean / average / worst per channel.

Zero-shot by default; ``shots`` (rows in the task's schema, e.g. from the training set) make it few-shot.

Shards (``EvalConfig(shard=(i, n))``) write ``preds_<split>.shard-<i>-of-<n>.jsonl``; once every shard has run, an
unsharded :func:`run_benchmark` on the same folder joins them (:func:`merge_finished_shards`) and generates nothing
again, so ``readin eval`` without ``--shard`` scores a sharded run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_core.eval import EvalConfig, evaluate, merge_shards, shard_path
from lc_core.inference.base import Backend, GenerationConfig
from readin.data import Benchmark
from readin.tasks import Task

__all__ = [
    "TaskPrompt",
    "PROMPTS",
    "build_prompt",
    "parse_answer",
    "run_benchmark",
    "score_predictions",
    "merge_finished_shards",
]


@dataclass(frozen=True)
class TaskPrompt:
    """How one task asks and answers: an instruction, an example's question text, its gold answer text."""

    instruction: str
    question: Callable[[Mapping[str, Any]], str]
    answer: Callable[[Mapping[str, Any]], str]
    max_new_tokens: int


PROMPTS: dict[str, TaskPrompt] = {
    "afqmc": TaskPrompt(
        "判断两个句子的意思是否相同，只回答“是”或“否”。",
        lambda r: f"句子1：{r['sentence1']}\n句子2：{r['sentence2']}\n答案：",
        lambda r: "是" if int(r["label"]) == 1 else "否",
        4,
    ),
    "cmrc": TaskPrompt(
        "阅读文章，用文章中的原文片段回答问题。",
        lambda r: f"文章：{r['context']}\n问题：{r['question']}\n答案：",
        lambda r: r["answers"][0]["text"] if r["answers"] else "",
        48,
    ),
    "cspider": TaskPrompt(
        "把问题翻译成在给定数据库上执行的一条 SQL 查询。",
        lambda r: f"数据库：{r['db_id']}\n问题：{r['question']}\nSQL：",
        lambda r: r["query"],
        128,
    ),
    "wmt": TaskPrompt(
        "把中文翻译成英文。",
        lambda r: f"中文：{r['zh']}\n英文：",
        lambda r: r["en"],
        160,
    ),
}


def build_prompt(task: Task, row: Mapping[str, Any], shots: Sequence[Mapping[str, Any]] = ()) -> str:
    """Instruction, then ``shots`` with their answers, then the example (the model completes the answer)."""
    p = PROMPTS[task.name]
    parts = [p.instruction]
    parts += [p.question(s) + p.answer(s) for s in shots]
    parts.append(p.question(row))
    return "\n\n".join(parts)


_YES = re.compile(r"^\s*(是|相同|一样|等价|yes|1\b|true)", re.I)
_NO = re.compile(r"^\s*(否|不|no\b|0\b|false)", re.I)


def parse_answer(task: Task, text: str) -> Any:
    """The answer in the metric's form: AFQMC 1/0 (-1 if neither), otherwise the first non-empty line, trimmed."""
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    if task.name == "afqmc":
        if _YES.match(line):
            return 1
        return 0 if _NO.match(line) else -1
    if task.name == "cmrc":
        return line.strip("“”\"'「」。.，, ")
    return line


def merge_finished_shards(store: str | Path) -> bool:
    """Join a sharded run's files into ``store`` (and its signature) when ``store`` does not exist yet.

    Returns whether it merged. Raises ``FileNotFoundError`` naming a shard that has not run, ``ValueError`` when
    shard files of two different shard counts lie next to ``store``.
    """
    store = Path(store)
    if store.exists():
        return False
    pattern = re.compile(re.escape(store.stem) + r"\.shard-\d+-of-(\d+)" + re.escape(store.suffix) + "$")
    counts = {int(m.group(1)) for p in store.parent.glob(f"{store.stem}.shard-*") if (m := pattern.match(p.name))}
    if not counts:
        return False
    if len(counts) > 1:
        raise ValueError(f"{store.parent}: shard files of {len(counts)} different shard counts for {store.name}")
    n = counts.pop()
    merge_shards(store, n)
    meta = shard_path(store, (0, n))
    meta = meta.with_name(meta.name + ".meta.json")
    if meta.is_file():  # every shard ran under the same signature: keep it, so a different run is still refused
        store.with_name(store.name + ".meta.json").write_text(meta.read_text(encoding="utf-8"), encoding="utf-8")
    return True


def run_benchmark(
    bench: Benchmark,
    backend: Backend,
    out: str | Path,
    *,
    shots: Sequence[Mapping[str, Any]] = (),
    config: EvalConfig | None = None,
    generation: GenerationConfig | None = None,
    signature: Mapping[str, Any] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Generate for every split; returns split -> this shard's rows (``prediction`` raw, ``parsed``, ``clean_index``)."""
    task = bench.task
    gen = generation or GenerationConfig(max_new_tokens=PROMPTS[task.name].max_new_tokens, stop=["\n"])
    cfg = config or EvalConfig()
    out = Path(out)
    sig = {"task": task.name, "shots": len(shots), **(signature or {})}
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, split in bench.splits.items():
        examples = [{"id": i, "row": r} for i, r in zip(split.index, split.rows)]
        if cfg.shard[1] == 1:
            merge_finished_shards(out / f"preds_{name}.jsonl")
        res = evaluate(
            examples,
            backend,
            prompt=lambda ex: build_prompt(task, ex["row"], shots),
            generation=gen,
            store=out / f"preds_{name}.jsonl",
            record=lambda ex, text: {"clean_index": ex["id"], "parsed": parse_answer(task, text)},
            config=EvalConfig(batch_size=cfg.batch_size, shard=cfg.shard, limit=cfg.limit, progress=cfg.progress),
            signature=sig,
            desc=f"{task.name} {name}",
        )
        rows[name] = res.rows
    return rows


def score_predictions(
    bench: Benchmark,
    preds: Mapping[str, Mapping[int, Any]],
    *,
    legacy: bool = False,
    db_dir: str | Path | None = None,
    sql_match: str = "set",
    tables: str | Path | None = None,
) -> dict[str, Any]:
    """Clean / average / worst per channel over the examples that have a clean prediction.

    Args:
        bench: the loaded task.
        preds: split -> ``{clean_index: parsed prediction}`` (a ``--limit`` run covers a prefix).
        legacy: CMRC worst-case EM by raw string membership.
        db_dir: CSpider's ``database/`` folder (``<db_id>/<db_id>.sqlite``) for execution match (and the schema).
        sql_match: CSpider exact match: ``set`` (Spider's component matching) or ``string`` (legacy).
        tables: Spider's ``tables.json`` (schemas with foreign keys) for the set match.

    Returns:
        ``{"n": examples scored, "<noise>": {metric: value}}`` in the metrics' units (fractions, BLEU 0-100).
    """
    from readin import metrics

    if not preds.get("clean"):
        raise ValueError("no predictions for the clean split")
    covered = sorted(preds["clean"])
    pos = {i: k for k, i in enumerate(covered)}
    clean_rows = [bench.clean.rows[i] for i in covered]
    clean = [preds["clean"][i] for i in covered]
    out: dict[str, Any] = {"n": len(covered)}
    task = bench.task.name
    for noise in bench.noises():
        versions = [
            {pos[i]: p for i, p in preds[s.name].items() if i in pos} for s in bench.versions(noise) if preds.get(s.name)
        ]
        if not versions:
            continue
        if task == "afqmc":
            out[noise] = metrics.afqmc_scores([r["label"] for r in clean_rows], clean, versions)
        elif task == "cmrc":
            golds = [[a["text"] for a in r["answers"]] for r in clean_rows]
            out[noise] = metrics.cmrc_scores(golds, clean, versions, legacy=legacy)
        elif task == "wmt":
            out[noise] = metrics.wmt_scores([r["en"] for r in clean_rows], clean, versions)
        else:
            from readin.spider import Schema
            from readin.sql import database_path

            dbs = [database_path(db_dir, r["db_id"]) for r in clean_rows] if db_dir is not None else None
            schemas = None
            if tables is not None:
                by_db = Schema.load_tables_json(tables)
                missing = sorted({r["db_id"] for r in clean_rows} - set(by_db))
                if missing:
                    raise ValueError(f"{tables}: no schema for db_id {', '.join(missing[:5])}")
                schemas = [by_db[r["db_id"]] for r in clean_rows]
            out[noise] = metrics.cspider_scores(
                [r["query"] for r in clean_rows], clean, versions, dbs, match=sql_match, schemas=schemas
            )
    return out
