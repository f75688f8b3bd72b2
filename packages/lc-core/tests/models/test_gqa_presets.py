"""GQA presets: the tiny test config and Llama-shaped configs (parameter totals from the published models).

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/models/test_gqa_presets.py -q``
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lc_core.models.gqa import GQAForCausalLM, get_preset, list_presets, tiny_config  # noqa: E402


def test_tiny_config_shape_and_overrides():
    cfg = tiny_config(n_kv_heads=1)
    assert (cfg.vocab_size, cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim) == (256, 64, 2, 4, 1, 16)


# totals from the safetensors metadata / model cards of meta-llama/Llama-3.2-1B, -3B and Llama-3.1-8B
@pytest.mark.parametrize(
    "name,total", [("llama-3.2-1b", 1_235_814_400), ("llama-3.2-3b", 3_212_749_824), ("llama-3.1-8b", 8_030_261_248)]
)
def test_llama_presets_have_published_parameter_counts(name, total):
    with torch.device("meta"):
        model = GQAForCausalLM(get_preset(name))
    assert model.num_parameters_breakdown()["total"] == total


def test_unknown_preset_lists_known_names():
    assert "llama-3.1-8b" in list_presets()
    with pytest.raises(KeyError, match="known: llama-3.1-8b"):
        get_preset("llama-9")
