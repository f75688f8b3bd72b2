"""Case writers: icoFoam (cavity, tube, cylinder) and interFoam (two-phase tube and dam) dictionaries and meshes."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfdbench.data import DAM_BARRIER_X, GRID

_HEADER = """FoamFile
{{
    version 2.0;
    format ascii;
    class {cls};
    object {obj};
}}
"""


# the phase counts each problem can run with, the default (the original's) first: tube and dam are water/air VOF runs
_PHASES = {"cavity": (1,), "tube": (2, 1), "cylinder": (1,), "dam": (2,)}
# Fluent's default air material (the original's second phase)
AIR_RHO = 1.225
AIR_MU = 1.7894e-5
# the dam's water inlet covers the lower 0.1 m of the left edge (spec §1.2c)
DAM_INLET_HEIGHT = 0.1
# default dam mesh: 1 cm cells on the 1.5 x 0.4 m window
DAM_CELLS = (150, 40)


# the fvSchemes entries every solver here shares (second-order central, non-orthogonal correction)
_COMMON_SCHEMES = """laplacianSchemes { default Gauss linear corrected; }
interpolationSchemes { default linear; }
snGradSchemes { default corrected; }
"""


def default_phases(problem: str, phases: int | None = None) -> int:
    """The phase count ``problem`` runs with: ``phases`` when given and supported, else the original's.

    cavity and cylinder are single-phase; the dam is two-phase; the tube is two-phase by default (the original's
    water/air VOF run) and single-phase (icoFoam channel) with ``phases=1``.
    """
    if problem not in _PHASES:
        raise ValueError(f"unknown problem {problem!r}; expected one of {sorted(_PHASES)}")
    if phases is None:
        return _PHASES[problem][0]
    if phases not in _PHASES[problem]:
        raise ValueError(f"{problem} runs with phases in {_PHASES[problem]}, got {phases}")
    return phases


def solver_name(problem: str, phases: int | None = None) -> str:
    """The OpenFOAM solver that runs ``problem``: ``interFoam`` for two phases, ``icoFoam`` for one."""
    return "interFoam" if default_phases(problem, phases) == 2 else "icoFoam"


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
    cfl: float | None = None,
    phases: int | None = None,
) -> Path:
    """Write a complete case (mesh, fields, controls) for ``problem`` with ``case.json`` parameters ``p``.

    cavity, cylinder and the single-phase tube get an icoFoam case; the dam and the two-phase tube get an interFoam
    case built by :func:`dam_setup` / :func:`tube_setup` and :func:`write_interfoam_case`.

    Args:
        case_dir: the case folder (created).
        problem: ``cavity``, ``tube``, ``cylinder`` or ``dam``.
        p: the case parameters (``case.json`` contents).
        end_time: simulated time (s).
        write_interval: time between written fields (s) — the dataset's frame interval.
        cells: ``(nx, ny)`` cells (for the dam: approximate totals over the multi-block mesh).
        cfl: icoFoam: Courant number that sets the fixed ``deltaT`` from the boundary speed (default 0.25);
            interFoam: ``maxCo`` and ``maxAlphaCo`` of the adjustable time step (default 1, the damBreak tutorial's).
        phases: 1 or 2 (tube only; default: the problem's original, see :func:`default_phases`).
    """
    application = solver_name(problem, phases)
    if application == "interFoam":
        setup = dam_setup if problem == "dam" else tube_setup
        return write_interfoam_case(
            case_dir, setup(p, end_time=end_time, write_interval=write_interval, cells=cells, max_co=cfl or 1.0)
        )
    cfl = 0.25 if cfl is None else cfl
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
        f"""application {application};
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
"""
        + _COMMON_SCHEMES,
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


@dataclass(kw_only=True)
class TwoPhaseCase:
    """An interFoam (water/air VOF, gravity along -y, laminar) case on the rectangle ``[0, width] x [0, height]``.

    Boundaries: the bottom is a no-slip wall; the top is an open ``atmosphere`` (total pressure, air may enter, anything
    may leave) when ``open_top`` or a no-slip ``upperWall`` otherwise; the left edge is a water ``inlet``
    (``alpha.water = 1``, ``U = (inlet_velocity, 0)``) below ``inlet_height`` (``inlet_height = height``: the whole
    edge) and, above it, an open ``airInlet`` (like the top) when ``open_left`` or a wall otherwise; the right edge is an
    open ``outlet`` (like the top) when ``open_right`` or a wall otherwise. An optional rectangular ``obstacle`` standing
    on the bottom is cut out of the mesh (its faces form the ``obstacle`` wall patch). ``gravity = 0`` switches gravity
    off; interFoam then solves for ``p_rgh = p - rho g.h = p``.

    Attributes:
        width: domain length (m).
        height: domain height (m).
        cells: approximate ``(nx, ny)`` cell counts; each block of the multi-block mesh gets ``round(length / h)``
            cells (at least one) so that every block edge (inlet top, obstacle faces, water box) lies on cell faces.
        rho_water: water density (kg/m^3).
        nu_water: water kinematic viscosity (m^2/s).
        rho_air: air density (Fluent's default air).
        nu_air: air kinematic viscosity (Fluent's default air: 1.7894e-5 / 1.225).
        sigma: surface tension (N/m); 0 = none.
        gravity: magnitude of the gravitational acceleration along -y (m/s^2); 0 = none.
        inlet_height: height of the water inlet on the left edge (0 = no inlet, ``height`` = the whole edge).
        inlet_velocity: inflow speed of the water inlet (m/s).
        open_left: the left edge above the inlet is open to air (else a wall).
        open_right: the right edge is an open outlet (else a wall).
        open_top: the top edge is open atmosphere (else a no-slip wall).
        obstacle: ``(x_left, x_right, top)`` of the rectangle removed from the mesh, or ``None``.
        water_box: ``(x0, x1, y0, y1)``: cells whose centres lie inside start as water (``setFields``); ``None``: the
            domain starts full of air at rest (no ``setFields``).
        water_velocity: x-velocity of the initial water (m/s).
        end_time: simulated time (s).
        write_interval: time between written fields (s).
        max_co: ``maxCo`` of the adjustable time step.
        max_alpha_co: ``maxAlphaCo`` (interface Courant number) of the adjustable time step.
        max_dt: ``maxDeltaT`` (s).
    """

    width: float
    height: float
    cells: tuple[int, int]
    rho_water: float
    nu_water: float
    rho_air: float = AIR_RHO
    nu_air: float = AIR_MU / AIR_RHO
    sigma: float = 0.0
    gravity: float = 9.81
    inlet_height: float = 0.0
    inlet_velocity: float = 0.0
    open_left: bool = False
    open_right: bool = False
    open_top: bool = True
    obstacle: tuple[float, float, float] | None = None
    water_box: tuple[float, float, float, float] | None
    water_velocity: float = 0.0
    end_time: float
    write_interval: float
    max_co: float = 1.0
    max_alpha_co: float = 1.0
    max_dt: float = 1.0

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"width and height must be positive, got {self.width}, {self.height}")
        if not 0 <= self.inlet_height <= self.height:
            raise ValueError(f"inlet_height must lie in [0, height], got {self.inlet_height}")
        if self.gravity < 0:
            raise ValueError(f"gravity is a magnitude along -y and must be >= 0, got {self.gravity}")
        if self.obstacle is not None:
            x0, x1, top = self.obstacle
            if not (0 < x0 < x1 < self.width and 0 < top < self.height):
                raise ValueError(f"obstacle {self.obstacle} must lie strictly inside the domain")
        if min(self.cells) < 1 or self.write_interval <= 0 or self.end_time < 0:
            raise ValueError("cells must be >= 1, write_interval > 0 and end_time >= 0")


def dam_setup(
    p: dict[str, Any],
    *,
    end_time: float,
    write_interval: float,
    cells: tuple[int, int] = DAM_CELLS,
    max_co: float = 1.0,
) -> TwoPhaseCase:
    """The CFDBench dam (spec §1.2c) as an interFoam case, from ``case.json`` parameters ``p``.

    * Window ``[0, width] x [0, height]`` (1.5 x 0.4 m in every released case), gravity ``(0, -9.81, 0)``.
    * Left edge: lower 0.1 m a water velocity inlet (``alpha.water = 1``, ``U = (velocity, 0)``); above it an
      inlet/outlet open to air (the original's pressure inlet): ``totalPressure`` ``p_rgh = 0``,
      ``pressureInletOutletVelocity``, ``alpha.water`` ``inletOutlet`` 0 (only air enters).
    * Right edge: a pressure outlet with the same open conditions.
    * Top: the original's outer box is 1.0 m tall and only its lower 0.4 m was released, so the top of the window is
      open atmosphere (same open conditions), not a wall. Bottom: no-slip wall.
    * Obstacle ``[0.5, 0.5 + barrier_width] x [0, barrier_height]`` cut out of the mesh (no-slip ``obstacle`` patch).
    * Water: ``rho = density``, ``nu = viscosity / density``; air: Fluent's defaults (1.225 kg/m^3, 1.7894e-5 Pa s);
      no surface tension; laminar.
    * Initial state: the original "patches a water region with u = u_in"; here the region left of the obstacle below
      the inlet height (``x < 0.5``, ``y < 0.1``) starts as water moving at ``(velocity, 0)``, the rest is air at rest.

    Args:
        p: ``case.json`` parameters (``velocity``, ``density``, ``viscosity``, ``height``, ``width`` and, when present,
            ``barrier_height`` / ``barrier_width``; the baseline obstacle 0.1 x 0.05 m otherwise).
        end_time: simulated time (s).
        write_interval: frame interval (s).
        cells: approximate ``(nx, ny)`` cells (default: 1 cm cells on the 1.5 x 0.4 m window).
        max_co: ``maxCo`` and ``maxAlphaCo``.
    """
    for key in ("velocity", "density", "viscosity", "height", "width"):
        if key not in p:
            raise KeyError(f"dam parameters need {key!r}")
    bh = float(p.get("barrier_height", 0.1))
    bw = float(p.get("barrier_width", 0.05))
    return TwoPhaseCase(
        width=float(p["width"]),
        height=float(p["height"]),
        cells=cells,
        rho_water=float(p["density"]),
        nu_water=float(p["viscosity"]) / float(p["density"]),
        inlet_height=DAM_INLET_HEIGHT,
        inlet_velocity=float(p["velocity"]),
        open_left=True,
        open_right=True,
        obstacle=(DAM_BARRIER_X, DAM_BARRIER_X + bw, bh),
        water_box=(0.0, DAM_BARRIER_X, 0.0, DAM_INLET_HEIGHT),
        water_velocity=float(p["velocity"]),
        end_time=end_time,
        write_interval=write_interval,
        max_co=max_co,
        max_alpha_co=max_co,
    )


def tube_setup(
    p: dict[str, Any],
    *,
    end_time: float,
    write_interval: float,
    cells: tuple[int, int] = (GRID, GRID),
    max_co: float = 1.0,
) -> TwoPhaseCase:
    """The CFDBench tube (spec §1.2b) as an interFoam case, from ``case.json`` parameters ``p``.

    * Channel ``[0, width] x [0, height]`` (``width`` = l, ``height`` = d), no gravity (the spec's ``g != 0`` only for
      the dam), so ``p_rgh = p``.
    * Left edge: a water velocity inlet over the whole height (``alpha.water = 1``, ``U = (vel_in, 0)``).
    * Right edge: a pressure outlet: ``totalPressure`` ``p_rgh = 0`` (``p = 0`` where fluid leaves),
      ``pressureInletOutletVelocity`` (zero gradient out, normal inflow from the pressure if the flow reverses),
      ``alpha.water`` ``inletOutlet`` 0 (only air can come back in).
    * Top and bottom: no-slip walls.
    * Water: ``rho = density``, ``nu = viscosity / density``; air: Fluent's defaults (1.225 kg/m^3, 1.7894e-5 Pa s),
      as for the dam; no surface tension; laminar.
    * Initial state: the tube full of air at rest (the original's ``phase-air mp 1``), ``p = 0``.

    Args:
        p: ``case.json`` parameters (``vel_in``, ``density``, ``viscosity``, ``height``, ``width``).
        end_time: simulated time (s).
        write_interval: frame interval (s).
        cells: ``(nx, ny)`` cells of the uniform block mesh (default 64 x 64, the single-phase tube's).
        max_co: ``maxCo`` and ``maxAlphaCo``.
    """
    for key in ("vel_in", "density", "viscosity", "height", "width"):
        if key not in p:
            raise KeyError(f"tube parameters need {key!r}")
    return TwoPhaseCase(
        width=float(p["width"]),
        height=float(p["height"]),
        cells=cells,
        rho_water=float(p["density"]),
        nu_water=float(p["viscosity"]) / float(p["density"]),
        gravity=0.0,
        inlet_height=float(p["height"]),
        inlet_velocity=float(p["vel_in"]),
        open_right=True,
        open_top=False,
        water_box=None,
        end_time=end_time,
        write_interval=write_interval,
        max_co=max_co,
        max_alpha_co=max_co,
    )


def _breaks(length: float, points: list[float], n: int) -> tuple[list[float], list[int]]:
    """Block edges along one axis (``0``, ``length`` and every interior point) and cells per block."""
    edges = sorted({0.0, length, *(x for x in points if 0.0 < x < length)})
    # merge edges closer than a hundredth of a cell: they would make degenerate blocks
    h = length / n
    merged = [edges[0]]
    for x in edges[1:]:
        if x - merged[-1] > 1e-2 * h:
            merged.append(x)
        else:
            merged[-1] = x if x == length else merged[-1]
    counts = [max(1, round((b - a) / h)) for a, b in zip(merged[:-1], merged[1:], strict=True)]
    return merged, counts


def _multiblock(c: TwoPhaseCase) -> tuple[str, dict[str, list[str]]]:
    """``blockMeshDict`` vertices/blocks text and the boundary faces of each patch."""
    xp = [] if c.water_box is None else [c.water_box[0], c.water_box[1]]
    yp = [c.inlet_height] + ([] if c.water_box is None else [c.water_box[2], c.water_box[3]])
    if c.obstacle is not None:
        xp += [c.obstacle[0], c.obstacle[1]]
        yp.append(c.obstacle[2])
    xs, nxs = _breaks(c.width, xp, c.cells[0])
    ys, nys = _breaks(c.height, yp, c.cells[1])
    z = 0.1 * min(c.width / c.cells[0], c.height / c.cells[1])
    nx, ny = len(xs), len(ys)

    def v(i: int, j: int, k: int) -> int:
        return k * nx * ny + j * nx + i

    verts = [f"    ({x!r} {y!r} {zz!r})" for zz in (0.0, z) for y in ys for x in xs]
    blocks = []
    for j in range(ny - 1):
        for i in range(nx - 1):
            hexv = [v(i, j, 0), v(i + 1, j, 0), v(i + 1, j + 1, 0), v(i, j + 1, 0)]
            hexv += [x + nx * ny for x in hexv]
            blocks.append(f"    hex ({' '.join(map(str, hexv))}) ({nxs[i]} {nys[j]} 1) simpleGrading (1 1 1)")
    faces: dict[str, list[str]] = {"inlet": [], "airInlet": [], "leftWall": [], "outlet": [], "rightWall": []}
    faces |= {"atmosphere": [], "upperWall": [], "lowerWall": [], "frontAndBack": []}
    for j in range(ny - 1):
        ymid = 0.5 * (ys[j] + ys[j + 1])
        left = f"({v(0, j, 0)} {v(0, j, 1)} {v(0, j + 1, 1)} {v(0, j + 1, 0)})"
        if ymid < c.inlet_height:
            faces["inlet"].append(left)
        else:
            faces["airInlet" if c.open_left else "leftWall"].append(left)
        i = nx - 1
        right = f"({v(i, j, 0)} {v(i, j + 1, 0)} {v(i, j + 1, 1)} {v(i, j, 1)})"
        faces["outlet" if c.open_right else "rightWall"].append(right)
    for i in range(nx - 1):
        faces["lowerWall"].append(f"({v(i, 0, 0)} {v(i + 1, 0, 0)} {v(i + 1, 0, 1)} {v(i, 0, 1)})")
        j = ny - 1
        top = f"({v(i, j, 0)} {v(i, j, 1)} {v(i + 1, j, 1)} {v(i + 1, j, 0)})"
        faces["atmosphere" if c.open_top else "upperWall"].append(top)
    for j in range(ny - 1):
        for i in range(nx - 1):
            faces["frontAndBack"].append(f"({v(i, j, 0)} {v(i, j + 1, 0)} {v(i + 1, j + 1, 0)} {v(i + 1, j, 0)})")
            faces["frontAndBack"].append(f"({v(i, j, 1)} {v(i + 1, j, 1)} {v(i + 1, j + 1, 1)} {v(i, j + 1, 1)})")
    text = "scale 1;\nvertices\n(\n" + "\n".join(verts) + "\n);\nblocks\n(\n" + "\n".join(blocks) + "\n);\n"
    return text, faces


# patch kinds of the interFoam case: what each boundary condition file writes for them
_OPEN = ("airInlet", "outlet", "atmosphere")
_WALLS = ("leftWall", "rightWall", "lowerWall", "upperWall", "obstacle")


def write_interfoam_case(case_dir: str | os.PathLike[str], c: TwoPhaseCase) -> Path:
    """Write an interFoam case (multi-block mesh, fields, ``setFieldsDict``, ``topoSetDict`` for the obstacle).

    Schemes, MULES and PIMPLE settings follow OpenFOAM's ``damBreak`` tutorial (laminar): Euler time,
    ``linearUpwind`` momentum, ``vanLeer`` VOF flux with interface compression ``cAlpha 1``, MULES with 2 alpha
    correctors and 3 limiter iterations, PIMPLE 1 outer / 3 pressure correctors without momentum predictor; the time
    step adapts to ``maxCo`` / ``maxAlphaCo`` and fields are written at multiples of ``write_interval``
    (``adjustableRunTime``).

    Args:
        case_dir: the case folder (created).
        c: the case description.

    Returns:
        The case folder.
    """
    d = Path(case_dir)
    mesh, faces = _multiblock(c)
    faces = {k: f for k, f in faces.items() if f}
    patch_type = {"frontAndBack": "empty", **{k: "patch" for k in _OPEN + ("inlet",)}}
    boundary = [f"    {name} {{ type {patch_type.get(name, 'wall')}; faces ({' '.join(f)}); }}" for name, f in faces.items()]
    names = list(faces)
    if c.obstacle is not None:
        # subsetMesh puts the faces exposed by the removed cells into this (initially empty) wall patch
        boundary.append("    obstacle { type wall; faces (); }")
        names.append("obstacle")
    mesh += "boundary\n(\n" + "\n".join(boundary) + "\n);\n"
    _write(d / "system" / "blockMeshDict", "dictionary", "blockMeshDict", mesh)

    def bcs(rules: dict[str, str]) -> str:
        return "\n".join(f"    {n} {{ {rules[n]} }}" for n in names)

    open_alpha = "type inletOutlet; inletValue uniform 0; value uniform 0;"
    alpha = {n: open_alpha for n in _OPEN} | {n: "type zeroGradient;" for n in _WALLS}
    alpha |= {"inlet": "type fixedValue; value uniform 1;", "frontAndBack": "type empty;"}
    vel = {n: "type pressureInletOutletVelocity; value uniform (0 0 0);" for n in _OPEN}
    vel |= {n: "type noSlip;" for n in _WALLS}
    vel |= {"inlet": f"type fixedValue; value uniform ({c.inlet_velocity!r} 0 0);", "frontAndBack": "type empty;"}
    # p_rgh = p - rho g.h: a zero total p_rgh on every open boundary is hydrostatically consistent for the air
    prgh = {n: "type totalPressure; p0 uniform 0; value uniform 0;" for n in _OPEN}
    prgh |= {n: "type fixedFluxPressure; value uniform 0;" for n in (*_WALLS, "inlet")}
    prgh["frontAndBack"] = "type empty;"
    dim = {"alpha.water": "[0 0 0 0 0 0 0]", "U": "[0 1 -1 0 0 0 0]", "p_rgh": "[1 -1 -2 0 0 0 0]"}
    for name, cls, init, rules in (
        ("alpha.water", "volScalarField", "0", alpha),
        ("U", "volVectorField", "(0 0 0)", vel),
        ("p_rgh", "volScalarField", "0", prgh),
    ):
        body = f"dimensions {dim[name]};\ninternalField uniform {init};\nboundaryField\n{{\n{bcs(rules)}\n}}\n"
        _write(d / "0" / name, cls, name, body)
    if c.water_box is not None:
        x0, x1, y0, y1 = c.water_box
        _write(
            d / "system" / "setFieldsDict",
            "dictionary",
            "setFieldsDict",
            f"""defaultFieldValues ( volScalarFieldValue alpha.water 0 volVectorFieldValue U (0 0 0) );
regions
(
    boxToCell
    {{
        box ({x0!r} {y0!r} -1) ({x1!r} {y1!r} 1);
        fieldValues ( volScalarFieldValue alpha.water 1 volVectorFieldValue U ({c.water_velocity!r} 0 0) );
    }}
);
""",
        )
    if c.obstacle is not None:
        ox0, ox1, top = c.obstacle
        _write(
            d / "system" / "topoSetDict",
            "dictionary",
            "topoSetDict",
            f"""actions
(
    {{ name fluid; type cellSet; action new; source boxToCell; box ({ox0!r} -1 -1) ({ox1!r} {top!r} 1); }}
    {{ name fluid; type cellSet; action invert; }}
);
""",
        )
    _write(
        d / "constant" / "transportProperties",
        "dictionary",
        "transportProperties",
        f"""phases (water air);
water {{ transportModel Newtonian; nu [0 2 -1 0 0 0 0] {c.nu_water!r}; rho [1 -3 0 0 0 0 0] {c.rho_water!r}; }}
air {{ transportModel Newtonian; nu [0 2 -1 0 0 0 0] {c.nu_air!r}; rho [1 -3 0 0 0 0 0] {c.rho_air!r}; }}
sigma [1 0 -2 0 0 0 0] {c.sigma!r};
""",
    )
    # 0 - g keeps "0.0" for g = 0 rather than "-0.0"
    g = f"dimensions [0 1 -2 0 0 0 0];\nvalue (0 {0.0 - c.gravity!r} 0);\n"
    _write(d / "constant" / "g", "uniformDimensionedVectorField", "g", g)
    _write(d / "constant" / "turbulenceProperties", "dictionary", "turbulenceProperties", "simulationType laminar;\n")
    h = min(c.width / c.cells[0], c.height / c.cells[1])
    speed = max(abs(c.inlet_velocity), abs(c.water_velocity), math.sqrt(c.gravity * c.height), 1e-6)
    dt0 = min(c.write_interval, 0.1 * c.max_co * h / speed)
    _write(
        d / "system" / "controlDict",
        "dictionary",
        "controlDict",
        f"""application interFoam;
startFrom startTime;
startTime 0;
stopAt endTime;
endTime {c.end_time!r};
deltaT {dt0!r};
writeControl adjustableRunTime;
writeInterval {c.write_interval!r};
purgeWrite 0;
writeFormat ascii;
writePrecision 10;
writeCompression off;
timeFormat general;
timePrecision 10;
runTimeModifiable false;
adjustTimeStep yes;
maxCo {c.max_co!r};
maxAlphaCo {c.max_alpha_co!r};
maxDeltaT {c.max_dt!r};
""",
    )
    _write(
        d / "system" / "fvSchemes",
        "dictionary",
        "fvSchemes",
        """ddtSchemes { default Euler; }
gradSchemes { default Gauss linear; }
divSchemes
{
    div(rhoPhi,U) Gauss linearUpwind grad(U);
    div(phi,alpha) Gauss vanLeer;
    div(phirb,alpha) Gauss linear;
    div(((rho*nuEff)*dev2(T(grad(U))))) Gauss linear;
}
"""
        + _COMMON_SCHEMES,
    )
    _write(
        d / "system" / "fvSolution",
        "dictionary",
        "fvSolution",
        """solvers
{
    "alpha.water.*"
    {
        nAlphaCorr 2; nAlphaSubCycles 1; cAlpha 1; MULESCorr yes; nLimiterIter 3;
        solver smoothSolver; smoother symGaussSeidel; tolerance 1e-08; relTol 0;
    }
    "pcorr.*" { solver PCG; preconditioner DIC; tolerance 1e-05; relTol 0; }
    p_rgh { solver PCG; preconditioner DIC; tolerance 1e-07; relTol 0.05; }
    p_rghFinal { $p_rgh; relTol 0; }
    U { solver smoothSolver; smoother symGaussSeidel; tolerance 1e-06; relTol 0; }
}
PIMPLE { momentumPredictor no; nOuterCorrectors 1; nCorrectors 3; nNonOrthogonalCorrectors 0; }
relaxationFactors { equations { ".*" 1; } }
""",
    )
    return d
