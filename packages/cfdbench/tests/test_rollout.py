"""Rollouts and their step alignment (spec §9.10, §4.4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cfdbench.data import load_cases, save_case
from cfdbench.models import build_model
from cfdbench.models.base import AutoModel
from cfdbench.rollout import iter_rollout, rollout, rollout_errors
from cfdbench.testing import BASELINE_PARAMS


class Shift(AutoModel):
    """Adds 1 to u each step: an exact model of a field that grows by 1 per frame."""

    def forward(self, inputs, case_params, mask):
        return torch.cat([inputs[:, :1] + 1, inputs[:, 1:2]], dim=1) * mask


def test_rollout_shapes_and_determinism():
    m = build_model("fno", hidden=8, modes_x=4, modes_y=4, projection=16)
    m.train()
    x0 = torch.randn(2, 2, 64, 64)
    p, mask = torch.randn(2, 5), torch.ones(2, 1, 64, 64)
    a = rollout(m, x0, p, mask, steps=3)
    b = rollout(m, x0, p, mask, steps=3)
    assert a.shape == (3, 2, 2, 64, 64)
    assert torch.equal(a, b)
    assert not a.requires_grad
    assert m.training
    assert rollout(m, x0, p, mask, steps=0).shape == (0, 2, 2, 64, 64)


def test_iter_rollout_streams():
    m = Shift()
    gen = iter_rollout(m, torch.zeros(1, 2, 4, 4), torch.zeros(1, 5), torch.ones(1, 1, 4, 4), steps=10**9)
    for i, x in zip(range(5), gen):
        assert float(x[0, 0, 0, 0]) == i + 1
    with pytest.raises(ValueError):
        list(iter_rollout(m, torch.zeros(1, 2, 4, 4), torch.zeros(1, 5), torch.ones(1, 1, 4, 4), steps=-1))


@pytest.fixture
def ramp_case(tmp_path):
    t = 6
    u = (np.arange(t, dtype=np.float32) + 1)[:, None, None] * np.ones((t, 64, 64), np.float32)
    save_case(tmp_path / "cavity" / "bc" / "case0000", BASELINE_PARAMS["cavity"], u, np.zeros_like(u))
    return load_cases(tmp_path, "cavity_bc")[0]


def test_alignment_pred_k_vs_truth_t0_plus_k(ramp_case):
    errs = rollout_errors(Shift(), ramp_case, steps=4)
    assert len(errs) == 4
    assert all(e["mse"] == 0.0 for e in errs)
    # the original's off-by-one compares step k with frame k - 1: an error of exactly 1 per cell
    legacy = rollout_errors(Shift(), ramp_case, steps=4, legacy=True)
    assert all(e["mse"] == pytest.approx(1.0) for e in legacy)


def test_alignment_with_stride_and_padding(ramp_case):
    class Shift2(Shift):
        def forward(self, inputs, case_params, mask):
            return torch.cat([inputs[:, :1] + 2, inputs[:, 1:2]], dim=1) * mask

    errs = rollout_errors(Shift2(), ramp_case, steps=2, k=2)
    assert [e["mse"] for e in errs] == [0.0, 0.0]
    # beyond the last frame the truth repeats the last frame (the original's padding)
    long = rollout_errors(Shift(), ramp_case, steps=7)
    assert long[-1]["mse"] == pytest.approx(4.0)
