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
