"""Tests for lc_core.io: located errors, atomic writes and the crash-safe results store.

Run: uv run pytest packages/lc-core/tests/test_io.py
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from lc_core.io import DataError, ResultsStore, atomic_write_json, get_field, iter_jsonl, read_jsonl, write_jsonl


def test_read_jsonl_skips_blank_lines_and_keeps_order(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"id": 1}\n\n{"id": 2}\n{"id": 3}')
    assert [r["id"] for r in read_jsonl(p)] == [1, 2, 3]
    assert [n for n, _ in iter_jsonl(p)] == [1, 3, 4]


def test_bad_json_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": 1}\n{"id": 2,,}\n')
    with pytest.raises(DataError) as e:
        read_jsonl(p)
    assert e.value.line == 2 and str(p) in str(e.value) and ":2:" in str(e.value)


def test_missing_required_field_names_field(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"id": 1, "x": 0}\n{"id": 2}\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: field 'x'"):
        read_jsonl(p, required=("id", "x"))


def test_non_object_line_is_an_error_or_skipped(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"id": 1}\n[1, 2]\n{"id": 3')
    with pytest.raises(DataError, match="expected a JSON object"):
        read_jsonl(p)
    assert [r["id"] for r in read_jsonl(p, on_error="skip")] == [1]


def test_get_field_type_check():
    row = {"answer": "7"}
    assert get_field(row, "answer", str) == "7"
    assert get_field(row, "other", default=None) is None
    with pytest.raises(DataError, match=r"f.jsonl:9: field 'answer': expected int"):
        get_field(row, "answer", int, path="f.jsonl", line=9)


def test_atomic_write_json_replaces_whole_file(tmp_path):
    p = tmp_path / "sub" / "r.json"
    atomic_write_json(p, {"a": 1})
    atomic_write_json(p, {"b": [1, 2]})
    assert json.loads(p.read_text()) == {"b": [1, 2]}
    assert [f.name for f in p.parent.iterdir()] == ["r.json"]
    # readable like any file the user writes, not mkstemp's private 0600
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask


def test_results_store_resume_and_no_duplicates(tmp_path):
    p = tmp_path / "preds.jsonl"
    with ResultsStore(p) as s:
        s.add({"id": "a", "v": 1})
        s.add({"id": "b", "v": 2})
        with pytest.raises(KeyError):
            s.add({"id": "a", "v": 3})
    with ResultsStore(p) as s:
        assert s.done_ids == {"a", "b"} and len(s) == 2
        s.add({"id": "c", "v": 3})
    assert [json.loads(line)["id"] for line in p.read_text().splitlines()] == ["a", "b", "c"]


def test_results_store_drops_torn_last_line(tmp_path):
    p = tmp_path / "preds.jsonl"
    p.write_text('{"id": 0}\n{"id": 1}\n{"id": 2, "pred')
    with ResultsStore(p) as s:
        assert s.done_ids == {0, 1}
        s.add({"id": 2, "pred": "x"})
    assert [json.loads(line) for line in p.read_text().splitlines()] == [{"id": 0}, {"id": 1}, {"id": 2, "pred": "x"}]


def test_results_store_terminates_unterminated_complete_line(tmp_path):
    p = tmp_path / "preds.jsonl"
    p.write_text('{"id": 0}')
    with ResultsStore(p) as s:
        s.add({"id": 1})
    assert p.read_text() == '{"id": 0}\n{"id": 1}\n'


def test_results_store_rejects_corruption_and_duplicates_in_file(tmp_path):
    p = tmp_path / "preds.jsonl"
    p.write_text('{"id": 0}\nnot json\n{"id": 1}\n')
    with pytest.raises(DataError, match=":2:"):
        ResultsStore(p)
    p.write_text('{"id": 0}\n{"id": 0}\n')
    with pytest.raises(DataError, match="duplicate"):
        ResultsStore(p)


def test_results_store_survives_kill(tmp_path):
    """A writer killed mid-run loses nothing it reported as stored; the resumed run finishes the rest."""
    p = tmp_path / "preds.jsonl"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from lc_core.io import ResultsStore
        s = ResultsStore({str(p)!r})
        for i in range(100):
            if i in s:
                continue
            s.add({{"id": i}})
            if i == 41:
                print("stored", i, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode != 0 and "stored 41" in res.stdout
    with ResultsStore(p) as s:
        assert s.done_ids == set(range(42))
        for i in range(100):
            if i not in s:
                s.add({"id": i})
    ids = [json.loads(line)["id"] for line in p.read_text().splitlines()]
    assert ids == list(range(100))


def test_merge_shards(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, [{"id": 1}, {"id": 3}])
    write_jsonl(b, [{"id": 2}])
    assert ResultsStore.merge([a, b], tmp_path / "all.jsonl") == 3
    write_jsonl(b, [{"id": 3}])
    with pytest.raises(DataError, match="more than one shard"):
        ResultsStore.merge([a, b], tmp_path / "all.jsonl")


def test_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_jsonl(os.path.join(tmp_path, "nope.jsonl"))


def test_results_store_drops_torn_multibyte_line(tmp_path):
    # a kill inside a UTF-8 character leaves a last line that is not even valid UTF-8
    p = tmp_path / "preds.jsonl"
    good = json.dumps({"id": 0, "prediction": "密码是 71432"}, ensure_ascii=False).encode() + b"\n"
    torn = json.dumps({"id": 1, "prediction": "密码"}, ensure_ascii=False).encode()[:-4]
    p.write_bytes(good + torn)
    with ResultsStore(p) as store:
        assert store.done_ids == {0}
        store.add({"id": 1, "prediction": "ok"})
    assert [json.loads(line)["id"] for line in p.read_text(encoding="utf-8").splitlines()] == [0, 1]


def test_non_utf8_line_names_file_and_line(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_bytes(b'{"id": 1}\n{"id": "\xff"}\n')
    with pytest.raises(DataError, match=r"rows.jsonl:2: not utf-8 text"):
        read_jsonl(p)


def test_read_json_object_errors(tmp_path):
    from lc_core.io import read_json_object

    with pytest.raises(FileNotFoundError, match="no such config"):
        read_json_object(tmp_path / "nope.json", what="config")
    # a missing comma: every Python reports it on line 3 (3.13 moved the trailing-comma error to the comma's line)
    (tmp_path / "bad.json").write_text('{\n  "a": 1\n  "b": 2\n}')
    with pytest.raises(DataError, match=r"bad.json:3: invalid JSON"):
        read_json_object(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(DataError, match="expected a JSON object, got list"):
        read_json_object(tmp_path / "list.json")
    (tmp_path / "latin.json").write_bytes(b'{"a":\n "\xe9"}')
    with pytest.raises(DataError, match=r"latin.json:2: not UTF-8"):
        read_json_object(tmp_path / "latin.json")


def test_config_from_dict_checks_names_and_types():
    import dataclasses

    from lc_core.io import config_from_dict

    @dataclasses.dataclass(kw_only=True)
    class Cfg:
        steps: int = 1
        lr: float = 0.1
        name: str = "x"
        sizes: tuple[int, ...] = (1, 2)
        flag: bool = False

        def __post_init__(self):
            if self.steps < 0:
                raise ValueError("steps must be >= 0")

    assert config_from_dict(Cfg, {"lr": 1, "sizes": [3]}) == Cfg(lr=1.0, sizes=(3,))
    with pytest.raises(DataError, match=r"c.json: field 'stpes': unknown Cfg field \(did you mean 'steps'"):
        config_from_dict(Cfg, {"stpes": 1}, path="c.json")
    with pytest.raises(DataError, match="field 'flag': expected bool, got int"):
        config_from_dict(Cfg, {"flag": 1})
    with pytest.raises(DataError, match="field 'sizes': expected tuple"):
        config_from_dict(Cfg, {"sizes": ["a"]})
    with pytest.raises(DataError, match="c.json: steps must be >= 0"):
        config_from_dict(Cfg, {"steps": -1}, path="c.json")
