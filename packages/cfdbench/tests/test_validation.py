"""Reference tables used by the solver validation (values transcribed from Ghia et al. 1982, spec §8.3)."""

from __future__ import annotations

from cfdbench.validation import GHIA_U_RE100, GHIA_V_RE100


def test_ghia_tables_shape_and_boundaries():
    assert len(GHIA_U_RE100) == 17 and len(GHIA_V_RE100) == 17
    assert GHIA_U_RE100[0] == (1.0, 1.0) and GHIA_U_RE100[-1] == (0.0, 0.0)
    assert GHIA_V_RE100[0] == (1.0, 0.0) and GHIA_V_RE100[-1] == (0.0, 0.0)
    assert min(u for _, u in GHIA_U_RE100) == -0.21090
    assert min(v for _, v in GHIA_V_RE100) == -0.24533
