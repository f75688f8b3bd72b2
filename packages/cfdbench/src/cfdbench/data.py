"""The CFDBench data format: case folders, feature encodings, parameter vectors, splits and training pairs.

Layout of the released data (and of :mod:`cfdbench.generate` output)::

    root/{cavity,tube,dam,cylinder}/{prop,bc,geo}/caseNNNN/{case.json, u.npy, v.npy}   # u, v: [T, 64, 64]

Arrays are opened memory-mapped (``np.load(mmap_mode="r")``) and encoded one frame at a time, so the full 14 GB
release is never read into RAM. Row ``i`` of a frame is ``y = y_min + (i + 0.5) * dy`` (row 0 at the bottom).

Two encodings (spec §2.3):

* ``legacy``: the original loader at commit ``c721f67`` — cavity ``[T, 3, 64, 64]``; tube/dam/cylinder padded to
  ``[T, 3, 66, 65]`` with an inlet column on the left (u = inlet speed, mask 0) and wall rows top/bottom (mask 0);
  obstacles are never masked (the original's bugs).
* ``fixed`` (default): ``[T, 3, 64, 64]`` with obstacle cells (cylinder disc, dam step) masked and zeroed.

Torch-free. Example::

    from cfdbench.data import load_split_cases, autoregressive_pairs

    train, dev, test = load_split_cases("data", "cavity_prop_bc_geo")
    pairs = autoregressive_pairs(train[0], delta_time=0.1)
"""

from __future__ import annotations

import io
import json
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lc_core.io import DataError, atomic_write_bytes, atomic_write_text, read_json_object
from lc_core.logging import get_logger, warn_once

__all__ = [
    "PROBLEMS",
    "SUBSETS",
    "ProblemSpec",
    "Case",
    "parse_data_name",
    "list_case_dirs",
    "load_case",
    "load_cases",
    "split_cases",
    "load_split_cases",
    "case_params",
    "encode_frames",
    "frame_shape",
    "n_params",
    "time_ratio",
    "frame_interval",
    "autoregressive_pairs",
    "save_case",
    "obstacle_mask",
    "GRID",
]

logger = get_logger(__name__)

GRID = 64
SUBSETS = ("prop", "bc", "geo")
# keys the original collate ignores and the release may carry
_OPTIONAL_KEYS = {"case_no", "rotated", "dx", "dy"}


@dataclass(frozen=True, kw_only=True)
class ProblemSpec:
    """Static facts about one CFDBench problem.

    Attributes:
        name: problem name.
        keys: required ``case.json`` keys, in the released order.
        optional_keys: keys allowed besides ``keys``.
        bc_key: the boundary-condition velocity key.
        data_dt: time between saved frames (s) as declared by the original auto loader.
        split_rounding: ``"round"`` or ``"int"`` as in the original auto loaders.
        padded: whether the legacy encoding pads to 66x65.
        steady_cut: whether autoregressive pairs stop at steady state.
    """

    name: str
    keys: tuple[str, ...]
    optional_keys: frozenset[str] = frozenset()
    bc_key: str
    data_dt: float
    split_rounding: str
    padded: bool
    steady_cut: bool = True


PROBLEMS: dict[str, ProblemSpec] = {
    "cavity": ProblemSpec(
        name="cavity",
        keys=("vel_top", "density", "viscosity", "height", "width"),
        bc_key="vel_top",
        data_dt=0.1,
        split_rounding="round",
        padded=False,
    ),
    "tube": ProblemSpec(
        name="tube",
        keys=("vel_in", "density", "viscosity", "height", "width"),
        bc_key="vel_in",
        data_dt=0.1,
        split_rounding="int",
        padded=True,
    ),
    "dam": ProblemSpec(
        name="dam",
        keys=("velocity", "density", "viscosity", "height", "width"),
        optional_keys=frozenset({"barrier_height", "barrier_width"}),
        bc_key="velocity",
        data_dt=0.1,
        split_rounding="int",
        padded=True,
        steady_cut=False,
    ),
    "cylinder": ProblemSpec(
        name="cylinder",
        keys=("vel_in", "density", "viscosity", "radius", "x_min", "x_max", "y_min", "y_max"),
        bc_key="vel_in",
        data_dt=0.001,
        split_rounding="int",
        padded=True,
    ),
}

