"""Per-task ∞Bench scorers in two modes, plus file/folder scoring. Torch-free.

``legacy`` reproduces the official ``compute_scores.py`` (@88b3daa) exactly, quirks included (spec §4);
``fixed`` repairs the documented bugs (see the package README, "Differences from the original")::

    from infbench.scoring import score_one, score_file

    score_one("passkey", "The pass key is 71432.", "71432")                  # 1.0
    score_one("longdialogue_qa_eng", "ACE ROTHSTEIN", ["ACE", "ACE ROTHSTEIN"], mode="fixed")  # 1.0
    result = score_file("results/gpt4/preds_passkey.jsonl", "passkey")      # TaskScore(score=100.0, ...)

Scores of one row are floats in [0, 1]; task scores are means in percent.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from infbench.tasks import ALL_TASKS, RETRIEVAL_TASKS, canonical_task
from lc_core.io import DataError, iter_jsonl
from lc_core.logging import get_logger

__all__ = [
    "MODES",
    "ScoringError",
    "TaskScore",
    "first_int_match",
    "normalize_answer",
    "normalize_zh_answer",
    "qa_f1_score",
    "qa_f1_zh_score",
    "rouge_lsum",
    "score_one",
    "score_rows",
    "read_predictions",
    "score_file",
    "score_folder",
    "find_prediction_files",
    "depth_of",
]

logger = get_logger(__name__)

MODES = ("legacy", "fixed")

# Key lookup order of the original scorer (labels are chosen from row 0, predictions per row).
LABEL_KEYS = ("ground_truth", "label")
PRED_KEYS = ("prediction", "pred")

# CJK punctuation removed by the original Chinese normaliser (in addition to ASCII punctuation).
_ZH_PUNCT = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》"
    "「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏."
)


class ScoringError(ValueError):
    """A prediction or label the original scorer would crash on (legacy mode only)."""


def first_int_match(pred: str) -> str:
    """The first maximal run of ASCII digits in ``pred`` (``""`` when there is none)."""
    for piece in re.split("[^0-9]", pred):
        if piece:
            return piece
    return ""


def _replace_all(text: str, chars: Iterable[str], by: str = " ") -> str:
    for c in chars:
        text = text.replace(c, by)
    return text


def _collapse_double_spaces(text: str) -> str:
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def _unwrap(label: Any) -> Any:
    return label[0] if isinstance(label, list) else label


def _as_str_list(label: Any) -> list[str]:
    if isinstance(label, list):
        return [str(x) for x in label]
    return [str(label)]


def _score_retrieval_digits(pred: str, label: Any, mode: str) -> float:
    label = _unwrap(label)
    if mode == "fixed":
        label = str(label)
    return float(label == first_int_match(pred))


def _score_kv(pred: str, label: Any, mode: str) -> float:
    chars = ["\n", ":", '"', "'", ".", ",", "?", "!", "{", "}"]
    if mode == "fixed":
        # brackets, markdown emphasis and backticks around the value no longer hide it
        chars += ["(", ")", "[", "]", "*", "`", "<", ">"]
        label = str(_unwrap(label))
    return float(label in _replace_all(pred, chars).split())


def _score_code_run(pred: str, label: Any, mode: str) -> float:
    label = _unwrap(label)
    if mode == "fixed":
        try:
            label = int(str(label).strip())
        except ValueError:
            return 0.0
    chars = ["\n", ".", "`", "'", '"', ":"]
    if mode == "fixed":
        chars += ["*", "_", "$", "(", ")"]
    words = _replace_all(pred.strip(), chars).split()
    if not words:
        return 0.0
    try:
        return float(int(words[-1]) == label)
    except ValueError:
        if mode == "legacy":
            return 0.0
    # fixed: fall back to the last signed integer anywhere in the answer
    found = re.findall(r"-?\d+", pred)
    return float(bool(found) and int(found[-1]) == label)


# Answer prefixes: the original list (first found wins), and the extended list of the fixed mode.
_DEBUG_PREFIXES_LEGACY = ["answer is:", "is:", "answer:", "correct option is:"]
_DEBUG_PREFIXES_FIXED = [
    "correct option is:",
    "correct option is",
    "correct answer is:",
    "correct answer is",
    "answer is:",
    "answer is",
    "answer:",
    "FINAL ANSWER:",
    "Answer:",
    "Answer",
    "is:",
]


def _score_code_debug(pred: str, label: Any, mode: str) -> float:
    fn_name, letter = label[0], label[1]
    pred = pred.strip()
    if pred[:2] in (f"{letter}.", f"{letter}:"):
        return 1.0
    if mode == "fixed" and re.fullmatch(r"\(?[ABCD]\)?[.:]?", pred):
        return float(pred.strip("().:") == letter)
    pred = _collapse_double_spaces(_replace_all(pred, ["\n", "`", "'", '"', "-", "*", "Option", "option"]))
    prefixes = _DEBUG_PREFIXES_LEGACY if mode == "legacy" else _DEBUG_PREFIXES_FIXED
    for prefix in prefixes:
        idx = pred.find(prefix)
        if idx == -1:
            continue
        if mode == "legacy":
            if len(pred) < idx + len(prefix) + 1:
                return 0.0
            # the original skips exactly one character after the prefix
            rest = pred[idx + len(prefix) + 1 :]
            return float(rest.startswith(letter) or rest.startswith(fn_name))
        rest = pred[idx + len(prefix) :].lstrip(" :[(")
        if rest.startswith(fn_name):
            return 1.0
        return float(bool(re.match(rf"{letter}(?![A-Za-z])", rest)))
    return 0.0


def _math_find_number(pred: str) -> str | None:
    m = re.search(r"\d+\.\d+|\d+", pred)
    return m.group(0) if m else None


def _score_math_find(pred: str, label: Any, mode: str) -> float:
    label = _unwrap(label)
    found = _math_find_number(pred)
    if found is None:
        return 0.0
    if mode == "legacy":
        if isinstance(label, bool) or not isinstance(label, int | float):
            raise ScoringError(f"math_find label must be int or float, got {type(label).__name__} ({label!r})")
        if isinstance(label, int):
            try:
                return float(int(found) == label)
            except ValueError as e:
                raise ScoringError(f"legacy math_find crashes on a decimal prediction {found!r} for int label {label}") from e
        return float(float(found) == label)
    try:
        value = float(str(label).strip())
    except ValueError:
        return 0.0
    return float(math.isclose(float(found), value, rel_tol=0.0, abs_tol=1e-9))


def _score_dialogue(pred: str, label: Any, mode: str) -> float:
    chars = ["\n", ":", '"', "'", ".", ",", "?", "!", "{", "}"]
    if mode == "legacy":
        first = label[0]
        words = [w.upper() for w in _replace_all(pred.strip(), chars).split()]
        return float(first in words)
    norm_pred = " " + " ".join(_replace_all(pred.strip(), chars).upper().split()) + " "
    for alias in _as_str_list(label):
        norm_alias = " ".join(_replace_all(alias, chars).upper().split())
        if norm_alias and f" {norm_alias} " in norm_pred:
            return 1.0
    return 0.0


def _score_choice(pred: str, label: Any, mode: str) -> float:
    pred = pred.strip()
    if not pred:
        return 0.0
    # legacy: "Based on ..." is read as option B; fixed: the letter must stand alone
    if pred[0] in "ABCD" and (mode == "legacy" or len(pred) == 1 or not pred[1].isalpha()):
        return float(pred[0] in label)
    if pred in label:
        return 1.0
    pred = _collapse_double_spaces(_replace_all(pred, ["\n", '"', "'", ".", ",", "?", "!", "{", "}"]))
    for prefix in ["answer is:", "answer:", "answer is", "option is"]:
        idx = pred.find(prefix)
        if idx == -1:
            continue
        if len(pred) < idx + len(prefix) + 1:
            return 0.0
        rest = pred[idx + len(prefix) + 1 :]
        return float(any(rest.startswith(s) for s in label))
    for word in pred.split():
        # legacy quirk: a substring test, so "AB" or "BCD" also stop the search
        if (mode == "legacy" and word in "ABCD") or (mode == "fixed" and word in {"A", "B", "C", "D"}):
            return float(word in label)
    return 0.0


def normalize_answer(s: str) -> str:
    """SQuAD normalisation: lower-case, drop punctuation, drop articles, collapse whitespace."""
    s = s.lower()
    punct = set(string.punctuation)
    s = "".join(ch for ch in s if ch not in punct)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def normalize_zh_answer(s: str) -> str:
    """The original Chinese normalisation: lower-case, drop ASCII and CJK punctuation, delete all whitespace."""
    s = s.lower()
    punct = set(string.punctuation + _ZH_PUNCT)
    s = "".join(ch for ch in s if ch not in punct)
    return "".join(s.split())


def _f1(pred_tokens: Sequence[str], gt_tokens: Sequence[str]) -> float:
    common = Counter(pred_tokens) & Counter(gt_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gt_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_f1_score(pred: str, ground_truths: Sequence[str]) -> float:
    """Token F1 after SQuAD normalisation, max over references."""
    pred_tokens = normalize_answer(pred).split()
    return max((_f1(pred_tokens, normalize_answer(gt).split()) for gt in ground_truths), default=0.0)


def qa_f1_zh_score(pred: str, ground_truths: Sequence[str]) -> float:
    """Character F1 after Chinese normalisation, max over references."""
    pred_tokens = list(normalize_zh_answer(pred))
    return max((_f1(pred_tokens, list(normalize_zh_answer(gt))) for gt in ground_truths), default=0.0)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=False)


def rouge_lsum(pred: str, references: Sequence[str]) -> float:
    """ROUGE-Lsum F-measure (rouge-score, no stemming, sentences = lines), max over references.

    This is what the original's ``evaluate.load("rouge")`` computes for a one-element reference list.
    """
    scorer = _rouge_scorer()
    return float(scorer.score_multi(list(references), pred)["rougeLsum"].fmeasure)


def _score_qa_eng(pred: str, label: Any, mode: str) -> float:
    return qa_f1_score(pred, _as_str_list(label))


def _score_qa_chn(pred: str, label: Any, mode: str) -> float:
    return qa_f1_zh_score(pred, _as_str_list(label))


def _score_sum(pred: str, label: Any, mode: str) -> float:
    return rouge_lsum(pred, _as_str_list(label))


def _calc_prefix_score(pred_nums: Sequence[int], label: Sequence[int]) -> float:
    cnt = 0
    for want, got in zip(label, pred_nums):
        if want != got:
            break
        cnt += 1
    return cnt / len(label)


def score_math_calc(pred: str, label: Any, mode: str = "legacy", model_name: str = "") -> float:
    """Fraction of leading running values predicted correctly.

    ``legacy`` drops the first predicted number only for ``model_name == "gpt4"`` and reads numbers
    without their sign; ``fixed`` reads signed integers and scores the better of the two alignments
    (with and without a leading first operand), since the few-shot prompts show the first operand.
    """
    if mode == "legacy":
        if not isinstance(label, list):
            raise ScoringError(f"math_calc label must be a list, got {type(label).__name__}")
        if label and isinstance(label[0], list):
            label = label[0]
        pred_nums = [int(x) for x in re.split("[^0-9]", pred) if x]
        if model_name == "gpt4":
            pred_nums = pred_nums[1:]
        return _calc_prefix_score(pred_nums, label)
    if isinstance(label, list) and label and isinstance(label[0], list):
        label = label[0]
    try:
        label = [int(x) for x in label] if isinstance(label, list) else [int(x) for x in re.findall(r"-?\d+", str(label))]
    except ValueError:
        return 0.0
    if not label:
        return 0.0
    nums = [int(x) for x in re.findall(r"-?\d+", pred)]
    return max(_calc_prefix_score(nums, label), _calc_prefix_score(nums[1:], label))


_SCORERS: dict[str, Callable[[str, Any, str], float]] = {
    "passkey": _score_retrieval_digits,
    "number_string": _score_retrieval_digits,
    "kv_retrieval": _score_kv,
    "code_run": _score_code_run,
    "code_debug": _score_code_debug,
    "math_find": _score_math_find,
    "longdialogue_qa_eng": _score_dialogue,
    "longbook_choice_eng": _score_choice,
    "longbook_qa_eng": _score_qa_eng,
    "longbook_qa_chn": _score_qa_chn,
    "longbook_sum_eng": _score_sum,
}


def score_one(task: str, pred: str, label: Any, *, mode: str = "legacy", model_name: str = "") -> float:
    """Score one prediction in [0, 1].

    Args:
        task: task name (aliases such as ``kv_retrieval_prefix`` accepted).
        pred: the model output.
        label: the ground truth as stored in prediction files (``get_answer`` form).
        mode: ``"legacy"`` (the original, bit for bit) or ``"fixed"``.
        model_name: only used by legacy ``math_calc`` (``"gpt4"`` drops the first number).

    Raises:
        ScoringError: legacy mode on an input the original scorer crashes on.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    task = canonical_task(task)
    if pred is None:
        pred = ""
    if task == "math_calc":
        return score_math_calc(pred, label, mode, model_name)
    return _SCORERS[task](pred, label, mode)


