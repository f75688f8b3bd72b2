"""Runner: predictions, truncation counts, manifest, sharding and resume after a killed run.

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_runner.py -q``
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from infbench.generate import generate_files
from infbench.runner import RunConfig, load_backend, parse_shard, run
from infbench.scoring import score_folder


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    generate_files(["passkey", "kv_retrieval"], d, lengths=[600, 1200], n_depths=3, repeats=2, n_rows=3, seed=1)
    return d


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_oracle_run_scores_100_and_writes_manifest(tmp_path, data_dir, oracle):
    cfg = RunConfig(
        tasks=["passkey", "kv_retrieval"], data_dir=str(data_dir), output_dir=str(tmp_path / "out"), model_name="oracle"
    )
    manifest = run(cfg, oracle, progress=False)
    folder = tmp_path / "out" / "oracle"
    scores = score_folder(folder, mode="fixed")
    assert scores["passkey"].score == 100.0 and scores["kv_retrieval"].score == 100.0
    assert scores["passkey"].by_length_depth.keys() == {"600", "1200"}
    saved = json.loads((folder / "manifest.json").read_text())
    assert saved["tasks"]["passkey"]["completed"] == 12 and saved["tasks"]["kv_retrieval"]["truncated"] == 0
    assert len(saved["tasks"]["passkey"]["data"]["sha256"]) == 64
    assert saved["prompt_family"] == "yarn-mistral" and saved["decoding"]["temperature"] == 0.0
    assert "infbench" in saved["versions"] and manifest["tasks"] == saved["tasks"]
    row = _rows(folder / "preds_passkey.jsonl")[0]
    assert {"id", "prediction", "ground_truth", "truncated", "prompt_tokens", "depth", "length"} <= set(row)


def test_truncation_counts_and_needle_loss(tmp_path, data_dir, oracle):
    cfg = RunConfig(tasks=["passkey"], data_dir=str(data_dir), output_dir=str(tmp_path), model_name="m", truncate=400)
    manifest = run(cfg, oracle, progress=False)
    info = manifest["tasks"]["passkey"]
    # every prompt is longer than 400 bytes, so all are cut; needles in the middle are lost (by design)
    assert info["truncated"] == info["examples"] == 12
    assert all(len(p.encode()) <= 400 for p in oracle.prompts)
    by_depth = score_folder(tmp_path / "m", mode="fixed")["passkey"].by_depth
    assert by_depth["0.000"] == 100.0 and by_depth["1.000"] == 100.0 and by_depth["0.500"] < 100.0


def test_generation_config_and_chat_family(tmp_path, data_dir):
    from lc_core.inference.base import Backend

    seen = []

    class Spy(Backend):
        def generate(self, prompts, config):
            seen.extend(self._configs(len(prompts), config))
            assert all(isinstance(p, list) and p[0]["role"] == "system" for p in prompts)
            return ["x"] * len(prompts)

        def encode(self, text):
            return list(text.encode())

        def decode(self, ids):
            return bytes(ids).decode(errors="ignore")

    cfg = RunConfig(
        tasks=["passkey"],
        data_dir=str(data_dir),
        output_dir=str(tmp_path),
        family="chat",
        batch_size=5,
        limit=4,
        max_new_tokens={"passkey": 9},
    )
    run(cfg, Spy(), progress=False)
    assert len(seen) == 4 and all(c.max_new_tokens == 9 and c.greedy and c.chat for c in seen)


def test_shards_split_and_merge(tmp_path, data_dir, oracle):
    for i in range(3):
        cfg = RunConfig(tasks=["kv_retrieval"], data_dir=str(data_dir), output_dir=str(tmp_path), model_name="m", shard=(i, 3))
        run(cfg, oracle, progress=False)
    files = sorted((tmp_path / "m").glob("preds_kv_retrieval.shard-*.jsonl"))
    ids = [r["id"] for f in files for r in _rows(f)]
    assert len(files) == 3 and sorted(ids) == list(range(6))
    assert score_folder(tmp_path / "m")["kv_retrieval"].n == 6
    assert parse_shard("2/3") == (2, 3)
    with pytest.raises(ValueError):
        parse_shard("3/3")


def test_resume_after_kill(tmp_path, data_dir, oracle):
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import os, signal
        from lc_core.inference.base import Backend
        from lc_core.tokenizers import ByteTokenizer
        from infbench.runner import RunConfig, run

        class Dying(Backend):
            calls = 0
            def generate(self, prompts, config):
                Dying.calls += 1
                if Dying.calls == 6:
                    os.kill(os.getpid(), signal.SIGKILL)
                return ["12345"] * len(prompts)
            def encode(self, text):
                return ByteTokenizer().encode(text)
            def decode(self, ids):
                return ByteTokenizer().decode(ids)

        run(RunConfig(tasks=["passkey"], data_dir={str(data_dir)!r}, output_dir={str(out)!r}, model_name="m"), Dying(),
            progress=False)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    preds = out / "m" / "preds_passkey.jsonl"
    before = _rows(preds)
    assert len(before) == 5
    run(RunConfig(tasks=["passkey"], data_dir=str(data_dir), output_dir=str(out), model_name="m"), oracle, progress=False)
    after = _rows(preds)
    assert oracle.calls == 12 - 5
    assert sorted(r["id"] for r in after) == sorted({r["id"] for r in after}) and len(after) == 12
    assert after[:5] == before
    # a third run has nothing left to do
    run(RunConfig(tasks=["passkey"], data_dir=str(data_dir), output_dir=str(out), model_name="m"), oracle, progress=False)
    assert oracle.calls == 7


def test_config_validation_and_names():
    with pytest.raises(ValueError, match="shard"):
        RunConfig(tasks=["passkey"], data_dir="d", shard=(2, 2))
    with pytest.raises(ValueError, match="limit"):
        RunConfig(tasks=["passkey"], data_dir="d", limit=0)
    with pytest.raises(KeyError, match="unknown task"):
        RunConfig(tasks=["nope"], data_dir="d")
    with pytest.raises(KeyError, match="unknown task"):
        RunConfig(tasks=["passkey"], data_dir="d", max_new_tokens={"passkye": 3})
    with pytest.raises(KeyError, match="unknown prompt family"):
        RunConfig(tasks=["passkey"], data_dir="d", family="llama")
    assert RunConfig(tasks=["retrieval"], model="org/name").resolved_model_name == "org--name"
    assert RunConfig(tasks=["passkey"], data_dir="d", backend="openai").resolved_family == "chat"
    assert RunConfig(tasks=["retrieval", "passkey"]).tasks == ["passkey", "number_string", "kv_retrieval"]


def test_openai_backend_sends_the_served_name_of_a_builtin_model():
    """`--backend openai --model lc-core/demo-mamba2` talks to `lc-core serve`, which serves that name."""
    cfg = RunConfig(
        tasks=["passkey"], backend="openai", model="lc-core/demo-mamba2", backend_kwargs={"base_url": "http://127.0.0.1:9/v1"}
    )
    backend = load_backend(cfg)
    try:
        assert backend.model == "lc-core/demo-mamba2"
    finally:
        backend.close()


def test_local_backends_resolve_a_builtin_model_to_its_folder(monkeypatch):
    from pathlib import Path

    seen = {}

    def fake_get_backend(name, **kwargs):
        seen.update(kwargs, name=name)
        return object()

    monkeypatch.setattr("infbench.runner.get_backend", fake_get_backend)
    load_backend(RunConfig(tasks=["passkey"], backend="hf", model="lc-core/demo-mamba2"))
    assert seen["name"] == "hf" and seen["model"] != "lc-core/demo-mamba2"
    assert (Path(seen["model"]) / "config.json").is_file() and seen["disable_tqdm"] is True


def test_resume_with_other_settings_is_refused(tmp_path, data_dir, oracle):
    cfg = dict(tasks=["passkey"], data_dir=str(data_dir), output_dir=str(tmp_path), model_name="m")
    run(RunConfig(**cfg, limit=3), oracle, progress=False)
    # a bigger limit or batch size is the same run: it resumes
    run(RunConfig(**cfg, limit=6, batch_size=4), oracle, progress=False)
    assert oracle.calls == 6
    for change in ({"temperature": 0.5}, {"truncate": 300}, {"family": "claude2"}, {"max_new_tokens": {"passkey": 3}}):
        with pytest.raises(ValueError, match="holds rows of a different run"):
            run(RunConfig(**cfg, **change), oracle, progress=False)
    assert oracle.calls == 6


def test_missing_data_names_file(tmp_path, oracle):
    with pytest.raises(FileNotFoundError, match="passkey.jsonl"):
        run(RunConfig(tasks=["passkey"], data_dir=str(tmp_path), output_dir=str(tmp_path)), oracle, progress=False)


def test_realistic_tasks_store_original_labels(tmp_path, echo):
    data = tmp_path / "data"
    data.mkdir()
    rows = {
        "code_debug": {"id": 0, "context": "def f(): pass", "input": "", "answer": ["g"], "options": ["f", "g", "h", "i"]},
        "longbook_qa_eng": {"id": 0, "context": "A book.", "input": "Who?", "answer": ["Ann", "Anna"]},
        "math_calc": {"id": 0, "context": "1 + 2 - 3", "input": "", "answer": ["3", "0"]},
    }
    for task, row in rows.items():
        (data / f"{task}.jsonl").write_text(json.dumps(row) + "\n")
    manifest = run(
        RunConfig(tasks=list(rows), data_dir=str(data), output_dir=str(tmp_path), model_name="m", family="gpt4"),
        echo,
        progress=False,
    )
    assert {t: v["completed"] for t, v in manifest["tasks"].items()} == {"code_debug": 1, "longbook_qa_eng": 1, "math_calc": 1}
    assert _rows(tmp_path / "m" / "preds_code_debug.jsonl")[0]["ground_truth"] == ["g", "B"]
    assert _rows(tmp_path / "m" / "preds_math_calc.jsonl")[0]["ground_truth"] == [3, 0]
    # the gpt4 math_calc prompt ends with the raw expression as the user turn
    assert echo.calls == 3
