"""Spec §10 tests 12-16: law fitting on synthetic points and on the released SparsingLawData files."""

from __future__ import annotations

import numpy as np
import pytest

from lc_core.io import DataError
from lc_core.testing import shared_data_dir
from sparsing_law import laws

RELU = (1.01, -3.49, 7.97e-3, 7.21e-2)
SILU = (1.03, 0.42, 0.385)
D = np.linspace(1, 300, 40)
DATA_REPO_LOG_MAE_0_1B = 3.42e-3  # the data repository's log baseline on 0.1B ReLU, as its calc.py reports it


def data_dir():
    path = shared_data_dir("sparsing-law-data")
    if path is None:
        pytest.skip("SKIPPED LOUDLY: /work/shared/data/sparsing-law-data not found (shared_data_dir)")
    return path


@pytest.mark.parametrize("sigma,tol", [(0.0, 1e-6), (1e-4, 1e-3), (5e-4, 2e-3)])
def test_synthetic_recovery(sigma, tol):
    rng = np.random.default_rng(0)
    a_relu = laws.relu_law(D, *RELU) + rng.normal(0, sigma, D.size)
    a_silu = laws.silu_law(D, *SILU) + rng.normal(0, sigma, D.size)
    fr = laws.fit_relu_law(D, a_relu)
    fs = laws.fit_silu_law(D, a_silu)
    assert abs(fr.params[-1] - RELU[-1]) < tol
    assert abs(fs.params[-1] - SILU[-1]) < tol
    if sigma == 0:
        assert np.allclose(fr.params, RELU, rtol=1e-6, atol=1e-8)
        assert np.allclose(fs.params, SILU, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("size", ["0.1b", "0.2b", "0.4b", "0.8b", "1.2b"])
def test_paper_replay_relu(size):
    d, a = laws.load_curve(data_dir() / f"{size}_relu.txt")
    p = laws.PAPER_PARAMS[f"{size}_relu"]
    paper_mae = laws.mae(a, laws.relu_law(d, *p))
    assert paper_mae <= 5e-4
    ours = laws.fit_relu_law(d, a, p0=p)
    assert ours.mae <= paper_mae + 1e-5
    if size == "0.1b":
        assert paper_mae == pytest.approx(4.07e-4, abs=5e-6)
        assert laws.mse(a, laws.relu_law(d, *p)) == pytest.approx(2.68e-7, abs=5e-9)


@pytest.mark.parametrize("size", ["0.1b", "0.2b", "0.4b", "0.8b", "1.2b"])
def test_paper_replay_silu(size):
    d, a = laws.load_curve(data_dir() / f"{size}_silu.txt")
    fit = laws.fit_silu_law(d, a, p0=laws.PAPER_PARAMS[f"{size}_silu"], drop=6)
    assert fit.mae <= 1.2e-3
    assert fit.dropped == 6


def test_power_law_beats_log_baseline():
    d, a = laws.load_curve(data_dir() / "0.1b_relu.txt")
    power = laws.fit_relu_law(d, a, p0=laws.PAPER_PARAMS["0.1b_relu"])
    log = laws.fit_log_law(d, a)
    # the spec's 5x is against the data repo's 4-parameter log form c·log(a·D + b) + A0, whose MAE its calc.py
    # reports as 3.42e-3 (spec §5.1): our power law beats that number by more than 5x
    assert 5 * power.mae < DATA_REPO_LOG_MAE_0_1B
    # our closed-form 2-parameter log fit is a stronger baseline (1.1e-3; README, differences): 2.5x margin there
    assert log.mae > 2.5 * power.mae


def test_width_depth_piecewise():
    rng = np.random.default_rng(1)
    x = np.array([0.22, 1.8, 6.0, 14.2, 48.0, 74.7, 113.8, 164.6, 213.3, 281.6, 384, 597, 1024])
    x = np.concatenate([x, np.linspace(10, 110, 12), np.linspace(120, 900, 12)])
    y = np.where(x < 114, 0.08 - 2e-4 * (114 - x), 0.08) + rng.normal(0, 1e-4, x.size)
    fit = laws.fit_width_depth(x, y)
    assert abs(fit.bottleneck - 114) <= 10
    assert abs(fit.plateau - 0.08) <= 2e-3


def test_derived_quantities():
    assert laws.limit_sparsity(laws.PAPER_PARAMS["2.4b_relu"][-1]) == pytest.approx(0.9352, abs=1e-12)
    for kind, p in (("relu", RELU), ("silu", SILU)):
        law = laws.relu_law if kind == "relu" else laws.silu_law
        for dd in (2.0, 50.0, 250.0):
            target = float(law(dd, *p))
            assert laws.tokens_for_activation(kind, p, target) == pytest.approx(dd, rel=1e-9)
        grid = np.geomspace(1e-3, 1e4, 50)
        deriv = laws.law_derivative(kind, p, grid)
        assert (deriv < 0).all() if kind == "relu" else (deriv > 0).all()
    with pytest.raises(ValueError):
        laws.tokens_for_activation("relu", RELU, RELU[-1] - 0.01)


def test_load_curve_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text('{"token_passed": [1, 2, 3]}')
    with pytest.raises(DataError, match="activation_ratio"):
        laws.load_curve(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError, match="line 1"):
        laws.load_curve(bad)
