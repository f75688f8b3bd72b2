"""Tests for lc_core.report and the torch-free base import."""

import json
import subprocess
import sys

from lc_core.report import markdown_table, run_manifest, write_results


def test_markdown_table_layout():
    rows = [{"task": "passkey", "acc": 100.0, "n": 590}, {"task": "kv|x", "acc": None, "n": 500}]
    out = markdown_table(rows, ["task", "acc", "n"], headers={"acc": "Acc (%)"}, precision=1)
    lines = out.strip().splitlines()
    assert lines[0] == "| task | Acc (%) | n |"
    assert lines[1] == "| :--- | ---: | ---: |"
    assert lines[2] == "| passkey | 100.0 | 590 |"
    assert lines[3] == "| kv\\|x | — | 500 |"


def test_manifest_masks_secrets():
    m = run_manifest(
        {"model": "m", "api_key": "sk-SECRET", "nested": {"hf_token": "hf_SECRET", "Authorization": "Bearer SECRET"}},
        task="passkey",
        max_new_tokens=6,
        tokenizer="bytes",
    )
    text = json.dumps(m)
    assert "SECRET" not in text
    # names that merely contain "key"/"token" are data, not secrets
    assert m["task"] == "passkey" and m["max_new_tokens"] == 6 and m["tokenizer"] == "bytes"
    assert m["versions"].get("tokenizers", "absent") != "***"
    assert m["config"]["model"] == "m" and m["versions"]["lc-core"]


def test_write_results_json_and_md(tmp_path):
    j, md = write_results(tmp_path / "results_x", {"scores": {"a": 1.0}, "token": "abc"}, "| a |\n")
    assert json.loads(j.read_text())["token"] == "***"
    assert md.read_text() == "| a |\n"


def test_base_import_is_torch_free():
    code = (
        "import sys, lc_core, lc_core.io, lc_core.report, lc_core.inference, lc_core.logging, lc_core.testing, "
        "lc_core.models, lc_core.models.builtin; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_emit_layout_and_manifest(tmp_path):
    from lc_core.report import emit

    paths = emit(tmp_path, "org/model", {"scores": {"a": 1}}, "| a |\n", config={"x": 1}, packages=["lc-core"], stamp="T")
    assert paths.json == tmp_path / "org--model" / "results_T.json"
    assert paths.markdown.read_text() == "| a |\n"
    rec = json.loads(paths.json.read_text())
    assert rec["scores"] == {"a": 1} and rec["manifest"]["config"] == {"x": 1}


def test_argv_and_env_secrets_never_reach_results(tmp_path, monkeypatch):
    from lc_core.report import emit, scrub_argv

    monkeypatch.setenv("OPENAI_API_KEY", "sk-envsecret-123456")
    argv = [
        "infbench",
        "run",
        "--backend-arg",
        "api_key=sk-argsecret-1",
        "--api-key",
        "sk-flagsecret-2",
        "--hf-token=hf_eqsecret_3",
        "--prompt",
        "uses sk-envsecret-123456 inline",
        "--passkey-len",
        "5",
    ]
    assert scrub_argv(argv) == [
        "infbench",
        "run",
        "--backend-arg",
        "api_key=***",
        "--api-key",
        "***",
        "--hf-token=***",
        "--prompt",
        "uses *** inline",
        "--passkey-len",
        "5",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    paths = emit(tmp_path, "m", {"note": "key sk-envsecret-123456"}, "sk-envsecret-123456 |\n")
    for f in tmp_path.rglob("*"):
        if f.is_file():
            text = f.read_text()
            for secret in ("sk-argsecret-1", "sk-flagsecret-2", "hf_eqsecret_3", "sk-envsecret-123456"):
                assert secret not in text, (f, secret)
    assert "--passkey-len" in paths.json.read_text()


def test_setup_logging_is_idempotent_and_follows_stderr(capsys):
    import logging

    from lc_core.logging import setup_logging

    setup_logging()
    setup_logging("DEBUG")
    handlers = [h for h in logging.getLogger().handlers if type(h).__name__ == "_StderrHandler"]
    assert len(handlers) == 1
    logging.getLogger("lc_core.test").warning("first")
    assert "first" in capsys.readouterr().err
    # a new capture replaces sys.stderr; the handler must write there, not to the old (closed) stream
    logging.getLogger("lc_core.test").warning("second")
    assert "second" in capsys.readouterr().err
    setup_logging()
