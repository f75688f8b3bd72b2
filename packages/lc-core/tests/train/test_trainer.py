"""The training loop: learning, exact resume (also after a real ``kill -9``), accumulation, eval, callbacks.

Run: ``pytest packages/lc-core/tests/train/test_trainer.py -q`` (add ``-m "slow or not slow"`` for the
``kill -9`` test: its child process spends most of a minute importing torch on a busy CPU).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from lc_core.testing import has_cuda
from lc_core.train import Callback, PackedDataset, StopTraining, TrainConfig, causal_lm_loss, eval_batches, evaluate, train
from lc_core.train.toy import ToyCausalLM, ToyConfig


def _cfg(tmp_path: Path, name: str, **kw) -> TrainConfig:
    base = dict(
        seq_len=16,
        micro_batch_size=4,
        global_batch_size=8,
        max_steps=8,
        lr=1e-2,
        warmup_steps=2,
        decay_fraction=0.25,
        log_every=1,
        out_dir=str(tmp_path / name),
        progress=False,
    )
    return TrainConfig(**{**base, **kw})


def _assert_same_checkpoint(a: Path, b: Path) -> None:
    """Final weights and optimizer state (moments, step counts, param groups) equal bit for bit."""
    from safetensors.torch import load_file

    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() and wa
    for key in wa:
        assert torch.equal(wa[key], wb[key]), f"weight {key} differs"
    oa = torch.load(a / "optimizer.pt", map_location="cpu", weights_only=True)
    ob = torch.load(b / "optimizer.pt", map_location="cpu", weights_only=True)

    def same(x, y, where: str) -> None:
        assert type(x) is type(y), where
        if isinstance(x, torch.Tensor):
            assert x.dtype == y.dtype and torch.equal(x, y), f"optimizer {where} differs"
        elif isinstance(x, dict):
            assert x.keys() == y.keys(), where
            for k in x:
                same(x[k], y[k], f"{where}.{k}")
        elif isinstance(x, list | tuple):
            assert len(x) == len(y), where
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                same(u, v, f"{where}[{i}]")
        else:
            assert x == y, f"optimizer {where}: {x!r} != {y!r}"

    same(oa, ob, "state")
    moments = [v for v in oa["state"].values() if isinstance(v, dict) and "exp_avg" in v]
    assert moments and any(m["exp_avg"].abs().sum() > 0 for m in moments), "optimizer moments must be present"


def _rows(out_dir: str | Path, kind: str = "train") -> list[dict]:
    lines = (Path(out_dir) / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_llama_learns_and_writes_its_files(tiny_llama, packed, tmp_path) -> None:
    cfg = _cfg(tmp_path, "run", max_steps=12, log_every=4, eval_every=6)
    result = train(tiny_llama, cfg, packed, eval_data=packed)
    rows = _rows(cfg.out_dir)
    assert [r["step"] for r in rows] == [4, 8, 12]
    assert rows[-1]["loss"] < rows[0]["loss"] - 0.3
    assert {"loss", "lr", "grad_norm", "tok_per_s", "elapsed_s", "tokens"} <= rows[0].keys()
    assert rows[-1]["tokens"] == 12 * 8 * 16
    assert [r["step"] for r in _rows(cfg.out_dir, "eval")] == [6, 12]
    assert result.eval_loss == pytest.approx(_rows(cfg.out_dir, "eval")[-1]["eval_loss"])
    summary = json.loads((Path(cfg.out_dir) / "results.json").read_text())["summary"]
    assert summary["steps"] == 12 and summary["final_loss"] == result.final_loss
    assert "final_loss" in (Path(cfg.out_dir) / "results.md").read_text()
    assert result.checkpoint is not None and result.checkpoint.name == "step_00000012"


def test_causal_lm_loss_matches_the_models_own_loss(tiny_llama) -> None:
    torch.manual_seed(0)
    model = tiny_llama()
    window = torch.randint(0, 257, (2, 17))
    ours = causal_lm_loss(model, window[:, :-1], window[:, 1:])
    # HF shifts labels itself: feeding the whole window scores the same 16 positions per row
    theirs = model(input_ids=window, labels=window).loss
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


class _Crash(Callback):
    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, state) -> None:
        if state.step == self.at:
            raise RuntimeError("simulated crash")


def test_exact_resume_after_a_crash(tiny_llama, packed, tmp_path) -> None:
    straight = train(tiny_llama, _cfg(tmp_path, "straight", save_every=3), packed)
    cfg = _cfg(tmp_path, "crashed", save_every=3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tiny_llama, cfg, packed, callbacks=[_Crash(5)])
    # the crash hit step 5 before its row was written (callback metrics go into the row)
    assert [r["step"] for r in _rows(cfg.out_dir)] == [1, 2, 3, 4]
    resumed = train(tiny_llama, cfg, packed)
    assert resumed.resumed_from == 3
    rows = _rows(cfg.out_dir)
    # row 4 of the crashed run were dropped and redone: no step lost or duplicated
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert [r["loss"] for r in rows] == [r["loss"] for r in _rows(straight.out_dir)]
    assert [r["grad_norm"] for r in rows] == [r["grad_norm"] for r in _rows(straight.out_dir)]
    _assert_same_checkpoint(resumed.checkpoint, straight.checkpoint)


def test_stop_training_saves_and_resume_finishes(packed, tmp_path) -> None:
    class Stop(Callback):
        def on_step_end(self, state) -> None:
            if state.step == 2:
                raise StopTraining

    cfg = _cfg(tmp_path, "stop", max_steps=4)
    first = train(lambda: ToyCausalLM(ToyConfig()), cfg, packed, callbacks=[Stop()])
    assert first.step == 2 and first.checkpoint.name == "step_00000002"
    second = train(lambda: ToyCausalLM(ToyConfig()), cfg, packed)
    assert second.resumed_from == 2 and second.step == 4


def test_no_resume_starts_over(packed, tmp_path) -> None:
    cfg = _cfg(tmp_path, "again", max_steps=2)
    first = train(lambda: ToyCausalLM(ToyConfig()), cfg, packed)
    finished = train(lambda: ToyCausalLM(ToyConfig()), cfg, packed)
    assert (finished.resumed_from, finished.step, finished.final_loss) == (2, 2, first.final_loss)
    again = train(lambda: ToyCausalLM(ToyConfig()), dataclasses.replace(cfg, resume=False), packed)
    assert again.resumed_from is None
    assert [r["step"] for r in _rows(cfg.out_dir)] == [1, 2]


def test_grad_accumulation_matches_one_big_batch(packed, tmp_path) -> None:
    model_fn = lambda: ToyCausalLM(ToyConfig())  # noqa: E731
    accum = train(model_fn, _cfg(tmp_path, "accum", micro_batch_size=2, max_steps=4), packed)
    whole = train(model_fn, _cfg(tmp_path, "whole", micro_batch_size=8, max_steps=4), packed)
    a = [r["loss"] for r in _rows(accum.out_dir)]
    b = [r["loss"] for r in _rows(whole.out_dir)]
    assert a == pytest.approx(b, rel=1e-5)
    assert a[0] == b[0] or abs(a[0] - b[0]) < 1e-5


def test_callbacks_see_every_event(packed, tmp_path) -> None:
    events: list[str] = []

    class Spy(Callback):
        def on_train_begin(self, state) -> None:
            events.append("begin")

        def on_step_end(self, state) -> None:
            state.metrics["sparsity"] = 0.5
            events.append(f"step{state.step}")

        def on_eval(self, state, metrics) -> None:
            events.append(f"eval{state.step}:{metrics['eval_tokens']}")

        def on_save(self, state, path) -> None:
            events.append(f"save{state.step}:{path.name}")

        def on_train_end(self, state) -> None:
            events.append("end")

    cfg = _cfg(tmp_path, "spy", max_steps=2, eval_every=1, eval_batches=1)
    train(lambda: ToyCausalLM(ToyConfig()), cfg, packed, eval_data=packed, callbacks=[Spy()])
    assert events == ["begin", "step1", "eval1:64", "step2", "eval2:64", "save2:step_00000002", "end"]
    assert all(r["sparsity"] == 0.5 for r in _rows(cfg.out_dir))


def test_evaluate_is_the_token_mean(packed) -> None:
    torch.manual_seed(0)
    model = ToyCausalLM(ToyConfig())
    batches = eval_batches(packed, micro_batch_size=4, max_batches=3)
    got = evaluate(model, batches)
    with torch.no_grad():
        ref = sum(causal_lm_loss(model, b[:, :-1], b[:, 1:]).item() for b in batches) / 3
    assert got["eval_loss"] == pytest.approx(ref, rel=1e-6)
    assert got["eval_tokens"] == 3 * 4 * 16
    assert model.training


def test_model_without_logits_needs_a_loss_fn(packed, tmp_path) -> None:
    class NoLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(2, 2)

        def forward(self, input_ids):
            return {"hidden": input_ids}

    with pytest.raises(TypeError, match="loss_fn"):
        train(NoLogits, _cfg(tmp_path, "nologits", max_steps=1, warmup_steps=0), packed)


def test_seq_len_mismatch_is_rejected(packed, tmp_path) -> None:
    with pytest.raises(ValueError, match="seq_len"):
        train(lambda: ToyCausalLM(ToyConfig()), _cfg(tmp_path, "mismatch", seq_len=32), packed)


def test_bf16_on_cpu_falls_back_to_fp32(packed, tmp_path, caplog, monkeypatch) -> None:
    from lc_core import logging as lc_logging

    # the warning is logged once per process: forget earlier ones so this test sees it
    monkeypatch.setattr(lc_logging, "_WARNED", set())
    seen: list[tuple[torch.dtype, torch.dtype]] = []

    def loss_fn(model, input_ids, targets):
        logits = model(input_ids=input_ids).logits
        seen.append((logits.dtype, next(model.parameters()).dtype))
        return causal_lm_loss(model, input_ids, targets)

    cfg = _cfg(tmp_path, "bf16", max_steps=1, warmup_steps=0, dtype="bf16")
    with caplog.at_level("WARNING", logger="lc_core.train.trainer"):
        result = train(lambda: ToyCausalLM(ToyConfig()), cfg, packed, device="cpu", loss_fn=loss_fn)
    assert torch.isfinite(torch.tensor(result.final_loss))
    assert "dtype=bf16 needs CUDA; training in fp32 on CPU" in caplog.text
    assert seen and all(s == (torch.float32, torch.float32) for s in seen), seen


@pytest.mark.gpu
@pytest.mark.skipif(not has_cuda(), reason="needs a CUDA device")
def test_bf16_autocast_on_cuda(tiny_llama, packed, tmp_path) -> None:
    result = train(tiny_llama, _cfg(tmp_path, "cuda", max_steps=4), packed, device="cuda")
    assert torch.isfinite(torch.tensor(result.final_loss))


_KILL_SCRIPT = """
import json, sys, time
from lc_core.train import ByteTokenizer, Callback, PackedDataset, TrainConfig, train
from lc_core.train.toy import ToyCausalLM, ToyConfig

