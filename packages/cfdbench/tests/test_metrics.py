"""Metric definitions on fixed arrays (spec §9.6)."""

from __future__ import annotations

import math

import pytest
import torch

from cfdbench.metrics import MetricAccumulator, compute_metrics, nmse_loss, per_channel_metrics


@pytest.fixture
def label() -> torch.Tensor:
    return torch.tensor([[[[1.0, -2.0], [3.0, 0.5]]]])


def test_perfect_prediction(label):
    s = compute_metrics(label.clone(), label)
    assert s == {"mse": 0.0, "rmse": 0.0, "mae": 0.0, "nmse": 0.0}


def test_zero_prediction_nmse_one(label):
    assert compute_metrics(torch.zeros_like(label), label)["nmse"] == pytest.approx(1.0)


def test_double_prediction(label):
    s = compute_metrics(2 * label, label)
    assert s["nmse"] == pytest.approx(1.0)
    assert s["mae"] == pytest.approx(float(label.abs().mean()))
    mse = float((label**2).mean())
    assert s["mse"] == pytest.approx(mse) and s["rmse"] == pytest.approx(math.sqrt(mse))


def test_nmse_uses_mean_square_not_variance():
    y = torch.full((1, 1, 2, 2), 3.0)
    # variance is zero; NMSE divides by mean(y^2) = 9
    assert compute_metrics(y + 1, y)["nmse"] == pytest.approx(1 / 9)


def test_mask_ignores_cells(label):
    pred = label.clone()
    pred[0, 0, 0, 0] = 100.0
    mask = torch.ones(1, 1, 2, 2)
    mask[0, 0, 0, 0] = 0
    assert compute_metrics(pred, label, mask=mask)["mse"] == 0.0
    assert compute_metrics(pred, label)["mse"] > 0


def test_batch_mean_vs_global():
    y = torch.tensor([[1.0], [10.0]])
    p = torch.tensor([[2.0], [10.0]])
    acc = MetricAccumulator()
    acc.update(p[:1], y[:1])
    acc.update(p[1:], y[1:])
    assert acc.result("batch_mean")["nmse"] == pytest.approx((1.0 + 0.0) / 2)
    assert acc.result("global")["nmse"] == pytest.approx(0.5 / (101 / 2))


def test_per_channel_and_loss(label):
    pred = torch.cat([label, torch.zeros_like(label)], dim=1)
    truth = torch.cat([label, label], dim=1)
    pc = per_channel_metrics(pred, truth)
    assert pc["u"]["nmse"] == 0.0 and pc["v"]["nmse"] == pytest.approx(1.0)
    loss = nmse_loss(pred, truth)
    assert float(loss) == pytest.approx(0.5)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        compute_metrics(torch.zeros(2, 2), torch.zeros(2, 3))


def test_nmse_denominator_uses_masked_labels():
    # the legacy tube/dam/cylinder encodings put the inlet speed under mask 0: it must not enter mean(y^2)
    label = torch.tensor([[[[1.0, 100.0], [2.0, -100.0]]]])
    mask = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    pred = torch.tensor([[[[2.0, 0.0], [2.0, 0.0]]]])
    # kept cells: errors (1, 0), labels (1, 2) -> MSE 0.5, mean(y^2) 2.5
    assert compute_metrics(pred, label, mask=mask)["nmse"] == pytest.approx(0.5 / 2.5)
    assert float(nmse_loss(pred, label, mask)) == pytest.approx(0.5 / 2.5)
    acc = MetricAccumulator()
    acc.update(pred, label, mask)
    assert acc.result("global")["nmse"] == pytest.approx(0.5 / 2.5)
    assert acc.result("batch_mean")["nmse"] == pytest.approx(0.5 / 2.5)


def test_zero_prediction_scores_nmse_one_on_legacy_inlet(make_dataset):
    from cfdbench.data import encode_frames, load_case

    root = make_dataset("tube", ("bc",), n=1, t=2)
    frame = torch.from_numpy(encode_frames(load_case(root / "tube" / "bc" / "case0000", "tube"), 1, encoding="legacy"))
    label, mask = frame[None, :2], frame[None, 2:3]
    # the inlet column carries u = vel_in under mask 0
    assert float(label[0, 0, 1:-1, 0].abs().min()) > 0 and float(mask[0, 0, :, 0].max()) == 0
    assert compute_metrics(torch.zeros_like(label), label, mask=mask)["nmse"] == pytest.approx(1.0)
