"""Scoring rows, prediction files and results folders with the task table's scorers. Torch-free.

``legacy`` reproduces the official ``compute_scores.py`` (@88b3daa) exactly, quirks included (spec §4);
``fixed`` (the default) repairs the documented bugs (package README, "Differences from the original")::

    from infbench.scoring import score_one, score_file

    score_one("passkey", "The pass key is 71432.", "71432")                  # 1.0
    score_one("longdialogue_qa_eng", "ACE ROTHSTEIN", ["ACE", "ACE ROTHSTEIN"])          # 1.0
    result = score_file("results/gpt4/preds_passkey.jsonl", mode="legacy")  # TaskScore(score=100.0, ...)

Scores of one row are floats in [0, 1]; task scores are means in percent. Input that would give a wrong number
is an error naming the file, line and field instead: a label of the wrong shape (a dict, an empty list), a
prediction that is not text, an id seen twice in one file, and an empty file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infbench.scorers import (
    DEFAULT_MODE,
    MODES,
    ScoringError,
    first_int_match,
    normalize_answer,
    normalize_zh_answer,
    qa_f1_score,
    qa_f1_zh_score,
    rouge_lsum,
)
from infbench.tasks import ALL_TASKS, Task, canonical_task, get_task
from lc_core.io import DataError, iter_jsonl
from lc_core.logging import get_logger

__all__ = [
    "MODES",
    "DEFAULT_MODE",
    "ScoringError",
    "EmptyPredictions",
    "TaskScore",
    "first_int_match",
    "normalize_answer",
    "normalize_zh_answer",
    "qa_f1_score",
    "qa_f1_zh_score",
    "rouge_lsum",
    "check_label",
    "score_one",
    "score_rows",
    "read_predictions",
    "score_file",
    "score_folder",
    "find_prediction_files",
    "depth_of",
]

logger = get_logger(__name__)

# Key lookup order of the original scorer (labels are chosen from row 0, predictions per row).
LABEL_KEYS = ("ground_truth", "label")
PRED_KEYS = ("prediction", "pred")


class EmptyPredictions(DataError):
    """A prediction file without a single row: it has no score (not 0.00)."""


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _parses(x: Any, cast: type) -> bool:
    if not isinstance(x, str):
        return False
    try:
        cast(x.strip())
    except ValueError:
        return False
    return True


def _is_intlike(x: Any) -> bool:
    return _is_int(x) or _parses(x, int)


def _is_numberlike(x: Any) -> bool:
    return _is_int(x) or (isinstance(x, float) and not isinstance(x, bool)) or _parses(x, float)


def _kind(x: Any) -> str:
    return f"{type(x).__name__} {json.dumps(x, default=str)[:60]}"


def _single(label: Any, ok: Any, what: str) -> str | None:
    if isinstance(label, list):
        if len(label) != 1:
            return f"expected {what} or a one-element list of it, got a list of {len(label)}"
        label = label[0]
    return None if ok(label) else f"expected {what}, got {_kind(label)}"


def check_label(task: str | Task, label: Any) -> str | None:
    """Why ``label`` cannot be a label of ``task`` in a prediction file, or None when it can.

    Accepts every form the original harness wrote (the official prediction files): a string or ``[string]``
    for the retrieval tasks, an int or ``[int]`` for Code.Run, an int/float or ``[number]`` for Math.Find, a
    list of ints or ``[[ints]]`` for Math.Calc, a string or list of strings for the QA/summary/dialogue tasks
    and ``[option_text, letter]`` for the choice tasks. Anything else -- a dict, a bool, an empty list -- would
    be stringified or silently never match, so it is rejected.
    """
    kind = get_task(task).answer
    if kind == "string":
        return _single(label, lambda x: isinstance(x, str) or _is_int(x), "a string")
    if kind == "int":
        return _single(label, _is_intlike, "an integer")
    if kind == "number":
        return _single(label, _is_numberlike, "a number")
    if kind == "int_list":
        values = label[0] if isinstance(label, list) and len(label) == 1 and isinstance(label[0], list) else label
        if not isinstance(values, list) or not values:
            return f"expected a non-empty list of integers, got {_kind(label)}"
        bad = next((v for v in values if not _is_intlike(v)), None)
        return None if bad is None else f"expected a list of integers, found {_kind(bad)}"
    if kind == "texts":
        if isinstance(label, str):
            return None
        if isinstance(label, list) and label and all(isinstance(x, str) for x in label):
            return None
        return f"expected a string or a non-empty list of strings, got {_kind(label)}"
    # choice: [option text, letter]
    if (
        isinstance(label, list)
        and len(label) == 2
        and all(isinstance(x, str) for x in label)
        and label[1] in ("A", "B", "C", "D")
    ):
        return None
    return f"expected [option_text, letter A-D], got {_kind(label)}"


def score_one(task: str | Task, pred: str | None, label: Any, *, mode: str = DEFAULT_MODE, model_name: str = "") -> float:
    """Score one prediction in [0, 1].

    Args:
        task: task name (aliases such as ``kv_retrieval_prefix`` accepted) or a :class:`~infbench.tasks.Task`.
        pred: the model output (None counts as empty).
        label: the ground truth as stored in prediction files (``get_answer`` form).
        mode: ``"fixed"`` (default) or ``"legacy"`` (the original, bit for bit).
        model_name: only used by legacy ``math_calc`` (``"gpt4"`` drops the first number).

    Raises:
        DataError: ``label`` has the wrong shape for the task (see :func:`check_label`), or ``pred`` is not text.
        ScoringError: legacy mode on an input the original scorer crashes on.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    spec = get_task(task)
    problem = check_label(spec, label)
    if problem is not None:
        raise DataError(problem, field="ground_truth")
    if pred is None:
        pred = ""
    if not isinstance(pred, str):
        raise DataError(f"expected a string, got {_kind(pred)}", field="prediction")
    return spec.scorer(pred, label, mode, model_name)


