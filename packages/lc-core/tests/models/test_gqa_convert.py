"""Llama/Mistral/Qwen2 <-> GQA conversion: logits equal transformers' own models in fp32, both directions.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/models/test_gqa_convert.py -q``
"""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers import (  # noqa: E402
    GPT2Config,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from lc_core.models.gqa import GQAForCausalLM, config_from_hf, from_hf, tiny_config, to_llama  # noqa: E402
from lc_core.testing import assert_close, seed_everything  # noqa: E402

SHAPE = dict(
    vocab_size=200,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
)


def tiny_hf(kind, tied=False):
    seed_everything(3)
    if kind == "llama":
        model = LlamaForCausalLM(
            LlamaConfig(**SHAPE, tie_word_embeddings=tied, rope_parameters={"rope_type": "default", "rope_theta": 5e4})
        )
    elif kind == "llama-bias-hd32":
        model = LlamaForCausalLM(
            LlamaConfig(**SHAPE, head_dim=32, attention_bias=True, hidden_act="relu2", tie_word_embeddings=tied)
        )
    elif kind == "llama3-rope":
        rope = {
            "rope_type": "llama3",
            "rope_theta": 5e5,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        }
        model = LlamaForCausalLM(LlamaConfig(**SHAPE, tie_word_embeddings=tied, rope_parameters=rope))
    elif kind == "yarn-rope":
        rope = {"rope_type": "yarn", "rope_theta": 1e4, "factor": 4.0, "original_max_position_embeddings": 32}
        model = LlamaForCausalLM(LlamaConfig(**SHAPE, tie_word_embeddings=tied, rope_parameters=rope))
    elif kind == "mistral":
        model = MistralForCausalLM(MistralConfig(**SHAPE, sliding_window=None, tie_word_embeddings=tied))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**SHAPE, tie_word_embeddings=tied))
    with torch.no_grad():
        # random norms and biases so a swapped or dropped tensor shows up in the logits
        for name, param in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                param.normal_(1.0 if "norm" in name else 0.0, 0.2)
    return model.eval()


KINDS = ["llama", "llama-bias-hd32", "llama3-rope", "yarn-rope", "mistral", "qwen2"]


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("kind", KINDS)
def test_from_hf_object_matches_logits(kind, tied):
    hf = tiny_hf(kind, tied)
    ours = from_hf(hf)
    ids = torch.randint(0, 200, (2, 13))
    with torch.no_grad():
        assert_close(kind, hf(ids).logits, ours(ids).logits, 1e-5)
    assert ours.num_parameters() == hf.num_parameters()


@pytest.mark.parametrize("kind", ["llama", "llama-bias-hd32", "llama3-rope"])
def test_to_llama_round_trip(kind):
    ours = from_hf(tiny_hf(kind), attn_impl="matmul")
    back = to_llama(ours)
    ids = torch.randint(0, 200, (1, 9))
    with torch.no_grad():
        assert_close(kind, ours(ids).logits, back(ids).logits, 1e-5)
    for name, tensor in ours.state_dict().items():
        assert torch.equal(tensor, back.state_dict()[name]), name


def test_from_checkpoint_folder(tmp_path):
    hf = tiny_hf("qwen2", tied=True)
    hf.save_pretrained(tmp_path)
    ours = from_hf(tmp_path)
    assert isinstance(ours, GQAForCausalLM)
    assert ours.config.attention_bias and not ours.config.attention_out_bias
    ids = torch.randint(0, 200, (1, 8))
    with torch.no_grad():
        assert_close("folder", hf(ids).logits, ours(ids).logits, 1e-5)


def test_export_folder_loads_in_transformers(tmp_path):
    ours = GQAForCausalLM(tiny_config(vocab_size=200)).eval()
    to_llama(ours).save_pretrained(tmp_path)
    reloaded = LlamaForCausalLM.from_pretrained(tmp_path).eval()
    ids = torch.randint(0, 200, (1, 8))
    with torch.no_grad():
        assert_close("export", ours(ids).logits, reloaded(ids).logits, 1e-5)


def test_greedy_generation_matches_hf_with_left_padding():
    hf = tiny_hf("llama")
    ours = from_hf(hf)
    ids = torch.randint(1, 200, (2, 7))
    mask = torch.ones_like(ids)
    ids[0, :2] = 0
    mask[0, :2] = 0
    kwargs = dict(attention_mask=mask, max_new_tokens=6, do_sample=False, pad_token_id=0)
    with torch.no_grad():
        assert torch.equal(hf.generate(ids, **kwargs), ours.generate(ids, **kwargs))


def test_beam_search_matches_hf():
    hf = tiny_hf("qwen2")
    ours = from_hf(hf)
    ids = torch.randint(1, 200, (1, 6))
    kwargs = dict(max_new_tokens=5, num_beams=3, do_sample=False, pad_token_id=0)
    with torch.no_grad():
        assert torch.equal(hf.generate(ids, **kwargs), ours.generate(ids, **kwargs))


def test_unsupported_sources_raise_named_errors():
    with pytest.raises(ValueError, match="model_type 'gpt2'"):
        config_from_hf(GPT2Config())
    with pytest.raises(ValueError, match="sliding_window=16"):
        config_from_hf(MistralConfig(**SHAPE, sliding_window=16))
    scaled = LlamaConfig(**SHAPE, rope_parameters={"rope_type": "dynamic", "rope_theta": 1e4, "factor": 2.0})
    with pytest.raises(ValueError, match="rope_type='dynamic'"):
        config_from_hf(scaled)
    with pytest.raises(ValueError, match="mlp_bias"):
        config_from_hf(LlamaConfig(**SHAPE, mlp_bias=True))
    with pytest.raises(ValueError, match="ffn_type='plain'"):
        to_llama(GQAForCausalLM(tiny_config(ffn_type="plain")))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        from_hf("/nonexistent/checkpoint")
