"""The ``subchar`` console script: verbs, results layout, error policy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from subchar.cli import main


def test_help_imports_no_verb_module():
    code = "import sys; from subchar.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    code += "print('subchar.commands' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_encode_decode_roundtrip(capsys):
    assert main(["encode", "--encoding", "wubi", "中国 Hello"]) == 0
    code = capsys.readouterr().out.strip()
    assert code.startswith("k쎯l쎯")
    assert main(["decode", "--encoding", "wubi", code]) == 0
    assert capsys.readouterr().out.strip() == "中国 Hello"


def test_encode_legacy_and_noindex(capsys):
    assert main(["encode", "--legacy", "--no-index", "他 是，Ａ"]) == 0
    assert capsys.readouterr().out.strip() == main_encode_expected()


def main_encode_expected() -> str:
    from subchar.encoder import EncoderConfig, get_encoder

    return get_encoder(EncoderConfig.legacy("pinyin", index=False)).encode("他 是，Ａ")


def test_tokenize_shows_every_shipped_tokenizer(capsys):
    assert main(["tokenize", "他是我的朋友，Hello 2023！"]) == 0
    out = capsys.readouterr().out
    for name in ("subchar/pinyin", "subchar/pinyin-noindex", "subchar/wubi", "subchar/wubi-noindex"):
        assert f"[{name}] pieces:" in out
    assert out.count("| exact |") >= 2


def test_train_then_stats_with_results_layout(tmp_path, small_corpus, capsys):
    out = tmp_path / "tok"
    argv = ["train", "--corpus", small_corpus, "--encoding", "stroke", "--vocab-size", "400", "--out", str(out)]
    assert main([*argv, "--no-progress", "--num-threads", "1"]) == 0
    assert (out / "subchar.model").is_file() and not (out / "work").exists()
    text = tmp_path / "held.txt"
    text.write_text("他是我的朋友\n我们一起学习中文\n", encoding="utf-8")
    argv = ["stats", "--text", str(text), "--tokenizer", str(out), "--out", str(tmp_path / "res"), "--no-throughput"]
    assert main([*argv, "--plot", str(tmp_path / "lengths.png")]) == 0
    assert (tmp_path / "lengths.png").stat().st_size > 1000
    files = list((tmp_path / "res" / "stats").glob("results_*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["manifest"]["versions"]["subchar"]
    assert record["lengths"][0]["tokenizer"] == "char-level" and record["lengths"][0]["tokens"] == 14


def test_noise_verb(capsys):
    assert main(["noise", "--ratio", "1.0", "他是我的朋友"]) == 0
    assert capsys.readouterr().out.strip() != "他是我的朋友"


def test_tables_verb_compares_with_the_shipped_files(tmp_path, capsys):
    rc = main(["tables", "--tables", "pinyin", "wubi", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "| pinyin |" in out and "True" in out
    assert list((tmp_path / "tables").glob("results_*.md"))


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--corpus", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "subchar: error:" in err and "missing.txt" in err and "Traceback" not in err
    assert main(["encode", "--encoding", "wubi", "--no-index", "--no-tone", "x"]) == 2
    assert "tonal" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"], ["encode", "--help"]])
def test_version_and_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0


def test_train_with_a_user_table(tmp_path, capsys):
    table = tmp_path / "zhengma.txt"
    table.write_text("[Data]\nj 中\njc 国\nd 的\nd 大\nab 人\n", encoding="utf-8")
    corpus = tmp_path / "c.txt"
    corpus.write_text("中国的人大\n" * 50 + "Hello 中国\n", encoding="utf-8")
    out = tmp_path / "tok"
    argv = ["train", "--corpus", str(corpus), "--encoding", "zhengma", "--table", str(table), "--vocab-size", "120"]
    assert main([*argv, "--out", str(out), "--no-progress", "--no-hard-vocab-limit"]) == 0
    from subchar.tokenizer import SubCharTokenizer

    tok = SubCharTokenizer.from_pretrained(out)
    assert {tok.encoder.encode("的"), tok.encoder.encode("大")} == {"d0쎯", "d1쎯"}
    assert tok.decode(tok("中国的人大 Hello", add_special_tokens=False)["input_ids"]) == "中国的人大 Hello"
