"""The ``infbench`` console script end to end (offline), and the torch-free import guarantee.

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_cli.py -q``
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infbench.cli import build_parser, main
from lc_core.inference import base


def _python_ok(code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _register_oracle(monkeypatch, oracle):
    monkeypatch.setitem(base.BACKENDS, "oracle", f"{type(oracle).__module__}:{type(oracle).__name__}")


def test_help_lists_verbs_and_every_flag_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"generate", "run", "score", "report"}
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest} has no help"
            for opt in action.option_strings:
                assert "_" not in opt, f"{name} {opt} is not kebab-case"


def test_one_default_scoring_mode_for_run_score_and_report():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    defaults = {name: sub.choices[name].get_default("mode") for name in ("run", "score", "report")}
    assert defaults == {"run": "fixed", "score": "fixed", "report": "fixed"}


def test_help_imports_no_verb_module():
    code = (
        "import sys\n"
        "from infbench.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('infbench.commands.run', 'infbench.runner', 'infbench.generate', 'numpy', 'torch') "
        "if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    _python_ok(code)


def test_generate_paper_and_custom(tmp_path, capsys):
    assert (
        main(["generate", "--tasks", "passkey,math_calc", "--lengths", "512,1k", "--out", str(tmp_path), "--n-rows", "2"]) == 0
    )
    rows = [json.loads(x) for x in (tmp_path / "passkey.jsonl").read_text().splitlines()]
    assert {r["length"] for r in rows} == {"512", "1024"}
    man = json.loads((tmp_path / "generation_manifest.json").read_text())
    assert man["tasks"]["math_calc"]["rows"] == 4 and man["seed"] == 0
    capsys.readouterr()
    assert main(["generate", "--tasks", "code_debug", "--out", str(tmp_path)]) == 2
    assert "not synthetic" in capsys.readouterr().err


def test_run_generates_scores_and_prints_table(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    argv = ["run", "--backend", "oracle", "--model", "demo", "--lengths", "512,1k", "--n-depths", "3", "--repeats", "1"]
    assert main(argv + ["--n-rows", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Retrieve.PassKey" in out and "100.00" in out and "depth" in out
    # the house layout: <out>/<run-name>/results_<time>.{json,md}, next to the predictions
    (results,) = (tmp_path / "demo").glob("results_*.json")
    assert results.with_suffix(".md").is_file()
    record = json.loads(results.read_text())
    assert record["mode"] == "fixed" and record["scores"]["demo"]["passkey"]["score"] == 100.0
    assert record["manifest"]["data_generation"]["tasks"]["passkey"]["rows"] == 6
    assert (tmp_path / "demo" / "data" / "kv_retrieval.jsonl").is_file()


def test_run_masks_api_keys(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    argv = ["run", "--backend", "oracle", "--model", "m", "--tasks", "passkey", "--lengths", "512", "--n-depths", "2"]
    monkeypatch.setattr(sys, "argv", ["infbench", *argv, "--backend-arg", "api_key=sk-secret-123"])
    assert main(argv + ["--backend-arg", "api_key=sk-secret-123", "--out", str(tmp_path), "--no-progress"]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("results_") for p in written) and any(p.name == "manifest.json" for p in written)
    for path in written:
        assert "sk-secret-123" not in path.read_text(encoding="utf-8"), path


def test_legacy_output_flag_still_works(tmp_path, monkeypatch, oracle, caplog):
    _register_oracle(monkeypatch, oracle)
    argv = ["run", "--backend", "oracle", "--model", "m", "--tasks", "passkey", "--lengths", "512", "--n-depths", "1"]
    assert main(argv + ["--repeats", "1", "--output", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "m" / "preds_passkey.jsonl").is_file()
    assert "--output is deprecated" in caplog.text


def test_score_official_folder(official_preds, capsys, tmp_path):
    out = tmp_path / "scores"
    argv = ["score", str(official_preds / "gpt4"), "--tasks", "passkey,kv_retrieval", "--out", str(out), "--details"]
    assert main(argv + ["--mode", "legacy"]) == 0
    text = capsys.readouterr().out
    assert "| Retrieve.KV (`kv_retrieval`) | 89.00 |" in text
    (results,) = (out / "gpt4").glob("results_*.json")
    record = json.loads(results.read_text())
    assert record["mode"] == "legacy" and record["scores"]["gpt4"]["passkey"]["score"] == 100.0


def test_score_single_file_and_report_with_heatmaps(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    main(
        [
            "run",
            "--backend",
            "oracle",
            "--model",
            "m",
            "--tasks",
            "passkey",
            "--lengths",
            "512,1k",
            "--n-depths",
            "3",
            "--out",
            str(tmp_path / "res"),
            "--no-progress",
            "--truncate",
            "300",
        ]
    )
    assert main(["score", str(tmp_path / "res" / "m" / "preds_passkey.jsonl"), "--mode", "fixed"]) == 0
    pytest.importorskip("matplotlib")
    assert main(["report", str(tmp_path / "res"), "--out", str(tmp_path / "rep")]) == 0
    (md_path,) = (tmp_path / "rep" / "report").glob("results_*.md")
    (png,) = (tmp_path / "rep" / "report").glob("figures_*/heatmap_m_passkey.png")
    assert png.stat().st_size > 1000
    md = md_path.read_text()
    assert "needle depth" in md and f"]({png.parent.name}/heatmap_m_passkey.png)" in md


def test_cli_and_scoring_do_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "import infbench.cli, infbench.scoring, infbench.generate, infbench.report, infbench.runner, infbench.data\n"
        "from infbench.cli import main\n"
        f"main(['generate', '--tasks', 'passkey', '--lengths', '512', '--out', {str(tmp_path)!r}, '--n-depths', '2'])\n"
        "from infbench.scoring import score_one\n"
        "score_one('passkey', '1', '1')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'transformers' not in sys.modules\n"
    )
    _python_ok(code)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score", "/nonexistent/folder"], "not a folder"),
        (["run", "--model", "lc-core/demo-mamba2-missing", "--backend", "nope"], "unknown backend"),
        (["generate", "--tasks", "passkey", "--lengths", "12", "--out", "OUT"], "length must be >= 64"),
        (["generate", "--tasks", "passkey", "--lengths", "4q", "--out", "OUT"], "not a length: '4q'"),
        (["run", "--tasks", "code_debug", "--backend", "nope"], "--data is required"),
        (["run", "--tasks", "passkey", "--shard", "3/2"], "shard must satisfy"),
        (["run", "--tasks", "passkey", "--max-new-tokens", "passkey=many"], "needs a non-negative integer"),
        (["run", "--tasks", "passkey", "--backend-arg", "novalue"], "--backend-arg must look like KEY=VALUE"),
        (["run", "--tasks", "nope"], "unknown task 'nope'"),
    ],
    ids=[
        "missing-folder",
        "unknown-backend",
        "tiny-length",
        "bad-length",
        "realistic-no-data",
        "bad-shard",
        "bad-budget",
        "bad-backend-arg",
        "unknown-task",
    ],
)
def test_user_errors_are_one_line(argv, message, tmp_path, capsys):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if x.startswith("infbench: error: ")]
    assert message in line


def test_unreachable_api_is_one_line_and_rc2(tmp_path, capsys):
    """An OpenAI-compatible server that is not there: one line naming the URL, exit 2, no traceback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    argv = ["run", "--backend", "openai", "--model", "lc-core/demo-mamba2", "--tasks", "passkey", "--lengths", "512"]
    argv += ["--n-depths", "1", "--repeats", "1", "--backend-arg", f"base_url={url}", "--backend-arg", "max_retries=0"]
    assert main(argv + ["--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("infbench: error:")]
    assert "Traceback" not in err and url in line
    # the served name went to the server, never the embedded model's folder
    assert "'lc-core/demo-mamba2'" in line and "assets" not in line


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (
            {"id": 0, "prediction": "[1, 2]", "ground_truth": {"values": [1, 2]}},
            "preds_math_calc.jsonl:1: field 'ground_truth'",
        ),
        ({"id": 0, "prediction": "1", "ground_truth": []}, "preds_math_calc.jsonl:1: field 'ground_truth'"),
    ],
    ids=["dict-label", "empty-label"],
)
def test_score_refuses_bad_labels_with_location(tmp_path, capsys, row, needle):
    path = tmp_path / "m" / "preds_math_calc.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(row) + "\n")
    for mode in ("fixed", "legacy"):
        assert main(["score", str(path), "--mode", mode]) == 2
        out = capsys.readouterr()
        assert needle in out.err and "%" not in out.out and "|" not in out.out


