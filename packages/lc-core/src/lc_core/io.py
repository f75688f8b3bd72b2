"""Experiment I/O: JSONL with file:line:field errors, atomic writes, and a crash-safe results store.

Torch-free. Example::

    from lc_core.io import ResultsStore, read_jsonl

    rows = read_jsonl("data/passkey.jsonl", required=("id", "context"))
    with ResultsStore("out/preds.jsonl", key="id") as store:
        for row in rows:
            if row["id"] in store:
                continue  # done before a crash: never recomputed, never duplicated
            store.add({"id": row["id"], "prediction": ...})
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_core.logging import get_logger

__all__ = [
    "DataError",
    "iter_jsonl",
    "read_jsonl",
    "write_jsonl",
    "get_field",
    "read_json_object",
    "check_fields",
    "config_from_dict",
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_json",
    "ResultsStore",
]

logger = get_logger(__name__)

PathLike = str | os.PathLike[str]


class DataError(ValueError):
    """Bad input data, located to the file, line (1-based) and field.

    ``str(err)`` reads ``path:line: field 'name': message`` so users can jump straight to the row.
    """

    def __init__(self, message: str, *, path: PathLike | None = None, line: int | None = None, field: str | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path or "<input>"
        if line is not None:
            where += f":{line}"
        what = f" field '{field}':" if field is not None else ""
        super().__init__(f"{where}:{what} {message}")


def iter_jsonl(path: PathLike, *, on_error: str = "raise", encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Args:
        path: the file.
        on_error: ``"raise"`` a :class:`DataError` for an unparsable line or a non-object value, or
            ``"skip"`` it with a warning (for known-broken third-party files).
    """
    if on_error not in {"raise", "skip"}:
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    with p.open("rb") as f:
        for lineno, raw_bytes in enumerate(f, start=1):
            try:
                text = raw_bytes.decode(encoding).strip()
            except UnicodeDecodeError as e:
                if on_error == "skip":
                    logger.warning("%s:%d: skipped a line that is not %s text", p, lineno, encoding)
                    continue
                raise DataError(f"not {encoding} text (byte {e.start} of the line)", path=p, line=lineno) from None
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                if on_error == "skip":
                    logger.warning("%s:%d: skipped unparsable JSON line (%s)", p, lineno, e.msg)
                    continue
                raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=p, line=lineno) from None
            if not isinstance(obj, dict):
                if on_error == "skip":
                    logger.warning("%s:%d: skipped a non-object JSON value", p, lineno)
                    continue
                raise DataError(f"expected a JSON object, got {type(obj).__name__}", path=p, line=lineno)
            yield lineno, obj


def read_jsonl(
    path: PathLike,
    *,
    required: Iterable[str] = (),
    on_error: str = "raise",
    encoding: str = "utf-8",
) -> list[dict[str, Any]]:
    """Read a JSONL file into a list of dicts, checking that ``required`` fields are present."""
    required = tuple(required)
    rows = []
    for lineno, obj in iter_jsonl(path, on_error=on_error, encoding=encoding):
        for name in required:
            if name not in obj:
                raise DataError("missing required field", path=path, line=lineno, field=name)
        rows.append(obj)
    return rows


def get_field(
    row: Mapping[str, Any],
    name: str,
    types: type | tuple[type, ...] | None = None,
    *,
    path: PathLike | None = None,
    line: int | None = None,
    default: Any = ...,
) -> Any:
    """Fetch ``row[name]`` checking its type; errors name the file, line and field."""
    if name not in row:
        if default is not ...:
            return default
        raise DataError("missing required field", path=path, line=line, field=name)
    value = row[name]
    if types is not None and not isinstance(value, types):
        names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise DataError(
            f"expected {names}, got {type(value).__name__} ({str(value)[:60]!r})", path=path, line=line, field=name
        )
    return value


