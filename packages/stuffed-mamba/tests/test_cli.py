"""The console script: verbs run offline on the demo model, bad input is one line and exit code 2."""

import json

import pytest

from stuffed_mamba.cli import main


def test_capacity_formulas(tmp_path, capsys):
    assert main(["capacity", "--formulas", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4847616" in out and "12914688" in out
    (result,) = (tmp_path / "capacity").glob("results_*.json")
    rows = json.loads(result.read_text())["rows"]
    assert rows[0]["model"] == "mamba2-130m"


def test_analyze_demo_model(tmp_path, capsys):
    rc = main(["analyze", "--length", "1024", "--train-length", "256", "--every", "256", "--out", str(tmp_path)])
    assert rc == 0
    (result,) = (tmp_path / "analyze").glob("results_*.json")
    rec = json.loads(result.read_text())
    assert rec["length"] == 1024
    assert rec["traces"]["0"]["positions"] == [256, 512, 768, 1024]
    assert len(rec["traces"]["2"]["rms"][0]) == 8  # 8 heads of the demo model


def test_missing_prompt_file_is_one_line(capsys, tmp_path):
    rc = main(["analyze", "--prompt", str(tmp_path / "nope.txt"), "--length", "128"])
    err = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert rc == 2 and len(err) == 1 and "nope.txt" in err[0]


@pytest.mark.parametrize("method", ["m1", "m2", "m3"])
def test_analyze_with_methods(method, tmp_path):
    args = ["analyze", "--length", "512", "--every", "128", "--method", method, "--out", str(tmp_path), "--run-name", method]
    args += {"m1": ["--alpha-scale", "0.99"], "m2": ["--calibration-length", "128"], "m3": ["--window", "256"]}[method]
    assert main(args) == 0
    (result,) = (tmp_path / method).glob("results_*.json")
    assert json.loads(result.read_text())["method"].startswith(method)
