"""OpenFOAM backend (Debian's ``openfoam`` package, v1912): case writer, runner and sampler onto the 64x64 grid.

Implemented: cavity (icoFoam, lid-driven box), tube (icoFoam, plug inlet / p = 0 outlet) and cylinder (icoFoam on a
block mesh with the cylinder's cells removed by ``topoSet`` + ``subsetMesh``, a staircase like the torch solver).
The two-phase dam break (interFoam) is not implemented yet: ``simulate_case_openfoam("dam", ...)`` raises.

Install on Debian 12: ``apt-get install -y --no-install-recommends openfoam`` (binaries land on PATH; add ``openmpi-bin``
for ``processes > 1``).

Example::

    from cfdbench.openfoam import openfoam_available, simulate_case_openfoam

    if openfoam_available():
        u, v = simulate_case_openfoam("cavity", params, frames=5, data_dt=1e-3, workdir="runs/case0000")
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from cfdbench.data import GRID, Case, obstacle_mask
from cfdbench.interp import resample_points, target_grid
from lc_core.logging import get_logger

__all__ = ["openfoam_available", "write_case", "run_case", "read_vector_field", "simulate_case_openfoam", "OpenFoamError"]

logger = get_logger(__name__)

_HEADER = """FoamFile
{{
    version 2.0;
    format ascii;
    class {cls};
    object {obj};
}}
"""


class OpenFoamError(RuntimeError):
    """An OpenFOAM utility failed; the message holds the tail of its log."""


def openfoam_available() -> bool:
    """True when ``blockMesh`` and ``icoFoam`` are on PATH."""
    return all(shutil.which(x) for x in ("blockMesh", "icoFoam", "postProcess"))


def _write(path: Path, cls: str, obj: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_HEADER.format(cls=cls, obj=obj) + body)


def _geometry(problem: str, p: dict[str, Any]) -> tuple[float, float, float, float]:
    if problem == "cylinder":
        return p["x_min"], p["x_max"], p["y_min"], p["y_max"]
    return 0.0, p["width"], 0.0, p["height"]


def write_case(
    case_dir: str | os.PathLike[str],
    problem: str,
    p: dict[str, Any],
    *,
    end_time: float,
    write_interval: float,
    cells: tuple[int, int],
    cfl: float = 0.25,
) -> Path:
    """Write a complete icoFoam case (mesh, fields, controls) for ``problem`` with ``case.json`` parameters ``p``.

    Args:
        case_dir: the case folder (created).
        end_time: simulated time (s).
        write_interval: time between written fields (s) — the dataset's frame interval.
        cells: ``(nx, ny)`` block-mesh cells.
        cfl: Courant number that sets the fixed ``deltaT`` from the boundary speed.
    """
    if problem not in ("cavity", "tube", "cylinder"):
        raise NotImplementedError(f"OpenFOAM backend: problem {problem!r} is not implemented (cavity, tube, cylinder)")
    d = Path(case_dir)
    x0, x1, y0, y1 = _geometry(problem, p)
    nx, ny = cells
    speed = p["vel_top"] if problem == "cavity" else p["vel_in"]
    h = min((x1 - x0) / nx, (y1 - y0) / ny)
    nsub = max(1, math.ceil(write_interval / (cfl * h / max(abs(speed), 1e-12))))
    dt = write_interval / nsub
    z = 0.1 * h
    if problem == "cavity":
        patches = """    lid { type wall; faces ((3 7 6 2)); }
    walls { type wall; faces ((0 4 7 3) (2 6 5 1) (1 5 4 0)); }
    frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }"""
        u_bc = f"""    lid {{ type fixedValue; value uniform ({speed} 0 0); }}
    walls {{ type noSlip; }}
    frontAndBack {{ type empty; }}"""
        p_bc = """    lid { type zeroGradient; }
    walls { type zeroGradient; }
    frontAndBack { type empty; }"""
    else:
        patches = """    inlet { type patch; faces ((0 4 7 3)); }
    outlet { type patch; faces ((2 6 5 1)); }
    walls { type wall; faces ((3 7 6 2) (1 5 4 0)); }
    frontAndBack { type empty; faces ((0 3 2 1) (4 5 6 7)); }"""
        if problem == "cylinder":
            # an empty wall patch for subsetMesh to put the exposed faces in (otherwise it makes them 'empty')
            patches += "\n    cylinder { type wall; faces (); }"
        u_bc = f"""    inlet {{ type fixedValue; value uniform ({speed} 0 0); }}
    outlet {{ type zeroGradient; }}
    walls {{ type noSlip; }}
    cylinder {{ type noSlip; }}
    frontAndBack {{ type empty; }}"""
        p_bc = """    inlet { type zeroGradient; }
    outlet { type fixedValue; value uniform 0; }
    walls { type zeroGradient; }
    cylinder { type zeroGradient; }
    frontAndBack { type empty; }"""
    _write(
        d / "system" / "blockMeshDict",
        "dictionary",
        "blockMeshDict",
        f"""convertToMeters 1;
