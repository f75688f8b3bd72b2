"""Benchmark: torch projection solver vs OpenFOAM icoFoam on the same cavity grid (Re = 100, to steady state).

Both solve the unit lid-driven cavity (U = 1, nu = 0.01) on an n x n grid up to the same simulated time and are
scored against Ghia et al. (1982). Wall and CPU time count the solve only (not meshing). Run::

    .venv/bin/python tools/bench/cfd_solver.py --n 128 --t-end 15 --out results   # -> results/cfd_solver/
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cfdbench.solver import ProjectionSolver, cavity_config
from cfdbench.validation import GHIA_U_RE100, GHIA_V_RE100
from lc_core.logging import setup_logging
from lc_core.report import emit, markdown_table


def ghia_errors(y: np.ndarray, u: np.ndarray, x: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Max abs deviation from Ghia's Re = 100 centrelines, given centreline samples (walls appended)."""
    ys, us = np.concatenate([[0.0], y, [1.0]]), np.concatenate([[0.0], u, [1.0]])
    xs, vs = np.concatenate([[0.0], x, [1.0]]), np.concatenate([[0.0], v, [0.0]])
    eu = max(abs(float(np.interp(a, ys, us)) - b) for a, b in GHIA_U_RE100)
    ev = max(abs(float(np.interp(a, xs, vs)) - b) for a, b in GHIA_V_RE100)
    return eu, ev


def run_torch(n: int, t_end: float, threads: int) -> dict:
    torch.set_num_threads(threads)
    s = ProjectionSolver(cavity_config(n=n, re=100.0))
    t0, c0 = time.perf_counter(), time.process_time()
    s.advance(t_end, check_every=500)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    c = (np.arange(n) + 0.5) / n
    eu, ev = ghia_errors(c, s.u[:, n // 2].numpy(), c, s.v[n // 2, :].numpy())
    return {
        "solver": f"torch projection ({threads} thread)",
        "seconds": secs,
        "cpu_seconds": cpu,
        "steps": s.steps,
        "ghia_err_u": eu,
        "ghia_err_v": ev,
    }


def run_openfoam(n: int, t_end: float) -> dict | None:
    from cfdbench.openfoam import openfoam_available, read_vector_field, run_utility, write_case

    if not openfoam_available():
        return None
    d = Path(tempfile.mkdtemp(prefix="cfd_bench_"))
    try:
        p = {"vel_top": 1.0, "density": 1.0, "viscosity": 0.01, "height": 1.0, "width": 1.0}
        write_case(d, "cavity", p, end_time=t_end, write_interval=t_end, cells=(n, n), cfl=0.5)
        run_utility(["blockMesh"], d, "log.blockMesh")
        run_utility(["postProcess", "-func", "writeCellCentres", "-time", "0"], d, "log.cc")
        t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        run_utility(["icoFoam"], d, "log.icoFoam")
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        secs, cpu = time.perf_counter() - t0, (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        steps = sum(1 for line in (d / "log.icoFoam").read_text().splitlines() if line.startswith("Time = "))
        last = sorted(
            (x for x in d.iterdir() if x.name.replace(".", "").isdigit() and x.name != "0"), key=lambda x: float(x.name)
        )[-1]
        c = read_vector_field(d / "0" / "C")
        u = read_vector_field(last / "U")
        grid_u = u[:, 0].reshape(n, n)
        grid_v = u[:, 1].reshape(n, n)
        # cell centres straddle the centrelines: average the two middle columns / rows
        uc = 0.5 * (grid_u[:, n // 2 - 1] + grid_u[:, n // 2])
        vc = 0.5 * (grid_v[n // 2 - 1, :] + grid_v[n // 2, :])
        yc = c[:, 1].reshape(n, n)[:, 0]
        eu, ev = ghia_errors(yc, uc, yc, vc)
        return {
            "solver": "OpenFOAM icoFoam (serial)",
            "seconds": secs,
            "cpu_seconds": cpu,
            "steps": steps,
            "ghia_err_u": eu,
            "ghia_err_v": ev,
        }
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="cells per side")
    parser.add_argument("--t-end", type=float, default=15.0, help="simulated time (steady by ~15 for Re = 100)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", default="results", help="results root: OUT/RUN_NAME/results_<timestamp>.{json,md}")
    parser.add_argument("--run-name", default="cfd_solver", help="folder under --out")
    args = parser.parse_args()
    setup_logging()
    rows = [run_torch(args.n, args.t_end, args.threads)]
    print(rows[0], flush=True)
    of = run_openfoam(args.n, args.t_end)
    if of:
        rows.append(of)
        # on a shared machine CPU time is the fair comparison; wall time is reported too
        rows[0]["cpu_ratio_vs_openfoam"] = rows[0]["cpu_seconds"] / of["cpu_seconds"]
        rows[0]["wall_ratio_vs_openfoam"] = rows[0]["seconds"] / of["seconds"]
    table = markdown_table(rows, precision=4)
    emit(args.out, args.run_name, {"rows": rows}, table, config=vars(args), packages=["cfdbench"])
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
