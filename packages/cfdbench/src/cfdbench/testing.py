"""Test helpers that live in the library (pytest's importlib mode forbids importing between test modules).

Baseline ``case.json`` contents of each problem and a writer of small synthetic datasets in the released layout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cfdbench.data import save_case

__all__ = ["BASELINE_PARAMS", "synthetic_fields", "write_synthetic_dataset"]

# the original baselines (spec §1.2), in the release's key order
BASELINE_PARAMS: dict[str, dict[str, Any]] = {
    "cavity": {"vel_top": 10.0, "density": 1.0, "viscosity": 1e-5, "height": 0.01, "width": 0.01},
    "tube": {"vel_in": 1.0, "density": 100.0, "viscosity": 0.1, "height": 0.1, "width": 1.0},
    "dam": {
        "case_no": 0,
        "velocity": 1.0,
        "density": 100.0,
        "viscosity": 0.1,
        "barrier_height": 0.1,
        "barrier_width": 0.05,
        "height": 0.4,
        "width": 1.5,
        "dx": 0.0234375,
        "dy": 0.00625,
    },
    "cylinder": {
        "vel_in": 1.0,
        "density": 10.0,
        "viscosity": 1e-3,
        "radius": 0.01,
        "x_min": -0.06,
        "x_max": 0.16,
        "y_min": -0.06,
        "y_max": 0.06,
    },
}
_BC_KEY = {"cavity": "vel_top", "tube": "vel_in", "dam": "velocity", "cylinder": "vel_in"}


def synthetic_fields(t: int, seed: int, decay: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Smooth fields relaxing towards a steady state: ``u, v`` each ``[T, 64, 64]`` float32."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(0, 1, 64), np.linspace(0, 1, 64), indexing="ij")
    base_u = np.sin(np.pi * x) * np.sin(np.pi * y) * (1 + rng.random())
    base_v = np.cos(np.pi * x) * np.sin(2 * np.pi * y) * rng.random()
    amp = 1 + np.exp(-decay * np.arange(t))[:, None, None]
    return (base_u * amp).astype(np.float32), (base_v * amp).astype(np.float32)


def write_synthetic_dataset(
    root: str | os.PathLike[str], problem: str = "cavity", subsets: tuple[str, ...] = ("bc",), n: int = 3, t: int = 8
) -> Path:
    """Write ``n`` synthetic cases per subset (BC velocity = baseline + case index); returns ``root``."""
    base = BASELINE_PARAMS[problem]
    key = _BC_KEY[problem]
    for s in subsets:
        for i in range(n):
            u, v = synthetic_fields(t, seed=i)
            save_case(Path(root) / problem / s / f"case{i:04d}", {**base, key: float(base[key]) + i}, u, v)
    return Path(root)
