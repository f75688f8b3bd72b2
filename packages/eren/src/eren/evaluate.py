"""Evaluate an editing method on a data set: notes in, ES/BP/EQ out, resumable and shardable through lc_core.eval.

::

    from eren.data import load_dataset
    from eren.evaluate import EvalSettings, run_eval

    ds = load_dataset("cfh_filtered.json")
    result = run_eval(ds, backend, EvalSettings(method="eren", retriever="bm25"), out="results")
    result["metrics"]      # {"es": ..., "bp": ..., "eq": ..., "bp_same_subj": ..., ...}

Layout under ``<out>/<run>/``: ``notes.db`` (the notebook of the edited records; reused on resume when it holds exactly
the data set's notes), ``unedited.jsonl`` (closed-book answers to every query: the Unedited baseline and the reference
for BP), ``<method>.jsonl`` (one row per query), ``preds.json`` (the original repository's shape) and, through
``lc_core.report.emit``, ``results_<time>.{json,md}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from eren.data import Dataset
from eren.editor import Editor, answer_fields
from eren.metrics import score
from eren.notebook import Notebook, clean_note
from eren.prompts import closed_book_prompt
from eren.reader import ReaderConfig
from eren.retrieval import Retriever, get_retriever
from lc_core.eval import EvalConfig, evaluate
from lc_core.inference.base import Backend
from lc_core.io import DataError, atomic_write_json
from lc_core.logging import get_logger
from lc_core.report import emit, markdown_table

__all__ = ["EvalSettings", "run_eval", "build_notebook", "preds_json", "PAPER_TABLE3"]

logger = get_logger(__name__)

# paper Table 3 (Flan-T5-XL): method -> data set -> (ES, BP, EQ)
PAPER_TABLE3: dict[str, dict[str, tuple[float, float, float]]] = {
    "unedited": {"cfh": (0.0, 100.0, 0.0), "fever": (41.9, 100.0, 59.1), "fever-clean": (38.7, 100.0, 55.8)},
    "serac": {"cfh": (96.9, 51.4, 67.2), "fever": (60.1, 67.9, 63.8), "fever-clean": (60.4, 97.6, 74.6)},
    "one-step": {"cfh": (98.4, 24.5, 39.2), "fever": (90.9, 64.6, 75.5), "fever-clean": (93.8, 74.5, 83.0)},
    "eren": {"cfh": (96.9, 96.8, 96.9), "fever": (81.5, 79.6, 80.5), "fever-clean": (93.8, 96.7, 95.2)},
}


@dataclass(kw_only=True)
class EvalSettings:
    """One evaluation.

    Args:
        method: ``eren``, ``one-step``, ``unedited``, ``serac`` or ``ike``.
        retriever: ``bm25``, ``dense`` or ``hybrid``.
        embedder: the dense embedder (see :func:`eren.retrieval.get_embedder`; default packaged MiniLM).
        k: notes per query.
        match: ``em`` or ``contains`` (ES matching).
        chat: send prompts as chat user messages.
        serac_threshold: the serac baseline's top-1 score threshold.
        sequential: add the notes one at a time (the original could not; results must not change).
        max_new_tokens: generation limit (default: the original's 20 free-form / 10 with options).
    """

    method: str = "eren"
    retriever: str = "bm25"
    embedder: str | None = None
    k: int = 5
    match: str = "em"
    chat: bool = False
    serac_threshold: float = 0.5
    sequential: bool = False
    max_new_tokens: int | None = None

    def reader_config(self, task: str) -> ReaderConfig:
        return ReaderConfig(
            task=task,
            method=self.method,
            k=self.k,
            chat=self.chat,
            serac_threshold=self.serac_threshold,
            max_new_tokens=self.max_new_tokens,
        )

    def run_name(self, dataset: Dataset, model: str) -> str:
        name = f"{dataset.name}-n{len(dataset.edited)}-s{dataset.seed}-{model}-{self.method}"
        if self.method != "unedited":
            name += f"-{self.retriever}" + (f"-{self.embedder}" if self.embedder and self.retriever != "bm25" else "")
            name += f"-top{self.k}"
        return name.replace("/", "_")


def build_notebook(dataset: Dataset, path: str | Path, *, sequential: bool = False) -> Notebook:
    """The notebook of ``dataset``'s notes at ``path``: created, or reused if it holds exactly those notes.

    Raises:
        DataError: ``path`` holds other notes (another data set or split): use another output folder.
    """
    nb = Notebook(path)
    want = [clean_note(t) for t in dataset.notes]
    have = [n.text for n in nb.notes()]
    if have == want:
        return nb
    if have:
        raise DataError("holds notes of another data set or split; use another --out or delete it", path=path)
    if sequential:
        for text, src in zip(dataset.notes, dataset.note_sources):
            nb.add(text, source=src)
    else:
        # one transaction per record keeps sources; the ids are the same either way
        nb.add_many(dataset.notes, source=f"{dataset.name}:{dataset.path}")
    return nb


def preds_json(dataset: Dataset, rows: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the original repository's ``preds.json`` shape (``id, edit_statement, targets, outputs``)."""
    out = []
    for r in dataset.edited:
        scope = [rows.get(f"{r.id}:edit:{i}", {}).get("prediction") for i in range(len(r.edit_scope))]
        rec: dict[str, Any] = {
            "id": r.id,
            "edit_statement": r.statements if len(r.statements) > 1 else r.statements[0],
            "targets": [a for _, a in r.edit_scope],
            "outputs": {"edit_scope": scope},
        }
        if r.unrelated:
            rec["outputs"]["unrelated"] = {
                b: [rows.get(f"{r.id}:{b}:{i}", {}).get("prediction") for i in range(len(qs))] for b, qs in r.unrelated.items()
            }
        out.append(rec)
    return out


def run_eval(
    dataset: Dataset,
    backend: Backend,
    settings: EvalSettings | None = None,
    *,
    out: str | Path = "results",
    model: str | None = None,
    eval_config: EvalConfig | None = None,
    retriever: Retriever | None = None,
    emit_results: bool = True,
) -> dict[str, Any]:
    """Evaluate ``settings.method`` with ``backend`` as the reader on ``dataset``; returns ``{"metrics", "run_dir",
    "rows", ...}``.

    Args:
        dataset: a loaded split.
        backend: the reader model.
        out: the results root.
        model: the model's label in the run name (default: the backend's ``model_name``).
        eval_config: batch size, shard, limit, progress (lc_core.eval).
        retriever: a ready retriever (default: ``settings.retriever`` with ``settings.embedder``).
        emit_results: write ``results_<time>.{json,md}`` through lc_core.report.emit.
    """
    settings = settings or EvalSettings()
    eval_config = eval_config or EvalConfig(batch_size=8)
    model = model or str(getattr(backend, "model_name", backend.name))
    run = settings.run_name(dataset, model)
    work = Path(out) / run
    work.mkdir(parents=True, exist_ok=True)
    cfg = settings.reader_config(dataset.task)
    examples = [q.to_dict() for q in dataset.queries]
    signature = {
        "data": dataset.path,
        "name": dataset.name,
        "n": len(dataset.edited),
        "seed": dataset.seed,
        "model": model,
        "task": dataset.task,
        "max_new_tokens": cfg.generation().max_new_tokens,
        "chat": cfg.chat,
    }
    base_cfg = replace(cfg, method="unedited")
    unedited = evaluate(
        examples,
        backend,
        prompt=lambda ex: closed_book_prompt(dataset.task, ex["text"]),
        generation=base_cfg.generation(),
        store=work / "unedited.jsonl",
        config=eval_config,
        signature=signature,
        desc="unedited",
    )
    base = {r["id"]: r["prediction"] for r in unedited.rows}
    if settings.method == "unedited":
        method_rows = {r["id"]: {"prediction": r["prediction"]} for r in unedited.rows}
        n_notes = 0
    else:
        nb = build_notebook(dataset, work / "notes.db", sequential=settings.sequential)
        n_notes = len(nb)
        r = retriever or get_retriever(settings.retriever, embedder=settings.embedder)
        editor = Editor(backend, nb, r, cfg)
        eb = editor.as_backend()
        res = evaluate(
            examples,
            eb,
            prompt=lambda ex: ex["text"],
            generation=cfg.generation(),
            store=work / f"{settings.method}.jsonl",
            record=lambda ex, _out: answer_fields(eb, ex["text"]),
            config=eval_config,
            signature={**signature, **asdict(settings)},
            desc=settings.method,
        )
        method_rows = {row["id"]: row for row in res.rows}
        nb.close()
    scored = []
    for ex in examples:
        row = method_rows.get(ex["id"])
        if row is None:
            continue
        scored.append(
            {
                "bucket": ex["bucket"],
                "prediction": row.get("prediction"),
                "target": ex["target"],
                "abstained": bool(row.get("abstained", False)),
                "unedited": base.get(ex["id"]),
            }
        )
    metrics = score(scored, mode=settings.match)
    atomic_write_json(work / "preds.json", preds_json(dataset, method_rows))
    paper = PAPER_TABLE3.get(settings.method, {}).get(dataset.name)
    record = {
        "metrics": metrics,
        "dataset": dataset.summary(),
        "settings": asdict(settings),
        "model": model,
        "notes": n_notes,
        "paper_table3": None if paper is None else dict(zip(("es", "bp", "eq"), paper)),
        "shard": list(eval_config.shard),
        "limit": eval_config.limit,
    }
    table_row = {"method": settings.method, "data": dataset.name, "model": model, "retriever": settings.retriever}
    table_row.update({k: metrics.get(k) for k in ("es", "bp", "eq", "bp_neighbor_subj", "bp_same_subj", "bp_out_of_scope")})
    table_row["queries"] = len(scored)
    emitted = None
    if emit_results:
        emitted = emit(out, run, record, markdown_table([table_row], precision=1), config=settings, packages=["eren"])
    atomic_write_json(work / "metrics.json", metrics)
    return {**record, "run_dir": str(work), "rows": scored, "results": None if emitted is None else str(emitted.json)}


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``<method>.jsonl`` file."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
