"""Learning-rate schedules: values at hand-computed points of the published recipes.

Run: ``pytest packages/lc-core/tests/train/test_schedule.py -q``
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lc_core.train import TrainConfig, constant_lr, cosine_lr, lr_at, wsd_lr

# gqa-cost recipe (spec §6): 3M model, 120 steps, warmup 10 % from 0, cosine decay over the last 20 % to 10 % of 1e-3
GQA = dict(max_lr=1e-3, max_steps=120, warmup_steps=12, decay_fraction=0.2, min_lr_ratio=0.1, decay_shape="cosine")


@pytest.mark.parametrize(
    "step,expected",
    [
        (0, 1e-3 / 12),  # first warmup step
        (5, 1e-3 * 6 / 12),
        (11, 1e-3),  # warmup ends at max
        (50, 1e-3),  # stable
        (95, 1e-3),  # last stable step: decay covers steps 96..119
        (107, 0.55e-3),  # half-way through the cosine: (max + min) / 2
        (119, 1e-4),  # last step at 10 % of max
    ],
    ids=lambda v: str(v),
)
def test_wsd_gqa_cost_recipe(step: int, expected: float) -> None:
    assert wsd_lr(step, **GQA) == pytest.approx(expected, rel=1e-12)


def test_wsd_first_decay_step_is_a_cosine_point() -> None:
    expected = 1e-4 + (1e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi / 24))
    assert wsd_lr(96, **GQA) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "step,expected",
    [(0, 5e-4 / 1000), (999, 5e-4), (89_999, 5e-4), (94_999, 2.5e-4), (99_999, 0.0)],
    ids=lambda v: str(v),
)
def test_wsd_stuffed_mamba_linear(step: int, expected: float) -> None:
    # stuffed-mamba (spec §3.4): 1000 warmup steps, linear decay over the last 10 %
    got = wsd_lr(
        step, max_lr=5e-4, max_steps=100_000, warmup_steps=1000, decay_fraction=0.1, min_lr_ratio=0.0, decay_shape="linear"
    )
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-18)


def test_wsd_one_minus_sqrt_halfway() -> None:
    got = wsd_lr(14, max_lr=1.0, max_steps=20, warmup_steps=0, decay_fraction=0.5, min_lr_ratio=0.0, decay_shape="1-sqrt")
    assert got == pytest.approx(1 - math.sqrt(0.5))


@pytest.mark.parametrize("step,expected", [(0, 0.1), (9, 1.0), (59, 0.55), (109, 0.1)], ids=lambda v: str(v))
def test_cosine(step: int, expected: float) -> None:
    assert cosine_lr(step, max_lr=1.0, max_steps=110, warmup_steps=10, min_lr_ratio=0.1) == pytest.approx(expected, rel=1e-12)


def test_constant_and_dispatch() -> None:
    assert constant_lr(0, max_lr=2.0, warmup_steps=4) == 0.5
    assert constant_lr(100, max_lr=2.0, warmup_steps=4) == 2.0
    cfg = TrainConfig(
        max_steps=120, lr=1e-3, warmup_steps=12, decay_fraction=0.2, min_lr_ratio=0.1, schedule="wsd", decay_shape="cosine"
    )
    assert [lr_at(cfg, s) for s in range(120)] == [wsd_lr(s, **GQA) for s in range(120)]


def test_negative_step_and_bad_shape_raise() -> None:
    with pytest.raises(ValueError, match="step"):
        wsd_lr(-1, **GQA)
    with pytest.raises(ValueError, match="decay_shape"):
        wsd_lr(119, **{**GQA, "decay_shape": "exp"})


@given(
    max_steps=st.integers(1, 500),
    warm=st.floats(0, 1),
    frac=st.floats(0, 1),
    ratio=st.floats(0, 1),
    shape=st.sampled_from(["linear", "cosine", "1-sqrt"]),
)
def test_wsd_bounded_and_monotone_after_warmup(max_steps: int, warm: float, frac: float, ratio: float, shape: str) -> None:
    warmup = int(warm * max_steps)
    lrs = [
        wsd_lr(
            s, max_lr=1.0, max_steps=max_steps, warmup_steps=warmup, decay_fraction=frac, min_lr_ratio=ratio, decay_shape=shape
        )
        for s in range(max_steps)
    ]
    assert all(ratio - 1e-12 <= v <= 1.0 + 1e-12 or s < warmup for s, v in enumerate(lrs))
    after = lrs[warmup:]
    assert all(a >= b - 1e-12 for a, b in zip(after, after[1:]))
