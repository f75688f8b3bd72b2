"""The public surface of ``cfdbench.openfoam`` (no OpenFOAM needed)."""

from __future__ import annotations

import cfdbench.openfoam as openfoam


def test_all_exports_only_public_names():
    assert openfoam.__all__, "cfdbench.openfoam exports nothing"
    private = [name for name in openfoam.__all__ if name.startswith("_")]
    assert private == []
    for name in openfoam.__all__:
        assert hasattr(openfoam, name), name


def test_utility_runner_is_public():
    # tools/bench/cfd_solver.py drives blockMesh/icoFoam itself: it needs a public entry point
    assert callable(openfoam.run_utility)