def read_json_object(path: PathLike, *, what: str = "JSON file") -> dict[str, Any]:
    """Read a file holding one JSON object.

    Raises:
        FileNotFoundError: no such file (the message names it).
        DataError: not UTF-8, invalid JSON (with line and column) or not an object, naming the file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such {what}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = p.read_bytes()[: e.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte {e.start})", path=p, line=line) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=p, line=e.lineno) from None
    if not isinstance(obj, dict):
        raise DataError(f"expected a JSON object, got {type(obj).__name__}", path=p)
    return obj


def check_fields(data: Mapping[str, Any], known: Iterable[str], *, path: PathLike | None = None, what: str = "field") -> None:
    """Raise :class:`DataError` for the first key of ``data`` not in ``known``, suggesting the closest name."""
    import difflib

    known = list(known)
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataError(f"unknown {what} ({hint}known: {', '.join(sorted(known))})", path=path, field=str(key))


def config_from_dict(cls: type[Any], data: Mapping[str, Any], *, path: PathLike | None = None, what: str | None = None) -> Any:
    """Build the dataclass ``cls`` from a JSON mapping: unknown names and wrong types are errors, not surprises.

    Values are checked against the field's default (or annotation): a bool must be a bool, an int an int, a float
    an int or float (JSON writes ``3`` and ``3.0`` alike), a str a str, and a tuple/list a JSON list (converted to
    the field's container). Validation errors from the class itself (``ValueError`` in ``__post_init__``) come back
    as :class:`DataError` naming ``path``.
    """
    import dataclasses

    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_fields(data, fields, path=path, what=what or f"{cls.__name__} field")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = fields[key]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        kwargs[key] = _coerce_field(key, value, default, path)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        raise DataError(str(e), path=path) from None


def _coerce_field(key: str, value: Any, default: Any, path: PathLike | None) -> Any:
    if value is None or default is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple | list):
        ok = isinstance(value, list | tuple) and _same_items(value, default)
        if ok:
            value = type(default)(value)
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise DataError(f"expected {type(default).__name__}, got {type(value).__name__} ({value!r})", path=path, field=key)
    return value


def _same_items(value: Sequence[Any], default: Sequence[Any]) -> bool:
    # the default's items say what the items must be: numbers stay numbers, strings stay strings
    if not default:
        return True
    if all(isinstance(d, int | float) and not isinstance(d, bool) for d in default):
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if all(isinstance(d, str) for d in default):
        return all(isinstance(v, str) for v in value)
    return True


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` so readers see either the old file or the complete new one, never a torn write."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600 files; give the result the permissions a plain open() would have
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> None:
    """Atomic text write (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Atomic JSON write; non-JSON values (paths, numpy scalars) are converted with ``str``/``item``."""
    atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False, default=_json_default) + "\n")


def write_jsonl(path: PathLike, rows: Iterable[Mapping[str, Any]]) -> int:
    """Atomically write rows as JSONL; returns the number of rows."""
    lines = [json.dumps(dict(r), ensure_ascii=False, default=_json_default) for r in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


class ResultsStore:
    """Append-only JSONL results keyed by an id: crash-safe, resumable, duplicates impossible.

    On open, existing complete lines are loaded; a torn last line (the process died mid-write) is
    cut off so the file is valid again. Each :meth:`add` writes one line and flushes it to disk
    (``fsync``) before returning, so after a crash every record that ``add`` returned for is kept.
    Adding an id twice raises ``KeyError`` instead of writing a duplicate.

    One writer per file: split a run across processes with one store per shard and :meth:`merge`.

    Args:
        path: the JSONL file (created with its parent folder if missing).
        key: the field holding the record id, or a function computing it from a record.
        fsync: flush each line to disk (turn off only for throw-away runs).
    """

    def __init__(self, path: PathLike, key: str | Callable[[Mapping[str, Any]], Any] = "id", *, fsync: bool = True):
        self.path = Path(path)
        self._key = key
        self._fsync = fsync
        self._records: dict[Any, dict[str, Any]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._recover()
        self._fh = self.path.open("a", encoding="utf-8")

    def key_of(self, record: Mapping[str, Any]) -> Any:
        """The id of ``record``."""
        if callable(self._key):
            return self._key(record)
        if self._key not in record:
            raise KeyError(f"record has no key field {self._key!r}: {str(dict(record))[:120]}")
        return record[self._key]

    def _recover(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good_end = 0
        offset = 0
        for lineno, raw in enumerate(data.splitlines(keepends=True), start=1):
            end = offset + len(raw)
            complete = raw.endswith(b"\n")
            text = raw.strip()
            if text:
                try:
                    obj = json.loads(text)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    # a line cut inside a multi-byte character is not valid UTF-8: torn like any other
                    if complete and end < len(data):
                        raise DataError("corrupt line in the middle of a results file", path=self.path, line=lineno) from None
                    logger.warning("%s:%d: dropping a torn last line left by an interrupted write", self.path, lineno)
                    break
                k = self.key_of(obj)
                if k in self._records:
                    raise DataError(f"duplicate id {k!r}", path=self.path, line=lineno, field=str(self._key))
                self._records[k] = obj
            good_end = end
            offset = end
        if good_end < len(data):
            with self.path.open("r+b") as f:
                f.truncate(good_end)
        if good_end and not data[:good_end].endswith(b"\n"):
            with self.path.open("ab") as f:
                f.write(b"\n")

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._records.values())

    @property
    def done_ids(self) -> set[Any]:
        """Ids already stored."""
        return set(self._records)

    def get(self, key: Any) -> dict[str, Any] | None:
        return self._records.get(key)

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one record; raises ``KeyError`` if its id is already stored."""
        k = self.key_of(record)
        if k in self._records:
            raise KeyError(f"{self.path}: id {k!r} already stored")
        line = json.dumps(dict(record), ensure_ascii=False, default=_json_default)
        self._fh.write(line + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())
        self._records[k] = dict(record)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def merge(paths: Iterable[PathLike], out: PathLike, key: str = "id") -> int:
        """Merge shard files into ``out`` (atomically); a repeated id across shards is an error."""
        seen: dict[Any, dict[str, Any]] = {}
        for p in paths:
            for lineno, obj in iter_jsonl(p):
                if key not in obj:
                    raise DataError("missing key field", path=p, line=lineno, field=key)
                if obj[key] in seen:
                    raise DataError(f"id {obj[key]!r} appears in more than one shard", path=p, line=lineno, field=key)
                seen[obj[key]] = obj
        return write_jsonl(out, seen.values())
