"""Resampling onto the 64x64 grid (spec §9.14)."""

from __future__ import annotations

import numpy as np

from cfdbench.interp import resample_points, resample_regular, target_grid


def test_scattered_linear_exact():
    rng = np.random.default_rng(0)
    pts = rng.random((500, 2)) * [1.5, 0.4]
    # add the domain corners so every target lies inside the convex hull
    pts = np.concatenate([pts, [[0, 0], [1.5, 0], [0, 0.4], [1.5, 0.4]]])
    f = lambda x, y: 2.0 * x - 3.0 * y + 0.5
    gx, gy = target_grid(0, 1.5, 0, 0.4)
    out = resample_points(pts, f(pts[:, 0], pts[:, 1]), gx, gy)
    assert out.shape == (64, 64)
    assert np.abs(out - f(gx, gy)).max() <= 1e-10


def test_scattered_quadratic_close():
    rng = np.random.default_rng(1)
    # a jittered 81 x 81 lattice (like a mildly distorted mesh's cell centres) covering the unit square
    g = np.stack(np.meshgrid(np.linspace(0, 1, 81), np.linspace(0, 1, 81)), axis=-1).reshape(-1, 2)
    pts = np.clip(g + rng.uniform(-0.004, 0.004, g.shape), 0, 1)
    f = lambda x, y: x * x + x * y - 0.5 * y * y
    gx, gy = target_grid(0, 1, 0, 1)
    out = resample_points(pts, f(pts[:, 0], pts[:, 1]), gx, gy)
    assert np.abs(out - f(gx, gy)).max() <= 1e-3


def test_regular_grid_bilinear_exact():
    x = np.linspace(0, 1, 17)
    y = np.linspace(0, 2, 9)
    vals = 3 * x[None, :] + 4 * y[:, None]
    gx, gy = target_grid(0, 1, 0, 2)
    np.testing.assert_allclose(resample_regular(x, y, vals, gx, gy), 3 * gx + 4 * gy, atol=1e-12)
