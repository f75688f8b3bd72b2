"""Model contracts and exact parameter counts (spec §3 table, §9.7)."""

from __future__ import annotations

import pytest
import torch

from cfdbench.models import AUTO_MODELS, MODELS, NONAUTO_MODELS, build_model, count_params
from lc_core.io import DataError

# spec §3: cavity (64x64, p=5) / tube & dam (66x65, p=5) / cylinder (66x65, p=8)
PARAM_COUNTS = {
    "ffn": (71_701, 71_701, 72_001),
    "deeponet": (142_501, 142_501, 142_801),
    "auto_ffn": (1_102_401, 1_141_201, 1_141_801),
    "auto_deeponet": (551_901, 571_301, 571_601),
    "auto_edeeponet": (622_701, 642_101, 642_401),
    "auto_deeponet_cnn": (742_730, 742_730, 745_130),
    "resnet": (534_696, 534_696, 544_152),
    "unet": (1_095_038, 1_095_038, 1_095_362),
    "fno": (1_188_706, 1_188_706, 1_188_802),
}
SHAPES = {"cavity": (64, 64, 5), "tube": (66, 65, 5), "cylinder": (66, 65, 8)}


@pytest.mark.parametrize("name", sorted(PARAM_COUNTS))
@pytest.mark.parametrize("problem", ["cavity", "tube", "cylinder"])
def test_param_counts(name, problem):
    h, w, p = SHAPES[problem]
    col = ["cavity", "tube", "cylinder"].index(problem)
    assert count_params(build_model(name, n_params=p, height=h, width=w)) == PARAM_COUNTS[name][col]


# tiny configs keep the forward checks cheap; the architecture code paths are the same
TINY = {
    "auto_ffn": {"hidden": 16, "depth": 2},
    "auto_deeponet": {"hidden": 16, "branch_depth": 2, "trunk_depth": 2},
    "auto_edeeponet": {"hidden": 16, "depth": 2},
    "auto_deeponet_cnn": {"channels": 4, "trunk_width": 8, "head_width": 16},
    "resnet": {"depth": 1, "block_hidden": 8},
    "unet": {"dim": 4},
    "fno": {"hidden": 8, "modes_x": 4, "modes_y": 4, "projection": 16},
    "identity": {},
}


@pytest.mark.parametrize("name", AUTO_MODELS)
@pytest.mark.parametrize(("h", "w", "p"), [(64, 64, 5), (66, 65, 8)], ids=["64x64-p5", "66x65-p8"])
def test_auto_contract_and_mask(name, h, w, p):
    m = build_model(name, n_params=p, height=h, width=w, **TINY[name]).eval()
    x = torch.randn(2, 2, h, w)
    mask = torch.ones(2, 1, h, w)
    mask[:, :, 20:30, 10:20] = 0
    out = m(x, torch.randn(2, p), mask)
    assert out.shape == (2, m.out_channels, h, w)
    assert torch.isfinite(out).all()
    assert (out[:, :, 20:30, 10:20] == 0).all()
    nxt = m.next_frame(x, torch.randn(2, p), mask)
    assert nxt.shape == (2, 2, h, w)


@pytest.mark.parametrize("name", NONAUTO_MODELS)
def test_nonauto_contract(name):
    m = build_model(name, n_params=5)
    q = torch.tensor([[0.0, 0.0], [10.0, 20.0], [63.0, 63.0]])
    out = m(torch.randn(4, 5), torch.rand(4, 1) * 10, q)
    assert out.shape == (4, 3)
    frame = m.generate_one(torch.randn(2, 5), torch.tensor([[1.0], [2.0]]), 66, 65)
    assert frame.shape == (2, 1, 66, 65)


def test_identity_copies_input():
    m = build_model("identity")
    x = torch.randn(1, 2, 64, 64)
    assert torch.equal(m(x, torch.zeros(1, 5), torch.ones(1, 1, 64, 64)), x)
    assert count_params(m) == 0


def test_unet_hidden_insertion():
    m = build_model("unet", insert_case_params_at="hidden", dim=4)
    out = m(torch.randn(1, 2, 64, 64), torch.randn(1, 5), torch.ones(1, 1, 64, 64))
    assert out.shape == (1, 2, 64, 64)


def test_unknown_model_and_field():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("transformer")
    with pytest.raises(DataError, match="field 'width_mult': unknown fno config field"):
        build_model("fno", width_mult=2)
    with pytest.raises(DataError, match="did you mean 'hidden'"):
        build_model("fno", hiden=8)


def test_registry_has_nine_baselines_plus_identity():
    assert len(MODELS) == 10 and "identity" in MODELS