def depth_of(task: str | Task, row: Mapping[str, Any]) -> float | None:
    """Needle depth in [0, 1] for a retrieval row.

    Uses the row's ``depth`` field when present (our generators write it), else the layout of the released
    128K files: passkey/number_string in 59 blocks of 10 ids, kv_retrieval at position ``5·id`` of 2,500.
    """
    if "depth" in row and row["depth"] is not None:
        return float(row["depth"])
    spec = get_task(task)
    rid = row.get("id")
    if spec.released_depth is None or not _is_int(rid):
        return None
    return spec.released_depth(rid)


@dataclass(kw_only=True)
class TaskScore:
    """Score of one task.

    Args:
        task: task name.
        score: mean row score in percent.
        n: rows scored.
        null_predictions: rows whose prediction is empty or whitespace.
        per_row: row scores in file order (id, score), kept for breakdowns.
        by_depth: mean score (percent) per depth for retrieval tasks.
        by_length: mean score (percent) per context length when rows carry a ``length`` field.
        by_length_depth: mean score (percent) per length and depth.
    """

    task: str
    score: float
    n: int
    null_predictions: int = 0
    per_row: list[tuple[Any, float]] = field(default_factory=list, repr=False)
    by_depth: dict[str, float] = field(default_factory=dict)
    by_length: dict[str, float] = field(default_factory=dict)
    by_length_depth: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self, *, rows: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "score": self.score,
            "n": self.n,
            "null_predictions": self.null_predictions,
        }
        if self.by_depth:
            out["by_depth"] = self.by_depth
        if self.by_length:
            out["by_length"] = self.by_length
        if self.by_length_depth:
            out["by_length_depth"] = self.by_length_depth
        if rows:
            out["per_row"] = [{"id": i, "score": s} for i, s in self.per_row]
        return out


def _mean_pct(values: Sequence[float]) -> float:
    return 100.0 * sum(values) / len(values)


def _id_key(rid: Any) -> Any:
    return json.dumps(rid, sort_keys=True) if isinstance(rid, dict | list) else (type(rid).__name__, rid)


