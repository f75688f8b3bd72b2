"""Tokenization consistency (issue #14 item 3, spec §7.7): the metric over a benchmark, its tokenizers and its verb."""

import json
import math

import pytest

from readin.cli import main
from readin.consistency import consistency_scores, get_tokenizer
from readin.data import load_benchmark
from readin.sample import CMRC, write_jsonl

# keyboard_1 re-enters every question unchanged; keyboard_2 swaps homophones (都→督 du, 什→神 shen) in
# questions 0 and 2; keyboard_3 changes a word in question 0 (是→在, a different syllable)
QUESTIONS = {
    "keyboard_1": ["中国的首都是哪里？", "长江有多长？", "李白被称为什么？"],
    "keyboard_2": ["中国的首督是哪里？", "长江有多长？", "李白被称为神么？"],
    "keyboard_3": ["中国的首都在哪里？", "长江有多长？", "李白被称为什么？"],
}


@pytest.fixture
def bench_dir(tmp_path):
    root = tmp_path / "cmrc"
    write_jsonl(root / "test_clean" / "test.json", CMRC)
    for split, questions in QUESTIONS.items():
        write_jsonl(root / f"test_noisy_{split}" / "test.json", [{**r, "question": q} for r, q in zip(CMRC, questions)])
    for i in (1, 2, 3):  # speech: re-entered unchanged
        write_jsonl(root / f"test_noisy_asr_{i}" / "test.json", CMRC)
    return root


def test_builtin_tokenizers():
    assert get_tokenizer("char")("提额") == ["提", "额"]
    assert get_tokenizer("pinyin")("花呗提额") == get_tokenizer("pinyin")("花呗题额") == ["hua", "bei", "ti", "e"]
    assert "".join(get_tokenizer("jieba")("花呗怎么不能提额了")) == "花呗怎么不能提额了"


@pytest.mark.parametrize(
    ("spec", "versions", "avg", "worst"),
    [
        # surface tokenizers: consistent exactly when the text is unchanged
        ("char", (1.0, 1 / 3, 2 / 3), 2 / 3, 1 / 3),
        ("jieba", (1.0, 1 / 3, 2 / 3), 2 / 3, 1 / 3),
        # a pinyin tokenizer keeps homophone typos consistent, not the changed syllable
        ("pinyin", (1.0, 1.0, 2 / 3), 8 / 9, 2 / 3),
    ],
)
def test_scores_per_version_average_and_all_three(bench_dir, spec, versions, avg, worst):
    s = consistency_scores(load_benchmark(bench_dir, "cmrc"), get_tokenizer(spec))
    kb = s["keyboard"]
    assert [kb[f"keyboard_{i}"] for i in (1, 2, 3)] == pytest.approx(versions, abs=1e-12)
    assert math.isclose(kb["avg"], avg) and math.isclose(kb["all"], worst) and kb["units"] == 3
    assert s["asr"]["avg"] == s["asr"]["all"] == 1.0


def test_two_fields_are_two_units(task_dir):
    # the fixture's noisy copies append a tag to sentence1 only: sentence2 stays consistent
    s = consistency_scores(load_benchmark(task_dir("afqmc"), "afqmc"), get_tokenizer("char"))
    assert s["keyboard"]["units"] == 8 and s["keyboard"]["avg"] == 0.5
    only2 = consistency_scores(load_benchmark(task_dir("afqmc"), "afqmc"), list, fields=["sentence2"])
    assert only2["asr"]["all"] == 1.0


def test_local_hf_tokenizer_folder(bench_dir, tmp_path):
    pytest.importorskip("transformers")
    from readin.train import char_tokenizer

    texts = [r["context"] + r["question"] for r in CMRC] + [q for qs in QUESTIONS.values() for q in qs]
    folder = tmp_path / "tok"
    char_tokenizer(texts, folder).save_pretrained(folder)
    bench = load_benchmark(bench_dir, "cmrc")
    assert consistency_scores(bench, get_tokenizer(str(folder))) == consistency_scores(bench, get_tokenizer("char"))


def test_cli_table_and_results(bench_dir, tmp_path, capsys):
    out = tmp_path / "res"
    argv = ["consistency", str(bench_dir), "--task", "cmrc", "--tokenizer", "char", "pinyin", "--out", str(out)]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "| char | keyboard | 1.000 | 0.333 | 0.667 | 0.667 | 0.333 | 3 |" in table
    assert "| pinyin | keyboard | 1.000 | 1.000 | 0.667 | 0.889 | 0.667 | 3 |" in table
    assert "| pinyin | speech | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 3 |" in table
    record = json.loads(next((out / "consistency").glob("results_*.json")).read_text())
    assert record["task"] == "cmrc" and record["consistency"]["pinyin"]["keyboard"]["keyboard_2"] == 1.0


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--tokenizer", "/no/such/tok"], "/no/such/tok: no such tokenizer"), (["--fields", "context"], "--fields context")],
)
def test_cli_errors_are_one_line(bench_dir, capsys, extra, needle):
    rc = main(["consistency", str(bench_dir), "--task", "cmrc", *extra])
    first = capsys.readouterr().err.strip().splitlines()[0]
    assert rc == 2 and first.startswith("readin: error: ") and needle in first
