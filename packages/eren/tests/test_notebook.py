"""Notebook: ids, cleaning, update/delete, persistence, export/import, concurrency (WAL)."""

from __future__ import annotations

import json
import threading

import pytest

from eren.notebook import Notebook, clean_note
from lc_core.io import DataError


def test_add_strips_one_period_and_numbers_from_zero():
    nb = Notebook()
    assert nb.add_many(["A.", "B"]) == [0, 1]
    assert [n.text for n in nb.notes()] == ["A", "B"]
    assert clean_note("  x..  ") == "x."
    with pytest.raises(ValueError):
        clean_note(" . ")


def test_incremental_equals_batch(tmp_path):
    texts = [f"fact number {i}." for i in range(25)]
    a = Notebook(tmp_path / "a.db")
    b = Notebook(tmp_path / "b.db")
    a.add_many(texts)
    for chunk in range(0, 25, 7):
        b.add_many(texts[chunk : chunk + 7])
    assert [(n.id, n.text) for n in a.notes()] == [(n.id, n.text) for n in b.notes()]


def test_update_delete_and_ids_never_reused(tmp_path):
    nb = Notebook(tmp_path / "n.db")
    nb.add_many(["one", "two", "three"])
    rev = nb.revision
    n = nb.update(1, "TWO.")
    assert n.text == "TWO" and n.rev == rev + 1 and nb.revision == rev + 1
    nb.delete(0)
    assert [x.id for x in nb.notes()] == [1, 2]
    assert nb.add("four") == 3
    with pytest.raises(KeyError):
        nb.delete(0)
    with pytest.raises(KeyError):
        nb.update(0, "zero")
    with pytest.raises(KeyError):
        nb.get(0)
    assert [x.id for x in nb.get_many([3, 0, 1])] == [3, 1]


def test_persistence_and_reopen(tmp_path):
    path = tmp_path / "sub" / "n.db"
    with Notebook(path) as nb:
        nb.add("x", source="s", key="k")
    with Notebook(path) as nb:
        (n,) = nb.notes()
        assert (n.id, n.text, n.source, n.key) == (0, "x", "s", "k")
        assert nb.add("y") == 1


def test_not_a_notebook_is_a_data_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DataError, match="bad.db"):
        Notebook(bad)


def test_export_import_roundtrip(tmp_path):
    nb = Notebook()
    nb.add_many(["a", "b"], source="src", keys=["k1", None])
    nb.delete(0)
    nb.add("c")
    out = tmp_path / "notes.json"
    assert nb.export_json(out) == 2
    other = Notebook()
    other.add("first")
    assert other.import_json(out) == [1, 2]
    assert [(n.text, n.source, n.key) for n in other.notes()] == [("first", None, None), ("b", "src", None), ("c", None, None)]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(["p.", {"text": "q", "key": "k"}]))
    assert other.import_json(plain, source="file") == [3, 4]
    assert other.get(4).key == "k" and other.get(3).source == "file"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([1]))
    with pytest.raises(DataError, match=r"notes\[0\]"):
        other.import_json(bad)


def test_concurrent_readers_and_one_writer(tmp_path):
    path = tmp_path / "c.db"
    Notebook(path).close()
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer():
        try:
            with Notebook(path) as nb:
                for i in range(60):
                    nb.add_many([f"w{i}a", f"w{i}b"])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            stop.set()

    def reader():
        try:
            with Notebook(path) as nb:
                while not stop.is_set():
                    notes = nb.notes()
                    # a snapshot never shows half a batch and ids are dense
                    assert len(notes) % 2 == 0
                    assert [n.id for n in notes] == list(range(len(notes)))
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with Notebook(path) as nb:
        assert len(nb) == 120


def test_two_writers_do_not_lose_notes(tmp_path):
    path = tmp_path / "w.db"
    Notebook(path).close()

    def write(tag):
        with Notebook(path) as nb:
            for i in range(30):
                nb.add(f"{tag}{i}")

    threads = [threading.Thread(target=write, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    with Notebook(path) as nb:
        notes = nb.notes()
    assert len(notes) == 60 and sorted(n.id for n in notes) == list(range(60))
