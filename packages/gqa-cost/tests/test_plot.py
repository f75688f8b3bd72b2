"""Tests of gqa_cost.plot (needs the plot extra; skipped without matplotlib).

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_plot.py -q
"""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from gqa_cost.calibrate import load_paper_model  # noqa: E402
from gqa_cost.cli import main  # noqa: E402
from gqa_cost.plot import pareto_curves, plot_pareto  # noqa: E402
from gqa_cost.search import optimal_config  # noqa: E402


def test_pareto_curves_are_monotone_in_size():
    model = load_paper_model()
    curves = pareto_curves(model, 131072, heads=[(8, 1), (32, 8)], sizes=[1e8, 1e9, 1e10])
    for c in curves.values():
        assert (c["loss"][1:] < c["loss"][:-1]).all()
        assert (c["M"][1:] > c["M"][:-1]).all() and (c["C"][1:] > c["C"][:-1]).all()


def test_plot_files_are_written(tmp_path):
    model = load_paper_model()
    res = optimal_config(2.6, 131072, model)
    out = plot_pareto(model, 131072, tmp_path / "p.png", heads=[(8, 1), (32, 8)], target_loss=2.6, result=res)
    assert out.stat().st_size > 1000
    assert main(["table", "--losses", "2.6", "--contexts", "8k", "128k", "--plot", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").stat().st_size > 1000
