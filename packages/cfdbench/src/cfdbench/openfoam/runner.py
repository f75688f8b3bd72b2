"""Running OpenFOAM utilities (serial or ``mpirun``) with the environment Debian's build needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from cfdbench.openfoam.cases import _write, solver_name
from cfdbench.openfoam.errors import OpenFoamError


def openfoam_available(problem: str | None = None, phases: int | None = None) -> bool:
    """True when the utilities ``problem`` needs are on PATH (default: the icoFoam problems).

    ``blockMesh``, ``postProcess`` and the problem's solver are always needed; the dam also needs ``setFields``,
    ``topoSet`` and ``subsetMesh``.
    """
    tools = ["blockMesh", "postProcess", solver_name(problem or "cavity", phases)]
    if problem == "dam":
        tools += ["setFields", "topoSet", "subsetMesh"]
    return all(shutil.which(x) for x in tools)


def _foam_env() -> dict[str, str]:
    env = dict(os.environ)
    # Debian's binaries find their global controlDict through WM_PROJECT_DIR; set it when the bashrc was not sourced
    if "WM_PROJECT_DIR" not in env:
        for root in ("/usr/share/openfoam", "/usr/lib/openfoam/openfoam1912"):
            if (Path(root) / "etc" / "controlDict").is_file():
                env["WM_PROJECT_DIR"] = root
                break
    return env


def run_utility(cmd: list[str], cwd: Path, log: str) -> None:
    """Run one OpenFOAM utility or solver in the case folder ``cwd``, its output in ``cwd/log``.

    Raises:
        OpenFoamError: a non-zero exit or a ``FOAM FATAL`` message, with the last lines of the output.
    """
    env = _foam_env()
    # OpenFOAM warns when PWD differs from the working directory it is started in
    env["PWD"] = str(cwd.resolve())
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    (cwd / log).write_text(res.stdout + res.stderr)
    if res.returncode != 0 or "FOAM FATAL" in res.stdout + res.stderr:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-15:])
        raise OpenFoamError(f"{' '.join(cmd)} failed in {cwd} (see {log}):\n{tail}")


def run_case(case_dir: str | os.PathLike[str], problem: str, *, processes: int = 1) -> None:
    """Mesh, initialise and solve a case written by :func:`write_case` or :func:`write_interfoam_case`.

    Steps: ``blockMesh``; ``topoSet`` + ``subsetMesh`` when the case removes cells (cylinder, dam obstacle);
    ``setFields`` when the case patches an initial region (dam); ``postProcess -func writeCellCentres``; the solver
    named by the case's ``controlDict`` (``application``: icoFoam or interFoam, see :func:`solver_name`), as
    ``decomposePar`` + ``mpirun -np N <solver> -parallel`` + ``reconstructPar`` when ``processes > 1``.
    """
    d = Path(case_dir)
    # the case writer chose the solver (a tube may be single- or two-phase); its controlDict says which
    m = re.search(r"^application\s+(\w+);", (d / "system" / "controlDict").read_text(), re.M)
    solver = m.group(1) if m else solver_name(problem)
    run_utility(["blockMesh"], d, "log.blockMesh")
    if (d / "system" / "topoSetDict").is_file():
        run_utility(["topoSet"], d, "log.topoSet")
        patch = "cylinder" if problem == "cylinder" else "obstacle"
        run_utility(["subsetMesh", "fluid", "-patch", patch, "-overwrite"], d, "log.subsetMesh")
    if (d / "system" / "setFieldsDict").is_file():
        run_utility(["setFields"], d, "log.setFields")
    run_utility(["postProcess", "-func", "writeCellCentres", "-time", "0"], d, "log.cellCentres")
    if processes > 1:
        if not shutil.which("mpirun"):
            raise OpenFoamError("processes > 1 needs mpirun (apt-get install openmpi-bin)")
        # Debian's build links a dummy scotch; a simple slab decomposition along x needs no graph partitioner
        _write(
            d / "system" / "decomposeParDict",
            "dictionary",
            "decomposeParDict",
            f"numberOfSubdomains {processes};\nmethod simple;\nsimpleCoeffs {{ n ({processes} 1 1); delta 0.001; }}\n",
        )
        run_utility(["decomposePar", "-force"], d, "log.decomposePar")
        run_utility(
            ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(processes), solver, "-parallel"],
            d,
            f"log.{solver}",
        )
        run_utility(["reconstructPar"], d, "log.reconstructPar")
    else:
        run_utility([solver], d, f"log.{solver}")