class Slow(Callback):
    def on_step_end(self, state):
        time.sleep(float(sys.argv[3]))

cfg = TrainConfig.from_dict(json.load(open(sys.argv[1])))
data = PackedDataset.from_source(sys.argv[2], ByteTokenizer(), seq_len=cfg.seq_len)
train(lambda: ToyCausalLM(ToyConfig()), cfg, data, callbacks=[Slow()])
"""


@pytest.mark.slow
def test_exact_resume_after_kill_9(corpus_jsonl, tmp_path, subprocess_env, python) -> None:
    from lc_core.train import ByteTokenizer

    data = PackedDataset.from_source(corpus_jsonl, ByteTokenizer(), seq_len=16)
    cfg = _cfg(tmp_path, "killed", max_steps=12, save_every=4)
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    proc = subprocess.Popen([python, str(script), str(cfg_path), str(corpus_jsonl), "0.25"], env=subprocess_env)
    metrics = Path(cfg.out_dir) / "metrics.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists() and any(
                json.loads(x)["step"] >= 6 for x in metrics.read_text().splitlines() if x.endswith("}")
            ):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = max(r["step"] for r in _rows(cfg.out_dir))
    assert 6 <= killed_at < 12

    resumed = train(lambda: ToyCausalLM(ToyConfig()), cfg, data)
    assert resumed.resumed_from in (4, 8)
    straight = train(lambda: ToyCausalLM(ToyConfig()), dataclasses.replace(cfg, out_dir=str(tmp_path / "straight")), data)
    rows = _rows(cfg.out_dir)
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert [r["loss"] for r in rows] == [r["loss"] for r in _rows(straight.out_dir)]
    assert resumed.checkpoint.name == straight.checkpoint.name == "step_00000012"
    _assert_same_checkpoint(resumed.checkpoint, straight.checkpoint)
