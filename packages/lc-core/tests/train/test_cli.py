"""``lc-core train`` / ``python -m lc_core.train``: config loading, errors, a short run and resume.

Run: ``pytest packages/lc-core/tests/train/test_cli.py -q``
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lc_core.io import DataError
from lc_core.train.cli import load_run_config, main

LLAMA = {
    "model_type": "llama",
    "vocab_size": 384,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
}


def _write(tmp_path: Path, corpus: Path, **over) -> Path:
    cfg = {
        "train": {
            "seq_len": 16,
            "micro_batch_size": 4,
            "global_batch_size": 8,
            "max_steps": 3,
            "warmup_steps": 1,
            "log_every": 1,
        },
        "model": {"config": LLAMA},
        "data": {"train": str(corpus), "eval": str(corpus), "field": "text", "tokenizer": "bytes"},
    }
    cfg.update(over)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(cfg, indent=1))
    return path


def test_train_then_resume(tmp_path, corpus_jsonl) -> None:
    cfg = _write(tmp_path, corpus_jsonl)
    out = tmp_path / "out"
    assert main(["--config", str(cfg), "--out-dir", str(out), "--no-progress"]) == 0
    assert (out / "checkpoints" / "step_00000003" / "model.safetensors").is_file()
    assert main(["--config", str(cfg), "--out-dir", str(out), "--max-steps", "4", "--no-progress"]) == 0
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == [1, 2, 3, 4]
    assert json.loads((out / "results.json").read_text())["resumed_from"] == 3


def test_registered_as_lc_core_subcommand(capsys) -> None:
    from lc_core.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    assert "--config" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text,field",
    [
        ('{"train": {}, "model": {}}', "data"),
        ('{"train": {}, "model": {}, "data": {}, "extra": 1}', "extra"),
        ('{"train": {"lr": "big"}, "model": {}, "data": {}}', "lr"),
    ],
    ids=["missing-section", "unknown-section", "bad-train-field"],
)
def test_config_errors_name_the_field(tmp_path, text: str, field: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_run_config(path)
    assert err.value.field == field and err.value.path == str(path)


def test_invalid_json_names_the_line(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n"train": {,}\n}')
    with pytest.raises(DataError) as err:
        load_run_config(path)
    assert err.value.line == 2


def test_vocab_too_small_is_a_clear_error(tmp_path, corpus_jsonl, capsys) -> None:
    cfg = _write(tmp_path, corpus_jsonl, model={"config": {**LLAMA, "vocab_size": 100}})
    assert main(["--config", str(cfg), "--out-dir", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "vocabulary of 100" in capsys.readouterr().err


def test_missing_data_file_through_lc_core(tmp_path, corpus_jsonl, capsys) -> None:
    from lc_core.cli import main as lc_core_main

    cfg = _write(tmp_path, corpus_jsonl, data={"train": str(tmp_path / "nope.jsonl")})
    assert lc_core_main(["train", "--config", str(cfg), "--out-dir", str(tmp_path / "o")]) == 2
    assert "data.train" in capsys.readouterr().err


def test_cli_module_imports_without_torch(subprocess_env, python) -> None:
    import subprocess

    code = "import sys, lc_core.cli, lc_core.train.cli; assert 'torch' not in sys.modules, 'torch imported'"
    res = subprocess.run([python, "-c", code], env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
