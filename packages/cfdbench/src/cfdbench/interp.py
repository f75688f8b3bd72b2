"""Resampling solver output onto the CFDBench 64x64 cell-centre grid.

Two paths: a structured one (``RegularGridInterpolator``) for the torch solver's staggered fields and an unstructured
one (``scipy.interpolate.griddata``, Delaunay-linear, nearest-neighbour fill outside the hull) for OpenFOAM cell centres.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import RegularGridInterpolator, griddata

__all__ = ["target_grid", "resample_regular", "resample_points"]


def target_grid(x0: float, x1: float, y0: float, y1: float, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates of an ``n x n`` grid over ``[x0, x1] x [y0, y1]``: ``(X, Y)`` each ``[n, n]`` (row = y)."""
    xc = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    yc = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    return np.meshgrid(xc, yc, indexing="xy")


def resample_regular(x: np.ndarray, y: np.ndarray, values: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``values [len(y), len(x)]`` (rectilinear, ascending axes) at points ``(gx, gy)``;
    points outside are linearly extrapolated."""
    f = RegularGridInterpolator((y, x), values, method="linear", bounds_error=False, fill_value=None)
    return f(np.stack([gy.ravel(), gx.ravel()], axis=-1)).reshape(gx.shape)


def resample_points(points: np.ndarray, values: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation from scattered ``points [N, 2]`` with ``values [N]`` (or ``[N, C]``) to ``(gx, gy)``.

    Exact for linear fields inside the convex hull; targets outside it take the nearest sample.
    """
    tgt = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    out = griddata(points, values, tgt, method="linear")
    bad = ~np.isfinite(out)
    if bad.any():
        near = griddata(points, values, tgt, method="nearest")
        out[bad] = near[bad]
    return out.reshape(gx.shape + np.shape(values)[1:])
