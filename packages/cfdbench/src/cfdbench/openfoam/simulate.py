"""One case end to end: write, mesh, solve, sample."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cfdbench.data import GRID, Case, obstacle_mask
from cfdbench.interp import target_grid
from cfdbench.openfoam.cases import (
    DAM_CELLS,
    _geometry,
    default_phases,
    write_case,
)
from cfdbench.openfoam.errors import OpenFoamError
from cfdbench.openfoam.fields import _Sampler, _time_dirs, read_scalar_field, read_vector_field
from cfdbench.openfoam.runner import openfoam_available, run_case


def simulate_case_openfoam(
    problem: str,
    params: dict[str, Any],
    *,
    frames: int,
    data_dt: float,
    workdir: str | os.PathLike[str],
    processes: int = 1,
    cells: tuple[int, int] | None = None,
    keep: bool = False,
    return_alpha: bool = False,
    phases: int | None = None,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run one case (icoFoam, or interFoam for the dam and the two-phase tube) and sample every written time onto
    the 64x64 grid.

    For the two-phase problems ``u, v`` are VOF's single mixture velocity and ``alpha`` the water volume fraction (the
    original's raw ``water-vof`` / ``volume-fraction-water`` export, absent from the release). The dam's release holds
    Fluent's ``x-velocity``/``y-velocity``, the tube's ``x-velocity-water``/``y-velocity-water``: Fluent's VOF model
    solves one momentum equation shared by all phases, so its phase velocity is that same shared field everywhere
    (also in the air ahead of the water), i.e. our mixture velocity.

    Args:
        problem: ``cavity``, ``tube``, ``cylinder`` or ``dam``.
        params: ``case.json`` parameters.
        frames: frames to return, frame 0 = the initial state.
        data_dt: frame interval (s).
        workdir: the case folder (wiped first; removed afterwards unless ``keep``).
        processes: MPI ranks (1 = serial).
        cells: solver cells (default: 64 x 64; cylinder: 5 cells per radius; dam: 150 x 40, 1 cm cells).
        keep: keep the OpenFOAM case folder.
        return_alpha: also return the water volume fraction (two-phase runs only).
        phases: 2 (interFoam, water/air) or 1 (icoFoam); only the tube offers both (default: 2, the original's).

    Returns:
        ``u, v`` (and ``alpha`` when ``return_alpha``) each ``[frames, 64, 64]`` float32, obstacle cells zero.
    """
    phases = default_phases(problem, phases)
    if return_alpha and phases != 2:
        raise ValueError(f"return_alpha needs a two-phase run (dam, or tube with phases=2), got {problem} with {phases}")
    if not openfoam_available(problem, phases):
        raise OpenFoamError(f"OpenFOAM utilities for {problem} not found on PATH (apt-get install -y openfoam)")
    x0, x1, y0, y1 = _geometry(problem, params)
    if cells is None:
        if problem == "cylinder":
            h = params["radius"] / 5
            cells = (max(GRID, round((x1 - x0) / h)), max(GRID, round((y1 - y0) / h)))
        elif problem == "dam":
            cells = DAM_CELLS
        else:
            cells = (GRID, GRID)
    d = Path(workdir)
    shutil.rmtree(d, ignore_errors=True)
    write_case(d, problem, params, end_time=(frames - 1) * data_dt, write_interval=data_dt, cells=cells, phases=phases)
    run_case(d, problem, processes=processes)
    centres = read_vector_field(d / "0" / "C")[:, :2]
    gx, gy = target_grid(x0, x1, y0, y1, GRID)
    mask = obstacle_mask(
        Case(
            problem=problem,
            subset="",
            path=d,
            params=params,
            u=np.zeros((1, GRID, GRID)),
            v=np.zeros((1, GRID, GRID)),
            data_dt=data_dt,
        )
    )
    sample = _Sampler(centres, gx, gy)
    us, vs, alphas = [], [], []
    times = _time_dirs(d)[:frames]
    if len(times) < frames:
        raise OpenFoamError(f"{d}: only {len(times)} time directories written, expected {frames}")
    for t in times:
        vel = read_vector_field(t / "U", n_cells=len(centres))
        uv = sample(vel[:, :2], fill=0.0)
        us.append(uv[..., 0] * mask)
        vs.append(uv[..., 1] * mask)
        if return_alpha:
            alpha = read_scalar_field(t / "alpha.water", n_cells=len(centres))
            alphas.append(np.clip(sample(alpha), 0.0, 1.0) * mask)
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    u, v = np.stack(us).astype(np.float32), np.stack(vs).astype(np.float32)
    if return_alpha:
        return u, v, np.stack(alphas).astype(np.float32)
    return u, v
