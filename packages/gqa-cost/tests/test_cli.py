"""Tests of the gqa-cost console script (lc_core.cli verbs, results layout, error messages).

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_cli.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gqa_cost.cli import build_parser, main


def _results(folder: Path) -> dict:
    """The newest ``results_*.json`` of a run folder (lc_core.report.emit layout), checking its ``.md`` twin."""
    found = sorted(folder.glob("results_*.json"))
    assert found, f"no results in {folder}"
    assert found[-1].with_suffix(".md").is_file()
    return json.loads(found[-1].read_text())


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for verb in ("cost", "compare", "fit", "search", "table", "headline", "calibrate", "sweep"):
        assert verb in out


def test_help_imports_neither_scipy_nor_a_verb_module():
    # `gqa-cost --help` took seconds because scipy.optimize was imported with the CLI module
    code = (
        "import sys\n"
        "from gqa_cost.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('scipy', 'scipy.optimize', 'torch', 'matplotlib', 'gqa_cost.commands', "
        "'gqa_cost.search', 'gqa_cost.laws') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "HEAVY []" in out


def test_cost_verb_does_not_import_scipy():
    code = (
        "import sys\nfrom gqa_cost.cli import main\n"
        "assert main(['cost', 'llama-3.2-1b', '--context', '8k']) == 0\n"
        "print('SCIPY', 'scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "SCIPY False" in out


def test_cost_breakdown_at_128k(capsys, tmp_path):
    assert main(["cost", "llama-3.2-1b", "--context", "128k", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # 4 GiB of BF16 KV cache at 131,072 tokens
    assert "4.000 GiB" in out and "131072" in out
    record = _results(tmp_path / "llama-3.2-1b")
    assert record["results"][0]["memory_bytes"]["kv"] == 4 * 2**30
    assert record["results"][0]["units"]["memory"] == "GB"
    assert record["manifest"]["config"]["context"] == ["128k"]


def test_kv_cache_dtype_flag_changes_kv_memory_only(capsys, tmp_path):
    argv = ["cost", "llama-3.2-1b", "--context", "128k", "--out", str(tmp_path)]
    assert main([*argv, "--run-name", "bf16"]) == 0
    assert main([*argv, "--run-name", "fp8-kv", "--kv-bytes-per-elem", "1"]) == 0
    bf16 = _results(tmp_path / "bf16")["results"][0]
    fp8 = _results(tmp_path / "fp8-kv")["results"][0]
    assert fp8["memory_bytes"]["kv"] == 2 * 2**30 == bf16["memory_bytes"]["kv"] / 2
    assert fp8["memory_bytes"]["weights"] == bf16["memory_bytes"]["weights"]
    assert fp8["memory"]["kv"] == pytest.approx(bf16["memory"]["kv"] / 2)
    assert fp8["Z"] < bf16["Z"]
    assert fp8["units"]["kv_bytes_per_elem"] == 1 and bf16["units"]["kv_bytes_per_elem"] == 2
    assert "KV cache 1 B/value" in capsys.readouterr().out


def test_custom_model_from_flags(capsys):
    assert main(["cost", "--n-layers", "2", "--d-model", "128", "--n-heads", "4", "--n-kv-heads", "2", "--context", "1k"]) == 0
    assert "custom" in capsys.readouterr().out


def test_compare_paper_pair(capsys, tmp_path):
    assert main(["compare", "paper-llama3-gqa-1.2b", "paper-ours-1.8b", "--context", "128k", "--out", str(tmp_path)]) == 0
    rec = _results(tmp_path / "paper-llama3-gqa-1.2b-vs-paper-ours-1.8b")["results"][0]
    assert rec["memory_change"] < -0.5 and rec["flops_change"] < -0.5


def test_table_reports_match_count(capsys):
    assert main(["table"]) == 0
    out = capsys.readouterr().out
    assert "matches the paper's Table 4 in" in out and "of 40 cells" in out


def test_headline(capsys, tmp_path):
    assert main(["headline", "--out", str(tmp_path), "--run-name", "h"]) == 0
    rec = _results(tmp_path / "h")
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
    assert main(["fit", str(runs), "--out", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "32,8" in out and "WARNING" not in out
    fits = tmp_path / "results" / "runs"
    assert _results(fits)["warnings"] == []
    # the run folder and its results file both work as --laws
    for laws in (fits, sorted(fits.glob("results_*.json"))[-1]):
        assert main(["search", "--laws", str(laws), "--target-loss", "2.6", "--context", "32k"]) == 0
        out = capsys.readouterr().out
        assert "best H = (" in out and "fitted" in out


def _write_runs(path: Path, rows: list[tuple[int, int, float, float]]) -> Path:
    path.write_text("".join(json.dumps(dict(zip(("n_heads", "n_kv_heads", "n_params", "loss"), r))) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([(4, 1, 1e8, 3.0)] * 4, "only 1 distinct n_params"),
        ([(4, 1, 1e7, 3.0), (4, 1, 1e8, 3.2), (4, 1, 1e9, 3.5)], "loss rises with n_params"),
        ([(4, 1, n, 3.0) for n in (1e7, 1e8, 1e9)], "every loss is 3"),
    ],
    ids=["duplicate-rows", "loss-rising", "constant-loss"],
)
@pytest.mark.parametrize("per_head_e", [False, True], ids=["shared-E", "per-head-E"])
def test_fit_refuses_degenerate_runs(tmp_path, capsys, rows, reason, per_head_e):
    # these used to exit 0 with R² = nan and arbitrary a, b, E
    runs = _write_runs(tmp_path / "runs.jsonl", rows)
    argv = ["fit", str(runs), "--out", str(tmp_path / "out")] + (["--per-head-e"] if per_head_e else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "runs.jsonl" in err and reason in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_fit_warns_loudly_on_a_poor_fit(tmp_path, capsys):
    # falls overall, but no size law explains the zig-zag: the fit is reported with its reasons
    runs = _write_runs(tmp_path / "runs.jsonl", [(4, 1, n, y) for n, y in zip((1e7, 1e8, 1e9, 1e10), (3.0, 2.9, 3.0, 2.85))])
    assert main(["fit", str(runs), "--per-head-e", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "WARNING: H=(4, 1): R² =" in out and "Do not extrapolate" in out
    record = _results(tmp_path / "runs")
    assert record["warnings"] and record["fits"][0]["warnings"] == record["warnings"]


def test_headline_needs_both_heads(tmp_path, capsys):
    laws = tmp_path / "laws.json"
    laws.write_text(json.dumps({"laws": [{"n_heads": 4, "n_kv_heads": 1, "a": 1e8, "b": 0.3, "E": 2.0}]}))
    assert main(["headline", "--laws", str(laws)]) == 2
    assert "no law for (32,8), (8,1)" in capsys.readouterr().err


def test_calibrate_flags_come_from_the_spec():
    args = build_parser(["calibrate"]).parse_args(["calibrate", "--write", "x.json", "--n-starts", "3", "--maxiter", "5"])
    assert (args.n_starts, args.maxiter, args.seed) == (3, 5, 0)
    # the old spelling still parses (hidden)
    assert build_parser(["calibrate"]).parse_args(["calibrate", "--write", "x", "--starts", "4"]).n_starts == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cost", "--n-layers", "2", "--d-model", "64", "--n-heads", "4", "--n-kv-heads", "3"], "divisible"),
        (["cost", "--n-layers", "2"], "--d-model"),
        (["cost", "llama-9"], "neither a preset"),
        (["search", "--target-loss", "2.6", "--laws", "missing.json"], "missing.json"),
        (["compare", "llama-3.2-1b", "nope.json"], "unknown model 'nope.json'"),
        (["search", "--target-loss", "1.0"], "irreducible"),
        (["search", "--target-loss", "2.6", "--context", "lots"], "context length"),
        (["fit", "missing.jsonl"], "no such file"),
    ],
    ids=[
        "kv-not-divisor",
        "missing-flags",
        "unknown-model",
        "missing-laws",
        "unknown-compared",
        "loss-below-E",
        "bad-context",
        "missing-runs",
    ],
)
def test_bad_input_exits_2_with_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    # one line for the error, one pointing at --debug
    assert len(err.strip().splitlines()) == 2


def test_fit_reports_missing_column(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("n_heads,n_kv_heads,loss\n4,2,3.0\n")
    assert main(["fit", str(path)]) == 2
    assert "runs.csv:1: field 'n_params'" in capsys.readouterr().err
