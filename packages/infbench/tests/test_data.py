"""Loading and answer coercion (spec §9.5).

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_data.py -q``
"""

from __future__ import annotations

import json

import pytest

from infbench.data import canonical_example, coerce_answer, file_fingerprint, get_answer, load_hf_task, load_task
from lc_core.io import DataError


def _write(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("task", "raw", "want"),
    [
        ("code_run", ["-3"], -3),
        ("code_run", "12", 12),
        ("code_run", 7, 7),
        ("math_find", ["88"], 88),
        ("math_find", "48.0", 48.0),
        ("math_find", 48.5, 48.5),
        ("math_calc", ["1", "4", "8"], [1, 4, 8]),
        ("math_calc", [[1, 4]], [1, 4]),
        ("math_calc", "[1, 4, 8]", [1, 4, 8]),
        ("passkey", ["07143"], "07143"),
        ("kv_retrieval", "ab-cd", "ab-cd"),
        ("longbook_qa_eng", "Paris", ["Paris"]),
        ("longdialogue_qa_eng", ["ACE", "ACE ROTHSTEIN"], ["ACE", "ACE ROTHSTEIN"]),
    ],
    ids=lambda v: str(v)[:20],
)
def test_coerce_answer(task, raw, want):
    got = coerce_answer(task, raw)
    assert got == want and type(got) is type(want)


def test_math_find_keeps_float_type():
    assert isinstance(coerce_answer("math_find", ["48.0"]), float)
    assert isinstance(coerce_answer("math_find", ["48"]), int)


@pytest.mark.parametrize("answer", ["Snow", ["Snow"], ["Snow", "B"]], ids=["str", "list1", "built"])
@pytest.mark.parametrize("task", ["longbook_choice_eng", "code_debug"])
def test_get_answer_choice(task, answer):
    eg = {"answer": answer, "options": ["Rain", "Snow", "Sun", "Fog"]}
    assert get_answer(eg, task) == ["Snow", "B"]


def test_get_answer_rejects_non_option():
    with pytest.raises(ValueError, match="not one of the options"):
        get_answer({"answer": "Hail", "options": ["Rain", "Snow", "Sun", "Fog"]}, "code_debug")


def test_load_task_with_and_without_options(tmp_path):
    _write(tmp_path / "code_run.jsonl", [{"id": 0, "context": "c", "input": "func_1(2)", "answer": ["5"]}])
    _write(
        tmp_path / "code_debug.jsonl",
        [{"id": 0, "context": "c", "input": "", "answer": ["f"], "options": ["f", "g", "h", "i"]}],
    )
    (ex,) = load_task(tmp_path, "code_run")
    assert ex["answer"] == 5 and ex["options"] == [] and ex["input"] == "func_1(2)"
    (dbg,) = load_task(tmp_path, "code_debug")
    assert get_answer(dbg, "code_debug") == ["f", "A"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ('{"id": 0, "context": "x"', None),
        ({"id": 0, "answer": "1"}, "context"),
        ({"id": 0, "context": 3, "answer": "1"}, "context"),
        ({"id": 0, "context": "x", "answer": "one"}, "answer"),
        ({"id": 0, "context": "x", "input": ["q"], "answer": "1"}, "input"),
    ],
    ids=["bad-json", "no-context", "context-type", "answer-type", "input-type"],
)
def test_malformed_rows_name_file_line_field(tmp_path, row, field):
    good = {"id": 1, "context": "x", "input": "", "answer": "2"}
    path = _write(tmp_path / "code_run.jsonl", [good, row])
    with pytest.raises(DataError) as err:
        load_task(path, "code_run")
    assert "code_run.jsonl:2" in str(err.value)
    if field:
        assert f"field '{field}'" in str(err.value)


def test_choice_needs_four_options(tmp_path):
    path = _write(tmp_path / "longbook_choice_eng.jsonl", [{"id": 0, "context": "x", "answer": "a", "options": ["a", "b"]}])
    with pytest.raises(DataError, match="field 'options'"):
        load_task(path, "longbook_choice_eng")


def test_limit_and_fingerprint(tmp_path):
    path = _write(tmp_path / "passkey.jsonl", [{"id": i, "context": "c", "input": "q", "answer": str(i)} for i in range(5)])
    assert [e["id"] for e in load_task(path, "passkey", limit=2)] == [0, 1]
    fp = file_fingerprint(path)
    assert fp["bytes"] == path.stat().st_size and len(fp["sha256"]) == 64


@pytest.mark.slow
def test_load_hf_task_uses_explicit_features(tmp_path):
    pytest.importorskip("datasets")
    # the math_find answers are ints on disk, the kv file has no options column: both load with the schema
    path = _write(
        tmp_path / "math_find.jsonl", [{"id": 0, "context": "[1, 2]", "input": "The largest number of", "answer": ["2"]}]
    )
    examples, info = load_hf_task("math_find", data_files=path)
    assert examples[0]["answer"] == 2 and examples[0]["options"] == []
    assert info["sha256"] == file_fingerprint(path)["sha256"]


def test_canonical_example_string_ids():
    ex = canonical_example("passkey", {"id": "3", "context": "c", "answer": 12345})
    assert ex["id"] == 3 and ex["answer"] == "12345"


def test_empty_data_file_is_an_error_not_a_zero_score(tmp_path):
    path = tmp_path / "passkey.jsonl"
    path.write_text("\n\n")
    with pytest.raises(DataError, match=r"passkey.jsonl: .*no examples \(empty file\)"):
        load_task(path, "passkey")


def test_duplicate_ids_name_both_lines(tmp_path):
    rows = [{"id": i % 2, "context": "c", "input": "q", "answer": "1"} for i in range(3)]
    path = _write(tmp_path / "passkey.jsonl", rows)
    with pytest.raises(DataError, match=r"passkey.jsonl:3: field 'id': duplicate id 0 \(first on line 1\)"):
        load_task(path, "passkey")


@pytest.mark.parametrize("rid", [{"a": 1}, [1], True, 1.5], ids=["dict", "list", "bool", "float"])
def test_bad_id_types_are_errors(tmp_path, rid):
    path = _write(tmp_path / "passkey.jsonl", [{"id": rid, "context": "c", "input": "q", "answer": "1"}])
    with pytest.raises(DataError, match=r"passkey.jsonl:1: field 'id'"):
        load_task(path, "passkey")
