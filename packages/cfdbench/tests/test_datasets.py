"""PyTorch datasets over memory-mapped cases."""

from __future__ import annotations

import torch

from cfdbench.data import load_cases
from cfdbench.datasets import AutoDataset, NonAutoDataset


def test_auto_items(make_dataset):
    root = make_dataset("cylinder", ("bc",), n=2, t=6)
    cases = load_cases(root, "cylinder_bc")
    ds = AutoDataset(cases, k=2, steady_cut=False, encoding="legacy")
    assert len(ds) == 2 * (6 - 2)
    x, y, mask, p = ds[0]
    assert x.shape == (2, 66, 65) and y.shape == (2, 66, 65) and mask.shape == (1, 66, 65) and p.shape == (8,)
    frames = torch.from_numpy(cases[0].u[[0, 2]])
    assert torch.equal(x[0, 1:-1, 1:], frames[0]) and torch.equal(y[0, 1:-1, 1:], frames[1])


def test_nonauto_items(make_dataset):
    root = make_dataset("cavity", ("bc",), n=2, t=5)
    ds = NonAutoDataset(load_cases(root, "cavity_bc"))
    assert len(ds) == 10
    p, t, frame = ds[7]
    assert p.shape == (5,) and float(t) == 2.0 and frame.shape == (3, 64, 64)
