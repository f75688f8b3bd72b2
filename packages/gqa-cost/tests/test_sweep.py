"""Tests of gqa_cost.sweep: grid, crash/resume bookkeeping, config errors, and a tiny CPU run with lc-core.

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_sweep.py -q
"""

from __future__ import annotations

import json
import math

import pytest

from gqa_cost.laws import read_runs
from gqa_cost.sweep import SweepConfig, grid, load_sweep_config, run_sweep
from lc_core.io import DataError


def _sweep(**kw) -> SweepConfig:
    fields = dict(sizes=[[2, 64], [1, 32]], heads=[[2, 1], [2, 2]], contexts=[16, 32], data="unused.txt")
    fields.update(kw)
    return SweepConfig(**fields)


def test_grid_is_the_full_product_smallest_first():
    runs = grid(_sweep())
    assert len(runs) == 8 == len({r.run_id for r in runs})
    assert (runs[0].n_layers, runs[0].d_model) == (1, 32)
    assert runs[0].run_id == "L1-d32-h2-kv1-T16"


def test_crashed_sweep_resumes_without_duplicates(tmp_path):
    calls = []

    def flaky(run, sweep, run_dir):
        calls.append(run.run_id)
        if len(calls) == 3:
            raise RuntimeError("node lost")
        return {"n_params": 1000.0 * run.d_model, "loss": 3.0 - 0.01 * len(calls), "tokens": 64}

    with pytest.raises(RuntimeError, match="node lost"):
        run_sweep(_sweep(), tmp_path, trainer=flaky, progress=False)
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 2

    resumed = []

    def good(run, sweep, run_dir):
        resumed.append(run.run_id)
        return {"n_params": 1000.0 * run.d_model, "loss": 2.5, "tokens": 64}

    rows = run_sweep(_sweep(), tmp_path, trainer=good, progress=False)
    assert len(rows) == 8 and len(resumed) == 6
    assert calls[2] == resumed[0]
    assert not set(calls[:2]) & set(resumed)
    # the runs file is what the fitter reads
    assert len(read_runs(tmp_path / "runs.jsonl")) == 8
    # a third call has nothing left to do
    assert run_sweep(_sweep(), tmp_path, trainer=good, progress=False) == rows and len(resumed) == 6


def test_trainer_without_finite_loss_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="no finite loss"):
        run_sweep(_sweep(), tmp_path, trainer=lambda r, s, d: {"loss": math.nan}, progress=False)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"sizes": [[1, 32]], "heads": [[2, 1]], "contexts": [16], "data": "x", "lr": 1}, "field 'lr': unknown sweep field"),
        ({"sizes": [[1, 32]], "contexts": [16], "data": "x"}, "field 'heads': missing"),
        ({"sizes": [[1, 32]], "heads": [[4, 3]], "contexts": [16], "data": "x"}, "must divide"),
        ({"sizes": [[0, 32]], "heads": [[4, 1]], "contexts": [16], "data": "x"}, "must be positive"),
    ],
    ids=["unknown-key", "missing-heads", "kv-not-divisor", "zero-layers"],
)
def test_sweep_config_errors_name_the_file(tmp_path, raw, match):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"sweep\.json.*" + match):
        load_sweep_config(path)


def test_tiny_cpu_sweep_with_lc_core_trainer(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("lc_core.train")
    text = tmp_path / "corpus.jsonl"
    text.write_text("\n".join(json.dumps({"text": f"the cost of attention grows with context {i} " * 4}) for i in range(40)))
    raw = {
        "sizes": [[1, 32]],
        "heads": [[2, 1], [2, 2]],
        "contexts": [16],
        "data": "corpus.jsonl",
        "eval_data": "corpus.jsonl",
        "tokenizer": "bytes",
        "head_dim": 16,
        "max_steps": 2,
        "train": {"micro_batch_size": 2, "global_batch_size": 2, "lr": 1e-3, "log_every": 1, "eval_batches": 1},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(raw))
    sweep = load_sweep_config(tmp_path / "sweep.json")
    rows = run_sweep(sweep, tmp_path / "out", progress=False)
    assert [r["run_id"] for r in rows] == ["L1-d32-h2-kv1-T16", "L1-d32-h2-kv2-T16"]
    for r in rows:
        assert math.isfinite(r["loss"]) and r["loss_kind"] == "eval" and r["steps"] == 2
        # non-embedding N of the trained shape: attention 2·L·d·d_h·(n_h + n_kv) + SwiGLU 3·L·d·int(8d/3)
        assert r["n_params"] == 2 * 32 * 16 * (2 + r["n_kv_heads"]) + 3 * 32 * int(8 * 32 / 3)
    assert len(read_runs(tmp_path / "out" / "runs.jsonl")) == 2


def test_shipped_paper_grid_example_loads():
    from pathlib import Path

    sweep = load_sweep_config(Path(__file__).parents[1] / "examples" / "paper_grid.json")
    runs = grid(sweep)
    # Table 9's 8 sizes x the 21 candidate head configurations at 8K
    assert len(runs) == 168
    assert sweep.lr_by_size["36,1536"] == 2e-4
