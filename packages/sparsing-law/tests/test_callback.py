"""ActivationTracker: the activation-vs-tokens log written during lc_core.train training, resumable."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from sparsing_law.callback import ActivationTracker, read_sparsity_log  # noqa: E402


def _build():
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    return GQAForCausalLM(
        GQAConfig(vocab_size=64, d_model=32, n_layers=2, n_heads=2, n_kv_heads=1, d_ff=64, activation="relu", init_std=0.1)
    )


def _probe():
    x = torch.randint(64, (2, 24), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(x)
    mask[1, 20:] = 0
    return [{"input_ids": x, "attention_mask": mask}]


def _train(run, steps, tracker):
    from lc_core.train import PackedDataset, TrainConfig, train

    ids = torch.randint(64, (3000,), generator=torch.Generator().manual_seed(0)).numpy()
    cfg = TrainConfig(
        seq_len=16,
        micro_batch_size=2,
        global_batch_size=2,
        max_steps=steps,
        save_every=2,
        lr=1e-2,
        out_dir=str(run),
        progress=False,
        log_every=1,
    )
    return train(_build, cfg, PackedDataset(ids, 16), callbacks=[tracker], device="cpu")


def test_tracker_logs_curve_and_matches_direct_measurement(tmp_path):
    from sparsing_law.search import dense_stats, evaluate_thresholds, thresholds_for_cett

    tracker = ActivationTracker(_probe(), (0.1, 0.3), every=2)
    result = _train(tmp_path, 5, tracker)
    rows = read_sparsity_log(tmp_path)
    # the initialisation, step 1, every 2 steps and the last step
    assert [r["step"] for r in rows] == [0, 1, 2, 4, 5]
    assert [r["tokens"] for r in rows] == [0, 32, 64, 128, 160]
    for r in rows:
        low, high = r["cett"]["0.1"], r["cett"]["0.3"]
        assert 0.0 < high["activation"] <= low["activation"] <= 1.0
        assert 0.0 <= r["zero"] <= 1.0 and len(r["zero_layers"]) == 2
    # the last row is exactly what a direct measurement of the final weights gives
    model = _build()
    from lc_core.models.export import load_run_weights

    model.load_state_dict(load_run_weights(result.checkpoint))
    model.eval()
    with torch.no_grad():
        stats = dense_stats(model, _probe())
        ev = evaluate_thresholds(model, _probe(), thresholds_for_cett(stats, 0.3), dense_loss=stats.loss)
    assert rows[-1]["dense_loss"] == pytest.approx(stats.loss, abs=1e-6)
    assert rows[-1]["cett"]["0.3"]["activation"] == pytest.approx(ev.activation, abs=1e-9)
    # the tracker's metrics reach the trainer's log
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("act_cett0.1" in m for m in metrics)


def test_tracker_resume_keeps_one_row_per_step(tmp_path):
    _train(tmp_path, 2, ActivationTracker(_probe(), (0.2,), every=2))
    # a stale row beyond the checkpoint (a crash after logging) is dropped on resume
    with (tmp_path / "sparsity.jsonl").open("a") as f:
        f.write(json.dumps({"step": 3, "tokens": 48, "cett": {}}) + "\n")
    _train(tmp_path, 4, ActivationTracker(_probe(), (0.2,), every=2))
    assert [r["step"] for r in read_sparsity_log(tmp_path)] == [0, 1, 2, 4]


def test_tracker_argument_and_log_errors(tmp_path):
    with pytest.raises(ValueError, match="every"):
        ActivationTracker(_probe(), every=0)
    with pytest.raises(ValueError, match="no probe"):
        ActivationTracker([])
    (tmp_path / "sparsity.jsonl").write_text('{"step": 1, "tokens": 2}\nnot json\n')
    with pytest.raises(ValueError, match="sparsity.jsonl:2"):
        read_sparsity_log(tmp_path)