vertices
(
    ({x0} {y0} 0) ({x1} {y0} 0) ({x1} {y1} 0) ({x0} {y1} 0)
    ({x0} {y0} {z}) ({x1} {y0} {z}) ({x1} {y1} {z}) ({x0} {y1} {z})
);
blocks ( hex (0 1 2 3 4 5 6 7) ({nx} {ny} 1) simpleGrading (1 1 1) );
boundary
(
{patches}
);
""",
    )
    _write(
        d / "system" / "controlDict",
        "dictionary",
        "controlDict",
        f"""application icoFoam;
startFrom startTime;
startTime 0;
stopAt endTime;
endTime {end_time!r};
deltaT {dt!r};
writeControl adjustableRunTime;
writeInterval {write_interval!r};
purgeWrite 0;
writeFormat ascii;
writePrecision 10;
writeCompression off;
timeFormat general;
timePrecision 10;
runTimeModifiable false;
""",
    )
    _write(
        d / "system" / "fvSchemes",
        "dictionary",
        "fvSchemes",
        """ddtSchemes { default Euler; }
gradSchemes { default Gauss linear; }
divSchemes { default none; div(phi,U) Gauss limitedLinearV 1; }
laplacianSchemes { default Gauss linear corrected; }
interpolationSchemes { default linear; }
snGradSchemes { default corrected; }
""",
    )
    _write(
        d / "system" / "fvSolution",
        "dictionary",
        "fvSolution",
        """solvers
{
    p { solver PCG; preconditioner DIC; tolerance 1e-08; relTol 0.05; }
    pFinal { $p; relTol 0; }
    U { solver smoothSolver; smoother symGaussSeidel; tolerance 1e-08; relTol 0; }
}
PISO { nCorrectors 2; nNonOrthogonalCorrectors 0; pRefCell 0; pRefValue 0; }
""",
    )
    nu = p["viscosity"] / p["density"]
    _write(d / "constant" / "transportProperties", "dictionary", "transportProperties", f"nu [0 2 -1 0 0 0 0] {nu!r};\n")
    _write(
        d / "0" / "U",
        "volVectorField",
        "U",
        f"dimensions [0 1 -1 0 0 0 0];\ninternalField uniform (0 0 0);\nboundaryField\n{{\n{u_bc}\n}}\n",
    )
    _write(
        d / "0" / "p",
        "volScalarField",
        "p",
        f"dimensions [0 2 -2 0 0 0 0];\ninternalField uniform 0;\nboundaryField\n{{\n{p_bc}\n}}\n",
    )
    if problem == "cylinder":
        r = p["radius"]
        _write(
            d / "system" / "topoSetDict",
            "dictionary",
            "topoSetDict",
            f"""actions
