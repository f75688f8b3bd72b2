"""OpenFOAM backend (Debian's ``openfoam`` package, v1912): case writers, runner and sampler onto the 64x64 grid.

Implemented: cavity (icoFoam, lid-driven box), cylinder (icoFoam on a block mesh with the cylinder's cells removed by
``topoSet`` + ``subsetMesh``, a staircase like the torch solver), the two-phase tube (interFoam: water entering an
air-filled channel, no gravity; see :func:`tube_setup`; ``phases=1`` runs the single-phase icoFoam channel instead) and
the two-phase dam break (interFoam: water/air VOF with gravity, laminar, on a multi-block mesh whose block edges follow
the inlet height and the obstacle, the obstacle's cells removed by ``topoSet`` + ``subsetMesh``; see
:func:`dam_setup` for the boundary and initial conditions and how they differ from the original's Fluent setup).

Install on Debian 12: ``apt-get install -y --no-install-recommends openfoam`` (binaries land on PATH; add ``openmpi-bin``
for ``processes > 1``).

Example::

    from cfdbench.openfoam import openfoam_available, simulate_case_openfoam

    if openfoam_available("dam"):
        u, v, alpha = simulate_case_openfoam("dam", params, frames=5, data_dt=0.1, workdir="runs/case0000",
                                             return_alpha=True)

Modules: :mod:`~cfdbench.openfoam.cases` (dictionaries and meshes), :mod:`~cfdbench.openfoam.runner` (utilities,
MPI), :mod:`~cfdbench.openfoam.fields` (ASCII field readers, sampling), :mod:`~cfdbench.openfoam.simulate` (one case
end to end).
"""

from cfdbench.openfoam.cases import (
    AIR_MU,
    AIR_RHO,
    DAM_CELLS,
    DAM_INLET_HEIGHT,
    TwoPhaseCase,
    dam_setup,
    default_phases,
    solver_name,
    tube_setup,
    write_case,
    write_interfoam_case,
)
from cfdbench.openfoam.errors import OpenFoamError
from cfdbench.openfoam.fields import read_scalar_field, read_vector_field
from cfdbench.openfoam.runner import openfoam_available, run_case, run_utility
from cfdbench.openfoam.simulate import simulate_case_openfoam

__all__ = [
    "openfoam_available",
    "solver_name",
    "write_case",
    "run_case",
    "run_utility",
    "read_vector_field",
    "read_scalar_field",
    "simulate_case_openfoam",
    "OpenFoamError",
    "TwoPhaseCase",
    "dam_setup",
    "tube_setup",
    "default_phases",
    "write_interfoam_case",
    "AIR_RHO",
    "AIR_MU",
    "DAM_INLET_HEIGHT",
    "DAM_CELLS",
]
