"""Load READIN test sets: the released folder layout or flat files, ``speech``/``asr`` aliases, alignment checks.

Two layouts are accepted for a task folder (``root``)::

    root/test_clean/test.json              root/test_clean.json
    root/test_noisy_keyboard_1/test.json   root/test_noisy_keyboard_1.json
    root/test_noisy_asr_1/test.json        root/test_noisy_speech_1.json     (asr and speech are the same channel)

``root`` may also be the parent folder holding ``<task>/`` (``afqmc_balanced``, ``cmrc``, ``nmt``, ``cspider``...).
Files are JSON Lines (one object per line, UTF-8); a file holding one JSON array is read too. Every error names
the file, the line and the field.

Noisy rows are aligned to the clean ones by ``id`` when they carry one (the WMT noisy files index the clean list
and may be subsets), otherwise by position, and then the fields nobody re-entered (label, context, answers, SQL,
reference) must equal the clean row's.

    >>> bench = load_benchmark("data/realtypo/afqmc_balanced", "afqmc")   # doctest: +SKIP
    >>> bench.splits["asr_2"].rows[0]["sentence1"]                       # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lc_core.io import DataError, PathLike, iter_jsonl
from lc_core.logging import get_logger
from readin.tasks import NOISES, VERSIONS, Task, canonical_noise, get_task, split_names

__all__ = ["Split", "Benchmark", "load_split", "load_benchmark", "split_file", "read_rows", "validate_row", "example_key"]

logger = get_logger(__name__)

#: spellings of a channel in folder/file names, tried in this order
_FILE_SPELLINGS = {"keyboard": ("keyboard",), "asr": ("asr", "speech")}


@dataclass
class Split:
    """One test split of a task.

    Args:
        name: ``clean`` or ``<noise>_<version>`` (``keyboard_1`` ... ``asr_3``).
        path: the file it was read from.
        rows: the validated rows (AFQMC labels normalised to int 0/1).
        lines: the 1-based line (or array item) of each row in ``path``.
        index: for each row, the position of its clean counterpart in the clean split.
    """

    name: str
    path: Path
    rows: list[dict[str, Any]]
    lines: list[int]
    index: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def by_clean_index(self) -> dict[int, dict[str, Any]]:
        """clean position -> row."""
        return dict(zip(self.index, self.rows))


@dataclass
class Benchmark:
    """A task's clean split and its noisy versions, aligned.

    ``splits`` maps ``clean``, ``keyboard_1..3``, ``asr_1..3`` (those found) to :class:`Split`.
    """

    task: Task
    root: Path
    splits: dict[str, Split]

    @property
    def clean(self) -> Split:
        return self.splits["clean"]

    def versions(self, noise: str) -> list[Split]:
        """The annotator versions of one channel (``keyboard`` or ``asr``/``speech``), in order."""
        noise = canonical_noise(noise)
        return [self.splits[f"{noise}_{i}"] for i in VERSIONS if f"{noise}_{i}" in self.splits]

    def noises(self) -> list[str]:
        """The channels with at least one version loaded."""
        return [n for n in NOISES if self.versions(n)]

    def to_datasets(self) -> Any:
        """A ``datasets.DatasetDict`` with one ``Dataset`` per split; each row gains ``clean_index``."""
        try:
            import datasets
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("the datasets view needs the datasets extra: pip install 'readin[datasets]'") from e
        return datasets.DatasetDict(
            {
                name: datasets.Dataset.from_list([{**r, "clean_index": i} for r, i in zip(s.rows, s.index)])
                for name, s in self.splits.items()
            }
        )


def read_rows(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for each object of a JSON Lines file (or of a file holding one JSON array)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    with p.open("rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"["):
        try:
            items = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DataError(f"invalid JSON array ({e})", path=p) from None
        for i, obj in enumerate(items, start=1):
            if not isinstance(obj, dict):
                raise DataError(f"item {i} is {type(obj).__name__}, expected a JSON object", path=p)
            yield i, obj
        return
    yield from iter_jsonl(p)


def validate_row(row: dict[str, Any], task: Task, *, path: PathLike, line: int) -> dict[str, Any]:
    """Check a row's required fields and types; return it with AFQMC labels as int 0/1."""
    for name, types in task.required.items():
        if name not in row:
            raise DataError("missing required field", path=path, line=line, field=name)
        value = row[name]
        if not isinstance(value, types) or isinstance(value, bool):
            want = " or ".join(t.__name__ for t in types)
            raise DataError(
                f"expected {want}, got {type(value).__name__} ({str(value)[:40]!r})", path=path, line=line, field=name
            )
    if task.name == "afqmc":
        label = str(row["label"]).strip()
        if label not in ("0", "1"):
            raise DataError(f"label must be 0 or 1 (int or string), got {row['label']!r}", path=path, line=line, field="label")
        row = {**row, "label": int(label)}
    if task.name == "cmrc":
        for j, ans in enumerate(row["answers"]):
            where = f"answers[{j}]"
            if not isinstance(ans, dict) or not isinstance(ans.get("text"), str):
                raise DataError("expected an object with a string 'text'", path=path, line=line, field=where)
            start = ans.get("answer_start", 0)
            if not isinstance(start, int) or isinstance(start, bool) or start < 0:
                raise DataError(f"answer_start must be a non-negative int, got {start!r}", path=path, line=line, field=where)
    return row


