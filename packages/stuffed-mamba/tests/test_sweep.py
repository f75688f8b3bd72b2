"""Capacity sweep runner: a CPU smoke run, resume, and honest fits."""

from stuffed_mamba.sweep import SweepConfig, fit_sweep, run_sweep


def test_sweep_smoke_and_resume(tmp_path):
    cfg = SweepConfig(
        d_states=(4, 8), d_model=16, n_layers=1, steps=2, seq_len=128, segment_tokens=64, eval_lengths=(256, 512), samples=2
    )
    rows = run_sweep(cfg, tmp_path)
    assert [r["d_state"] for r in rows] == [4, 8]
    assert rows[0]["N_S"] < rows[1]["N_S"]
    assert set(rows[0]["passkey"]) == {"256", "512"}
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    again = run_sweep(cfg, tmp_path)  # resumes: nothing retrained
    assert again == rows and (tmp_path / "runs.jsonl").read_text().splitlines() == lines
    fits = fit_sweep(rows)
    # two points and (after 2 steps) no recall: the fit reports why instead of inventing numbers
    assert "error" in fits["t_recall"]


def test_fit_sweep_on_synthetic_rows():
    rows = [
        {"N_S": n * 1e6, "t_recall": 1000 * (4.756 * (1.365**n - 1) - 0.742), "t_collapse": 1000 * (5.172 * n - 4.469)}
        for n in (2, 4, 6, 8)
    ]
    fits = fit_sweep(rows)
    assert abs(fits["t_recall"]["params"]["base"] - 1.365) < 1e-3
    assert abs(fits["t_collapse"]["params"]["a"] - 5.172) < 1e-6


def test_sweep_short_windows_records_the_loss_curve(tmp_path):
    """Training on short stream windows (in_length): the level comes from (in_length/2, in_length], the curve reaches
    loss_length, and t_collapse (if any) lies past in_length."""
    cfg = SweepConfig(
        d_states=(4,), d_model=16, n_layers=1, steps=2, seq_len=64, segment_tokens=64, eval_lengths=(256,), samples=1,
        in_length=64, loss_bucket=16, loss_length=1024,
    )  # fmt: skip
    (row,) = run_sweep(cfg, tmp_path)
    centres = [c for c, _ in row["loss_curve"]]
    assert centres[0] < 64 < centres[-1] and centres[-1] > 900
    assert row["loss_level"] > 0 and row["loss_peak_ratio"] > 0
    assert row["t_collapse"] is None or row["t_collapse"] > 64
