"""Generator -> dataset in the released layout (spec §9.13) and the sweeps (spec §1.2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cfdbench.data import PROBLEMS, encode_frames, load_cases
from cfdbench.generate import GenerateConfig, generate, reynolds, sweep


def test_generated_cavity_layout_and_physics(generated_cavity):
    cases = load_cases(generated_cavity, "cavity_bc")
    assert [c.path.name for c in cases] == ["case0000", "case0001", "case0002"]
    meta = json.loads((generated_cavity / "cavity" / "generation.json").read_text())
    assert meta["data_dt"] > 0 and cases[0].data_dt == meta["data_dt"]
    for c in cases:
        assert list(json.loads((c.path / "case.json").read_text())) == list(PROBLEMS["cavity"].keys)
        assert c.num_frames == 8
        x = encode_frames(c)
        u, v = x[-1, 0], x[-1, 1]
        lid = c.params["vel_top"]
        # top row lies half a cell below the lid; bottom row near the resting wall
        assert 0.5 * lid < u[-1].mean() < lid
        assert np.abs(u[0]).max() < 0.1 * lid
        # the fluid starts at rest; only the rows next to the lid see the wall value in frame 0
        assert (x[0, :2, :-2] == 0).all()
        dx = c.params["width"] / 64
        div = (np.gradient(u, dx, axis=1) + np.gradient(v, dx, axis=0))[2:-2, 2:-2]
        assert np.abs(div).mean() * dx / lid < 0.02


def test_resume_skips_done_cases(generated_cavity):
    s = generate(GenerateConfig(problem="cavity", subset="bc", cases=3, frames=8, out=str(generated_cavity), resolution=32))
    assert s["skipped"] == ["case0000", "case0001", "case0002"] and not s["written"]


def test_conflicting_data_dt(generated_cavity):
    with pytest.raises(ValueError, match="data_dt"):
        generate(GenerateConfig(problem="cavity", subset="bc", cases=1, frames=2, out=str(generated_cavity), data_dt=0.5))


@pytest.mark.parametrize(
    ("problem", "subset", "n"),
    [
        ("cavity", "bc", 50),
        ("cavity", "prop", 84),
        ("cavity", "geo", 25),
        ("tube", "bc", 50),
        ("tube", "prop", 100),
        ("tube", "geo", 25),
        ("dam", "bc", 70),
        ("dam", "prop", 100),
        ("dam", "geo", 50),
        ("cylinder", "bc", 50),
        ("cylinder", "geo", 20),
    ],
    ids=lambda v: str(v),
)
def test_original_sweep_sizes(problem, subset, n):
    assert len(sweep(problem, subset, original=True)) == n


def test_cylinder_prop_filter_and_embedded_restriction():
    prop = sweep("cylinder", "prop", original=True)
    assert all(20 <= reynolds("cylinder", c) <= 1000 for c in prop)
    emb = sweep("cavity", "prop")
    assert emb and all(reynolds("cavity", c) <= 1000 for c in emb)
    assert all(c["viscosity"] == 1e-3 for c in sweep("cavity", "bc"))


@pytest.mark.parametrize("problem", ["tube", "dam", "cylinder"])
def test_other_problems_generate(tmp_path, problem):
    s = generate(GenerateConfig(problem=problem, subset="bc", cases=1, frames=3, out=str(tmp_path), resolution=32))
    assert s["written"] == ["case0000"]
    c = load_cases(tmp_path, f"{problem}_bc")[0]
    x = encode_frames(c)
    assert np.isfinite(x).all() and np.abs(x[-1, 0]).max() > 0