(
    {{ name fluid; type cellSet; action new; source cylinderToCell; p1 (0 0 -1); p2 (0 0 1); radius {r!r}; }}
    {{ name fluid; type cellSet; action invert; }}
);
""",
        )
    return d


def _foam_env() -> dict[str, str]:
    env = dict(os.environ)
    # Debian's binaries find their global controlDict through WM_PROJECT_DIR; set it when the bashrc was not sourced
    if "WM_PROJECT_DIR" not in env:
        for root in ("/usr/share/openfoam", "/usr/lib/openfoam/openfoam1912"):
            if (Path(root) / "etc" / "controlDict").is_file():
                env["WM_PROJECT_DIR"] = root
                break
    return env


def _run(cmd: list[str], cwd: Path, log: str) -> None:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=_foam_env())
    (cwd / log).write_text(res.stdout + res.stderr)
    if res.returncode != 0 or "FOAM FATAL" in res.stdout + res.stderr:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-15:])
        raise OpenFoamError(f"{' '.join(cmd)} failed in {cwd} (see {log}):\n{tail}")


def run_case(case_dir: str | os.PathLike[str], problem: str, *, processes: int = 1) -> None:
    """Mesh and solve a case written by :func:`write_case` (``mpirun -np N icoFoam -parallel`` when ``processes > 1``)."""
    d = Path(case_dir)
    _run(["blockMesh"], d, "log.blockMesh")
    if problem == "cylinder":
        _run(["topoSet"], d, "log.topoSet")
        _run(["subsetMesh", "fluid", "-patch", "cylinder", "-overwrite"], d, "log.subsetMesh")
    _run(["postProcess", "-func", "writeCellCentres", "-time", "0"], d, "log.cellCentres")
    if processes > 1:
        if not shutil.which("mpirun"):
            raise OpenFoamError("processes > 1 needs mpirun (apt-get install openmpi-bin)")
        _write(
            d / "system" / "decomposeParDict",
            "dictionary",
            "decomposeParDict",
            f"numberOfSubdomains {processes};\nmethod scotch;\n",
        )
        _run(["decomposePar", "-force"], d, "log.decomposePar")
        _run(
            ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(processes), "icoFoam", "-parallel"],
            d,
            "log.icoFoam",
        )
        _run(["reconstructPar"], d, "log.reconstructPar")
    else:
        _run(["icoFoam"], d, "log.icoFoam")


_VEC = re.compile(r"\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)")


def read_vector_field(path: str | os.PathLike[str], n_cells: int | None = None) -> np.ndarray:
    """The ``internalField`` of an ASCII volVectorField: ``[N, 3]`` (a uniform field needs ``n_cells``)."""
    text = Path(path).read_text()
    i = text.find("internalField")
    if i < 0:
        raise OpenFoamError(f"{path}: no internalField")
    head = text[i : i + 200]
    m = re.match(r"internalField\s+uniform\s+\(([^)]*)\)", head)
    if m:
        if n_cells is None:
            raise OpenFoamError(f"{path}: uniform field needs n_cells")
        return np.tile(np.array([float(x) for x in m.group(1).split()]), (n_cells, 1))
    m = re.match(r"internalField\s+nonuniform\s+List<vector>\s+(\d+)\s*\(", head)
    if not m:
        raise OpenFoamError(f"{path}: cannot parse internalField")
    n = int(m.group(1))
    start = i + m.end()
    end = text.find(")\n;", start)
    vals = np.array(_VEC.findall(text[start : end + 1]), dtype=float)
    if vals.shape != (n, 3):
        raise OpenFoamError(f"{path}: expected {n} vectors, parsed {vals.shape[0]}")
    return vals


def _time_dirs(d: Path) -> list[Path]:
    out = []
    for p in d.iterdir():
        try:
            out.append((float(p.name), p))
        except ValueError:
            continue
    return [p for _, p in sorted(out)]


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
) -> tuple[np.ndarray, np.ndarray]:
    """Run one case with icoFoam and sample every written time onto the 64x64 grid.

    Returns:
        ``u, v`` each ``[frames, 64, 64]`` float32 (frame 0 = the initial state; obstacle cells zero).
    """
    if not openfoam_available():
        raise OpenFoamError("OpenFOAM not found on PATH (apt-get install -y --no-install-recommends openfoam)")
    x0, x1, y0, y1 = _geometry(problem, params)
    if cells is None:
        cells = (
            (GRID, GRID)
            if problem != "cylinder"
            else (max(GRID, round((x1 - x0) / (params["radius"] / 5))), max(GRID, round((y1 - y0) / (params["radius"] / 5))))
        )
    d = Path(workdir)
    shutil.rmtree(d, ignore_errors=True)
    write_case(d, problem, params, end_time=(frames - 1) * data_dt, write_interval=data_dt, cells=cells)
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
    us, vs = [], []
    times = _time_dirs(d)[:frames]
    if len(times) < frames:
        raise OpenFoamError(f"{d}: only {len(times)} time directories written, expected {frames}")
    for t in times:
        vel = read_vector_field(t / "U", n_cells=len(centres))
        uv = resample_points(centres, vel[:, :2], gx, gy)
        us.append(uv[..., 0] * mask)
        vs.append(uv[..., 1] * mask)
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    return np.stack(us).astype(np.float32), np.stack(vs).astype(np.float32)