# the dam step's left face sits at x = 0.5 m in every case
DAM_BARRIER_X = 0.5


@dataclass(kw_only=True)
class Case:
    """One trajectory: its parameters and memory-mapped velocity arrays.

    Attributes:
        problem: problem name.
        subset: ``prop``, ``bc`` or ``geo``.
        path: the case folder.
        params: the parsed ``case.json`` (all keys, in file order).
        u: ``[T, 64, 64]`` x-velocity (memory-mapped).
        v: ``[T, 64, 64]`` y-velocity (memory-mapped).
        data_dt: time between frames (s).
    """

    problem: str
    subset: str
    path: Path
    params: dict[str, Any]
    u: np.ndarray
    v: np.ndarray
    data_dt: float

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.u.shape[0])

    @property
    def name(self) -> str:
        """``problem/subset/caseNNNN``."""
        return f"{self.problem}/{self.subset}/{self.path.name}"


def parse_data_name(data_name: str) -> tuple[str, list[str]]:
    """Split ``cavity_prop_bc_geo`` into ``("cavity", ["prop", "bc", "geo"])`` (subsets always in that order).

    Unlike the original's substring matching, unknown tokens are an error.
    """
    tokens = data_name.split("_")
    problem = tokens[0]
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r} in data name {data_name!r}; expected one of {sorted(PROBLEMS)}")
    subsets = tokens[1:]
    bad = [t for t in subsets if t not in SUBSETS]
    if bad or not subsets:
        raise ValueError(f"data name {data_name!r}: subsets must be a non-empty '_'-joined list of {SUBSETS}, got {subsets}")
    return problem, [s for s in SUBSETS if s in subsets]


def list_case_dirs(root: str | os.PathLike[str], problem: str, subset: str) -> list[Path]:
    """Case folders of one subset sorted numerically by ``int(name[4:])``."""
    d = Path(root) / problem / subset
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: no such subset folder (expected layout root/{problem}/{subset}/caseNNNN)")
    dirs = []
    for p in d.iterdir():
        if p.is_dir() and p.name.startswith("case"):
            if not p.name[4:].isdigit():
                raise DataError(f"case folder name {p.name!r} is not caseNNNN", path=p)
            dirs.append(p)
    return sorted(dirs, key=lambda p: int(p.name[4:]))


def _read_params(path: Path, spec: ProblemSpec, strict: bool) -> dict[str, Any]:
    if not path.is_file():
        raise DataError("missing case.json", path=path)
    params = read_json_object(path, what="case.json")
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(key: str) -> int | None:
        for i, line in enumerate(lines, start=1):
            if f'"{key}"' in line:
                return i
        return None

    for key in spec.keys:
        if key not in params:
            raise DataError("missing required key", path=path, field=key)
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise DataError(f"expected a finite number, got {value!r}", path=path, line=line_of(key), field=key)
    extra = set(params) - set(spec.keys) - _OPTIONAL_KEYS - set(spec.optional_keys)
    if extra:
        msg = f"unexpected keys {sorted(extra)} for problem {spec.name!r}"
        if strict:
            raise DataError(msg, path=path, line=line_of(sorted(extra)[0]), field=sorted(extra)[0])
        warn_once(logger, f"{path}: {msg} (ignored)")
    return params


def frame_interval(root: str | os.PathLike[str], problem: str) -> float:
    """Seconds between saved frames of ``problem`` under ``root``.

    Generated datasets record it in ``{problem}/generation.json``; the release has no such file and uses the
    original loader's constants (:attr:`ProblemSpec.data_dt`).

    Raises:
        DataError: ``generation.json`` exists but holds no numeric ``data_dt``.
    """
    spec = PROBLEMS[problem]
    meta = Path(root) / spec.name / "generation.json"
    if not meta.is_file():
        return spec.data_dt
    value = read_json_object(meta, what="generation.json").get("data_dt")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise DataError(f"expected a positive number, got {value!r}", path=meta, field="data_dt")
    return float(value)


