"""The sparsing-law CLI: fit on the released data, thresholds I/O, measure/apply on a saved tiny GQA model."""

from __future__ import annotations

import json

import pytest

from lc_core.testing import shared_data_dir
from sparsing_law.cli import main
from sparsing_law.thresholds import format_thresholds_line, load_thresholds, parse_thresholds_line, save_thresholds


def test_fit_prints_law_and_writes_results(tmp_path, capsys):
    data = shared_data_dir("sparsing-law-data")
    if data is None:
        pytest.skip("SKIPPED LOUDLY: sparsing-law-data not found")
    rc = main(["fit", str(data / "0.1b_relu.txt"), "--act", "relu", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "limit activation ratio A0 = 0.061" in out and "paper Table 2" in out
    (res,) = (tmp_path / "0.1b_relu").glob("results_*.json")
    record = json.loads(res.read_text())
    assert record["fit"]["mae"] <= record["paper"]["mae"] + 1e-5


def test_thresholds_roundtrip(tmp_path):
    ths = [1.5e-2, 3.25e-1]
    assert format_thresholds_line(ths) == "thresholds=1.5000e-02,3.2500e-01"
    assert parse_thresholds_line("thresholds=1.5000e-02,3.2500e-01") == ths
    save_thresholds(tmp_path / "t.json", ths, cett=0.2)
    assert load_thresholds(tmp_path / "t.json") == ths
    (tmp_path / "t.txt").write_text("Thresholds List for Evaluation:\nthresholds=1.5000e-02,3.2500e-01\n")
    assert load_thresholds(tmp_path / "t.txt") == ths
    (tmp_path / "bad.txt").write_text("thresholds=1,x\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        load_thresholds(tmp_path / "bad.txt")


def test_measure_and_apply_on_saved_model(tmp_path, tiny_gqa, capsys):
    pytest.importorskip("torch")
    from transformers import ByT5Tokenizer

    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    model = GQAForCausalLM(GQAConfig(vocab_size=264, d_model=32, n_layers=2, n_heads=2, d_ff=64, activation="relu"))
    model.save_pretrained(tmp_path / "m")
    ByT5Tokenizer(extra_ids=0).save_pretrained(tmp_path / "m")
    text = tmp_path / "t.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. " * 20)
    base = ["--model", str(tmp_path / "m"), "--data", str(text), "--seq-len", "64", "--max-sequences", "4", "--device", "cpu"]
    assert main(["measure", *base, "--metric", "cett", "--arg", "0.2", "--thresholds-out", str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "thresholds=" in out and "Average activation:" in out and "PPL ratio:" in out
    assert main(["apply", *base, "--thresholds", str(tmp_path / "t.json")]) == 0
    assert "Average activation:" in capsys.readouterr().out
    assert main(["measure", *base, "--metric", "topk", "--arg", "0.25"]) == 0
    assert "Average activation: 25.00%" in capsys.readouterr().out
    assert main(["measure", *base, "--metric", "topk"]) == 2
