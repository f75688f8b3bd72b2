"""Solver validation cases with published or analytic references (spec §8.3, §9.12).

* lid-driven cavity vs Ghia, Ghia & Shin (1982), Re = 100 centrelines;
* plane Poiseuille flow: parabolic profile and pressure gradient ``dp/dx = -12 mu U / H^2``;
* Taylor–Green vortex: kinetic energy decays as ``exp(-4 nu t)``;
* confined cylinder wake: vortex shedding and its Strouhal number ``f d / U``.

Each function runs the torch solver and returns a dict of measured errors, so tests, benchmarks and the README
quote the same numbers. Run ``python -m cfdbench.validation`` to print them all.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import torch

from cfdbench.solver import ProjectionSolver, cavity_config, channel_config, cylinder_config, taylor_green_config

__all__ = ["GHIA_U_RE100", "GHIA_V_RE100", "cavity_ghia", "poiseuille", "taylor_green", "cylinder_strouhal"]

# (y, u) along the vertical centreline x = 0.5, Ghia et al. 1982 Table I, Re = 100
GHIA_U_RE100 = (
    (1.0000, 1.00000), (0.9766, 0.84123), (0.9688, 0.78871), (0.9609, 0.73722), (0.9531, 0.68717),
    (0.8516, 0.23151), (0.7344, 0.00332), (0.6172, -0.13641), (0.5000, -0.20581), (0.4531, -0.21090),
    (0.2813, -0.15662), (0.1719, -0.10150), (0.1016, -0.06434), (0.0703, -0.04775), (0.0625, -0.04192),
    (0.0547, -0.03717), (0.0000, 0.00000),
)  # fmt: skip
# (x, v) along the horizontal centreline y = 0.5, Ghia et al. 1982 Table II, Re = 100
GHIA_V_RE100 = (
    (1.0000, 0.00000), (0.9688, -0.05906), (0.9609, -0.07391), (0.9531, -0.08864), (0.9453, -0.10313),
    (0.9063, -0.16914), (0.8594, -0.22445), (0.8047, -0.24533), (0.5000, 0.05454), (0.2344, 0.17527),
    (0.2266, 0.17507), (0.1563, 0.16077), (0.0938, 0.12317), (0.0781, 0.10890), (0.0703, 0.10091),
    (0.0625, 0.09233), (0.0000, 0.00000),
)  # fmt: skip


def cavity_ghia(n: int = 128, *, tol: float = 1e-5, max_time: float = 60.0, device: str = "cpu") -> dict[str, Any]:
    """Steady cavity at Re = 100 on an ``n x n`` grid (n even) vs Ghia's centrelines.

    Returns:
        ``max_err_u`` (along x = 0.5), ``max_err_v`` (along y = 0.5), ``max_div`` (``max|div u| * h / U`` after the last
        projection), ``steps``, ``sim_time``, ``seconds``.
    """
    if n % 2:
        raise ValueError("n must be even so the centrelines fall on cell faces")
    s = ProjectionSolver(cavity_config(n=n, re=100.0, device=device))
    t0 = time.perf_counter()
    s.run_to_steady(tol=tol, max_time=max_time)
    secs = time.perf_counter() - t0
    h = 1.0 / n
    c = (np.arange(n) + 0.5) * h
    u = s.u[:, n // 2].cpu().numpy()
    v = s.v[n // 2, :].cpu().numpy()
    ys, us = np.concatenate([[0.0], c, [1.0]]), np.concatenate([[0.0], u, [1.0]])
    xs, vs = np.concatenate([[0.0], c, [1.0]]), np.concatenate([[0.0], v, [0.0]])
    err_u = max(abs(float(np.interp(y, ys, us)) - g) for y, g in GHIA_U_RE100)
    err_v = max(abs(float(np.interp(x, xs, vs)) - g) for x, g in GHIA_V_RE100)
    return {
        "n": n,
        "max_err_u": err_u,
        "max_err_v": err_v,
        "max_div": s.check(),
        "steps": s.steps,
        "sim_time": s.t,
        "seconds": secs,
    }


def poiseuille(*, nx: int = 64, ny: int = 16, re: float = 10.0, length: float = 4.0, device: str = "cpu") -> dict[str, Any]:
    """Plane channel (H = 1, mean inflow U = 1, plug inlet) at steady state.

    Returns:
        ``profile_rel_l2`` of ``u(y)`` at x = 0.75 L vs ``6 U (y/H)(1 - y/H)``, and ``dpdx_rel_err`` of the mean pressure
        gradient over ``[0.5 L, 0.75 L]`` vs ``-12 nu U / H^2``.
    """
    nu = 1.0 / re
    s = ProjectionSolver(channel_config(nx=nx, ny=ny, length=length, height=1.0, nu=nu, u_in=1.0, device=device))
    s.run_to_steady(tol=1e-7, max_time=5 * length)
    yc = (np.arange(ny) + 0.5) / ny
    exact = 6 * yc * (1 - yc)
    i = int(0.75 * nx)
    prof = s.u[:, i].cpu().numpy()
    p = s.p.cpu().numpy().mean(axis=0)
    i0, i1 = int(0.5 * nx), int(0.75 * nx)
    dpdx = (p[i1] - p[i0]) / ((i1 - i0) * length / nx)
    return {
        "profile_rel_l2": float(np.linalg.norm(prof - exact) / np.linalg.norm(exact)),
        "dpdx": float(dpdx),
        "dpdx_exact": -12 * nu,
        "dpdx_rel_err": float(abs(dpdx / (-12 * nu) - 1)),
        "max_div": s.check(),
    }


def taylor_green(*, n: int = 32, nu: float = 0.1, t_end: float = 1.0, cfl: float = 0.1, device: str = "cpu") -> dict[str, Any]:
    """Periodic Taylor–Green vortex ``u = sin x cos y, v = -cos x sin y`` on ``[0, 2 pi]^2``.

    Returns:
        ``energy_rel_err`` = ``|E(t)/E(0) / exp(-4 nu t) - 1|`` at ``t_end``.
    """
    s = ProjectionSolver(taylor_green_config(n=n, nu=nu, cfl=cfl, device=device))
    h = s.dx
    xf, yc = np.arange(n + 1) * h, (np.arange(n) + 0.5) * h
    xc, yf = (np.arange(n) + 0.5) * h, np.arange(n + 1) * h
    s.set_velocity(
        torch.tensor(np.sin(xf)[None, :] * np.cos(yc)[:, None]),
        torch.tensor(-np.cos(xc)[None, :] * np.sin(yf)[:, None]),
    )
    e0 = s.kinetic_energy()
    s.advance(t_end)
    ratio = s.kinetic_energy() / e0
    return {"energy_rel_err": abs(ratio / math.exp(-4 * nu * t_end) - 1), "steps": s.steps, "max_div": s.check()}


def cylinder_strouhal(
    *, re: float = 200.0, cells_per_diameter: int = 10, t_end: float = 2.0, seed: int = 0, device: str = "cpu"
) -> dict[str, Any]:
    """The CFDBench baseline cylinder (d = 0.02 m, domain [-0.06, 0.16] x [-0.06, 0.06], U = 1) at Reynolds ``re``.

    A seeded perturbation breaks the symmetry; the cross-flow velocity 3 d behind the cylinder is probed and the
    shedding frequency is measured from its upward zero crossings over the second half of the run.

    Returns:
        ``strouhal`` (``f d / U``, NaN without shedding) and ``probe_std`` (the oscillation amplitude).
    """
    d = 0.02
    h = d / cells_per_diameter
    s = ProjectionSolver(
        cylinder_config(
            h=h, x_min=-0.06, x_max=0.16, y_min=-0.06, y_max=0.06, radius=d / 2, nu=d / re, u_in=1.0, device=device
        )
    )
    g = torch.Generator().manual_seed(seed)
    s.set_velocity(
        s.u + 0.1 * torch.randn(s.u.shape, generator=g, dtype=s.u.dtype),
        s.v + 0.1 * torch.randn(s.v.shape, generator=g, dtype=s.v.dtype),
    )
    j = s.cfg.ny // 2
    i = int((0.06 + 3 * d) / h)
    ts, probe = [], []
    while s.t < t_end:
        s.advance(0.005)
        ts.append(s.t)
        probe.append(float(s.v[j, i]))
    t, q = np.array(ts), np.array(probe)
    keep = t > t_end / 2
    t, q = t[keep], q[keep] - q[keep].mean()
    up = np.nonzero((q[:-1] < 0) & (q[1:] >= 0))[0]
    st = float("nan")
    if len(up) >= 3 and q.std() > 1e-3:
        period = (t[up[-1]] - t[up[0]]) / (len(up) - 1)
        st = d / period
    return {"re": re, "strouhal": st, "probe_std": float(q.std()), "steps": s.steps}


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name, fn in (
        ("cavity_ghia_64", lambda: cavity_ghia(64)),
        ("cavity_ghia_128", lambda: cavity_ghia(128)),
        ("poiseuille", poiseuille),
        ("taylor_green", taylor_green),
        ("cylinder_re100", lambda: cylinder_strouhal(re=100, t_end=3.0)),
        ("cylinder_re200", cylinder_strouhal),
    ):
        print(name, json.dumps(fn()))
