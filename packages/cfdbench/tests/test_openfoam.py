"""OpenFOAM backend (needs Debian's ``openfoam`` package; skipped cleanly without it)."""

from __future__ import annotations

import numpy as np
import pytest

from cfdbench.openfoam import openfoam_available, read_vector_field, simulate_case_openfoam, write_case
from cfdbench.testing import BASELINE_PARAMS

needs_openfoam = pytest.mark.skipif(not openfoam_available(), reason="OpenFOAM (icoFoam, blockMesh) not on PATH")


def test_read_vector_field(tmp_path):
    f = tmp_path / "U"
    f.write_text("FoamFile{}\ninternalField   nonuniform List<vector> \n2\n(\n(1 2 0)\n(-3.5e-1 4 0)\n)\n;\nboundaryField{}\n")
    np.testing.assert_allclose(read_vector_field(f), [[1, 2, 0], [-0.35, 4, 0]])
    g = tmp_path / "U0"
    g.write_text("internalField   uniform (0 0 0);\n")
    assert read_vector_field(g, n_cells=3).shape == (3, 3)


def test_dam_not_implemented(tmp_path):
    with pytest.raises(NotImplementedError, match="dam"):
        write_case(tmp_path, "dam", BASELINE_PARAMS["dam"], end_time=0.1, write_interval=0.1, cells=(8, 8))


@pytest.mark.openfoam
@needs_openfoam
@pytest.mark.parametrize("problem", ["cavity", "tube", "cylinder"])
def test_openfoam_case_runs(tmp_path, problem):
    p = dict(BASELINE_PARAMS[problem])
    if problem == "cavity":
        p["viscosity"] = 1e-3
    dt = {"cavity": 1e-3, "tube": 0.01, "cylinder": 1e-3}[problem]
    u, v = simulate_case_openfoam(problem, p, frames=3, data_dt=dt, workdir=tmp_path / "case")
    assert u.shape == (3, 64, 64) and np.isfinite(u).all() and np.isfinite(v).all()
    speed = p["vel_top"] if problem == "cavity" else p["vel_in"]
    assert 0.3 * speed < np.abs(u[-1]).max() < 3 * speed
