"""Offline data generation in the released CFDBench layout (spec §1.2, §8).

Sweeps follow the original BC/PROP/GEO subsets (one family of parameters varies, the rest stay at the baseline).
The embedded torch backend cannot resolve every original case on a cheap grid, so :func:`sweep` applies documented
restrictions (``original=False``, the default):

* cavity: baseline viscosity 1e-3 instead of 1e-5 (Re = 100 instead of 1e4); PROP keeps ``Re <= max_re``;
* every problem: cases with ``Re > max_re`` are dropped;
* dam: a **single-phase** channel flow over the step stands in for the two-phase VOF dam break (no gravity, no free
  surface); use the OpenFOAM backend (interFoam) for the real dam break, which also writes the water volume fraction
  as an extra ``alpha.npy`` ``[T, 64, 64]`` per case (the loader reads only ``u.npy``/``v.npy`` and ignores it);
* tube: single-phase channel with the torch backend (the water/air interface of the original is dropped); the
  OpenFOAM backend runs the original's two-phase tube (interFoam: water filling an air-filled channel) and writes
  ``alpha.npy`` like the dam (``tube_phases=1`` / ``--tube-phases 1``: single-phase icoFoam channel instead);
* frame interval ``data_dt`` per problem (cavity 1e-3 s, tube 0.01 s, dam 0.1 s, cylinder 1e-3 s) so that a few
  dozen frames show the transient; it is written to ``{problem}/generation.json`` and read back by the loader.

Output: ``out/{problem}/{subset}/caseNNNN/{case.json,u.npy,v.npy}`` with the original case numbering; each case is
written atomically (``case.json`` last) so an interrupted run resumes where it stopped.

Example::

    from cfdbench.generate import GenerateConfig, generate

    generate(GenerateConfig(problem="cavity", subset="bc", cases=3, frames=10, out="data"))
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cfdbench.data import DAM_BARRIER_X, GRID, PROBLEMS, SUBSETS, save_case
from lc_core.io import atomic_write_bytes, atomic_write_json
from lc_core.logging import get_logger

__all__ = ["GenerateConfig", "sweep", "reynolds", "generate", "simulate_case", "DATA_DT", "CASE_OFFSET"]

logger = get_logger(__name__)

# frame interval of generated data (s)
DATA_DT = {"cavity": 1e-3, "tube": 0.01, "dam": 0.1, "cylinder": 1e-3}
# first case number of each subset (the release's numbering, spec §1.3)
CASE_OFFSET = {
    "cavity": {"bc": 0, "prop": 50, "geo": 1},
    "tube": {"bc": 0, "prop": 50, "geo": 150},
    "dam": {"bc": 0, "prop": 70, "geo": 170},
    "cylinder": {"bc": 0, "prop": 50, "geo": 1},
}
_PROP_RHO = [0.1, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
_PROP_MU = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2]
_TUBE_RHO = [float(x) for x in np.linspace(10, 1000, 10)]
_TUBE_MU = [float(x) for x in np.linspace(0.01, 1, 10)]


def _cyl_rho() -> list[float]:
    vals = [round(0.1 * i, 1) for i in range(1, 11)] + [1.5, 2.5, 3.5, 4.5, 5.0] + [6.0, 7.0, 8.0, 9.0, 10.0]
    return vals + [float(x) for x in range(20, 251, 10)] + [300.0, 400.0, 500.0]


def reynolds(problem: str, p: dict[str, Any]) -> float:
    """Reynolds number of a case: cavity ``rho u L / mu`` (L = width), tube ``rho u d / mu``, dam ``rho u 0.1 / mu``
    (inlet height), cylinder ``rho u (2 r) / mu``."""
    rho, mu = p["density"], p["viscosity"]
    if problem == "cavity":
        return rho * p["vel_top"] * p["width"] / mu
    if problem == "tube":
        return rho * p["vel_in"] * p["height"] / mu
    if problem == "dam":
        return rho * p["velocity"] * 0.1 / mu
    return rho * p["vel_in"] * 2 * p["radius"] / mu


def _original(problem: str, subset: str) -> list[dict[str, Any]]:
    if problem == "cavity":
        base = {"vel_top": 10.0, "density": 1.0, "viscosity": 1e-5, "height": 0.01, "width": 0.01}
        if subset == "bc":
            return [{**base, "vel_top": float(u)} for u in range(1, 51)]
        if subset == "prop":
            return [{**base, "density": float(r), "viscosity": m} for r in _PROP_RHO for m in _PROP_MU]
        sizes = [0.01, 0.02, 0.03, 0.04, 0.05]
        return [{**base, "height": h, "width": w} for h in sizes for w in sizes]
    if problem == "tube":
        base = {"vel_in": 1.0, "density": 100.0, "viscosity": 0.1, "height": 0.1, "width": 1.0}
        if subset == "bc":
            return [{**base, "vel_in": round(0.1 * i, 1)} for i in range(1, 51)]
        if subset == "prop":
            return [{**base, "density": r, "viscosity": m} for r in _TUBE_RHO for m in _TUBE_MU]
        # the 25 (d, l) pairs are only in the release's case.json files; this is our 5 x 5 choice
        return [
            {**base, "height": d, "width": max(0.1, min(10.0, d * r))}
            for d in (0.01, 0.05, 0.1, 0.3, 0.5)
            for r in (2, 5, 10, 15, 20)
        ]
    if problem == "dam":
        base = {"velocity": 1.0, "density": 100.0, "viscosity": 0.1, "barrier_height": 0.1, "barrier_width": 0.05}
        if subset == "bc":
            vels = [float(x) for x in np.linspace(0.05, 1.0, 20)] + [float(x) for x in np.linspace(1.02, 2.0, 50)]
            out = [{**base, "velocity": v} for v in vels]
        elif subset == "prop":
            out = [{**base, "density": r, "viscosity": m} for r in _TUBE_RHO for m in _TUBE_MU]
        else:
            hs = [float(x) for x in np.linspace(0.11, 0.15, 5)]
            ws = [float(x) for x in np.linspace(0.01, 0.10, 10)]
            out = [{**base, "barrier_height": h, "barrier_width": w} for h in hs for w in ws]
        return [{**c, "height": 0.4, "width": 1.5, "dx": 1.5 / GRID, "dy": 0.4 / GRID} for c in out]
    base = {
        "vel_in": 1.0,
        "density": 10.0,
        "viscosity": 1e-3,
        "radius": 0.01,
        "x_min": -0.06,
        "x_max": 0.16,
        "y_min": -0.06,
        "y_max": 0.06,
    }
    if subset == "bc":
        return [{**base, "vel_in": round(0.1 * i, 1)} for i in range(1, 51)]
    if subset == "prop":
        cands = [{**base, "density": r, "viscosity": m} for r in _cyl_rho() for m in (1e-4, 5e-4, 1e-3, 5e-3, 1e-2)]
        return [c for c in cands if 20 <= reynolds("cylinder", c) <= 1000]
    # 20 geometries drawn from the original's value sets (the exact list is only in the release's case.json files):
    # diameters cycle fastest; every wall stays at least 0.75 d from the cylinder
    ds = [0.01, 0.02, 0.03, 0.04, 0.05]
    side = [0.02, 0.04, 0.06, 0.08, 0.1]
    x2s = [0.12, 0.14, 0.16, 0.18, 0.2]
    out = []
    for i in range(20):
        d, r = ds[i % 5], i // 5
        lo = next(k for k, s in enumerate(side) if s >= 0.75 * d)
        x1, y1, y2 = side[min(4, lo + r)], side[min(4, lo + (r + 1) % 4)], side[min(4, lo + (r + 2) % 4)]
        out.append({**base, "radius": d / 2, "x_min": -x1, "x_max": x2s[(i + r) % 5], "y_min": -y1, "y_max": y2})
    return out


def sweep(problem: str, subset: str, *, original: bool = False, max_re: float | None = None) -> list[dict[str, Any]]:
    """Case parameters of one subset in release order (``case.json`` contents without ``case_no``).

    Args:
        problem: ``cavity``, ``tube``, ``dam`` or ``cylinder``.
        subset: ``bc``, ``prop`` or ``geo``.
        original: the original sweep verbatim; otherwise the embedded, resolvable restriction (module docstring).
        max_re: drop cases above this Reynolds number (default 1000, or none when ``original``).
    """
    if problem not in PROBLEMS or subset not in SUBSETS:
        raise ValueError(f"unknown problem/subset {problem}/{subset}")
    cases = _original(problem, subset)
    if original:
        return cases if max_re is None else [c for c in cases if reynolds(problem, c) <= max_re]
    if problem == "cavity":
        # Re = 1e4 at the original baseline is not resolvable on a 64^2 explicit grid
        cases = [{**c, "viscosity": 1e-3} if subset != "prop" else c for c in cases]
    max_re = 1000.0 if max_re is None else max_re
    return [c for c in cases if reynolds(problem, c) <= max_re]


@dataclass(kw_only=True)
class GenerateConfig:
    """A generation job.

    Attributes:
        problem: problem name.
        subset: ``bc``, ``prop`` or ``geo``.
        cases: number of cases (first N of the sweep); ``None`` = all.
        frames: frames per case (including the initial state).
        out: dataset root.
        backend: ``torch`` or ``openfoam``.
        original: use the original sweep verbatim (most cases are not resolvable with the torch backend).
        max_re: Reynolds cap of the embedded sweep.
        resolution: solver cells along the longer side (torch backend; 64 matches the released grid).
        device: torch device.
        data_dt: frame interval (s); default per problem (:data:`DATA_DT`).
        seed: seed of the cylinder's symmetry-breaking perturbation.
        processes: MPI ranks for the OpenFOAM backend (1 = serial).
        tube_phases: OpenFOAM tube: 2 = water/air VOF through interFoam (the original's setup), 1 = single-phase
            icoFoam channel. Ignored by the torch backend (always single-phase) and by the other problems.
    """

    problem: str
    subset: str = "bc"
    cases: int | None = None
    frames: int = 20
    out: str = "data"
    backend: str = "torch"
    original: bool = False
    max_re: float | None = None
    resolution: int = 64
    device: str = "cpu"
    data_dt: float | None = None
    seed: int = 0
    processes: int = 1
    tube_phases: int = 2
    extra: dict[str, Any] = field(default_factory=dict)


def _solver_config(problem: str, p: dict[str, Any], resolution: int, device: str):
    from cfdbench import solver as S

    nu = p["viscosity"] / p["density"]
    kw = {"device": device, "upwind": None}
    if problem == "cavity":
        lx, ly = p["width"], p["height"]
        nx, ny = (
            (resolution, max(8, round(resolution * ly / lx)))
            if lx >= ly
            else (max(8, round(resolution * lx / ly)), resolution)
        )
        sides = {"left": S.Side(), "right": S.Side(), "bottom": S.Side(), "top": S.Side(kind="wall", value=p["vel_top"])}
        return S.FlowConfig(nx=nx, ny=ny, lx=lx, ly=ly, nu=nu, sides=sides, **kw)
    if problem == "tube":
        return S.channel_config(
            nx=resolution, ny=max(16, resolution // 2), length=p["width"], height=p["height"], nu=nu, u_in=p["vel_in"], **kw
        )
    if problem == "dam":
        return S.step_config(
            h=min(p["width"] / (3 * resolution), p["height"] / resolution),
            length=p["width"],
            height=p["height"],
            inlet_height=0.1,
            barrier_x=DAM_BARRIER_X,
            barrier_width=p["barrier_width"],
            barrier_height=p["barrier_height"],
            nu=nu,
            u_in=p["velocity"],
            **kw,
        )
    h = min(p["x_max"] - p["x_min"], p["y_max"] - p["y_min"]) / resolution
    h = min(h, p["radius"] / 5)
    return S.cylinder_config(
        h=h,
        x_min=p["x_min"],
        x_max=p["x_max"],
        y_min=p["y_min"],
        y_max=p["y_max"],
        radius=p["radius"],
        nu=nu,
        u_in=p["vel_in"],
        **kw,
    )


def _extent(problem: str, p: dict[str, Any]) -> tuple[float, float, float, float]:
    if problem == "cylinder":
        return p["x_min"], p["x_max"], p["y_min"], p["y_max"]
    return 0.0, p["width"], 0.0, p["height"]


def _sample(solver, problem: str, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Staggered solver fields -> ``[64, 64]`` u, v at the release's cell centres (wall values added as samples)."""
    from cfdbench.interp import resample_regular, target_grid

    cfg = solver.cfg
    x0, x1, y0, y1 = _extent(problem, p)
    gx, gy = target_grid(x0, x1, y0, y1, GRID)
    u = solver.u.detach().cpu().double().numpy()
    v = solver.v.detach().cpu().double().numpy()
    xf = cfg.x0 + np.arange(cfg.nx + 1) * solver.dx
    yf = cfg.y0 + np.arange(cfg.ny + 1) * solver.dy
    xc = cfg.x0 + (np.arange(cfg.nx) + 0.5) * solver.dx
    yc = cfg.y0 + (np.arange(cfg.ny) + 0.5) * solver.dy
    # u: add the bottom/top wall rows (tangential wall speed) so targets near walls interpolate, not extrapolate
    bot, top = cfg.sides["bottom"], cfg.sides["top"]
    ub = np.full((1, u.shape[1]), bot.value if bot.kind == "wall" else 0.0)
    ut = np.full((1, u.shape[1]), top.value if top.kind == "wall" else 0.0)
    uu = np.concatenate([ub, u, ut], axis=0)
    yy = np.concatenate([[cfg.y0], yc, [cfg.y0 + cfg.ly]])
    us = resample_regular(xf, yy, uu, gx, gy)
    left, right = cfg.sides["left"], cfg.sides["right"]
    vl = np.zeros((v.shape[0], 1)) if left.kind != "outlet" else v[:, :1]
    vr = np.zeros((v.shape[0], 1)) if right.kind != "outlet" else v[:, -1:]
    vv = np.concatenate([vl, v, vr], axis=1)
    xx = np.concatenate([[cfg.x0], xc, [cfg.x0 + cfg.lx]])
    vs = resample_regular(xx, yf, vv, gx, gy)
    return us, vs


def simulate_case(
    problem: str,
    params: dict[str, Any],
    *,
    frames: int,
    data_dt: float,
    resolution: int = 64,
    device: str = "cpu",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the torch solver for one case and sample ``frames`` snapshots every ``data_dt`` seconds.

    Returns:
        ``u, v`` each ``[frames, 64, 64]`` float32 (frame 0 = the initial state).

    Raises:
        DivergenceBlowUp: the run became unstable.
    """
    import torch

    from cfdbench.data import Case, obstacle_mask
    from cfdbench.solver import ProjectionSolver

    cfg = _solver_config(problem, params, resolution, device)
    solver = ProjectionSolver(cfg)
    if problem == "cylinder":
        # a small seeded perturbation breaks the symmetry so the wake sheds within a few frames
        g = torch.Generator().manual_seed(seed)
        scale = 0.05 * params["vel_in"]
        solver.set_velocity(
            solver.u + scale * torch.randn(solver.u.shape, generator=g, dtype=solver.u.dtype).to(device),
            solver.v + scale * torch.randn(solver.v.shape, generator=g, dtype=solver.v.dtype).to(device),
        )
    mask = obstacle_mask(
        Case(
            problem=problem,
            subset="",
            path=Path("."),
            params=params,
            u=np.zeros((1, GRID, GRID)),
            v=np.zeros((1, GRID, GRID)),
            data_dt=data_dt,
        )
    )
    us, vs = [], []
    for i in range(frames):
        if i > 0:
            solver.advance(data_dt)
        u, v = _sample(solver, problem, params)
        us.append(u * mask)
        vs.append(v * mask)
    return np.stack(us).astype(np.float32), np.stack(vs).astype(np.float32)


def _case_done(d: Path) -> bool:
    return all((d / f).is_file() for f in ("u.npy", "v.npy", "case.json"))


def generate(cfg: GenerateConfig) -> dict[str, Any]:
    """Generate one subset into ``cfg.out``; returns a summary (written cases, skipped-as-done, failures)."""
    if cfg.backend not in ("torch", "openfoam"):
        raise ValueError(f"backend must be 'torch' or 'openfoam', got {cfg.backend!r}")
    if cfg.frames < 2:
        raise ValueError("frames must be >= 2")
    if cfg.tube_phases not in (1, 2):
        raise ValueError(f"tube_phases must be 1 or 2, got {cfg.tube_phases}")
    data_dt = cfg.data_dt or DATA_DT[cfg.problem]
    params = sweep(cfg.problem, cfg.subset, original=cfg.original, max_re=cfg.max_re)
    if cfg.cases is not None:
        params = params[: cfg.cases]
    root = Path(cfg.out) / cfg.problem
    meta_path = root / "generation.json"
    deviations = DEVIATIONS[cfg.problem]
    phases = 1
    if cfg.backend == "openfoam" and cfg.problem == "dam":
        deviations, phases = OPENFOAM_DAM_DEVIATIONS, 2
    elif cfg.backend == "openfoam" and cfg.problem == "tube":
        phases = cfg.tube_phases
        deviations = OPENFOAM_TUBE_DEVIATIONS if phases == 2 else OPENFOAM_TUBE_SINGLE_PHASE_DEVIATIONS
    meta = {"data_dt": data_dt, "backend": cfg.backend, "phases": phases, "config": asdict(cfg), "deviations": deviations}
    if meta_path.is_file():
        old = json.loads(meta_path.read_text())
        if not math.isclose(float(old["data_dt"]), data_dt):
            raise ValueError(f"{meta_path}: existing data_dt {old['data_dt']} differs from {data_dt}; use another --out")
        # resuming must not mix single- and two-phase cases in one subset
        if old.get("phases", phases) != phases:
            raise ValueError(f"{meta_path}: existing phases {old['phases']} differs from {phases}; use another --out")
    atomic_write_json(meta_path, meta)
    summary: dict[str, Any] = {"written": [], "skipped": [], "failed": [], "seconds": 0.0}
    t0 = time.perf_counter()
    offset = CASE_OFFSET[cfg.problem][cfg.subset]
    for i, p in enumerate(tqdm(params, desc=f"{cfg.problem}/{cfg.subset}")):
        name = f"case{offset + i:04d}"
        d = root / cfg.subset / name
        if _case_done(d):
            summary["skipped"].append(name)
            continue
        alpha = None
        try:
            if cfg.backend == "torch":
                u, v = simulate_case(
                    cfg.problem,
                    p,
                    frames=cfg.frames,
                    data_dt=data_dt,
                    resolution=cfg.resolution,
                    device=cfg.device,
                    seed=cfg.seed + i,
                )
            else:
                from cfdbench.openfoam import simulate_case_openfoam

                fields = simulate_case_openfoam(
                    cfg.problem,
                    p,
                    frames=cfg.frames,
                    data_dt=data_dt,
                    processes=cfg.processes,
                    workdir=root / ".openfoam" / name,
                    return_alpha=phases == 2,
                    phases=phases,
                )
                u, v = fields[0], fields[1]
                alpha = fields[2] if len(fields) == 3 else None
        except Exception as e:  # noqa: BLE001 - one bad case must not stop a sweep; it is logged and reported
            from cfdbench.solver import DivergenceBlowUp

            if not isinstance(e, DivergenceBlowUp | RuntimeError):
                raise
            logger.warning("%s: %s failed: %s", cfg.problem, name, e)
            summary["failed"].append({"case": name, "error": str(e)})
            continue
        case_json = {"case_no": offset + i, **p} if cfg.problem == "dam" else dict(p)
        if alpha is not None:
            # before save_case: its case.json (written last) marks the case complete
            d.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            np.save(buf, alpha)
            atomic_write_bytes(d / "alpha.npy", buf.getvalue())
        save_case(d, case_json, u, v)
        summary["written"].append(name)
    summary["seconds"] = time.perf_counter() - t0
    return summary


DEVIATIONS = {
    "cavity": "torch projection solver; baseline viscosity 1e-3 (Re=100) instead of 1e-5; PROP cases with Re > max_re dropped",
    "tube": "single-phase channel (no water/air interface); cases with Re > max_re dropped",
    "dam": "single-phase channel flow over a step stands in for the two-phase VOF dam break (no gravity, no free surface)",
    "cylinder": (
        "staircase cylinder on a uniform grid, seeded perturbation to trigger shedding; cases with Re > max_re dropped"
    ),
}
OPENFOAM_DAM_DEVIATIONS = (
    "OpenFOAM interFoam (water/air VOF, gravity, laminar) instead of ANSYS Fluent: 1 cm block mesh, open atmosphere at "
    "the top of the 0.4 m window, totalPressure p_rgh = 0 on the open boundaries, Fluent-default air, no surface tension, "
    "initial water patch x < 0.5 m, y < 0.1 m at the inlet speed; alpha.npy holds the water volume fraction"
)
OPENFOAM_TUBE_DEVIATIONS = (
    "OpenFOAM interFoam (water/air VOF, no gravity, laminar) instead of ANSYS Fluent: uniform 64 x 64 block mesh, "
    "full-height water inlet, totalPressure p_rgh = p = 0 outlet, no-slip top/bottom, Fluent-default air, no surface "
    "tension, tube initially full of air at rest; u, v are the mixture velocity (Fluent's shared VOF velocity exported "
    "as x-velocity-water); alpha.npy holds the water volume fraction"
)
OPENFOAM_TUBE_SINGLE_PHASE_DEVIATIONS = (
    "OpenFOAM icoFoam single-phase channel (tube_phases=1): no water/air interface, the channel starts full of water at "
    "rest; plug inlet, p = 0 outlet, uniform 64 x 64 mesh"
)