def load_case(
    path: str | os.PathLike[str], problem: str, subset: str = "", *, strict: bool = True, data_dt: float | None = None
) -> Case:
    """Open one case folder: parse ``case.json`` and memory-map ``u.npy``/``v.npy``.

    Raises:
        DataError: missing/extra/non-numeric keys, missing arrays, or wrong shapes.
    """
    p = Path(path)
    spec = PROBLEMS[problem]
    params = _read_params(p / "case.json", spec, strict)
    arrays = {}
    for name in ("u", "v"):
        f = p / f"{name}.npy"
        if not f.is_file():
            raise DataError(f"missing {name}.npy", path=f, field=name)
        try:
            arr = np.load(f, mmap_mode="r", allow_pickle=False)
        except ValueError as e:
            raise DataError(f"cannot read array ({e})", path=f, field=name) from None
        # a string/bytes/complex array loads without pickle and would only fail when a frame is cast to float32
        if arr.dtype.kind not in "fiu":
            raise DataError(f"expected a real numeric dtype (float or int), got {arr.dtype}", path=f, field=name)
        if arr.ndim != 3 or arr.shape[1:] != (GRID, GRID) or arr.shape[0] < 1:
            raise DataError(f"expected shape (T, {GRID}, {GRID}), got {arr.shape}", path=f, field=name)
        arrays[name] = arr
    if arrays["u"].shape != arrays["v"].shape:
        raise DataError(f"u.npy shape {arrays['u'].shape} != v.npy shape {arrays['v'].shape}", path=p / "v.npy", field="v")
    if data_dt is None:
        data_dt = frame_interval(p.parent.parent.parent, problem)
    return Case(
        problem=problem, subset=subset or p.parent.name, path=p, params=params, u=arrays["u"], v=arrays["v"], data_dt=data_dt
    )


def load_cases(root: str | os.PathLike[str], data_name: str, *, strict: bool = True) -> list[Case]:
    """All cases of ``data_name`` in the original order (prop, bc, geo; numeric within a subset)."""
    problem, subsets = parse_data_name(data_name)
    if not Path(root).is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder (expected {{root}}/{problem}/{{subset}}/caseNNNN)")
    dt = frame_interval(root, problem)
    return [load_case(d, problem, s, strict=strict, data_dt=dt) for s in subsets for d in list_case_dirs(root, problem, s)]


def split_cases(items: Sequence[Any], *, rounding: str = "round", seed: int = 0) -> tuple[list[Any], list[Any], list[Any]]:
    """80/10/10 split by case after ``random.seed(seed); random.shuffle`` exactly as the original.

    Args:
        items: cases (or their folders) in loading order.
        rounding: ``"round"`` (Python's banker's rounding, cavity) or ``"int"`` (truncation, cylinder and the
            tube/dam autoregressive loaders).
    """
    if rounding not in ("round", "int"):
        raise ValueError(f"rounding must be 'round' or 'int', got {rounding!r}")
    items = list(items)
    random.Random(seed).shuffle(items)
    n = len(items)
    f = round if rounding == "round" else int
    n_train = f(n * 0.8)
    n_dev = f(n * 0.1)
    return items[:n_train], items[n_train : n_train + n_dev], items[n_train + n_dev :]


def load_split_cases(
    root: str | os.PathLike[str], data_name: str, *, rounding: str | None = None, strict: bool = True
) -> tuple[list[Case], list[Case], list[Case]]:
    """Load ``data_name`` and split it by case (the problem's original rounding unless ``rounding`` is given)."""
    problem, _ = parse_data_name(data_name)
    cases = load_cases(root, data_name, strict=strict)
    return split_cases(cases, rounding=rounding or PROBLEMS[problem].split_rounding)


def n_params(problem: str) -> int:
    """Length of the case-parameter vector: 8 for cylinder, else 5."""
    return 8 if problem == "cylinder" else 5


