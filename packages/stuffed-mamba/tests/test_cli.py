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


def test_passkey_demo_resumes(tmp_path, capsys):
    args = ["passkey", "--lengths", "256", "--samples", "2", "--template", "demo", "--out", str(tmp_path)]
    assert main(args) == 0
    (result,) = (tmp_path / "passkey").glob("results_*.json")
    rec = json.loads(result.read_text())
    assert rec["per_length"][0]["samples"] == 2
    assert rec["per_length"][0]["accuracy %"] == 100.0  # the demo's card: 100 % at 256 bytes
    preds = (tmp_path / "passkey" / "preds.jsonl").read_text().splitlines()
    assert len(preds) == 2
    # a rerun resumes (nothing regenerated) and a different method is refused, not mixed
    assert main(args) == 0
    assert len((tmp_path / "passkey" / "preds.jsonl").read_text().splitlines()) == 2
    assert main([*args, "--method", "m3", "--window", "256"]) == 2


def test_loss_curve_and_calibrate(tmp_path):
    assert main(["loss-curve", "--prompt", "haystack", "--length", "2048", "--bucket", "256", "--out", str(tmp_path)]) == 0
    (result,) = (tmp_path / "loss-curve").glob("results_*.json")
    curve = json.loads(result.read_text())["curve"]
    assert curve["n_tokens"] == 2048 and len(curve["means"]) == 6
    tau_file = tmp_path / "tau.json"
    assert main(["calibrate", "--calibration-length", "256", "--write", str(tau_file)]) == 0
    tau = json.loads(tau_file.read_text())["tau"]
    assert len(tau) == 3 and len(tau[0]) == 8


def test_train_long_and_sweep_smoke(tmp_path):
    rc = main(
        ["train-long", "--train-dir", str(tmp_path / "t"), "--steps", "2", "--seq-len", "256", "--segment-tokens", "64"]
        + ["--batch", "2", "--min-len", "128", "--max-len", "512", "--out", str(tmp_path)]
    )
    assert rc == 0
    assert (tmp_path / "t" / "model" / "config.json").is_file()
    # the trained model loads back through the same path as the demo
    assert main(["passkey", "--model", str(tmp_path / "t" / "model"), "--lengths", "256", "--samples", "1"]) == 0
    sweep = tmp_path / "sweep.json"
    sweep.write_text(
        json.dumps({"d_states": [4], "d_model": 16, "n_layers": 1, "seq_len": 128, "eval_lengths": [256], "samples": 1})
    )
    assert main(["capacity", "--sweep", str(sweep), "--sweep-dir", str(tmp_path / "s"), "--max-steps", "1"]) == 0
    assert (tmp_path / "s" / "runs.jsonl").is_file()


def test_passkey_through_hf_backend(tmp_path):
    """Any lc-core backend runs the same protocol (no mitigations there: they need the streaming backend)."""
    args = ["passkey", "--backend", "hf", "--lengths", "256", "--samples", "2", "--template", "demo", "--out", str(tmp_path)]
    assert main(args) == 0
    (result,) = (tmp_path / "passkey").glob("results_*.json")
    assert json.loads(result.read_text())["per_length"][0]["accuracy %"] == 100.0
    assert main([*args, "--method", "m1", "--alpha-scale", "0.9"]) == 2
