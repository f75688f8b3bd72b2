"""Tests of the gqa-cost console script (argparse verbs, outputs, error messages).

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_cli.py -q
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gqa_cost.cli import build_parser, main


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for verb in ("cost", "compare", "fit", "search", "table", "headline", "calibrate", "sweep"):
        assert verb in out


def test_cost_breakdown_at_128k(capsys, tmp_path):
    assert main(["cost", "llama-3.2-1b", "--context", "128k", "--out", str(tmp_path / "cost")]) == 0
    out = capsys.readouterr().out
    # 4 GiB of BF16 KV cache at 131,072 tokens
    assert "4.000 GiB" in out and "131072" in out
    record = json.loads((tmp_path / "cost.json").read_text())
    assert record["results"][0]["memory_bytes"]["kv"] == 4 * 2**30
    assert record["results"][0]["units"]["memory"] == "GB"
    assert (tmp_path / "cost.md").is_file()


def test_custom_model_from_flags(capsys):
    assert main(["cost", "--n-layers", "2", "--d-model", "128", "--n-heads", "4", "--n-kv-heads", "2", "--context", "1k"]) == 0
    assert "custom" in capsys.readouterr().out


def test_compare_paper_pair(capsys, tmp_path):
    assert (
        main(["compare", "paper-llama3-gqa-1.2b", "paper-ours-1.8b", "--context", "128k", "--out", str(tmp_path / "c")]) == 0
    )
    rec = json.loads((tmp_path / "c.json").read_text())["results"][0]
    assert rec["memory_change"] < -0.5 and rec["flops_change"] < -0.5


def test_table_reports_match_count(capsys):
    assert main(["table"]) == 0
    out = capsys.readouterr().out
    assert "matches the paper's Table 4 in" in out and "of 40 cells" in out


def test_headline(capsys, tmp_path):
    assert main(["headline", "--out", str(tmp_path / "h")]) == 0
    rec = json.loads((tmp_path / "h.json").read_text())
    assert rec["memory_change"] < -0.5 and rec["flops_change"] < -0.5
    assert rec["manifest"]["config"]["target_loss"] == 2.615


def test_fit_then_search_with_fitted_laws(tmp_path, capsys):
    rows = []
    sizes = np.geomspace(3e6, 1e9, 6)
    for (h, kv), a in (((32, 8), 1.6e8), ((8, 1), 2.4e8), ((16, 4), 2.0e8)):
        for n in sizes:
            rows.append({"n_heads": h, "n_kv_heads": kv, "n_params": float(n), "loss": float((a / n) ** 0.45 + 2.2)})
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["fit", str(runs), "--out", str(tmp_path / "fits")]) == 0
    assert "32,8" in capsys.readouterr().out
    assert main(["search", "--laws", str(tmp_path / "fits.json"), "--target-loss", "2.6", "--context", "32k"]) == 0
    out = capsys.readouterr().out
    assert "best H = (" in out and "fitted" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cost", "--n-layers", "2", "--d-model", "64", "--n-heads", "4", "--n-kv-heads", "3"], "divisible"),
        (["cost", "--n-layers", "2"], "--d-model"),
        (["cost", "llama-9"], "neither a preset"),
        (["search", "--target-loss", "1.0"], "irreducible"),
        (["search", "--target-loss", "2.6", "--context", "lots"], "context length"),
        (["fit", "missing.jsonl"], "no such file"),
    ],
    ids=["kv-not-divisor", "missing-flags", "unknown-model", "loss-below-E", "bad-context", "missing-runs"],
)
def test_bad_input_exits_2_with_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_fit_reports_missing_column(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("n_heads,n_kv_heads,loss\n4,2,3.0\n")
    assert main(["fit", str(path)]) == 2
    assert "runs.csv:1: field 'n_params'" in capsys.readouterr().err
