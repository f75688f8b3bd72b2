"""Spec §14.8 compression property and the evaluation helpers."""

from __future__ import annotations

import pytest

from subchar.corpus import ConvertConfig
from subchar.encoder import EncoderConfig
from subchar.evaluate import (
    StatsConfig,
    char_length,
    edit_similarity,
    length_rows,
    robustness_rows,
    throughput_rows,
    train_raw_baseline,
)
from subchar.synthetic import zipf_corpus
from subchar.tokenizer import SubCharTokenizer
from subchar.train import SpmConfig, train_tokenizer


def test_edit_similarity():
    assert edit_similarity([1, 2, 3], [1, 2, 3]) == 1.0
    assert edit_similarity([1, 2, 3], [1, 9, 3]) == pytest.approx(2 / 3)
    assert edit_similarity([], []) == 1.0
    assert edit_similarity([1], []) == 0.0


@pytest.mark.timeout(600)
def test_compression_property_at_equal_vocabulary(tmp_path):
    lines = zipf_corpus(200_000, seed=3)
    train, held = lines[: int(0.9 * len(lines))], lines[int(0.9 * len(lines)) :]
    path = tmp_path / "train.txt"
    path.write_text("\n".join(train) + "\n", encoding="utf-8")
    distinct = len({c for line in train for c in line})
    vocab = distinct + 5
    assert vocab <= 1.1 * distinct
    raw = train_raw_baseline(path, vocab, tmp_path / "raw")
    toks = {}
    for enc in ("pinyin", "wubi"):
        train_tokenizer(
            path,
            tmp_path / enc,
            EncoderConfig(encoding=enc),
            SpmConfig(vocab_size=vocab, num_threads=2),
            ConvertConfig(progress=False),
        )
        toks[enc] = SubCharTokenizer.from_pretrained(tmp_path / enc)
    rows = {r["tokenizer"].split(" (")[0]: r["tokens"] for r in length_rows(held, toks, raw)}
    chars = char_length(held)
    for enc in ("pinyin", "wubi"):
        assert rows[enc] / chars < 0.8, rows
        assert rows[enc] < rows["unigram raw"], rows


def test_robustness_rows_noindex_is_invariant(train_tok):
    lines = zipf_corpus(3000, seed=9)
    toks = {
        "pinyin": train_tok(EncoderConfig(encoding="pinyin")),
        "pinyin-noindex": train_tok(EncoderConfig(encoding="pinyin", index=False)),
    }
    rows = robustness_rows(lines, toks, StatsConfig(noise_ratios=[0.3]))
    by = {r["tokenizer"]: r for r in rows}
    assert by["pinyin-noindex"]["identical lines %"] == 100.0
    assert by["pinyin"]["identical lines %"] < 50.0
    assert abs(by["pinyin"]["realised rate"] - 0.3) < 0.05
    speed = throughput_rows(lines[:20], toks, repeat=1)
    assert all(r["encode Mchar/s"] > 0 for r in speed)
