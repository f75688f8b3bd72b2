"""The notebook: every edit is a natural-language note, persisted in one SQLite file.

::

    from eren.notebook import Notebook

    nb = Notebook("edits.db")                     # created on first use; ":memory:" for a throw-away one
    nb.add("Danielle Darrieux's mother tongue is English.")
    nb.add_many(["The Eiffel Tower is in Rome", "Paris is the capital of Italy."], source="cfh")
    nb.update(0, "Danielle Darrieux's mother tongue is German")
    nb.delete(2)
    nb.notes()                                    # live notes, id order

Design (and how it differs from the original, which keeps an in-memory Python list):

- **Ids** are assigned in insertion order from 0 and never reused after a delete, so adding notes one at a time
  gives exactly the ids (and, through the retrievers, the search results) of one batch insert.
- **One trailing period** is stripped from each note (as the original does); the reader adds it back when it
  joins notes into a context.
- **Revision.** Every write bumps a notebook-wide revision counter; each note stores the revision of its last write.
  Retrieval indexes store the ``(id, text)`` fingerprints they were built from and are re-synced against the notebook
  on load, so a stale index is repaired, never used.
- **Conflicting notes** (policy: *newest wins*). A note may carry a ``key`` naming the fact it states (e.g.
  ``"Danielle Darrieux|mother tongue"``). When retrieval returns several live notes with the same key, only the
  newest (highest revision) is shown to the reader; notes without a key never conflict. :meth:`Notebook.update` edits
  a note in place (it becomes the newest), :meth:`Notebook.delete` removes it (a tombstone keeps its id taken).
- **Concurrency.** The file is in WAL mode: any number of readers (other processes or threads, each with its own
  :class:`Notebook`) read a consistent snapshot while one writer writes; writes take the lock up front
  (``BEGIN IMMEDIATE``) and wait up to ``timeout`` seconds for another writer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lc_core.io import DataError, atomic_write_json
from lc_core.logging import get_logger

__all__ = ["Note", "Notebook", "clean_note", "SCHEMA_VERSION"]

logger = get_logger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    source TEXT,
    key TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    rev INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notes_key ON notes(key);
CREATE INDEX IF NOT EXISTS notes_rev ON notes(rev);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def clean_note(text: str) -> str:
    """A note as stored: surrounding whitespace removed and at most one trailing ``.`` dropped.

    Raises:
        ValueError: ``text`` is not a string or is empty after cleaning.
    """
    if not isinstance(text, str):
        raise ValueError(f"a note must be a string, got {type(text).__name__}")
    out = text.strip()
    if out.endswith("."):
        out = out[:-1].rstrip()
    if not out:
        raise ValueError(f"empty note: {text!r}")
    return out


@dataclass(frozen=True)
class Note:
    """One stored note.

    Attributes:
        id: insertion-order id from 0, never reused.
        text: the statement (trailing period stripped).
        source: free-form origin (a data set and record id, a user name...).
        key: the fact this note states, for the newest-wins policy (None: never conflicts).
        created: UNIX time of the insert.
        updated: UNIX time of the last write.
        rev: notebook revision of the last write (higher = newer).
    """

    id: int
    text: str
    source: str | None = None
    key: str | None = None
    created: float = 0.0
    updated: float = 0.0
    rev: int = 0


class Notebook:
    """Notes in one SQLite file (or ``":memory:"``).

    Args:
        path: the database file; its folder is created. ``":memory:"`` keeps everything in this object.
        timeout: seconds a writer waits for another writer's lock.

    Thread-safety: one object may be shared by threads (calls are serialised); processes each open their own.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.in_memory = self.path == ":memory:"
        if not self.in_memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if Path(self.path).is_dir():
                raise IsADirectoryError(f"{self.path}: is a folder, expected a notebook file")
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            if not self.in_memory:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            with self._write():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                row = self._db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
                if row is None:
                    self._db.executemany(
                        "INSERT INTO meta(name, value) VALUES (?, ?)",
                        [("schema", str(SCHEMA_VERSION)), ("next_id", "0"), ("revision", "0")],
                    )
                elif int(row[0]) != SCHEMA_VERSION:
                    raise DataError(f"notebook schema {row[0]}, this eren reads {SCHEMA_VERSION}", path=self.path)
                if self._db.execute("SELECT value FROM meta WHERE name='uid'").fetchone() is None:
                    self._db.execute("INSERT INTO meta(name, value) VALUES ('uid', ?)", (uuid.uuid4().hex,))
        except sqlite3.DatabaseError as e:
            raise DataError(f"not a notebook ({e})", path=self.path) from None

    # ---- plumbing ------------------------------------------------------------------------------------------

    class _Tx:
        def __init__(self, nb: Notebook) -> None:
            self.nb = nb

        def __enter__(self) -> sqlite3.Connection:
            self.nb._lock.acquire()
            self.nb._db.execute("BEGIN IMMEDIATE")
            return self.nb._db

        def __exit__(self, exc_type: Any, *rest: Any) -> None:
            try:
                self.nb._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.nb._lock.release()

    def _write(self) -> Notebook._Tx:
        return Notebook._Tx(self)

    def _meta(self, db: sqlite3.Connection, name: str) -> int:
        return int(db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()[0])

    def _set_meta(self, db: sqlite3.Connection, name: str, value: int) -> None:
        db.execute("UPDATE meta SET value=? WHERE name=?", (str(value), name))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Notebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Notebook({self.path!r}, notes={len(self)}, revision={self.revision})"

    # ---- writes --------------------------------------------------------------------------------------------

    def add(self, text: str, *, source: str | None = None, key: str | None = None) -> int:
        """Add one note; returns its id."""
        return self.add_many([text], source=source, keys=None if key is None else [key])[0]

    def add_many(
        self, texts: Iterable[str], *, source: str | None = None, keys: Sequence[str | None] | None = None
    ) -> list[int]:
        """Add notes in one transaction; returns their ids (consecutive, in order).

        Args:
            texts: the statements.
            source: stored with every note.
            keys: one fact key per note (or None).
        """
        cleaned = [clean_note(t) for t in texts]
        if keys is not None and len(keys) != len(cleaned):
            raise ValueError(f"got {len(keys)} keys for {len(cleaned)} notes")
        now = time.time()
        with self._write() as db:
            first = self._meta(db, "next_id")
            rev = self._meta(db, "revision") + 1
            ids = list(range(first, first + len(cleaned)))
            db.executemany(
                "INSERT INTO notes(id, text, source, key, created, updated, rev) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, t, source, None if keys is None else keys[j], now, now, rev)
                    for j, (i, t) in enumerate(zip(ids, cleaned))
                ],
            )
            self._set_meta(db, "next_id", first + len(cleaned))
            if cleaned:
                self._set_meta(db, "revision", rev)
        return ids

    def update(self, note_id: int, text: str | None = None, *, source: str | None = None, key: str | None = None) -> Note:
        """Rewrite a live note (text, source or key); it becomes the newest note.

        Raises:
            KeyError: no live note with this id.
        """
        cleaned = None if text is None else clean_note(text)
        with self._write() as db:
            row = db.execute("SELECT text, source, key FROM notes WHERE id=? AND deleted=0", (int(note_id),)).fetchone()
            if row is None:
                raise KeyError(f"unknown note id {note_id}")
            rev = self._meta(db, "revision") + 1
            db.execute(
                "UPDATE notes SET text=?, source=?, key=?, updated=?, rev=? WHERE id=?",
                (
                    cleaned if cleaned is not None else row[0],
                    source if source is not None else row[1],
                    key if key is not None else row[2],
                    time.time(),
                    rev,
                    int(note_id),
                ),
            )
            self._set_meta(db, "revision", rev)
        return self.get(note_id)

    def delete(self, note_id: int) -> None:
        """Remove a live note (its id stays taken).

        Raises:
            KeyError: no live note with this id.
        """
        with self._write() as db:
            rev = self._meta(db, "revision") + 1
            cur = db.execute("UPDATE notes SET deleted=1, rev=? WHERE id=? AND deleted=0", (rev, int(note_id)))
            if cur.rowcount == 0:
                raise KeyError(f"unknown note id {note_id}")
            self._set_meta(db, "revision", rev)

    def clear(self) -> None:
        """Delete every note (ids stay taken)."""
        with self._write() as db:
            rev = self._meta(db, "revision") + 1
            db.execute("UPDATE notes SET deleted=1, rev=? WHERE deleted=0", (rev,))
            self._set_meta(db, "revision", rev)

    # ---- reads ---------------------------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """Bumped by every write; equal revisions mean equal notebooks."""
        with self._lock:
            return self._meta(self._db, "revision")

    @property
    def uid(self) -> str:
        """A random id given to the notebook file when it was created (tells two notebooks apart)."""
        with self._lock:
            return str(self._db.execute("SELECT value FROM meta WHERE name='uid'").fetchone()[0])

    def newest_by_key(self, keys: Iterable[str]) -> dict[str, int]:
        """For each fact key, the id of its newest live note (the newest-wins policy)."""
        wanted = sorted({k for k in keys if k is not None})
        out: dict[str, int] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT key, id FROM notes WHERE deleted=0 AND key IN ({marks}) ORDER BY rev, id", tuple(chunk)
                ).fetchall()
            for key, note_id in rows:
                out[key] = int(note_id)
        return out

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM notes WHERE deleted=0").fetchone()[0])

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Note]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [Note(*r) for r in rows]

    _COLS = "id, text, source, key, created, updated, rev"

    def notes(self) -> list[Note]:
        """Every live note in id order (one consistent snapshot)."""
        return self._rows(f"SELECT {self._COLS} FROM notes WHERE deleted=0 ORDER BY id")

    def __iter__(self) -> Iterator[Note]:
        return iter(self.notes())

    def changes_since(self, revision: int) -> tuple[list[Note], list[int], int]:
        """What changed after ``revision``: ``(live notes written since, ids deleted since, current revision)``, read
        in one snapshot (an index at ``revision`` applies these to catch up without reading every note)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                rows = self._db.execute(
                    f"SELECT {self._COLS}, deleted FROM notes WHERE rev > ? ORDER BY id", (int(revision),)
                ).fetchall()
                current = self._meta(self._db, "revision")
            finally:
                self._db.execute("COMMIT")
        live = [Note(*r[:7]) for r in rows if not r[7]]
        gone = [int(r[0]) for r in rows if r[7]]
        return live, gone, current

    def get(self, note_id: int) -> Note:
        """The live note ``note_id``.

        Raises:
            KeyError: no live note with this id.
        """
        rows = self._rows(f"SELECT {self._COLS} FROM notes WHERE id=? AND deleted=0", (int(note_id),))
        if not rows:
            raise KeyError(f"unknown note id {note_id}")
        return rows[0]

    def get_many(self, ids: Sequence[int]) -> list[Note]:
        """Live notes by id, in the order asked (missing ids are skipped)."""
        if not ids:
            return []
        by_id: dict[int, Note] = {}
        wanted = sorted({int(i) for i in ids})
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for n in self._rows(f"SELECT {self._COLS} FROM notes WHERE deleted=0 AND id IN ({marks})", tuple(chunk)):
                by_id[n.id] = n
        return [by_id[int(i)] for i in ids if int(i) in by_id]

    # ---- export / import -----------------------------------------------------------------------------------

    def export_json(self, path: str | os.PathLike[str]) -> int:
        """Write every live note to a JSON file (atomically); returns the count."""
        notes = self.notes()
        atomic_write_json(path, {"format": "eren-notebook", "version": SCHEMA_VERSION, "notes": [asdict(n) for n in notes]})
        return len(notes)

    def import_json(self, path: str | os.PathLike[str], *, source: str | None = None) -> list[int]:
        """Add the notes of a JSON file: an :meth:`export_json` file, or a list of strings / ``{"text": ...}`` objects.

        Imported notes get new ids (appended after the existing ones), in file order; ``source``/``key`` are kept.

        Raises:
            DataError: the file is not such a list (naming the item and field).
        """
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON ({e.msg})", path=p, line=e.lineno) from None
        items = data.get("notes") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise DataError("expected a list of notes or an object with a 'notes' list", path=p)
        texts: list[str] = []
        keys: list[str | None] = []
        sources: list[str | None] = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                texts.append(item)
                keys.append(None)
                sources.append(source)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                texts.append(item["text"])
                keys.append(item.get("key"))
                sources.append(item.get("source", source))
            else:
                raise DataError(f"note {i} must be a string or an object with a string 'text'", path=p, field=f"notes[{i}]")
        ids: list[int] = []
        # one transaction per distinct source keeps order and sources exact
        start = 0
        while start < len(texts):
            end = start
            while end < len(texts) and sources[end] == sources[start]:
                end += 1
            ids += self.add_many(texts[start:end], source=sources[start], keys=keys[start:end])
            start = end
        return ids
