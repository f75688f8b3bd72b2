"""Reading ASCII OpenFOAM fields and sampling cell-centre values onto the 64x64 grid."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from cfdbench.interp import resample_points, resample_regular
from cfdbench.openfoam.errors import OpenFoamError

_VEC = re.compile(r"\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)")


def _internal_field(path: str | os.PathLike[str], kind: str, n_cells: int | None) -> tuple[str, int, int, str | None]:
    """Locate the ``internalField`` of an ASCII ``kind`` (``scalar``/``vector``) field.

    Returns ``(text, start, n, uniform)``: the file text, the offset after the ``List<kind> n (`` opener and the
    count, or for a uniform field ``uniform`` = its value without parentheses and ``n = n_cells``.
    """
    text = Path(path).read_text()
    i = text.find("internalField")
    if i < 0:
        raise OpenFoamError(f"{path}: no internalField")
    head = text[i : i + 200]
    m = re.match(r"internalField\s+uniform\s+(\([^)]*\)|[-+0-9.eE]+)\s*;", head)
    if m:
        if n_cells is None:
            raise OpenFoamError(f"{path}: uniform field needs n_cells")
        return text, 0, n_cells, m.group(1).strip("()")
    m = re.match(rf"internalField\s+nonuniform\s+List<{kind}>\s+(\d+)\s*\(", head)
    if not m:
        raise OpenFoamError(f"{path}: cannot parse internalField")
    return text, i + m.end(), int(m.group(1)), None


def read_scalar_field(path: str | os.PathLike[str], n_cells: int | None = None) -> np.ndarray:
    """The ``internalField`` of an ASCII volScalarField: ``[N]`` (a uniform field needs ``n_cells``)."""
    text, start, n, uniform = _internal_field(path, "scalar", n_cells)
    if uniform is not None:
        return np.full(n, float(uniform))
    end = text.find(")", start)
    try:
        vals = np.array(text[start:end].split(), dtype=float)
    except ValueError:
        raise OpenFoamError(f"{path}: non-numeric entry in internalField") from None
    if vals.shape != (n,):
        raise OpenFoamError(f"{path}: expected {n} values, parsed {vals.shape[0]}")
    return vals


def read_vector_field(path: str | os.PathLike[str], n_cells: int | None = None) -> np.ndarray:
    """The ``internalField`` of an ASCII volVectorField: ``[N, 3]`` (a uniform field needs ``n_cells``)."""
    text, start, n, uniform = _internal_field(path, "vector", n_cells)
    if uniform is not None:
        return np.tile(np.array([float(x) for x in uniform.split()]), (n, 1))
    end = text.find(")\n;", start)
    vals = np.array(_VEC.findall(text[start : end + 1]), dtype=float)
    if vals.shape != (n, 3):
        raise OpenFoamError(f"{path}: expected {n} vectors, parsed {vals.shape[0]}")
    return vals


class _Sampler:
    """Cell-centre fields -> the 64x64 grid, built once per mesh.

    Block meshes (with or without removed cells) have their cell centres on a tensor-product lattice; values are then
    placed on it and interpolated bilinearly (:func:`resample_regular`), which is exact for linear fields and fast.
    Lattice slots of removed cells (the obstacle) take ``fill`` (0 for velocity: the no-slip wall) or, when ``fill`` is
    ``None``, the nearest cell's value. Other meshes use Delaunay-linear :func:`resample_points` (slow on lattices:
    qhull's point location degenerates on co-circular points).
    """

    def __init__(self, centres: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> None:
        self.centres, self.gx, self.gy = centres, gx, gy
        scale = float(np.abs(centres).max()) or 1.0
        # group coordinates equal up to round-off; each lattice line keeps one of its exact values
        kx, self.ix = np.unique(np.round(centres[:, 0] / scale, 9), return_inverse=True)
        ky, self.iy = np.unique(np.round(centres[:, 1] / scale, 9), return_inverse=True)
        self.xs, self.ys = np.empty(len(kx)), np.empty(len(ky))
        self.xs[self.ix], self.ys[self.iy] = centres[:, 0], centres[:, 1]
        self.lattice = (
            len(kx) > 1
            and len(ky) > 1
            and len(kx) * len(ky) <= 4 * len(centres)
            and len(set(zip(self.ix.tolist(), self.iy.tolist(), strict=True))) == len(centres)
        )
        if self.lattice:
            filled = np.zeros((len(self.ys), len(self.xs)), bool)
            filled[self.iy, self.ix] = True
            hy, hx = np.nonzero(~filled)
            # removed slots copy their nearest cell when no fill value is given
            if len(hy):
                d2 = (self.xs[hx, None] - centres[None, :, 0]) ** 2 + (self.ys[hy, None] - centres[None, :, 1]) ** 2
                self.holes, self.hole_src = (hy, hx), d2.argmin(axis=1)
            else:
                self.holes, self.hole_src = (hy, hx), np.zeros(0, int)

    def __call__(self, values: np.ndarray, fill: float | None = None) -> np.ndarray:
        """``values [N]`` or ``[N, C]`` at the cell centres -> ``[64, 64]`` or ``[64, 64, C]``."""
        if not self.lattice:
            return resample_points(self.centres, values, self.gx, self.gy)
        grid = np.zeros((len(self.ys), len(self.xs), *values.shape[1:]))
        grid[self.iy, self.ix] = values
        grid[self.holes] = values[self.hole_src] if fill is None else fill
        if values.ndim == 1:
            return resample_regular(self.xs, self.ys, grid, self.gx, self.gy)
        return np.stack(
            [resample_regular(self.xs, self.ys, grid[..., k], self.gx, self.gy) for k in range(values.shape[1])], axis=-1
        )


def _time_dirs(d: Path) -> list[Path]:
    out = []
    for p in d.iterdir():
        try:
            out.append((float(p.name), p))
        except ValueError:
            continue
    return [p for _, p in sorted(out)]
