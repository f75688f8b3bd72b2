"""Tests of gqa_cost.config: presets, HF config.json parsing, validation.

Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_config.py -q
"""

from __future__ import annotations

import json

import pytest

from gqa_cost.config import ArchConfig, from_gqa_config, from_hf_config, get_preset, load_config, preset_names
from gqa_cost.costs import param_count
from lc_core.io import DataError

# published config.json of meta-llama/Llama-3.2-1B (shape keys only)
LLAMA_32_1B = {
    "model_type": "llama",
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "vocab_size": 128256,
    "tie_word_embeddings": True,
}


def test_llama_32_1b_total_matches_published_count(tmp_path):
    # Llama-3.2-1B has 1,235,814,400 parameters (model card / safetensors index)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_32_1B))
    cfg = from_hf_config(tmp_path)
    assert param_count(cfg).total == 1_235_814_400
    assert param_count(get_preset("llama-3.2-1b")).total == 1_235_814_400


def test_llama_31_8b_total_matches_published_count():
    # Llama-3.1-8B: 8,030,261,248 parameters (untied embeddings)
    assert param_count(get_preset("llama-3.1-8b")).total == 8_030_261_248


def test_table9_non_embedding_counts_match_spec():
    # spec §6 Table 9 column "recomputed non-emb params", printed to 0.1M (1M for 1019M)
    expected = {"paper-3m": 3.1e6, "paper-19m": 18.9e6, "paper-85m": 84.9e6, "paper-470m": 471.8e6, "paper-680m": 679.5e6}
    for name, value in expected.items():
        assert param_count(get_preset(name)).non_embedding == pytest.approx(value, abs=0.05e6), name
    assert param_count(get_preset("paper-1.2b")).non_embedding == pytest.approx(1019e6, abs=0.5e6)


def test_qwen2_style_biases_are_counted(tmp_path):
    raw = dict(LLAMA_32_1B, model_type="qwen2", tie_word_embeddings=False)
    cfg = from_hf_config(raw)
    assert cfg.attention_bias and not cfg.attention_out_bias
    assert param_count(cfg).biases == 16 * 64 * (32 + 2 * 8)


def test_hf_defaults_head_dim_and_kv_heads():
    cfg = from_hf_config({"hidden_size": 256, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100})
    assert cfg.head_dim == 64 and cfg.n_kv_heads == 4 and not cfg.tied


def test_hf_missing_key_names_file_and_field(tmp_path):
    raw = dict(LLAMA_32_1B)
    del raw["num_hidden_layers"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"config\.json.*num_hidden_layers"):
        from_hf_config(path)


def test_hf_non_positive_value_is_rejected(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(LLAMA_32_1B, hidden_size=0)))
    with pytest.raises(DataError, match="hidden_size"):
        from_hf_config(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_kv_heads", 3, "divisible"),
        ("n_kv_heads", 8, "must not exceed"),
        ("d_model", -1, "d_model must be a positive"),
        ("ffn_matrices", 4, "ffn_matrices"),
    ],
    ids=["kv-not-divisor", "kv-above-heads", "negative-d", "ffn-4"],
)
def test_invalid_configs_raise_clear_errors(field, value, message):
    fields = dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=2)
    fields[field] = value
    with pytest.raises(ValueError, match=message):
        ArchConfig(**fields)


def test_integral_validation_rejects_real_valued_shapes():
    cfg = ArchConfig(n_layers=2.5, d_model=64, n_heads=4, n_kv_heads=2)
    with pytest.raises(ValueError, match="n_layers must be an integer"):
        cfg.validate(integral=True)


def test_preset_lookup_and_overrides():
    assert "paper-ours-1.8b" in preset_names()
    cfg = get_preset("Paper-1.2B", n_heads=32, n_kv_heads=8)
    assert (cfg.n_layers, cfg.d_model, cfg.n_heads, cfg.n_kv_heads) == (36, 1536, 32, 8)
    assert cfg.d_ff == int(8 * 1536 / 3)
    with pytest.raises(KeyError, match="unknown preset"):
        get_preset("gpt-5")
    with pytest.raises(KeyError, match="neither a preset"):
        load_config("no/such/path")


def test_from_gqa_config_duck_typed():
    class Fake:
        vocab_size, d_model, n_layers, n_heads, n_kv_heads, head_dim, d_ff = 256, 64, 2, 4, 2, 32, 128
        ffn_type, tie_word_embeddings = "plain", False

    cfg = from_gqa_config(Fake())
    assert cfg.ffn_matrices == 2 and not cfg.tied and cfg.head_dim == 32