def case_params(case: Case | dict[str, Any], problem: str | None = None, *, normalize: bool = True) -> np.ndarray:
    """Case-parameter vector ``[bc, density, viscosity, height, width(, center_x, center_y, radius)]``.

    Normalisation (cavity-tuned constants applied to every problem, as the original): ``(rho - 5) / 4``,
    ``(mu - 0.00238) / 0.005``, ``v / 50 - 0.5``; geometry stays raw.

    Returns:
        ``[p]`` float32, p = 5 or 8.
    """
    if isinstance(case, Case):
        params, problem = case.params, case.problem
    else:
        params = case
        if problem is None:
            raise ValueError("problem is required when passing a params dict")
    spec = PROBLEMS[problem]
    bc, rho, mu = float(params[spec.bc_key]), float(params["density"]), float(params["viscosity"])
    if normalize:
        bc, rho, mu = bc / 50 - 0.5, (rho - 5) / 4, (mu - 0.00238) / 0.005
    if problem == "cylinder":
        x_min, x_max, y_min, y_max = (float(params[k]) for k in ("x_min", "x_max", "y_min", "y_max"))
        vec = [bc, rho, mu, y_max - y_min, x_max - x_min, -x_min, -y_min, float(params["radius"])]
    else:
        vec = [bc, rho, mu, float(params["height"]), float(params["width"])]
    return np.asarray(vec, dtype=np.float32)


def frame_shape(problem: str, encoding: str = "fixed") -> tuple[int, int]:
    """``(H, W)`` of encoded frames: 64x64, or 66x65 for padded problems in the legacy encoding."""
    if encoding == "legacy" and PROBLEMS[problem].padded:
        return GRID + 2, GRID + 1
    return GRID, GRID


def obstacle_mask(case: Case) -> np.ndarray:
    """``[64, 64]`` float32, 1 = fluid, 0 = obstacle cell (cell centres inside the cylinder / dam step)."""
    p = case.params
    mask = np.ones((GRID, GRID), np.float32)
    if case.problem == "cylinder":
        x_min, x_max, y_min, y_max = (float(p[k]) for k in ("x_min", "x_max", "y_min", "y_max"))
        xc = x_min + (np.arange(GRID) + 0.5) * (x_max - x_min) / GRID
        yc = y_min + (np.arange(GRID) + 0.5) * (y_max - y_min) / GRID
        mask[(xc[None, :] ** 2 + yc[:, None] ** 2) <= float(p["radius"]) ** 2] = 0.0
    elif case.problem == "dam" and "barrier_height" in p and "barrier_width" in p:
        w, h = float(p["width"]), float(p["height"])
        xc = (np.arange(GRID) + 0.5) * w / GRID
        yc = (np.arange(GRID) + 0.5) * h / GRID
        bw, bh = float(p["barrier_width"]), float(p["barrier_height"])
        inside = (xc[None, :] >= DAM_BARRIER_X) & (xc[None, :] <= DAM_BARRIER_X + bw) & (yc[:, None] <= bh)
        mask[inside] = 0.0
    return mask


def encode_frames(case: Case, index: int | slice | Sequence[int] | None = None, *, encoding: str = "fixed") -> np.ndarray:
    """Encode frames as ``[u, v, mask]`` channels.

    Args:
        case: the case.
        index: frame index, slice or list (default: all frames).
        encoding: ``"fixed"`` or ``"legacy"`` (see the module docstring).

    Returns:
        ``[T, 3, H, W]`` float32 (``[3, H, W]`` for an int index).

    Raises:
        DataError: a selected frame holds NaN/Inf.
    """
    if encoding not in ("fixed", "legacy"):
        raise ValueError(f"encoding must be 'fixed' or 'legacy', got {encoding!r}")
    single = isinstance(index, int | np.integer)
    if index is None:
        index = slice(None)
    sel = [int(index)] if single else index
    u = np.asarray(case.u[sel], dtype=np.float32)
    v = np.asarray(case.v[sel], dtype=np.float32)
    for name, arr in (("u", u), ("v", v)):
        if not np.isfinite(arr).all():
            bad = int(np.argwhere(~np.isfinite(arr))[0][0])
            frames = np.arange(case.num_frames)[sel]
            raise DataError(f"non-finite value in frame {int(frames[bad])}", path=case.path / f"{name}.npy", field=name)
    t = u.shape[0]
    if encoding == "fixed":
        mask = obstacle_mask(case)
        out = np.empty((t, 3, GRID, GRID), np.float32)
        out[:, 0] = u * mask
        out[:, 1] = v * mask
        out[:, 2] = mask
    else:
        out = _encode_legacy(case, u, v)
    return out[0] if single else out


