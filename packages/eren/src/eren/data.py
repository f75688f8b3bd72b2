"""Loaders for the EREN data sets in their official JSON: CounterFact-Hard, FEVER, FEVER-Clean, HotpotQA.

::

    from eren.data import load_dataset

    ds = load_dataset("cfh_filtered.json")            # kind from the file name (cfh / fever / hotpot)
    ds.notes                                          # the statements to edit with (one or two per edited record)
    ds.queries                                        # every question/claim with its bucket and gold answer

Each file is a JSON array of records. The quirks of the released files are tolerated (spec §2): empty ``edit_scope``
(8 CFH records) and ``same_subj`` (189), ``*_true_ans`` lists that are not aligned with their questions (only the
aligned ones are used per item), list-valued ``edit_statement`` (HotpotQA: two paragraphs), leading spaces in
questions. Anything else malformed is a :class:`~lc_core.io.DataError` naming the file, the record and the field.

Splits (fixing the original's unseeded sampling): ``n`` records are drawn with ``random.Random(seed)`` *before*
anything else; for CFH they are the edited records and their ``unrelated`` questions measure behaviour preservation;
for FEVER and HotpotQA ``2n`` records are drawn, the first ``n`` are edited, the other ``n`` are out-of-scope inputs.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lc_core.io import DataError

__all__ = ["EditRecord", "Query", "Dataset", "load_records", "load_dataset", "detect_kind", "DEFAULT_N", "BUCKETS"]

Kind = Literal["cfh", "fever", "hotpot"]
Task = Literal["qa", "fc"]

# edited records per data set, as in the paper (FEVER-Clean: 128; HotpotQA: the file holds 2 x 512)
DEFAULT_N: dict[str, int] = {"cfh": 1024, "fever": 1024, "fever-clean": 128, "hotpot": 512}
# behaviour-preservation buckets
BUCKETS = ("neighbor_subj", "same_subj", "out_of_scope")


@dataclass
class EditRecord:
    """One record of an official file.

    Attributes:
        id: the record's id (int for CFH/FEVER, the HotpotQA hex id).
        statements: the edit's note(s) (one, or two paragraphs for HotpotQA).
        edit_scope: ``(question or claim, answer after the edit)`` pairs.
        true_answers: the unedited answer of each ``edit_scope`` item where the file aligns them, else ``[]``.
        unrelated: CFH buckets -> questions whose behaviour must not change.
        unrelated_true: CFH buckets -> true answers where aligned with ``unrelated`` (``neighbor_subj``), else absent.
        subject: CFH subject name.
        line: position in the file (0-based), for messages.
    """

    id: Any
    statements: list[str]
    edit_scope: list[tuple[str, str]]
    true_answers: list[str] = field(default_factory=list)
    unrelated: dict[str, list[str]] = field(default_factory=dict)
    unrelated_true: dict[str, list[str]] = field(default_factory=dict)
    subject: str | None = None
    line: int = 0


@dataclass
class Query:
    """One input to answer.

    Attributes:
        id: unique, ``"<record id>:<bucket>:<index>"``.
        text: the question (QA) or claim (fact checking).
        bucket: ``"edit"`` (in scope: ES) or a BP bucket (``neighbor_subj``, ``same_subj``, ``out_of_scope``).
        record: the record id it comes from.
        target: the answer after the edit (``edit`` bucket only).
        true_answer: the unedited answer when the file gives one for this item.
    """

    id: str
    text: str
    bucket: str
    record: Any
    target: str | None = None
    true_answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "bucket": self.bucket,
            "record": self.record,
            "target": self.target,
            "true_answer": self.true_answer,
        }


@dataclass
class Dataset:
    """A split of one file: the edited records (their notes and in-scope queries) and the preservation queries.

    Attributes:
        name: ``cfh``, ``fever``, ``fever-clean`` or ``hotpot``.
        task: ``qa`` (free-form answers) or ``fc`` (fact checking: yes/no).
        path: the file.
        edited: records whose statements are added as notes.
        out_of_scope: records whose claims/questions measure preservation (FEVER, HotpotQA).
        seed: the sampling seed.
    """

    name: str
    task: Task
    path: str
    edited: list[EditRecord]
    out_of_scope: list[EditRecord]
    seed: int

    @property
    def notes(self) -> list[str]:
        """The statements of the edited records, in record order."""
        return [s for r in self.edited for s in r.statements]

    @property
    def note_sources(self) -> list[str]:
        """``"<name>:<record id>"`` for each of :attr:`notes`."""
        return [f"{self.name}:{r.id}" for r in self.edited for _ in r.statements]

    @property
    def queries(self) -> list[Query]:
        """In-scope queries of edited records, then their CFH ``unrelated`` buckets, then out-of-scope records'."""
        out: list[Query] = []
        for r in self.edited:
            for i, (q, a) in enumerate(r.edit_scope):
                true = r.true_answers[i] if i < len(r.true_answers) else None
                out.append(Query(f"{r.id}:edit:{i}", q, "edit", r.id, target=a, true_answer=true))
        for r in self.edited:
            for bucket, questions in r.unrelated.items():
                aligned = r.unrelated_true.get(bucket, [])
                for i, q in enumerate(questions):
                    true = aligned[i] if i < len(aligned) else None
                    out.append(Query(f"{r.id}:{bucket}:{i}", q, bucket, r.id, true_answer=true))
        for r in self.out_of_scope:
            for i, (q, a) in enumerate(r.edit_scope):
                true = r.true_answers[i] if i < len(r.true_answers) else a
                out.append(Query(f"{r.id}:out_of_scope:{i}", q, "out_of_scope", r.id, true_answer=true))
        return out

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for q in self.queries:
            counts[q.bucket] = counts.get(q.bucket, 0) + 1
        return {"name": self.name, "task": self.task, "edited": len(self.edited), "notes": len(self.notes), **counts}


