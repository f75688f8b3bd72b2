"""Torch projection solver validation (spec §9.12, issue #6 "Validation").

Run: ``.venv/bin/python -m pytest packages/cfdbench/tests/test_solver.py -q`` (add ``-m slow`` for the 128^2 Ghia and
cylinder-shedding checks).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cfdbench.solver import DivergenceBlowUp, ProjectionSolver, cavity_config, step_config
from cfdbench.validation import cavity_ghia, cylinder_strouhal, poiseuille, taylor_green
from lc_core.testing import has_cuda


def test_ghia_re100_64():
    # the tolerance (0.02) is met already on 64^2; the spec's 128^2 run is the slow test below
    r = cavity_ghia(64, tol=1e-4)
    assert r["max_err_u"] <= 0.02, r
    assert r["max_err_v"] <= 0.02, r
    assert r["max_div"] <= 1e-8, r


@pytest.mark.slow
def test_ghia_re100_128():
    r = cavity_ghia(128, tol=1e-5)
    assert r["max_err_u"] <= 0.02 and r["max_err_v"] <= 0.02, r
    assert r["max_div"] <= 1e-8, r


def test_poiseuille_profile_and_pressure_drop():
    r = poiseuille()
    assert r["profile_rel_l2"] <= 0.01, r
    assert r["dpdx_rel_err"] <= 0.02, r
    assert r["max_div"] <= 1e-8, r


def test_taylor_green_energy_decay():
    r = taylor_green()
    assert r["energy_rel_err"] <= 1e-3, r
    assert r["max_div"] <= 1e-8, r


def test_projection_divergence_with_obstacle():
    cfg = step_config(
        h=0.02,
        length=1.5,
        height=0.4,
        inlet_height=0.1,
        barrier_x=0.5,
        barrier_width=0.1,
        barrier_height=0.1,
        nu=1e-3,
        u_in=1.0,
    )
    s = ProjectionSolver(cfg)
    assert s.mode == "splu"
    s.advance(0.05)
    # max|div u| * h / U stays at round-off level, and obstacle faces carry no flow
    assert s.check() <= 1e-8
    assert float(s.u[s.u_fixed].abs().max()) == 0.0
    assert float(s.v[s.v_fixed].abs().max()) == 0.0


def test_lid_and_no_slip_in_cell_velocity():
    s = ProjectionSolver(cavity_config(n=32, re=100.0))
    s.advance(0.5)
    u, v = s.cell_velocity()
    assert 0.3 < float(u[-1].mean()) < 1.0
    assert float(u[0].abs().max()) < 0.1


def test_blow_up_detected():
    s = ProjectionSolver(cavity_config(n=16, re=100.0, cfl=50.0, diffusion_number=50.0))
    with pytest.raises(DivergenceBlowUp):
        s.advance(5.0, check_every=1)


def test_periodic_sides_must_pair():
    from cfdbench.solver import FlowConfig, Side

    sides = {"left": Side(kind="periodic"), "right": Side(), "bottom": Side(), "top": Side()}
    with pytest.raises(ValueError, match="periodic"):
        ProjectionSolver(FlowConfig(nx=8, ny=8, lx=1.0, ly=1.0, nu=0.1, sides=sides))


@pytest.mark.slow
@pytest.mark.parametrize("re", [100.0, 200.0], ids=["Re100", "Re200"])
def test_cylinder_sheds(re):
    r = cylinder_strouhal(re=re, t_end=3.0)
    assert r["probe_std"] > 0.05, r
    assert 0.15 <= r["strouhal"] <= 0.35, r


@pytest.mark.gpu
@pytest.mark.skipif(not has_cuda(), reason="needs CUDA")
def test_cuda_matches_cpu():
    a = ProjectionSolver(cavity_config(n=32, re=100.0))
    b = ProjectionSolver(cavity_config(n=32, re=100.0, device="cuda"))
    a.advance(0.2)
    b.advance(0.2)
    np.testing.assert_allclose(a.u.numpy(), b.u.cpu().numpy(), atol=1e-10)
    assert math.isclose(a.t, b.t)
    assert torch.isfinite(b.v).all()
