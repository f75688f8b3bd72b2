"""Streaming conversion: same output for 1 and 2 workers, resume after a crash, bad input named."""

from __future__ import annotations

import json

import pytest

from lc_core.io import DataError
from subchar import corpus as corpus_mod
from subchar.corpus import ConvertConfig, convert_corpus, split_long
from subchar.encoder import EncoderConfig, get_encoder


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_convert_matches_the_encoder_and_filters(tmp_path):
    src = tmp_path / "in.txt"
    _write(src, ["他是我的朋友", "", "短", "Hello 世界 2023", "x" * 45])
    out = tmp_path / "out.txt"
    stats = convert_corpus(
        src, out, EncoderConfig(encoding="wubi"), ConvertConfig(min_chars=2, max_line_chars=20, progress=False)
    )
    enc = get_encoder(EncoderConfig(encoding="wubi"))
    expected = [enc.encode("他是我的朋友"), enc.encode("Hello 世界 2023"), *(enc.encode(p) for p in split_long("x" * 45, 20))]
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert stats.lines_in == 5 and stats.lines_out == 5
    assert not (tmp_path / "out.txt.partial").exists() and not (tmp_path / "out.txt.progress.json").exists()


@pytest.mark.timeout(300)
def test_two_workers_write_the_same_file(tmp_path):
    src = tmp_path / "in.txt"
    _write(src, [f"第{i}行：他是我的朋友，Hello {i}" for i in range(3000)])
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    convert_corpus(src, one, EncoderConfig(encoding="pinyin"), ConvertConfig(chunk_lines=256, progress=False))
    convert_corpus(src, two, EncoderConfig(encoding="pinyin"), ConvertConfig(chunk_lines=256, workers=2, progress=False))
    assert one.read_bytes() == two.read_bytes()


def test_resume_after_a_crash_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    src = tmp_path / "in.txt"
    _write(src, [f"{i} 号：中文文本" for i in range(1000)])
    ref = tmp_path / "ref.txt"
    convert_corpus(src, ref, EncoderConfig(encoding="stroke"), ConvertConfig(chunk_lines=100, progress=False))

    out = tmp_path / "out.txt"
    real = corpus_mod._encode_lines
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(corpus_mod, "_encode_lines", dying)
    with pytest.raises(KeyboardInterrupt):
        convert_corpus(src, out, EncoderConfig(encoding="stroke"), ConvertConfig(chunk_lines=100, progress=False))
    state = json.loads((tmp_path / "out.txt.progress.json").read_text())
    assert state["lines_in"] == 300
    # a torn write after the last checkpoint must be cut away on resume
    with open(tmp_path / "out.txt.partial", "ab") as f:
        f.write(b"torn")
    monkeypatch.setattr(corpus_mod, "_encode_lines", real)
    stats = convert_corpus(src, out, EncoderConfig(encoding="stroke"), ConvertConfig(chunk_lines=100, progress=False))
    assert stats.resumed and stats.lines_in == 1000
    assert out.read_bytes() == ref.read_bytes()


def test_non_utf8_names_file_and_line(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes("好\n".encode() + b"\xff\xfe\n")
    with pytest.raises(DataError, match=r"bad.txt:2: not UTF-8"):
        convert_corpus(src, tmp_path / "o.txt", config=ConvertConfig(progress=False))
