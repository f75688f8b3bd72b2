"""Tests for lc_core.eval: resume, shards, limit, batching, signatures, per-example settings."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from lc_core.eval import EvalConfig, Prepared, evaluate, merge_shards, parse_shard, shard_path
from lc_core.inference.base import Backend, GenerationConfig
from lc_core.io import DataError


class EchoBackend(Backend):
    """Answers each prompt with its upper-case text; counts calls and remembers configs."""

    def __init__(self, fail_after: int | None = None):
        self.calls: list[list[str]] = []
        self.configs: list[object] = []
        self.fail_after = fail_after

    def generate(self, prompts: Sequence, config) -> list[str]:
        if self.fail_after is not None and sum(map(len, self.calls)) >= self.fail_after:
            raise RuntimeError("killed")
        self.calls.append(list(prompts))
        self.configs.append(config)
        return [p.upper() for p in prompts]

    def encode(self, text: str) -> list[int]:
        return list(text.encode())

    def decode(self, ids) -> str:
        return bytes(ids).decode()


EXAMPLES = [{"id": i, "q": f"q{i}", "a": f"Q{i}"} for i in range(7)]
GEN = GenerationConfig(max_new_tokens=4)


def _run(tmp_path, backend, **kw):
    cfg = kw.pop("config", EvalConfig(progress=False))
    return evaluate(
        kw.pop("examples", EXAMPLES),
        backend,
        prompt=kw.pop("prompt", lambda ex: ex["q"]),
        generation=kw.pop("generation", GEN),
        store=tmp_path / "preds.jsonl",
        record=lambda ex, out: {"ground_truth": ex["a"]},
        config=cfg,
        **kw,
    )


def test_rows_in_order_with_record_fields(tmp_path):
    res = _run(tmp_path, EchoBackend())
    assert [r["id"] for r in res.rows] == list(range(7))
    assert all(r["prediction"] == r["ground_truth"] for r in res.rows)
    assert (res.total, res.resumed, res.generated) == (7, 0, 7)


def test_crash_then_resume_loses_and_duplicates_nothing(tmp_path):
    cfg = EvalConfig(progress=False, batch_size=2)
    with pytest.raises(RuntimeError, match="killed"):
        _run(tmp_path, EchoBackend(fail_after=4), config=cfg)
    assert len((tmp_path / "preds.jsonl").read_text().splitlines()) == 4
    backend = EchoBackend()
    res = _run(tmp_path, backend, config=cfg)
    assert (res.resumed, res.generated) == (4, 3)
    assert sum(map(len, backend.calls)) == 3
    ids = [json.loads(line)["id"] for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    assert sorted(ids) == list(range(7))


def test_batching(tmp_path):
    backend = EchoBackend()
    _run(tmp_path, backend, config=EvalConfig(progress=False, batch_size=3))
    assert [len(c) for c in backend.calls] == [3, 3, 1]


def test_limit_then_shards_then_merge(tmp_path):
    got = []
    for i in range(3):
        res = _run(tmp_path, EchoBackend(), config=EvalConfig(progress=False, shard=(i, 3), limit=5))
        assert res.path == shard_path(tmp_path / "preds.jsonl", (i, 3))
        got.extend(r["id"] for r in res.rows)
    assert sorted(got) == [0, 1, 2, 3, 4]
    assert merge_shards(tmp_path / "preds.jsonl", 3) == 5
    merged = [json.loads(line)["id"] for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    assert merged == [0, 1, 2, 3, 4]


def test_merge_needs_every_shard(tmp_path):
    _run(tmp_path, EchoBackend(), config=EvalConfig(progress=False, shard=(0, 2)))
    with pytest.raises(FileNotFoundError, match="--shard 1/2"):
        merge_shards(tmp_path / "preds.jsonl", 2)


def test_duplicate_or_missing_ids_are_errors(tmp_path):
    with pytest.raises(DataError, match="duplicate id 1"):
        _run(tmp_path, EchoBackend(), examples=[{"id": 1, "q": "a", "a": ""}, {"id": 1, "q": "b", "a": ""}])
    with pytest.raises(DataError, match="no id"):
        _run(tmp_path, EchoBackend(), examples=[{"q": "a", "a": ""}])


def test_signature_mismatch_refuses_to_mix_runs(tmp_path):
    _run(tmp_path, EchoBackend(), signature={"model": "a", "temperature": 0.0}, examples=EXAMPLES[:3])
    res = _run(tmp_path, EchoBackend(), signature={"temperature": 0.0, "model": "a"})
    assert (res.resumed, res.generated) == (3, 4)
    with pytest.raises(ValueError, match="differs in: model"):
        _run(tmp_path, EchoBackend(), signature={"model": "b", "temperature": 0.0})


def test_prepared_fields_and_per_example_configs(tmp_path):
    backend = EchoBackend()

    def prompt(ex):
        gen = GenerationConfig(max_new_tokens=ex["id"] + 1) if ex["id"] % 2 else None
        return Prepared(ex["q"], fields={"prompt_tokens": len(ex["q"])}, generation=gen)

    res = _run(tmp_path, backend, prompt=prompt, config=EvalConfig(progress=False, batch_size=7))
    assert all(r["prompt_tokens"] == 2 for r in res.rows)
    (cfgs,) = backend.configs
    assert [c.max_new_tokens for c in cfgs] == [4, 2, 4, 4, 4, 6, 4]


def test_wrong_output_count_is_an_error(tmp_path):
    class Short(EchoBackend):
        def generate(self, prompts, config):
            return super().generate(prompts, config)[:-1]

    with pytest.raises(RuntimeError, match="returned 1 outputs for 2 prompts"):
        _run(tmp_path, Short(), config=EvalConfig(progress=False, batch_size=2))


@pytest.mark.parametrize("text,ok", [("0/1", (0, 1)), (" 2 / 4 ", (2, 4)), ("4/4", None), ("x", None)])
def test_parse_shard(text, ok):
    if ok is None:
        with pytest.raises(ValueError):
            parse_shard(text)
    else:
        assert parse_shard(text) == ok


def test_config_validation():
    with pytest.raises(ValueError, match="batch_size"):
        EvalConfig(batch_size=0)
    with pytest.raises(ValueError, match="shard"):
        EvalConfig(shard=(2, 2))
