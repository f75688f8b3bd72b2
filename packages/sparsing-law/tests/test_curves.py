"""Curves from sparsity logs: law fits recover synthetic laws, trends, errors; the ``curve`` verb."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparsing_law import laws
from sparsing_law.cli import main
from sparsing_law.curves import fit_curve, load_run_curve

RELU = (0.8, -1.0, 1.5, 0.12)
SILU = (0.7, 0.05, 0.4)


def _write_run(folder, act, params, *, cetts=(0.2,), n=12):
    folder.mkdir(parents=True, exist_ok=True)
    law = laws.relu_law if act == "relu" else laws.silu_law
    tokens = [0, *np.geomspace(2e4, 3e6, n).round().astype(int).tolist()]
    lines = []
    for i, t in enumerate(tokens):
        a = float(law(max(t, 1) / 1e6, *params))
        row = {
            "step": i,
            "tokens": t,
            "dense_loss": 1.0,
            "zero": a + 0.3,
            "cett": {f"{c:g}": {"activation": a} for c in cetts},
        }
        lines.append(json.dumps(row))
    (folder / "sparsity.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "config.json").write_text(json.dumps({"model_type": "lc-gqa", "activation": act}))
    return folder


def test_fit_recovers_both_laws_and_trends(tmp_path):
    relu = fit_curve(load_run_curve(_write_run(tmp_path / "r", "relu", RELU)))
    silu = fit_curve(load_run_curve(_write_run(tmp_path / "s", "silu", SILU)))
    assert relu.own == "relu" and silu.own == "silu"
    # the initialisation (0 tokens) is left out, D is in millions
    assert len(relu.curve.d) == 12 and relu.curve.d[0] == pytest.approx(0.02)
    assert relu.fits["relu"].mae < 1e-6 and silu.fits["silu"].mae < 1e-6
    assert relu.fits["relu"].params[-1] == pytest.approx(RELU[-1], abs=1e-4)
    assert silu.fits["silu"].params[-1] == pytest.approx(SILU[-1], abs=1e-4)
    assert relu.log_slope < 0 < silu.log_slope
    assert relu.curve.to_sparsing_law_data()["token_passed"][0] == pytest.approx(2e4)


def test_curve_errors(tmp_path):
    run = _write_run(tmp_path / "r", "relu", RELU)
    with pytest.raises(ValueError, match="no activation at CETT 0.5 \\(logged: 0.2\\)"):
        load_run_curve(run, cett=0.5)
    with pytest.raises(FileNotFoundError, match="sparsity.jsonl"):
        load_run_curve(tmp_path / "missing")
    (run / "config.json").write_text(json.dumps({"activation": "gelu"}))
    with pytest.raises(ValueError, match="pass act"):
        fit_curve(load_run_curve(run))
    assert fit_curve(load_run_curve(run), act="relu").own == "relu"


def test_curve_verb(tmp_path, capsys):
    r = _write_run(tmp_path / "relu-run", "relu", RELU)
    s = _write_run(tmp_path / "silu-run", "silu", SILU)
    rc = main(["curve", str(r), str(s / "sparsity.jsonl"), "--out", str(tmp_path / "res"), "--run-name", "c"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "relu-run (relu, CETT 0.2): activation falls with data" in out
    assert "silu-run (silu, CETT 0.2): activation rises with data" in out
    (res,) = (tmp_path / "res" / "c").glob("results_*.json")
    record = json.loads(res.read_text())
    assert [run["own_law"] for run in record["runs"]] == ["relu", "silu"]
    assert main(["curve", str(r), "--zero"]) == 0
    assert "(relu, zero)" in capsys.readouterr().out
    assert main(["curve", str(r), "--cett", "0.9"]) == 2
    assert main(["curve", str(tmp_path / "nothing")]) == 2


def test_curve_plot(tmp_path):
    pytest.importorskip("matplotlib")
    r = _write_run(tmp_path / "r", "relu", RELU)
    assert main(["curve", str(r), "--drop", "2", "--plot", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000