def load_split(path: PathLike, task: Task | str, name: str = "clean") -> Split:
    """Read and validate one split file."""
    task = get_task(task) if isinstance(task, str) else task
    rows, lines = [], []
    for line, row in read_rows(path):
        rows.append(validate_row(row, task, path=path, line=line))
        lines.append(line)
    return Split(name=name, path=Path(path), rows=rows, lines=lines, index=list(range(len(rows))))


def _candidates(root: Path, split: str) -> list[Path]:
    if split == "clean":
        stems = ["test_clean"]
    else:
        noise, _, version = split.rpartition("_")
        stems = [f"test_noisy_{spelling}_{version}" for spelling in _FILE_SPELLINGS[noise]]
    out = []
    for stem in stems:
        out += [root / stem / "test.json", root / stem / "test.jsonl", root / f"{stem}.json", root / f"{stem}.jsonl"]
    return out


def split_file(root: PathLike, split: str) -> Path | None:
    """The file holding ``split`` under ``root`` in either layout, or None."""
    for cand in _candidates(Path(root), split):
        if cand.is_file():
            return cand
    return None


def _task_root(root: Path, task: Task) -> Path:
    if split_file(root, "clean") is not None:
        return root
    for sub in (task.name, *task.aliases):
        if split_file(root / sub, "clean") is not None:
            return root / sub
    tried = ", ".join(str(p) for p in _candidates(root, "clean")[::2])
    raise FileNotFoundError(f"{root}: no clean split of {task.name} (looked for {tried}, also under {task.name}/)")


def example_key(row: dict[str, Any], position: int) -> Any:
    """The key a row is aligned by: its ``id`` if it has one, else its position."""
    return row.get("id", position)


#: fields nobody re-entered, per task: a noisy row must agree with its clean row on these
_FIXED = {"afqmc": ("label",), "cmrc": ("context", "answers"), "cspider": ("db_id", "query"), "wmt": ("en",)}


def _align(clean: Split, noisy: Split, task: Task, check: bool) -> None:
    clean_has_ids = bool(clean.rows) and all("id" in r for r in clean.rows)
    noisy_has_ids = bool(noisy.rows) and all("id" in r for r in noisy.rows)
    if noisy_has_ids:
        if clean_has_ids:
            where: dict[Any, int] = {}
            for pos, (row, line) in enumerate(zip(clean.rows, clean.lines)):
                key = row["id"]
                if key in where:
                    raise DataError(f"duplicate id {key!r}", path=clean.path, line=line, field="id")
                where[key] = pos
        else:
            # WMT: the noisy id indexes the clean list
            where = {pos: pos for pos in range(len(clean.rows))}
        seen: set[Any] = set()
        index = []
        for row, line in zip(noisy.rows, noisy.lines):
            key = row["id"]
            if isinstance(key, list | dict) or key not in where:
                raise DataError(f"id {key!r} is not in the clean split {clean.path}", path=noisy.path, line=line, field="id")
            if key in seen:
                raise DataError(f"duplicate id {key!r}", path=noisy.path, line=line, field="id")
            seen.add(key)
            index.append(where[key])
    else:
        if len(noisy.rows) != len(clean.rows):
            raise DataError(
                f"{len(noisy.rows)} rows but the clean split {clean.path} has {len(clean.rows)} "
                "(rows without 'id' are aligned by position)",
                path=noisy.path,
            )
        if clean_has_ids and any("id" in r for r in noisy.rows):
            first = next(line for r, line in zip(noisy.rows, noisy.lines) if "id" not in r)
            raise DataError("some rows have an id and this one has none", path=noisy.path, line=first, field="id")
        index = list(range(len(noisy.rows)))
    noisy.index = index
    if check:
        for row, line, pos in zip(noisy.rows, noisy.lines, index):
            for name in _FIXED[task.name]:
                if name in row and name in clean.rows[pos] and row[name] != clean.rows[pos][name]:
                    raise DataError(
                        f"differs from the clean row at {clean.path}:{clean.lines[pos]} (only {', '.join(task.noised)} "
                        "may differ; misaligned files?)",
                        path=noisy.path,
                        line=line,
                        field=name,
                    )


def load_benchmark(
    root: PathLike,
    task: Task | str,
    *,
    noises: Iterable[str] = NOISES,
    require_all: bool = False,
    check: bool = True,
) -> Benchmark:
    """Load a task's clean split and every noisy version found under ``root``.

    Args:
        root: the task folder (or its parent).
        task: a :class:`Task` or its name.
        noises: channels to load (``keyboard``, ``asr``/``speech``).
        require_all: a missing version is an error (default: skipped with a warning).
        check: compare the fields nobody re-entered with the clean rows.

    Returns:
        A :class:`Benchmark` whose noisy splits carry ``index`` into the clean split.
    """
    task = get_task(task) if isinstance(task, str) else task
    root = _task_root(Path(root), task)
    wanted: Sequence[str] = tuple(dict.fromkeys(canonical_noise(n) for n in noises))
    clean = load_split(split_file(root, "clean"), task, "clean")  # type: ignore[arg-type]
    splits = {"clean": clean}
    for name in split_names(tuple(wanted))[1:]:
        path = split_file(root, name)
        if path is None:
            if require_all:
                raise FileNotFoundError(f"{root}: no file for split {name} (looked for {_candidates(root, name)[0]})")
            logger.warning("%s: split %s not found, skipped", root, name)
            continue
        split = load_split(path, task, name)
        _align(clean, split, task, check)
        splits[name] = split
    return Benchmark(task=task, root=root, splits=splits)