def test_score_empty_file_is_an_error_not_zero(tmp_path, capsys):
    path = tmp_path / "m" / "preds_passkey.jsonl"
    path.parent.mkdir()
    path.write_text("")
    assert main(["score", str(path)]) == 2
    out = capsys.readouterr()
    assert "preds_passkey.jsonl" in out.err and "empty" in out.err and "0.00" not in out.out


def test_run_on_an_empty_data_file_is_an_error(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "passkey.jsonl").write_text("\n")
    argv = ["run", "--backend", "oracle", "--model", "m", "--tasks", "passkey", "--data", str(tmp_path / "data")]
    assert main(argv + ["--out", str(tmp_path / "res"), "--no-progress"]) == 2
    out = capsys.readouterr()
    assert "passkey.jsonl" in out.err and "empty" in out.err and "0.00" not in out.out


def test_bad_prediction_file_reports_line(tmp_path, capsys):
    (tmp_path / "preds_passkey.jsonl").write_text('{"id": 0, "prediction": "1", "ground_truth": "1"}\n{"id": 1,\n')
    assert main(["score", str(tmp_path / "preds_passkey.jsonl")]) == 2
    assert "preds_passkey.jsonl:2" in capsys.readouterr().err


def test_quickstart_runs_the_embedded_demo_model(tmp_path, capsys):
    """The README main command, shortened: the real hf backend on lc-core's packaged demo Mamba-2, offline."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    argv = ["run", "--model", "lc-core/demo-mamba2", "--tasks", "passkey", "--lengths", "1k", "--n-depths", "2"]
    assert main(argv + ["--repeats", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "Retrieve.PassKey" in capsys.readouterr().out
    (results,) = (tmp_path / "lc-core--demo-mamba2").glob("results_*.json")
    record = json.loads(results.read_text())
    # the card reports 90 % at 1024 bytes: two rows at depths 0 and 1 are within what the model retrieves
    assert record["scores"]["lc-core--demo-mamba2"]["passkey"]["score"] == 100.0
    preds = (tmp_path / "lc-core--demo-mamba2" / "preds_passkey.jsonl").read_text().splitlines()
    assert len(preds) == 2