def _encode_legacy(case: Case, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    t = u.shape[0]
    spec = PROBLEMS[case.problem]
    mask = np.ones((t, GRID, GRID), np.float32)
    if not spec.padded:
        return np.stack([u, v, mask], axis=1)
    p = case.params
    vel = float(p[spec.bc_key])
    inlet_u = np.full((t, GRID, 1), vel, np.float32)
    if case.problem == "dam":
        # the original sets the inlet speed only below the barrier height
        dy = float(p.get("dy", float(p["height"]) / GRID))
        rows = int(float(p.get("barrier_height", 0.1)) / dy)
        inlet_u[:, rows:] = 0.0
    u = np.concatenate([inlet_u, u], axis=2)
    v = np.concatenate([np.zeros((t, GRID, 1), np.float32), v], axis=2)
    mask = np.concatenate([np.zeros((t, GRID, 1), np.float32), mask], axis=2)
    zrow = np.zeros((t, 1, GRID + 1), np.float32)
    u = np.concatenate([zrow, u, zrow], axis=1)
    v = np.concatenate([zrow, v, zrow], axis=1)
    mask = np.concatenate([zrow, mask, zrow], axis=1)
    return np.stack([u, v, mask], axis=1)


def time_ratio(delta_time: float, data_dt: float, *, rounding: str = "round") -> int:
    """Frames per model step ``k``: ``round(delta_time / data_dt)`` (``"int"`` truncates like the original)."""
    r = delta_time / data_dt
    k = int(round(r)) if rounding == "round" else int(r)
    if k < 1:
        raise ValueError(f"delta_time {delta_time} is shorter than the data's frame interval {data_dt}")
    return k


def autoregressive_pairs(
    case: Case,
    *,
    delta_time: float | None = None,
    k: int | None = None,
    steady_cut: bool | None = None,
    threshold: float = 1e-3,
) -> list[tuple[int, int]]:
    """Frame index pairs ``(t, t + k)`` for one-step training.

    The steady-state rule (cavity, tube, cylinder; never dam) stops adding pairs at the first pair whose
    ``mean(| |u_in| - |u_out| |) < threshold`` (speed magnitudes), dropping the converged tail.

    Args:
        case: the case.
        delta_time: model time step (s); ``k = round(delta_time / data_dt)``.
        k: frames per step (overrides ``delta_time``).
        steady_cut: apply the steady-state rule (default: the problem's setting).
        threshold: steady-state threshold.
    """
    if k is None:
        k = 1 if delta_time is None else time_ratio(delta_time, case.data_dt)
    if steady_cut is None:
        steady_cut = PROBLEMS[case.problem].steady_cut
    pairs = []
    for t in range(case.num_frames - k):
        if steady_cut:
            a = np.hypot(np.asarray(case.u[t], np.float64), np.asarray(case.v[t], np.float64))
            b = np.hypot(np.asarray(case.u[t + k], np.float64), np.asarray(case.v[t + k], np.float64))
            if float(np.abs(a - b).mean()) < threshold:
                break
        pairs.append((t, t + k))
    return pairs


def save_case(path: str | os.PathLike[str], params: dict[str, Any], u: np.ndarray, v: np.ndarray) -> None:
    """Write one case folder in the released layout (``case.json``, ``u.npy``, ``v.npy``), each file atomically."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    for name, arr in (("u", u), ("v", v)):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr))
        atomic_write_bytes(p / f"{name}.npy", buf.getvalue())
    atomic_write_text(p / "case.json", json.dumps(params, indent=4))
