"""Loader, encodings, parameter vectors, splits and pairs (spec §9.1–9.5).

Run: ``.venv/bin/python -m pytest packages/cfdbench/tests/test_data.py -q``
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cfdbench.data import (
    autoregressive_pairs,
    case_params,
    encode_frames,
    list_case_dirs,
    load_case,
    load_cases,
    load_split_cases,
    parse_data_name,
    save_case,
    split_cases,
    time_ratio,
)
from cfdbench.testing import BASELINE_PARAMS
from lc_core.io import DataError

CAVITY = BASELINE_PARAMS["cavity"]
CYLINDER = BASELINE_PARAMS["cylinder"]
DAM = BASELINE_PARAMS["dam"]


def test_round_trip_is_bitwise(make_dataset, tmp_path):
    root = make_dataset("cavity", ("bc",), n=2)
    case = load_cases(root, "cavity_bc")[1]
    assert isinstance(case.u, np.memmap)
    out = tmp_path / "copy" / "case0001"
    save_case(out, case.params, np.asarray(case.u), np.asarray(case.v))
    for name in ("u.npy", "v.npy", "case.json"):
        assert (out / name).read_bytes() == (case.path / name).read_bytes()


def test_numeric_sort(tmp_path):
    for i in (10, 2, 1, 100):
        save_case(tmp_path / "cavity" / "bc" / f"case{i:04d}", CAVITY, np.zeros((2, 64, 64)), np.zeros((2, 64, 64)))
    # caseNNNN with more digits must still sort numerically
    save_case(tmp_path / "cavity" / "bc" / "case12345", CAVITY, np.zeros((2, 64, 64)), np.zeros((2, 64, 64)))
    names = [d.name for d in list_case_dirs(tmp_path, "cavity", "bc")]
    assert names == ["case0001", "case0002", "case0010", "case0100", "case12345"]


@pytest.mark.parametrize("problem", ["cavity", "cylinder", "dam"])
def test_missing_key_names_file_and_field(make_dataset, problem):
    root = make_dataset(problem, ("bc",), n=1)
    f = root / problem / "bc" / "case0000" / "case.json"
    params = json.loads(f.read_text())
    params.pop("density")
    f.write_text(json.dumps(params, indent=4))
    with pytest.raises(DataError, match="density") as e:
        load_cases(root, f"{problem}_bc")
    assert "case0000/case.json" in str(e.value)


def test_extra_key_rejected_with_line(make_dataset):
    root = make_dataset("cavity", ("bc",), n=1)
    f = root / "cavity" / "bc" / "case0000" / "case.json"
    f.write_text(json.dumps({**CAVITY, "temperature": 3.0}, indent=4))
    with pytest.raises(DataError, match="temperature") as e:
        load_cases(root, "cavity_bc")
    assert ":7:" in str(e.value)
    assert load_cases(root, "cavity_bc", strict=False)[0].params["temperature"] == 3.0


def test_non_numeric_value(make_dataset):
    root = make_dataset("cavity", ("bc",), n=1)
    f = root / "cavity" / "bc" / "case0000" / "case.json"
    f.write_text(json.dumps({**CAVITY, "viscosity": "1e-5"}, indent=4))
    with pytest.raises(DataError, match="viscosity"):
        load_cases(root, "cavity_bc")


@pytest.mark.parametrize("shape", [(4, 64, 63), (4, 64), (0, 64, 64)], ids=["cols-63", "2d", "T-0"])
def test_wrong_shape(tmp_path, shape):
    save_case(tmp_path / "c" / "case0000", CAVITY, np.zeros(shape), np.zeros(shape))
    with pytest.raises(DataError, match="shape"):
        load_case(tmp_path / "c" / "case0000", "cavity")


@pytest.mark.parametrize(
    "values",
    [np.full((2, 64, 64), "0.5"), np.full((2, 64, 64), b"x"), np.full((2, 64, 64), 1 + 2j)],
    ids=["str", "bytes", "complex"],
)
def test_non_numeric_dtype_names_the_file(tmp_path, values):
    # a string-dtype array loads fine with allow_pickle=False and used to fail later with a bare ValueError
    save_case(tmp_path / "c" / "case0000", CAVITY, np.zeros((2, 64, 64)), values)
    with pytest.raises(DataError, match="dtype") as e:
        load_case(tmp_path / "c" / "case0000", "cavity")
    assert "v.npy" in str(e.value) and e.value.field == "v"


def test_missing_dataset_root_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere: no such dataset folder"):
        load_cases(tmp_path / "nowhere", "cavity_bc")


def test_u_v_shape_mismatch(tmp_path):
    save_case(tmp_path / "c" / "case0000", CAVITY, np.zeros((4, 64, 64)), np.zeros((5, 64, 64)))
    with pytest.raises(DataError, match="v.npy"):
        load_case(tmp_path / "c" / "case0000", "cavity")


def test_nan_frame_reported(tmp_path):
    u = np.zeros((4, 64, 64))
    u[2, 5, 5] = np.nan
    save_case(tmp_path / "c" / "case0000", CAVITY, u, np.zeros((4, 64, 64)))
    case = load_case(tmp_path / "c" / "case0000", "cavity")
    encode_frames(case, 1)
    with pytest.raises(DataError, match="frame 2") as e:
        encode_frames(case)
    assert "u.npy" in str(e.value)


def test_data_name_parsing():
    assert parse_data_name("cavity_bc_prop") == ("cavity", ["prop", "bc"])
    with pytest.raises(ValueError, match="subsets"):
        parse_data_name("cavity_props")
    with pytest.raises(ValueError, match="problem"):
        parse_data_name("karman_bc")


def test_legacy_encoding_cavity_and_padded(make_dataset):
    root = make_dataset("cavity", ("bc",), n=1, t=3)
    case = load_cases(root, "cavity_bc")[0]
    x = encode_frames(case, encoding="legacy")
    assert x.shape == (3, 3, 64, 64)
    assert (x[:, 2] == 1).all()
    np.testing.assert_array_equal(x[:, 0], np.asarray(case.u))


@pytest.mark.parametrize("problem", ["tube", "cylinder", "dam"])
def test_legacy_padding(make_dataset, problem):
    root = make_dataset(problem, ("bc",), n=1, t=3)
    case = load_cases(root, f"{problem}_bc")[0]
    x = encode_frames(case, encoding="legacy")
    assert x.shape == (3, 3, 66, 65)
    vel = case.params["velocity" if problem == "dam" else "vel_in"]
    # wall rows and inlet column are masked; walls carry zero velocity
    assert (x[:, 2, 0] == 0).all() and (x[:, 2, -1] == 0).all() and (x[:, 2, :, 0] == 0).all()
    assert (x[:, :2, 0] == 0).all() and (x[:, :2, -1] == 0).all()
    assert (x[:, 1, :, 0] == 0).all()
    inlet = x[0, 0, 1:-1, 0]
    if problem == "dam":
        rows = int(case.params["barrier_height"] / case.params["dy"])
        assert (inlet[:rows] == vel).all() and (inlet[rows:] == 0).all()
    else:
        assert (inlet == vel).all()
    # the original never masks obstacles: the interior mask is all ones
    assert (x[:, 2, 1:-1, 1:] == 1).all()
    np.testing.assert_array_equal(x[:, 0, 1:-1, 1:], np.asarray(case.u))


def test_fixed_cylinder_mask_area(make_dataset):
    root = make_dataset("cylinder", ("bc",), n=1, t=2)
    case = load_cases(root, "cylinder_bc")[0]
    x = encode_frames(case)
    assert x.shape == (2, 3, 64, 64)
    p = CYLINDER
    dx, dy = (p["x_max"] - p["x_min"]) / 64, (p["y_max"] - p["y_min"]) / 64
    expected = math.pi * p["radius"] ** 2 / (dx * dy)
    perimeter_cells = 2 * math.pi * p["radius"] / min(dx, dy)
    n_masked = int((x[0, 2] == 0).sum())
    assert abs(n_masked - expected) <= perimeter_cells
    # masked cells hold zero velocity; the masked disc is centred on the origin
    assert (x[:, :2][:, :, x[0, 2] == 0] == 0).all()
    jj, ii = np.nonzero(x[0, 2] == 0)
    xc = p["x_min"] + (ii + 0.5) * dx
    yc = p["y_min"] + (jj + 0.5) * dy
    assert abs(xc.mean()) < dx and abs(yc.mean()) < dy


def test_fixed_dam_mask_rectangle(make_dataset):
    root = make_dataset("dam", ("bc",), n=1, t=2)
    case = load_cases(root, "dam_bc")[0]
    m = encode_frames(case)[0, 2]
    xc = (np.arange(64) + 0.5) * DAM["width"] / 64
    yc = (np.arange(64) + 0.5) * DAM["height"] / 64
    inside = (xc[None] >= 0.5) & (xc[None] <= 0.5 + DAM["barrier_width"]) & (yc[:, None] <= DAM["barrier_height"])
    np.testing.assert_array_equal(m == 0, inside)
    assert inside.sum() == 2 * 16


def test_param_vector_hand_computed(make_dataset):
    root = make_dataset("cavity", ("bc",), n=1)
    case = load_cases(root, "cavity_bc")[0]
    np.testing.assert_allclose(
        case_params(case), [10 / 50 - 0.5, (1 - 5) / 4, (1e-5 - 0.00238) / 0.005, 0.01, 0.01], rtol=1e-6
    )
    np.testing.assert_allclose(case_params(case, normalize=False), [10, 1, 1e-5, 0.01, 0.01], rtol=1e-6)
    cyl = case_params(CYLINDER, "cylinder")
    np.testing.assert_allclose(
        cyl, [1 / 50 - 0.5, (10 - 5) / 4, (1e-3 - 0.00238) / 0.005, 0.12, 0.22, 0.06, 0.06, 0.01], rtol=1e-6
    )
    assert len(case_params(DAM, "dam")) == 5


@pytest.mark.parametrize(
    ("n", "rounding", "expected"),
    [
        (159, "round", (127, 16, 16)),
        (84, "round", (67, 8, 9)),
        (50, "round", (40, 5, 5)),
        (25, "round", (20, 2, 3)),
        (175, "round", (140, 18, 17)),
        (175, "int", (140, 17, 18)),
        (220, "int", (176, 22, 22)),
        (70, "int", (56, 7, 7)),
        (185, "int", (148, 18, 19)),
        (115, "int", (92, 11, 12)),
        (20, "int", (16, 2, 2)),
        (100, "int", (80, 10, 10)),
    ],
    ids=lambda v: str(v),
)
def test_split_counts(n, rounding, expected):
    items = [f"case{i:04d}" for i in range(n)]
    tr, dev, te = split_cases(items, rounding=rounding)
    assert (len(tr), len(dev), len(te)) == expected
    assert sorted(tr + dev + te) == items
    assert not (set(tr) & set(dev)) and not (set(tr) & set(te)) and not (set(dev) & set(te))
    assert split_cases(items, rounding=rounding) == (tr, dev, te)


def test_split_matches_python_random_seed0():
    import random

    items = list(range(30))
    ref = items[:]
    random.seed(0)
    random.shuffle(ref)
    tr, dev, te = split_cases(items)
    assert tr + dev + te == ref


def test_load_split_order_prop_bc_geo(make_dataset):
    root = make_dataset("cavity", ("geo", "bc", "prop"), n=4)
    cases = load_cases(root, "cavity_geo_bc_prop")
    assert [c.subset for c in cases] == ["prop"] * 4 + ["bc"] * 4 + ["geo"] * 4
    tr, dev, te = load_split_cases(root, "cavity_prop_bc_geo")
    assert len(tr) + len(dev) + len(te) == 12
    assert {c.path for c in tr}.isdisjoint({c.path for c in te})


def test_time_ratio():
    assert time_ratio(0.3, 0.1) == 3
    assert time_ratio(0.3, 0.1, rounding="int") == 2
    with pytest.raises(ValueError):
        time_ratio(0.01, 0.1)


def test_pairs_count_and_steady_cut(tmp_path):
    t = 12
    u = np.ones((t, 64, 64))
    # changes shrink geometrically; from frame 6 on consecutive frames differ by < 1e-3
    u *= (1 + 0.1 ** np.arange(t))[:, None, None]
    save_case(tmp_path / "c" / "case0000", CAVITY, u, np.zeros_like(u))
    case = load_case(tmp_path / "c" / "case0000", "cavity", data_dt=0.1)
    assert len(autoregressive_pairs(case, delta_time=0.3, steady_cut=False)) == t - 3
    assert autoregressive_pairs(case, k=2, steady_cut=False)[0] == (0, 2)
    cut = autoregressive_pairs(case, k=1)
    assert cut == [(i, i + 1) for i in range(3)]


def test_dam_exempt_from_steady_cut(tmp_path):
    u = np.ones((6, 64, 64))
    save_case(tmp_path / "dam" / "bc" / "case0000", DAM, u, np.zeros_like(u))
    case = load_case(tmp_path / "dam" / "bc" / "case0000", "dam")
    assert len(autoregressive_pairs(case, k=1)) == 5