def depth_of(task: str, row: Mapping[str, Any]) -> float | None:
    """Needle depth in [0, 1] for a retrieval row.

    Uses the row's ``depth`` field when present (our generators write it), else the layout of the released
    128K files: passkey/number_string in 59 blocks of 10 ids, kv_retrieval at position ``5·id`` of 2,500.
    """
    if "depth" in row and row["depth"] is not None:
        return float(row["depth"])
    if task not in RETRIEVAL_TASKS or not isinstance(row.get("id"), int):
        return None
    if task == "kv_retrieval":
        return min(5 * row["id"], 2495) / 2495
    return min(row["id"] // 10, 58) / 58


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
    return 100.0 * sum(values) / len(values) if values else 0.0


def score_rows(
    task: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    mode: str = "legacy",
    model_name: str = "",
    label_key: str | None = None,
    path: str | None = None,
    progress: bool = False,
) -> TaskScore:
    """Score prediction rows (``{"id", "prediction"|"pred", "ground_truth"|"label", ...}``).

    Args:
        task: task name.
        rows: prediction records.
        mode: ``legacy`` or ``fixed``.
        model_name: passed to the math_calc scorer.
        label_key: force the label field (default: first of ``ground_truth``/``label`` present in row 0).
        path: the file the rows came from, for error messages.
        progress: show a tqdm bar (worth it for ROUGE over long summaries).

    Raises:
        DataError: a row without a prediction or label field.
        ScoringError: legacy mode on a row the original crashes on.
    """
    task = canonical_task(task)
    if not rows:
        return TaskScore(task=task, score=0.0, n=0)
    if label_key is None:
        label_key = next((k for k in LABEL_KEYS if k in rows[0]), None)
        if label_key is None:
            line0 = rows[0].get("_line")
            raise DataError(f"no label field (one of {LABEL_KEYS})", path=path, line=line0, field="ground_truth")
    per_row: list[tuple[Any, float]] = []
    nulls = 0
    depth_buckets: dict[str, list[float]] = {}
    length_buckets: dict[str, list[float]] = {}
    grid: dict[str, dict[str, list[float]]] = {}
    from tqdm.auto import tqdm

    for i, row in enumerate(tqdm(rows, desc=f"score {task}", unit="row", leave=False, disable=not progress)):
        line = row.get("_line", i + 1)
        pred_key = next((k for k in PRED_KEYS if k in row), None)
        if pred_key is None:
            raise DataError(f"no prediction field (one of {PRED_KEYS})", path=path, line=line, field="prediction")
        if label_key not in row:
            raise DataError("missing label field", path=path, line=line, field=label_key)
        pred = row[pred_key]
        if pred is None or (isinstance(pred, str) and not pred.strip()):
            nulls += 1
        pred = "" if pred is None else str(pred)
        try:
            s = score_one(task, pred, row[label_key], mode=mode, model_name=model_name)
        except ScoringError as e:
            raise ScoringError(f"{path or '<rows>'}:{line}: {e}") from e
        per_row.append((row.get("id", i), s))
        depth = depth_of(task, row)
        length = row.get("length")
        if depth is not None:
            depth_buckets.setdefault(f"{depth:.3f}", []).append(s)
        if length is not None:
            length_buckets.setdefault(str(length), []).append(s)
            if depth is not None:
                grid.setdefault(str(length), {}).setdefault(f"{depth:.3f}", []).append(s)
    scores = [s for _, s in per_row]
    return TaskScore(
        task=task,
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
    decoder = json.JSONDecoder()
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            text = raw.strip()
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
    mode: str = "legacy",
    model_name: str | None = None,
    lenient: bool = False,
    progress: bool = False,
) -> TaskScore:
    """Score one ``preds_<task>.jsonl`` file; ``task`` and ``model_name`` default to the file/folder names."""
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
        raise ValueError(f"{p}: cannot infer the task (expected preds_<task>.jsonl)")
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
    mode: str = "legacy",
    model_name: str | None = None,
    lenient: bool = False,
    progress: bool = False,
) -> dict[str, TaskScore]:
    """Score every ``preds_<task>.jsonl`` in a results folder (the original's ``results/<model>/`` layout).

    Shard files of one task are scored together; an id present in two shards is an error.
    """
    folder = Path(folder)
    if model_name is None:
        model_name = folder.name
    files = find_prediction_files(folder)
    out: dict[str, TaskScore] = {}
    for task, paths in files.items():
        if tasks is not None and task not in tasks:
            continue
        if len(paths) == 1:
            out[task] = score_file(paths[0], task, mode=mode, model_name=model_name, lenient=lenient, progress=progress)
            continue
        rows: list[dict[str, Any]] = []
        seen: dict[Any, Path] = {}
        for p in paths:
            for row in read_predictions(p, lenient=lenient):
                rid = row.get("id")
                if rid in seen:
                    raise DataError(f"id {rid!r} also in {seen[rid]}", path=p, line=row["_line"], field="id")
                seen[rid] = p
                rows.append(row)
        rows.sort(key=lambda r: (str(type(r.get("id"))), r.get("id")))
        out[task] = score_rows(task, rows, mode=mode, model_name=model_name, path=str(folder), progress=progress)
    return out
