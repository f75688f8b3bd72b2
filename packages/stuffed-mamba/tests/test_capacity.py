"""Capacity functions (spec §8 test 15) and the law fits."""

import math

import pytest

from lc_core.models.mamba2.presets import official_config
from stuffed_mamba.capacity import OFFICIAL_CONFIGS, fit_exponential, fit_linear, paper_t_forget, paper_t_recall, state_size


@pytest.mark.parametrize(
    "name, expected", [("mamba2-130m", 4_847_616), ("mamba2-370m", 12_914_688), ("mamba2-780m", 19_353_600)]
)
def test_state_size_of_official_configs(name, expected):
    assert state_size(OFFICIAL_CONFIGS[name]) == expected
    assert state_size(official_config(name)) == expected  # lc-core's config object gives the same count


@pytest.mark.parametrize("name, forget_k, recall_k", [("mamba2-130m", 20.6, 15.7), ("mamba2-370m", 62.3, 256.0)])
def test_paper_reported_fits(name, forget_k, recall_k):
    n_s = state_size(OFFICIAL_CONFIGS[name]) / 1e6
    assert paper_t_forget(n_s) == pytest.approx(forget_k, rel=0.01)
    assert paper_t_recall(n_s) == pytest.approx(recall_k, rel=0.03)


def test_fit_linear_recovers_line():
    x = [1.0, 2.0, 4.0, 8.0]
    fit = fit_linear(x, [5.172 * v - 4.469 for v in x])
    assert fit.params["a"] == pytest.approx(5.172) and fit.params["b"] == pytest.approx(-4.469)
    assert fit.r2 == pytest.approx(1.0)


def test_fit_exponential_recovers_law():
    x = [1.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    y = [paper_t_recall(v) for v in x]
    fit = fit_exponential(x, y)
    assert fit.params["base"] == pytest.approx(1.365, rel=1e-3)
    assert fit(12.0) == pytest.approx(paper_t_recall(12.0), rel=1e-3)
    assert fit.r2 > 0.999


def test_fits_reject_too_few_points():
    with pytest.raises(ValueError):
        fit_linear([1.0], [2.0])
    with pytest.raises(ValueError):
        fit_exponential([1.0, 2.0], [1.0, math.e])
