"""Capture and sparse-forward hooks on lc-core GQA (gated and plain) and a transformers Llama MLP."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from sparsing_law.hooks import capture, find_mlps, sparse_forward  # noqa: E402


def _manual_intermediate(mlp, x):
    if hasattr(mlp, "gate_proj"):
        return mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x)
    return mlp.act_fn(mlp.up_proj(x))


@pytest.mark.parametrize("ffn_type", ["gated", "plain"])
def test_capture_matches_manual_and_respects_mask(tiny_gqa, ffn_type):
    model = tiny_gqa("relu", ffn_type=ffn_type)
    sites = find_mlps(model)
    assert len(sites) == 2 and sites[0].gated == (ffn_type == "gated")
    ids = torch.randint(64, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, 7:] = 0
    seen = {}
    h = sites[0].mlp.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0].detach()))
    with torch.no_grad(), capture(model, mask, gate=ffn_type == "gated") as cap:
        model(input_ids=ids, attention_mask=mask)
    h.remove()
    a0 = cap.layer_intermediate(0)
    assert a0.shape == (17, 128) and a0.dtype == torch.float32
    ref = _manual_intermediate(sites[0].mlp, seen["x"])[mask.bool()]
    assert torch.allclose(a0, ref, atol=1e-6)
    # hooks are gone after the block
    assert not sites[0].down_proj._forward_pre_hooks


def test_llama_mlp_found_and_patched():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
    )
    model = LlamaForCausalLM(cfg).eval()
    sites = find_mlps(model)
    assert [s.name for s in sites] == ["model.layers.0.mlp", "model.layers.1.mlp"]
    ids = torch.randint(50, (1, 6))
    with torch.no_grad():
        dense = model(input_ids=ids).logits
        with sparse_forward(model, lambda i, a, s: torch.zeros_like(a, dtype=torch.bool)) as st:
            zeroed = model(input_ids=ids).logits
    assert st.per_layer().shape == (2, 1, 6) and float(st.per_layer().max()) == 0.0
    assert not torch.allclose(dense, zeroed)
    # with every MLP output zero the logits equal those of a model whose down_proj is zero
    for s in sites:
        s.down_proj.weight.data.zero_()
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, zeroed, atol=1e-6)


def test_find_mlps_rejects_other_models():
    with pytest.raises(ValueError, match="up_proj/down_proj"):
        find_mlps(torch.nn.Sequential(torch.nn.Linear(2, 2)))