def detect_kind(path: str | os.PathLike[str]) -> str:
    """``cfh`` / ``fever`` / ``fever-clean`` / ``hotpot`` from a file name (as the original routes by name).

    Raises:
        ValueError: the name matches none (pass ``kind=`` explicitly).
    """
    stem = Path(path).stem.lower()
    if "fever" in stem:
        return "fever-clean" if ("small" in stem or "clean" in stem) else "fever"
    if "hotpot" in stem:
        return "hotpot"
    if "cf" in stem or "counterfact" in stem:
        return "cfh"
    raise ValueError(f"{path}: cannot tell the data set from the file name; pass kind= (cfh, fever, fever-clean, hotpot)")


def _str(value: Any, path: Path, line: int, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"record {line}: expected a non-empty string, got {value!r}", path=path, field=name)
    return value.strip()


def _pairs(value: Any, path: Path, line: int) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f"record {line}: expected a list of [question, answer]", path=path, field="edit_scope")
    out = []
    for j, item in enumerate(value):
        if not (isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise DataError(f"record {line}: item {j} must be [question, answer]", path=path, field=f"edit_scope[{j}]")
        out.append((item[0].strip(), item[1].strip()))
    return out


def _strings(value: Any, path: Path, line: int, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise DataError(f"record {line}: expected a list of strings", path=path, field=name)
    return [x.strip() for x in value]


def _record(obj: Any, path: Path, line: int, kind: str) -> EditRecord:
    if not isinstance(obj, dict):
        raise DataError(f"record {line}: expected an object, got {type(obj).__name__}", path=path)
    if "id" not in obj:
        raise DataError(f"record {line}: missing", path=path, field="id")
    if "edit_statement" not in obj:
        raise DataError(f"record {line}: missing", path=path, field="edit_statement")
    st = obj["edit_statement"]
    statements = [_str(s, path, line, "edit_statement") for s in st] if isinstance(st, list) else []
    if not isinstance(st, list):
        statements = [_str(st, path, line, "edit_statement")]
    if not statements:
        raise DataError(f"record {line}: no statement", path=path, field="edit_statement")
    scope = _pairs(obj.get("edit_scope"), path, line)
    true = _strings(obj.get("edit_scope_true_ans"), path, line, "edit_scope_true_ans")
    if kind.startswith("fever"):
        # one repeated label whose list length often differs from edit_scope: keep its unique value per item
        labels = sorted(set(true))
        true = [labels[0]] * len(scope) if len(labels) == 1 else (true if len(true) == len(scope) else [])
    elif len(true) != len(scope):
        true = []
    unrelated: dict[str, list[str]] = {}
    unrelated_true: dict[str, list[str]] = {}
    raw = obj.get("unrelated")
    if raw is not None:
        if not isinstance(raw, dict):
            raise DataError(f"record {line}: expected an object of question lists", path=path, field="unrelated")
        raw_true = obj.get("unrelated_true_ans") or {}
        for bucket, questions in raw.items():
            qs = _strings(questions, path, line, f"unrelated.{bucket}")
            unrelated[bucket] = qs
            answers = _strings(raw_true.get(bucket) if isinstance(raw_true, dict) else None, path, line, "unrelated_true_ans")
            # same_subj answers are not aligned with their questions in most records: only keep aligned lists
            if len(answers) == len(qs) and bucket != "same_subj":
                unrelated_true[bucket] = answers
    subject = obj.get("subject_name")
    return EditRecord(
        id=obj["id"],
        statements=statements,
        edit_scope=scope,
        true_answers=true,
        unrelated=unrelated,
        unrelated_true=unrelated_true,
        subject=subject if isinstance(subject, str) else None,
        line=line,
    )


def load_records(path: str | os.PathLike[str], kind: str | None = None) -> list[EditRecord]:
    """Every record of an official file, validated.

    Raises:
        FileNotFoundError: no such file.
        DataError: not a JSON array of records, a duplicate id, or a malformed field (named).
    """
    p = Path(path)
    kind = kind or detect_kind(p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg})", path=p, line=e.lineno) from None
    if not isinstance(data, list):
        raise DataError("expected a JSON array of records", path=p)
    records = [_record(obj, p, i, kind) for i, obj in enumerate(data)]
    seen: dict[Any, int] = {}
    for r in records:
        if r.id in seen:
            raise DataError(f"record {r.line}: duplicate id {r.id!r} (also record {seen[r.id]})", path=p, field="id")
        seen[r.id] = r.line
    return records


def load_dataset(path: str | os.PathLike[str], *, kind: str | None = None, n: int | None = None, seed: int = 0) -> Dataset:
    """Load and split an official file.

    Args:
        path: ``cfh_filtered.json``, ``fever_filtered.json``, ``fever_filtered_small.json``, ``hotpot.json`` (or a
            slice in the same format).
        kind: ``cfh``, ``fever``, ``fever-clean`` or ``hotpot`` (default: from the file name).
        n: edited records (default :data:`DEFAULT_N`, capped by the file: all CFH records, half of the others).
        seed: sampling seed; the same seed gives the same split on every run.

    Raises:
        ValueError: ``n`` larger than the file allows.
    """
    kind = kind or detect_kind(path)
    if kind not in DEFAULT_N:
        raise ValueError(f"unknown data set kind {kind!r}; known: {', '.join(DEFAULT_N)}")
    records = load_records(path, "fever" if kind.startswith("fever") else kind)
    paired = kind != "cfh"
    limit = len(records) // 2 if paired else len(records)
    n = min(DEFAULT_N[kind], limit) if n is None else n
    if n < 0 or n > limit:
        raise ValueError(f"{path}: n={n} edited records asked, the file allows at most {limit}")
    rng = random.Random(seed)
    picked = rng.sample(records, 2 * n if paired else n)
    edited, oos = (picked[:n], picked[n:]) if paired else (picked, [])
    return Dataset(
        name=kind,
        task="fc" if kind.startswith("fever") else "qa",
        path=str(path),
        edited=edited,
        out_of_scope=oos,
        seed=seed,
    )
