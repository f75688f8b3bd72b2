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


def test_generate_paper_and_custom(tmp_path, capsys):
    assert (
        main(["generate", "--tasks", "passkey,math_calc", "--lengths", "512,1k", "--out", str(tmp_path), "--n-rows", "2"]) == 0
    )
    rows = [json.loads(x) for x in (tmp_path / "passkey.jsonl").read_text().splitlines()]
    assert {r["length"] for r in rows} == {"512", "1024"}
    man = json.loads((tmp_path / "generation_manifest.json").read_text())
    assert man["tasks"]["math_calc"]["rows"] == 4 and man["seed"] == 0
    with pytest.raises(SystemExit, match="not synthetic"):
        main(["generate", "--tasks", "code_debug", "--out", str(tmp_path)])


def test_run_generates_scores_and_prints_table(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    argv = ["run", "--backend", "oracle", "--model", "demo", "--lengths", "512,1k", "--n-depths", "3", "--repeats", "1"]
    assert main(argv + ["--n-rows", "2", "--output", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Retrieve.PassKey" in out and "100.00" in out and "depth" in out
    results = list((tmp_path / "demo").glob("results_*.json"))
    record = json.loads(results[0].read_text())
    assert record["scores"]["passkey"]["score"] == 100.0
    assert record["manifest"]["data_generation"]["tasks"]["passkey"]["rows"] == 6
    assert (tmp_path / "demo" / "data" / "kv_retrieval.jsonl").is_file()


def test_run_masks_api_keys(tmp_path, monkeypatch, oracle, capsys):
    _register_oracle(monkeypatch, oracle)
    argv = ["run", "--backend", "oracle", "--model", "m", "--tasks", "passkey", "--lengths", "512", "--n-depths", "2"]
    main(argv + ["--backend-arg", "api_key=sk-secret-123", "--output", str(tmp_path), "--no-progress"])
    for path in (tmp_path / "m").glob("*.json"):
        assert "sk-secret-123" not in path.read_text()


def test_score_official_folder(official_preds, capsys, tmp_path):
    out = tmp_path / "scores"
    assert (
        main(["score", str(official_preds / "gpt4"), "--tasks", "passkey,kv_retrieval", "--out", str(out), "--details"]) == 0
    )
    text = capsys.readouterr().out
    assert "| Retrieve.KV (`kv_retrieval`) | 89.00 |" in text
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["scores"]["gpt4"]["passkey"]["score"] == 100.0


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
            "--output",
            str(tmp_path / "res"),
            "--no-progress",
            "--truncate",
            "300",
        ]
    )
    assert main(["score", str(tmp_path / "res" / "m" / "preds_passkey.jsonl"), "--mode", "fixed"]) == 0
    pytest.importorskip("matplotlib")
    assert main(["report", str(tmp_path / "res"), "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "heatmap_m_passkey.png").stat().st_size > 1000
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "needle depth" in md and "heatmap_m_passkey.png" in md


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
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score", "/nonexistent/folder"], "not a folder"),
        (["run", "--model", "lc-core/demo-mamba2-missing", "--backend", "nope"], "unknown backend"),
        (["generate", "--tasks", "passkey", "--lengths", "12", "--out", "OUT"], "length must be >= 64"),
    ],
    ids=["missing-folder", "unknown-backend", "tiny-length"],
)
def test_user_errors_are_one_line(argv, message, tmp_path, capsys):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_prediction_file_reports_line(tmp_path, capsys):
    (tmp_path / "preds_passkey.jsonl").write_text('{"id": 0, "prediction": "1", "ground_truth": "1"}\n{"id": 1,\n')
    assert main(["score", str(tmp_path / "preds_passkey.jsonl")]) == 2
    assert "preds_passkey.jsonl:2" in capsys.readouterr().err


def test_quickstart_runs_the_embedded_demo_model(tmp_path, capsys):
    """The README main command, shortened: the real hf backend on lc-core's packaged demo Mamba-2, offline."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    argv = ["run", "--model", "lc-core/demo-mamba2", "--tasks", "passkey", "--lengths", "1k", "--n-depths", "2"]
    assert main(argv + ["--repeats", "1", "--output", str(tmp_path), "--no-progress"]) == 0
    assert "Retrieve.PassKey" in capsys.readouterr().out
    results = list((tmp_path / "lc-core--demo-mamba2").glob("results_*.json"))
    record = json.loads(results[0].read_text())
    # the card reports 90 % at 1024 bytes: two rows at depths 0 and 1 are within what the model retrieves
    assert record["scores"]["passkey"]["score"] == 100.0
    preds = (tmp_path / "lc-core--demo-mamba2" / "preds_passkey.jsonl").read_text().splitlines()
    assert len(preds) == 2
