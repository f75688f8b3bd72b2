"""Loading ∞Bench task files into canonical records, with answer types restored. Torch-free.

The released files come as ``<task>.jsonl`` (``scripts/download_dataset.sh``) or through ``datasets`` with
an explicit features schema (the files' columns differ, so schema inference fails: upstream issue #19).
Either way numbers can arrive as strings; :func:`coerce_answer` restores them::

    from infbench.data import load_task, get_answer

    examples = load_task("data", "code_run")     # data/code_run.jsonl
    examples[0]["answer"]                         # an int, even if the file stored "-3" or ["-3"]
    get_answer(examples[0], "code_run")

Every loaded file is fingerprinted (:func:`file_fingerprint`) so a run manifest records the exact data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from infbench.tasks import canonical_task, get_task
from lc_core.io import DataError, iter_jsonl
from lc_core.logging import get_logger

__all__ = [
    "HF_DATASET",
    "HF_FEATURES",
    "task_path",
    "coerce_answer",
    "canonical_example",
    "get_answer",
    "load_task",
    "load_hf_task",
    "file_fingerprint",
    "labels_of",
]

logger = get_logger(__name__)

HF_DATASET = "xinrongzhang2022/InfiniteBench"

# The official features schema (HF card "Usage"): ``answer`` and ``options`` are lists of strings.
HF_FEATURES: dict[str, str] = {
    "id": "int64",
    "context": "string",
    "input": "string",
    "answer": "list[string]",
    "options": "list[string]",
}

_LETTERS = "ABCD"


def task_path(data_dir: str | os.PathLike[str], task: str) -> Path:
    """``<data_dir>/<task>.jsonl``."""
    return Path(data_dir) / f"{canonical_task(task)}.jsonl"


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError(f"expected an integer, got {value!r}")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        # "48.0" is a float median in the released data; keep the float type so scoring compares as the original
        return float(text) if any(c in text for c in ".eE") else int(text)
    raise ValueError(f"expected a number, got {value!r}")


def _one(answer: Any) -> Any:
    # the hub schema wraps every answer in a list; a one-element list is the answer itself
    return answer[0] if isinstance(answer, list) and len(answer) == 1 else answer


def _as_string(answer: Any) -> str:
    if isinstance(answer, list):
        if len(answer) != 1:
            raise ValueError(f"expected one answer, got {len(answer)}")
        answer = answer[0]
    if isinstance(answer, bool) or not isinstance(answer, str | int):
        raise ValueError(f"expected a string, got {type(answer).__name__}")
    return str(answer)


def _as_int_list(answer: Any) -> list[int]:
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], list):
        answer = answer[0]
    if isinstance(answer, str):
        answer = answer.strip("[] \n").split(",") if answer.strip("[] \n") else []
    if not isinstance(answer, list):
        raise ValueError(f"expected a list of integers, got {type(answer).__name__}")
    return [_to_int(x) for x in answer]


def _as_texts(answer: Any) -> list[str]:
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, list) and answer and all(isinstance(a, str) for a in answer):
        return list(answer)
    raise ValueError(f"expected a string or a non-empty list of strings, got {type(answer).__name__}")


# answer type (infbench.tasks.AnswerType) -> coercion of a data file's answer; choice answers stay as given
# (str, [text] or [text, letter]) and are checked against the options by get_answer
_COERCE: dict[str, Callable[[Any], Any]] = {
    "string": _as_string,
    "int": lambda a: _to_int(_one(a)),
    "number": lambda a: _to_number(_one(a)),
    "int_list": _as_int_list,
    "texts": _as_texts,
    "choice": _as_texts,
}


def coerce_answer(task: str, answer: Any) -> Any:
    """Restore the answer type the original generators wrote (the task's :data:`~infbench.tasks.AnswerType`).

    ``code_run`` -> int, ``math_find`` -> int or float, ``math_calc`` -> list[int], passkey/number_string/
    kv_retrieval -> str, the realistic tasks -> list[str] (choice/debug keep the option text first).

    Raises:
        ValueError: the answer cannot be converted (the caller adds file/line context).
    """
    return _COERCE[get_task(task).answer](answer)


def canonical_example(
    task: str, row: Mapping[str, Any], *, path: str | os.PathLike[str] | None = None, line: int | None = None, index: int = 0
) -> dict[str, Any]:
    """Validate one raw row and return ``{"id", "context", "input", "answer", "options", ...extras}``.

    Raises:
        DataError: a missing or mistyped field, naming the file, line and field.
    """
    spec = get_task(task)
    out: dict[str, Any] = dict(row)
    for name in ("context", "answer"):
        if name not in row:
            raise DataError("missing required field", path=path, line=line, field=name)
    if not isinstance(row["context"], str):
        raise DataError(f"expected str, got {type(row['context']).__name__}", path=path, line=line, field="context")
    inp = row.get("input", "")
    if inp is None:
        inp = ""
    if not isinstance(inp, str):
        raise DataError(f"expected str, got {type(inp).__name__}", path=path, line=line, field="input")
    out["input"] = inp
    rid = row.get("id", index)
    if isinstance(rid, bool) or not isinstance(rid, int | str):
        raise DataError(f"expected an int or str id, got {type(rid).__name__}", path=path, line=line, field="id")
    if isinstance(rid, str) and rid.strip().lstrip("-").isdigit():
        rid = int(rid)
    out["id"] = rid
    try:
        out["answer"] = coerce_answer(spec.name, row["answer"])
    except ValueError as e:
        raise DataError(str(e), path=path, line=line, field="answer") from None
    options = row.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise DataError("expected a list of strings", path=path, line=line, field="options")
    out["options"] = options
    if spec.answer == "choice":
        if len(options) != 4:
            raise DataError(f"expected 4 options, got {len(options)}", path=path, line=line, field="options")
        try:
            get_answer(out, spec.name)
        except ValueError as e:
            raise DataError(str(e), path=path, line=line, field="answer") from None
    return out


def get_answer(example: Mapping[str, Any], task: str) -> Any:
    """The label stored in prediction files: ``[text, letter]`` for choice/debug, the answer otherwise.

    Accepts the choice answer as a string, ``[text]`` or an already-built ``[text, letter]``.

    Raises:
        ValueError: a choice answer that is not one of the options.
    """
    answer = example["answer"]
    if get_task(task).answer != "choice":
        return answer
    options = list(example.get("options") or [])
    if isinstance(answer, list):
        if len(answer) == 2 and answer[1] in _LETTERS and len(answer[1]) == 1:
            return list(answer)
        answer = answer[0]
    if answer not in options:
        raise ValueError(f"answer {str(answer)[:60]!r} is not one of the options {options}")
    return [answer, _LETTERS[options.index(answer)]]


def load_task(
    source: str | os.PathLike[str], task: str, *, limit: int | None = None, on_error: str = "raise"
) -> list[dict[str, Any]]:
    """Load a task from a jsonl file or from ``<folder>/<task>.jsonl``.

    Args:
        source: a ``.jsonl`` file, or a folder holding ``<task>.jsonl``.
        task: task name.
        limit: keep the first ``limit`` rows.
        on_error: ``"raise"`` (default) or ``"skip"`` malformed lines with a warning.

    Raises:
        FileNotFoundError: no such file.
        DataError: malformed JSON or fields, with file:line.
    """
    task = canonical_task(task)
    path = Path(source)
    if path.is_dir():
        path = task_path(path, task)
    examples: list[dict[str, Any]] = []
    first_line: dict[Any, int] = {}
    for i, (lineno, row) in enumerate(iter_jsonl(path, on_error=on_error)):
        if limit is not None and len(examples) >= limit:
            break
        try:
            ex = canonical_example(task, row, path=path, line=lineno, index=i)
        except DataError:
            if on_error == "raise":
                raise
            logger.warning("%s:%d: skipped a malformed row", path, lineno)
            continue
        if ex["id"] in first_line:
            raise DataError(
                f"duplicate id {ex['id']!r} (first on line {first_line[ex['id']]})", path=path, line=lineno, field="id"
            )
        first_line[ex["id"]] = lineno
        examples.append(ex)
    if not examples:
        # an empty task would score 0.00 as if the model had failed every example
        raise DataError("no examples (empty file)", path=path)
    return examples


def load_hf_task(
    task: str,
    *,
    revision: str | None = None,
    data_files: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Load a task through ``datasets`` with the official explicit features schema.

    Args:
        task: task name (the split name on the hub).
        revision: a hub commit to pin (recorded in the manifest; numbers moved between revisions).
        data_files: a local jsonl to load instead of the hub (offline use and tests).
        limit: keep the first ``limit`` rows.

    Returns:
        ``(examples, info)`` where ``info`` carries the dataset name, revision and fingerprint.
    """
    try:
        import datasets
    except ImportError as e:  # pragma: no cover - depends on the extra
        raise ImportError("loading from the hub needs the datasets extra: pip install 'infbench[datasets]'") from e
    task = canonical_task(task)
    features = datasets.Features(
        {
            "id": datasets.Value("int64"),
            "context": datasets.Value("string"),
            "input": datasets.Value("string"),
            "answer": datasets.Sequence(datasets.Value("string")),
            "options": datasets.Sequence(datasets.Value("string")),
        }
    )
    if data_files is not None:
        ds = datasets.load_dataset("json", data_files={task: str(data_files)}, features=features, split=task)
        info = {"source": str(data_files), **file_fingerprint(data_files)}
    else:
        ds = datasets.load_dataset(HF_DATASET, features=features, split=task, revision=revision)
        info = {"source": HF_DATASET, "revision": revision or "main", "fingerprint": ds._fingerprint}
    examples = []
    for i, row in enumerate(ds):
        if limit is not None and i >= limit:
            break
        examples.append(canonical_example(task, row, path=info["source"], line=i + 1, index=i))
    return examples, info


def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"path", "sha256", "bytes"}`` of a data file (streamed, so 800 MB files are fine)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return {"path": str(path), "sha256": h.hexdigest(), "bytes": size}


def labels_of(examples: Sequence[Mapping[str, Any]], task: str) -> list[Any]:
    """``get_answer`` of every example."""
    return [get_answer(e, task) for e in examples]