def score_rows(
    task: str | Task,
    rows: Sequence[Mapping[str, Any]],
    *,
    mode: str = DEFAULT_MODE,
    model_name: str = "",
    label_key: str | None = None,
    path: str | None = None,
    progress: bool = False,
) -> TaskScore:
    """Score prediction rows (``{"id", "prediction"|"pred", "ground_truth"|"label", ...}``).

    Args:
        task: task name.
        rows: prediction records (a ``_line`` field, as :func:`read_predictions` adds, locates errors).
        mode: ``fixed`` (default) or ``legacy``.
        model_name: passed to the math_calc scorer.
        label_key: force the label field (default: first of ``ground_truth``/``label`` present in row 0).
        path: the file the rows came from, for error messages.
        progress: show a tqdm bar (worth it for ROUGE over long summaries).

    Raises:
        EmptyPredictions: no rows.
        DataError: a row without a prediction or label field, a label of the wrong shape, a prediction that
            is not text, or an id seen twice.
        ScoringError: legacy mode on a row the original crashes on.
    """
    from tqdm.auto import tqdm

    spec = get_task(task)
    if not rows:
        raise EmptyPredictions("no prediction rows (empty file): nothing to score", path=path)
    if label_key is None:
        label_key = next((k for k in LABEL_KEYS if k in rows[0]), None)
        if label_key is None:
            raise DataError(
                f"no label field (one of {LABEL_KEYS})", path=path, line=rows[0].get("_line"), field="ground_truth"
            )
    per_row: list[tuple[Any, float]] = []
    nulls = 0
    seen: dict[Any, Any] = {}
    depth_buckets: dict[str, list[float]] = {}
    length_buckets: dict[str, list[float]] = {}
    grid: dict[str, dict[str, list[float]]] = {}
    for i, row in enumerate(tqdm(rows, desc=f"score {spec.name}", unit="row", leave=False, disable=not progress)):
        line = row.get("_line", i + 1)
        if "id" in row:
            k = _id_key(row["id"])
            if k in seen:
                raise DataError(f"duplicate id {row['id']!r} (first on line {seen[k]})", path=path, line=line, field="id")
            seen[k] = line
        pred_key = next((k for k in PRED_KEYS if k in row), None)
        if pred_key is None:
            raise DataError(f"no prediction field (one of {PRED_KEYS})", path=path, line=line, field="prediction")
        if label_key not in row:
            raise DataError("missing label field", path=path, line=line, field=label_key)
        pred = row[pred_key]
        if pred is None:
            pred = ""
        if not isinstance(pred, str):
            raise DataError(f"expected a string, got {_kind(pred)}", path=path, line=line, field=pred_key)
        if not pred.strip():
            nulls += 1
        label = row[label_key]
        problem = check_label(spec, label)
        if problem is not None:
            raise DataError(f"{problem} for task {spec.name}", path=path, line=line, field=label_key)
        try:
            s = spec.scorer(pred, label, mode, model_name)
        except ScoringError as e:
            raise ScoringError(e.message, path=path, line=line, field=pred_key) from None
        per_row.append((row.get("id", i), s))
        depth = depth_of(spec, row)
        length = row.get("length")
        if depth is not None:
            depth_buckets.setdefault(f"{depth:.3f}", []).append(s)
        if length is not None:
            length_buckets.setdefault(str(length), []).append(s)
            if depth is not None:
                grid.setdefault(str(length), {}).setdefault(f"{depth:.3f}", []).append(s)
    scores = [s for _, s in per_row]
    return TaskScore(
        task=spec.name,
        score=_mean_pct(scores),
        n=len(scores),
        null_predictions=nulls,
        per_row=per_row,
        by_depth={k: _mean_pct(v) for k, v in sorted(depth_buckets.items(), key=lambda kv: float(kv[0]))},
        by_length={k: _mean_pct(v) for k, v in length_buckets.items()},
        by_length_depth={
            ln: {d: _mean_pct(v) for d, v in sorted(ds.items(), key=lambda kv: float(kv[0]))} for ln, ds in grid.items()
        },
    )


def read_predictions(path: str | Path, *, lenient: bool = False) -> list[dict[str, Any]]:
    """Read a prediction JSONL file (old ``pred``/``label`` or new ``prediction``/``ground_truth`` keys).

    Every row gets a ``_line`` field (its line number) for error messages.

    Args:
        path: the file.
        lenient: skip unparsable lines with a warning instead of raising (the released
            ``yarn-mistral/preds_longbook_qa_chn.jsonl`` has trailing garbage on its last line).

    Raises:
        DataError: an unparsable line (unless ``lenient``), naming the file and line.
    """
    if not lenient:
        rows = []
        for lineno, obj in iter_jsonl(path):
            obj["_line"] = lineno
            rows.append(obj)
        return rows
    return _read_lenient(Path(path))


