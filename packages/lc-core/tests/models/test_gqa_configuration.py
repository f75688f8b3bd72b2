"""GQAConfig: HF aliases, derived defaults, validation, serialisation.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/models/test_gqa_configuration.py -q``
"""

import pytest

pytest.importorskip("transformers")

from lc_core.models.gqa import GQAConfig  # noqa: E402
from lc_core.models.gqa.configuration import default_d_ff  # noqa: E402

ALIASES = {
    "hidden_size": "d_model",
    "num_hidden_layers": "n_layers",
    "num_attention_heads": "n_heads",
    "num_key_value_heads": "n_kv_heads",
    "intermediate_size": "d_ff",
    "hidden_act": "activation",
    "rms_norm_eps": "norm_eps",
    "initializer_range": "init_std",
}
ALIAS_VALUES = {
    "hidden_size": 96,
    "num_hidden_layers": 3,
    "num_attention_heads": 6,
    "num_key_value_heads": 3,
    "intermediate_size": 200,
    "hidden_act": "relu2",
    "rms_norm_eps": 1e-5,
    "initializer_range": 0.01,
}


@pytest.mark.parametrize("alias", sorted(ALIASES), ids=str)
def test_hf_alias_sets_and_reads_field(alias):
    fields = {"d_model": 96, "n_heads": 6}
    fields.pop(ALIASES[alias], None)
    cfg = GQAConfig(**fields, **{alias: ALIAS_VALUES[alias]})
    assert getattr(cfg, ALIASES[alias]) == ALIAS_VALUES[alias]
    assert getattr(cfg, alias) == ALIAS_VALUES[alias]


def test_hf_names_drive_derived_defaults():
    cfg = GQAConfig(hidden_size=128, num_attention_heads=4)
    assert cfg.head_dim == 32
    assert cfg.n_kv_heads == 4
    assert cfg.d_ff == default_d_ff(128, "gated") == int(8 * 128 / 3)


def test_plain_ffn_default_width():
    assert GQAConfig(d_model=64, n_heads=4, ffn_type="plain").d_ff == 256


def test_decoupled_head_dim_kept():
    cfg = GQAConfig(d_model=64, n_heads=8, n_kv_heads=2, head_dim=32)
    assert cfg.n_heads * cfg.head_dim == 256 != cfg.d_model
    assert cfg.n_groups == 4


@pytest.mark.parametrize(
    "fields,message",
    [
        (dict(n_heads=4, n_kv_heads=3), "multiple of n_kv_heads"),
        (dict(d_model=0), "d_model must be a positive"),
        (dict(n_layers=-1), "n_layers must be a positive"),
        (dict(vocab_size=0), "vocab_size must be a positive"),
        (dict(head_dim=15), "head_dim must be even"),
        (dict(ffn_type="moe"), "ffn_type must be one of"),
        (dict(attn_impl="flash"), "attn_impl must be one of"),
        (dict(activation="swish-ish"), "not a transformers activation"),
        (dict(d_model=2, n_heads=4), "set head_dim explicitly"),
        (dict(rope_theta=0.0), "rope_theta"),
        (dict(rope_scaling_config={"rope_type": "dynamic", "factor": 2.0}), "rope_type must be one of"),
    ],
    ids=[
        "kv-not-divisor",
        "zero-d",
        "neg-layers",
        "zero-vocab",
        "odd-head-dim",
        "ffn-type",
        "attn-impl",
        "activation",
        "tiny-d",
        "theta",
        "rope-type",
    ],
)
def test_invalid_config_raises_clear_error(fields, message):
    with pytest.raises(ValueError, match=message):
        GQAConfig(**fields)


def test_json_round_trip(tmp_path):
    cfg = GQAConfig(
        vocab_size=300,
        d_model=48,
        n_layers=1,
        n_heads=6,
        n_kv_heads=2,
        head_dim=16,
        ffn_type="plain",
        activation="relu",
        attn_impl="matmul",
        attention_bias=True,
        tie_word_embeddings=True,
        rope_scaling_config={"rope_type": "linear", "factor": 2.0},
    )
    cfg.save_pretrained(tmp_path)
    loaded = GQAConfig.from_pretrained(tmp_path)
    for name in (
        "vocab_size",
        "d_model",
        "n_layers",
        "n_heads",
        "n_kv_heads",
        "head_dim",
        "d_ff",
        "ffn_type",
        "activation",
        "attn_impl",
        "attention_bias",
        "tie_word_embeddings",
        "rope_theta",
        "rope_scaling_config",
    ):
        assert getattr(loaded, name) == getattr(cfg, name), name
    assert loaded.model_type == "lc-gqa"
