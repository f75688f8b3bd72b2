"""Tests of gqa_cost.search: candidates, shape search, monotonicity, limits, units (spec §11 tests 11–15).

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_search.py -q
"""

from __future__ import annotations

import math

import pytest

from gqa_cost.costs import CostUnits, param_count
from gqa_cost.laws import SizeLaw
from gqa_cost.search import (
    DEFAULT_LADDER,
    CostWeights,
    LossModel,
    ShapeRecipe,
    candidates,
    optimal_config,
    parse_context,
    shape_for_size,
)


def test_candidate_set_has_21_power_of_two_pairs():
    heads = candidates(32)
    assert len(heads) == 21 == len(set(heads))
    for n_h, n_kv in heads:
        assert n_kv <= n_h
        assert n_h & (n_h - 1) == 0 and n_kv & (n_kv - 1) == 0
    # max(d)/d_h = 1536/64 = 24 rounds to 32 (spec §5 step 1)
    assert candidates(24) == heads


@pytest.mark.parametrize("head", [(1, 1), (8, 1), (32, 8), (32, 32)], ids=lambda h: f"H{h[0]}-{h[1]}")
def test_shape_at_ladder_point_returns_ladder_shape(head):
    recipe = ShapeRecipe()
    for L, d in DEFAULT_LADDER:
        cfg = shape_for_size(recipe.non_embedding(L, d, head), head)
        assert cfg.n_layers == pytest.approx(L, rel=1e-6)
        assert cfg.d_model == pytest.approx(d, rel=1e-6)


@pytest.mark.parametrize("head", [(4, 1), (32, 8)], ids=lambda h: f"H{h[0]}-{h[1]}")
def test_shape_between_ladder_points(head):
    recipe = ShapeRecipe()
    pts = sorted((recipe.non_embedding(L, d, head), d / L) for L, d in DEFAULT_LADDER)
    for (n0, r0), (n1, r1) in zip(pts, pts[1:]):
        n_star = math.sqrt(n0 * n1)
        cfg = shape_for_size(n_star, head)
        assert recipe.non_embedding(cfg.n_layers, cfg.d_model, head) == pytest.approx(n_star, rel=1e-6)
        assert min(r0, r1) - 1e-9 <= cfg.d_model / cfg.n_layers <= max(r0, r1) + 1e-9
        # the FFN width follows d continuously, so N(L, d) of the config agrees with the recipe
        assert param_count(cfg).non_embedding == pytest.approx(n_star, rel=1e-9)


def test_shape_rejects_non_positive_size():
    with pytest.raises(ValueError, match="positive"):
        shape_for_size(0.0, (8, 1))


def _synthetic_model() -> LossModel:
    # b, E shared; a_H decreasing in n_h and n_kv with diminishing returns (spec §11 test 13)
    laws = {}
    for n_h, n_kv in candidates(32):
        a = 1.6e8 * (1 + 0.6 / n_h**0.5) * (1 + 0.5 / n_kv**0.5)
        laws[(n_h, n_kv)] = SizeLaw(a=a, b=0.45, E=2.2)
    return LossModel(laws, label="synthetic")


# one aspect ratio (d/L = 64) for every size: the paper's ladder zig-zags between 43 and 102, which makes
# L jump non-monotonically with N and can break the pattern for synthetic laws (see the README)
SMOOTH_LADDER = tuple((L, 64 * L) for L in (4, 8, 16, 32, 64, 128))
LOSSES = (3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4)
CONTEXTS = (8192, 16384, 32768, 65536, 131072)


def test_monotone_in_context_and_target():
    model = _synthetic_model()
    best = {(lo, t): optimal_config(lo, t, model, ladder=SMOOTH_LADDER).best.head for lo in LOSSES for t in CONTEXTS}
    for lo in LOSSES:
        for t0, t1 in zip(CONTEXTS, CONTEXTS[1:]):
            assert best[(lo, t1)][0] <= best[(lo, t0)][0] and best[(lo, t1)][1] <= best[(lo, t0)][1], (lo, t0, t1)
    for t in CONTEXTS:
        for l0, l1 in zip(LOSSES, LOSSES[1:]):
            assert best[(l1, t)][0] >= best[(l0, t)][0] and best[(l1, t)][1] >= best[(l0, t)][1], (t, l0, l1)
    # not a constant table: the pattern of Table 4 needs both directions to move
    assert len(set(best.values())) >= 5


def test_lambda_limits_pick_min_memory_and_min_flops():
    model = _synthetic_model()
    for lam, attr in ((1.0, "memory"), (0.0, "flops")):
        res = optimal_config(2.6, 65536, model, weights=CostWeights(lam=lam))
        assert res.best.head == min(res.candidates, key=lambda c: getattr(c, attr)).head


def test_short_context_limit_picks_smallest_n_star():
    model = _synthetic_model()
    res = optimal_config(2.6, 1e-6, model, weights=CostWeights(lam=0.5))
    assert res.best.head == min(res.candidates, key=lambda c: c.n_star).head == (32, 32)


def test_memory_unit_changes_the_argmin_and_is_recorded():
    # equal laws; (32, 1) has the smaller KV cache, (4, 4) the fewer attention FLOPs. With M in values the
    # memory term dominates Z (picks the min-M candidate); with M in GB the FLOP term does (min-C candidate).
    model = LossModel({(32, 1): SizeLaw(a=1e8, b=0.5, E=2.0), (4, 4): SizeLaw(a=1e8, b=0.5, E=2.0)})
    values = CostWeights(units=CostUnits(memory="values", flops="FLOPs"))
    in_gb = CostWeights(units=CostUnits(memory="GB", flops="FLOPs"))
    res_values = optimal_config(2.5, 32768, model, weights=values)
    res_gb = optimal_config(2.5, 32768, model, weights=in_gb)
    assert min(res_values.candidates, key=lambda c: c.memory).head == (32, 1)
    assert min(res_values.candidates, key=lambda c: c.flops).head == (4, 4)
    assert res_values.best.head == (32, 1)
    assert res_gb.best.head == (4, 4)
    assert res_values.to_dict()["cost_weights"]["units"]["memory"] == "values"
    assert res_gb.to_dict()["cost_weights"]["units"]["memory"] == "GB"


def test_unreachable_target_raises_and_partial_infeasibility_is_reported():
    model = LossModel({(8, 1): SizeLaw(a=1e8, b=0.5, E=2.5), (32, 8): SizeLaw(a=1e8, b=0.5, E=2.0)})
    res = optimal_config(2.4, 8192, model)
    assert res.infeasible == [(8, 1)] and res.best.head == (32, 8)
    with pytest.raises(ValueError, match="irreducible"):
        optimal_config(1.9, 8192, model)


@pytest.mark.parametrize(
    ("text", "value"), [("128k", 131072), ("8K", 8192), ("4096", 4096), ("1m", 1048576)], ids=["128k", "8K", "4096", "1m"]
)
def test_parse_context(text, value):
    assert parse_context(text) == value


def test_parse_context_rejects_garbage():
    with pytest.raises(ValueError, match="context length"):
        parse_context("lots")
    with pytest.raises(ValueError, match="positive integer"):
        parse_context("0")