def _read_lenient(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    decoder = json.JSONDecoder()
    rows = []
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                logger.warning("%s:%d: skipped a line that is not UTF-8 text", path, lineno)
                continue
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                try:
                    # keep the leading JSON object of a line with trailing garbage
                    obj, end = decoder.raw_decode(text)
                except json.JSONDecodeError:
                    logger.warning("%s:%d: skipped unparsable line", path, lineno)
                    continue
                logger.warning("%s:%d: ignored %d trailing characters after the JSON object", path, lineno, len(text) - end)
            if not isinstance(obj, dict):
                logger.warning("%s:%d: skipped a non-object line", path, lineno)
                continue
            obj["_line"] = lineno
            rows.append(obj)
    return rows


def score_file(
    path: str | Path,
    task: str | None = None,
    *,
    mode: str = DEFAULT_MODE,
    model_name: str | None = None,
    lenient: bool = False,
    progress: bool = False,
) -> TaskScore:
    """Score one ``preds_<task>.jsonl`` file; ``task`` and ``model_name`` default to the file/folder names.

    Raises:
        EmptyPredictions: the file has no rows.
        DataError: see :func:`score_rows`.
    """
    p = Path(path)
    if task is None:
        task = _task_from_filename(p)
    if model_name is None:
        model_name = p.parent.name
    rows = read_predictions(p, lenient=lenient)
    return score_rows(task, rows, mode=mode, model_name=model_name, path=str(p), progress=progress)


def _task_from_filename(p: Path) -> str:
    stem = p.name.removesuffix(".jsonl")
    if not stem.startswith("preds_"):
        raise ValueError(f"{p}: cannot infer the task (expected preds_<task>.jsonl; pass the task)")
    stem = stem.removeprefix("preds_")
    # shard files of our runner: preds_<task>.shard-<i>-of-<n>
    stem = stem.split(".shard-")[0]
    return canonical_task(stem)


def find_prediction_files(folder: str | Path) -> dict[str, list[Path]]:
    """Map task -> prediction files in ``folder`` (``preds_<task>.jsonl`` and shard files), known tasks only."""
    out: dict[str, list[Path]] = {}
    for p in sorted(Path(folder).glob("preds_*.jsonl")):
        try:
            task = _task_from_filename(p)
        except (KeyError, ValueError):
            logger.info("skipping %s (not a known task)", p)
            continue
        out.setdefault(task, []).append(p)
    return {t: out[t] for t in ALL_TASKS if t in out}


def score_folder(
    folder: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    mode: str = DEFAULT_MODE,
    model_name: str | None = None,
    lenient: bool = False,
    progress: bool = False,
) -> dict[str, TaskScore]:
    """Score every ``preds_<task>.jsonl`` in a results folder (the original's ``results/<model>/`` layout).

    Shard files of one task are scored together; an id present in two shards is an error. A task whose
    files hold no rows is left out with a warning (it has no score, and 0.00 would read as a failed model).

    Raises:
        EmptyPredictions: no task of the folder has any rows.
    """
    folder = Path(folder)
    if model_name is None:
        model_name = folder.name
    files = find_prediction_files(folder)
    out: dict[str, TaskScore] = {}
    for task, paths in files.items():
        if tasks is not None and task not in tasks:
            continue
        rows: list[dict[str, Any]] = []
        seen: dict[Any, tuple[Path, int]] = {}
        for p in paths:
            for row in read_predictions(p, lenient=lenient):
                if len(paths) > 1 and "id" in row:
                    k = _id_key(row["id"])
                    if k in seen:
                        first = f"{seen[k][0]}:{seen[k][1]}"
                        raise DataError(f"duplicate id {row['id']!r}, also in {first}", path=p, line=row["_line"], field="id")
                    seen[k] = (p, row["_line"])
                rows.append(row)
        where = str(paths[0]) if len(paths) == 1 else str(folder)
        if len(paths) > 1:
            rows.sort(key=lambda r: _id_key(r.get("id")))
        try:
            out[task] = score_rows(task, rows, mode=mode, model_name=model_name, path=where, progress=progress)
        except EmptyPredictions:
            logger.warning("%s: no prediction rows; %s is left out of the scores", where, task)
    if files and not out and (tasks is None or any(t in files for t in tasks)):
        raise EmptyPredictions("every prediction file is empty: nothing to score", path=folder)
    return out
