"""Checkpoint formats (spec §5, §8 tests 8-10): state-spaces and HF loading, export round trips, strict validation.

Tiny random checkpoints are written in ``tmp_path`` with the exact key names and shapes of spec §5.1, built
from the spec's formulas rather than from our model. Run:
``.venv/bin/python -m pytest packages/lc-core/tests/models/test_mamba2_checkpoint.py -q``
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from lc_core.models.mamba2 import CheckpointError, Mamba2ForCausalLM, export_hf, load_checkpoint
from lc_core.models.mamba2.checkpoint import config_to_hf, export_state_spaces

D_MODEL, N_LAYER, VOCAB, PADDED = 64, 2, 50277, 50288
# mamba_ssm defaults: d_state 128, headdim 64, expand 2, G 1, d_conv 4
D_INNER, NHEADS, D_STATE = 128, 2, 128
IN_PROJ = 2 * D_INNER + 2 * D_STATE + NHEADS
CONV_DIM = D_INNER + 2 * D_STATE

OFFICIAL_CONFIG = {
    "d_model": D_MODEL,
    "d_intermediate": 0,
    "n_layer": N_LAYER,
    "vocab_size": VOCAB,
    "ssm_cfg": {"layer": "Mamba2"},
    "attn_layer_idx": [],
    "attn_cfg": {},
    "rms_norm": True,
    "residual_in_fp32": True,
    "fused_add_norm": True,
    "pad_vocab_size_multiple": 16,
    "tie_embeddings": True,
}


@pytest.fixture(autouse=True)
def _single_thread():
    # tiny shapes: one intra-op thread avoids OpenMP oversubscription on a shared CI box
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def state_spaces_dict(seed=0):
    gen = torch.Generator().manual_seed(seed)

    def r(*shape, scale=0.05):
        return torch.randn(*shape, generator=gen) * scale

    emb = r(PADDED, D_MODEL)
    sd = {"backbone.embedding.weight": emb}
    for i in range(N_LAYER):
        p = f"backbone.layers.{i}."
        sd[p + "norm.weight"] = 1 + r(D_MODEL)
        sd[p + "mixer.in_proj.weight"] = r(IN_PROJ, D_MODEL)
        sd[p + "mixer.conv1d.weight"] = r(CONV_DIM, 1, 4, scale=0.3)
        sd[p + "mixer.conv1d.bias"] = r(CONV_DIM)
        sd[p + "mixer.dt_bias"] = r(NHEADS) - 4
        sd[p + "mixer.A_log"] = torch.log(torch.tensor([2.0, 9.0]))
        sd[p + "mixer.D"] = 1 + r(NHEADS)
        sd[p + "mixer.norm.weight"] = 1 + r(D_INNER)
        sd[p + "mixer.out_proj.weight"] = r(D_MODEL, D_INNER)
    sd["backbone.norm_f.weight"] = 1 + r(D_MODEL)
    sd["lm_head.weight"] = emb
    return sd


def write_state_spaces(folder, sd=None, config=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or OFFICIAL_CONFIG))
    torch.save(sd if sd is not None else state_spaces_dict(), folder / "pytorch_model.bin")
    return folder


@pytest.fixture(scope="module")
def ss_dir(tmp_path_factory):
    return write_state_spaces(tmp_path_factory.mktemp("ss"))


@pytest.fixture(scope="module")
def ss_model(ss_dir):
    return load_checkpoint(ss_dir)


IDS = torch.randint(0, VOCAB, (1, 21), generator=torch.Generator().manual_seed(3))


def run(model, ids=IDS):
    with torch.no_grad():
        return model(ids, use_cache=False).logits


def test_state_spaces_loads_with_derived_dims(ss_model):
    cfg = ss_model.config
    assert (cfg.vocab_size, cfg.nheads, cfg.d_in_proj, cfg.conv_dim) == (PADDED, NHEADS, IN_PROJ, CONV_DIM)
    assert ss_model.lm_head.weight.data_ptr() == ss_model.backbone.embeddings.weight.data_ptr()
    sd = state_spaces_dict()
    assert torch.equal(ss_model.backbone.embeddings.weight, sd["backbone.embedding.weight"])
    assert torch.equal(ss_model.backbone.layers[1].mixer.A_log, sd["backbone.layers.1.mixer.A_log"])
    assert torch.isfinite(run(ss_model)).all()


def test_state_spaces_safetensors_variant(tmp_path, ss_model):
    folder = tmp_path / "st"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(OFFICIAL_CONFIG))
    sd = state_spaces_dict()
    del sd["lm_head.weight"]
    save_file(sd, str(folder / "model.safetensors"))
    assert torch.equal(run(load_checkpoint(folder)), run(ss_model))


def test_hf_key_variant_loads(tmp_path, ss_model):
    sd = state_spaces_dict()
    sd["backbone.embeddings.weight"] = sd.pop("backbone.embedding.weight")
    del sd["lm_head.weight"]
    folder = tmp_path / "hf"
    folder.mkdir()
    save_file(sd, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config_to_hf(ss_model.config)))
    assert torch.equal(run(load_checkpoint(folder)), run(ss_model))


def test_export_hf_roundtrip_bit_exact(tmp_path, ss_model):
    export_hf(ss_model, tmp_path / "out")
    back = load_checkpoint(tmp_path / "out")
    for (k, a), (k2, b) in zip(ss_model.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["model_type"] == "mamba2" and cfg["num_heads"] == NHEADS and cfg["vocab_size"] == PADDED


def test_export_bf16_changes_only_dtype(tmp_path, ss_model):
    export_hf(ss_model, tmp_path / "bf16", dtype=torch.bfloat16)
    back = load_checkpoint(tmp_path / "bf16")
    for (k, a), b in zip(ss_model.state_dict().items(), back.state_dict().values()):
        assert b.dtype == torch.bfloat16 and torch.equal(a.to(torch.bfloat16), b), k


def test_state_spaces_export_roundtrip(tmp_path, ss_model):
    export_state_spaces(ss_model, tmp_path / "ss2")
    sd = torch.load(tmp_path / "ss2" / "pytorch_model.bin", weights_only=True)
    assert "backbone.embedding.weight" in sd and torch.equal(sd["lm_head.weight"], sd["backbone.embedding.weight"])
    assert torch.equal(run(load_checkpoint(tmp_path / "ss2")), run(ss_model))


def test_transformers_loads_our_export(tmp_path, ss_model):
    transformers = pytest.importorskip("transformers")
    export_hf(ss_model, tmp_path / "for-hf")
    theirs = transformers.Mamba2ForCausalLM.from_pretrained(tmp_path / "for-hf").eval()
    with torch.no_grad():
        b = theirs(IDS, use_cache=False).logits
    assert (run(ss_model) - b).abs().max().item() <= 1e-4


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda sd: sd.__setitem__("backbone.layers.0.mixer.in_proj.weight", torch.zeros(IN_PROJ - 2, D_MODEL)),
         "backbone.layers.0.mixer.in_proj.weight"),
        (lambda sd: sd.pop("backbone.layers.1.mixer.A_log"), "backbone.layers.1.mixer.A_log"),
        (lambda sd: sd.__setitem__("backbone.layers.0.mixer.extra", torch.zeros(1)), "backbone.layers.0.mixer.extra"),
        (lambda sd: sd.__setitem__("lm_head.weight", torch.zeros(PADDED, D_MODEL)), "lm_head.weight"),
        (lambda sd: sd.__setitem__("backbone.layers.0.mixer.conv1d.weight", torch.zeros(CONV_DIM, 4)),
         "backbone.layers.0.mixer.conv1d.weight"),
    ],
    ids=["in_proj-rows", "missing-A_log", "unexpected-key", "untied-lm_head", "conv-shape"],
)  # fmt: skip
def test_malformed_state_dict_names_the_key(tmp_path, mutate, field):
    sd = state_spaces_dict()
    mutate(sd)
    folder = write_state_spaces(tmp_path / "bad", sd)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert err.value.field == field
    assert "pytorch_model.bin" in str(err.value)


def test_in_proj_error_explains_formula(tmp_path):
    sd = state_spaces_dict()
    sd["backbone.layers.0.mixer.in_proj.weight"] = torch.zeros(IN_PROJ + 64, D_MODEL)
    with pytest.raises(CheckpointError, match=r"2\*d_inner \+ 2\*ngroups\*d_state \+ nheads"):
        load_checkpoint(write_state_spaces(tmp_path / "rows", sd))


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**OFFICIAL_CONFIG, "attn_layer_idx": [1]}, "attn_layer_idx"),
        ({**OFFICIAL_CONFIG, "ssm_cfg": {"layer": "Mamba1"}}, "ssm_cfg.layer"),
        ({**OFFICIAL_CONFIG, "ssm_cfg": {"layer": "Mamba2", "norm_before_gate": True}}, "ssm_cfg.norm_before_gate"),
        ({**OFFICIAL_CONFIG, "ssm_cfg": {"layer": "Mamba2", "mystery": 1}}, "ssm_cfg.mystery"),
        ({k: v for k, v in OFFICIAL_CONFIG.items() if k != "n_layer"}, "model_type"),
    ],
    ids=["attention", "mamba1", "norm-before-gate", "unknown-option", "no-n_layer"],
)
def test_unsupported_config_names_the_field(tmp_path, config, field):
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert err.value.field == field and "config.json" in str(err.value)


def test_broken_json_reports_line(tmp_path):
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "config.json").write_text('{\n  "d_model": 64,\n  "n_layer": ,\n}')
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert err.value.line == 3


def test_pickle_payload_is_refused(tmp_path):
    folder = tmp_path / "pickle"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(OFFICIAL_CONFIG))
    torch.save({"weights": Mamba2ForCausalLM}, folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="weights_only=True"):
        load_checkpoint(folder)
