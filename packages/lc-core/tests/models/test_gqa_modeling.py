"""GQA model: attention paths vs a repeat-K/V reference, KV cache, padding, generate, hooks, parameter counts.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/models/test_gqa_modeling.py -q``
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch.nn.functional as F  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM  # noqa: E402

from lc_core.models.gqa import GQAForCausalLM, tiny_config  # noqa: E402
from lc_core.models.gqa.modeling import build_attention_mask, matmul_gqa_attention  # noqa: E402
from lc_core.testing import assert_close, seed_everything  # noqa: E402

VARIANTS = {
    "gqa-gated-silu": dict(),
    "mqa-plain-relu": dict(n_kv_heads=1, ffn_type="plain", activation="relu"),
    "mha-gated-gelu": dict(n_kv_heads=4, activation="gelu"),
    "decoupled-hd24-relu2": dict(n_heads=6, n_kv_heads=2, head_dim=24, activation="relu2"),
    "qkv-bias": dict(attention_bias=True, attention_out_bias=True),
}


def make_model(seed=0, **overrides):
    seed_everything(seed)
    model = GQAForCausalLM(tiny_config(**overrides)).eval()
    if overrides.get("attention_bias"):
        # biases start at zero; make them visible to the comparison
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name.endswith("bias"):
                    param.normal_(0, 0.1)
    return model


def reference_attention(q, k, v, mask):
    """Naive GQA: repeat each KV head for its group (head h uses KV head h // G), full softmax in fp64."""
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1).double()
    v = v.repeat_interleave(groups, dim=1).double()
    scores = q.double() @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    scores = scores.masked_fill(~mask, float("-inf"))
    return (scores.softmax(-1) @ v).to(q.dtype)


@pytest.mark.parametrize(
    "past,q_len,padded",
    [(0, 7, False), (0, 7, True), (5, 3, False), (4, 1, True)],
    ids=["prefill", "prefill-padded", "chunk-after-cache", "decode-padded"],
)
@pytest.mark.parametrize("n_heads,n_kv", [(4, 2), (6, 1), (4, 4)], ids=["H4-KV2", "H6-KV1", "H4-KV4"])
def test_attention_paths_match_repeat_kv_reference(past, q_len, padded, n_heads, n_kv):
    seed_everything(1)
    bsz, dim, total = 2, 8, past + q_len
    q = torch.randn(bsz, n_heads, q_len, dim)
    k = torch.randn(bsz, n_kv, total, dim)
    v = torch.randn(bsz, n_kv, total, dim)
    attn_mask = torch.ones(bsz, total, dtype=torch.long)
    if padded:
        attn_mask[0, :2] = 0
    mask, is_causal = build_attention_mask(attn_mask, q_len, past, q.device)
    full = torch.arange(total)[None, :] <= torch.arange(past, total)[:, None]
    full = full[None, None] & attn_mask[:, None, None, :].bool()
    full = full | (torch.arange(total)[None, :] == torch.arange(past, total)[:, None])
    ref = reference_attention(q, k, v, full)
    out_mm = matmul_gqa_attention(q, k, v, mask, is_causal, dim**-0.5)
    out_sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, enable_gqa=n_heads != n_kv)
    assert_close("matmul", ref, out_mm, 1e-6)
    assert_close("sdpa", ref, out_sdpa, 1e-6)


def test_mask_is_skipped_without_padding():
    assert build_attention_mask(None, 16, 0, torch.device("cpu")) == (None, True)
    assert build_attention_mask(torch.ones(2, 9), 1, 8, torch.device("cpu")) == (None, False)


def test_mask_shape_errors_are_clear():
    with pytest.raises(ValueError, match="covers 5 tokens"):
        build_attention_mask(torch.ones(1, 5), 3, 4, torch.device("cpu"))
    with pytest.raises(ValueError, match="must be 2D"):
        build_attention_mask(torch.ones(1, 1, 3, 3), 3, 0, torch.device("cpu"))


def test_sdpa_sees_unrepeated_kv(monkeypatch):
    model = make_model()
    seen = []
    real = F.scaled_dot_product_attention

    def spy(q, k, v, **kwargs):
        seen.append((q.shape[1], k.shape[1], kwargs.get("enable_gqa"), kwargs.get("attn_mask") is None))
        return real(q, k, v, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    with torch.no_grad():
        model(torch.randint(0, 256, (1, 12)))
    assert seen == [(4, 2, True, True)] * 2


@pytest.mark.parametrize("variant", sorted(VARIANTS), ids=str)
def test_sdpa_and_matmul_models_agree(variant):
    model = make_model(**VARIANTS[variant])
    other = GQAForCausalLM(tiny_config(**VARIANTS[variant], attn_impl="matmul")).eval()
    other.load_state_dict(model.state_dict())
    ids = torch.randint(0, 256, (2, 11))
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    with torch.no_grad():
        for kwargs in ({}, {"attention_mask": mask}):
            assert_close(variant, model(ids, **kwargs).logits, other(ids, **kwargs).logits, 1e-5)


@pytest.mark.parametrize("attn_impl", ["sdpa", "matmul"])
def test_kv_cache_decoding_matches_full_forward(attn_impl):
    model = make_model(attn_impl=attn_impl)
    ids = torch.randint(0, 256, (2, 12))
    with torch.no_grad():
        full = model(ids, use_cache=False).logits
        out = model(ids[:, :5], use_cache=True)
        steps = [out.logits]
        cache = out.past_key_values
        # a 3-token chunk after the cache exercises the offset-causal mask, then single-token decoding
        out = model(ids[:, 5:8], past_key_values=cache, use_cache=True)
        steps.append(out.logits)
        for t in range(8, 12):
            out = model(ids[:, t : t + 1], past_key_values=cache, use_cache=True)
            steps.append(out.logits)
    assert cache.get_seq_length() == 12
    assert_close(attn_impl, full, torch.cat(steps, dim=1), 1e-5)


@pytest.mark.parametrize("attn_impl", ["sdpa", "matmul"])
def test_left_padding_matches_unpadded_rows(attn_impl):
    model = make_model(attn_impl=attn_impl)
    short = torch.randint(0, 256, (1, 6))
    long = torch.randint(0, 256, (1, 9))
    batch = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], 1), long])
    mask = torch.ones_like(batch)
    mask[0, :3] = 0
    with torch.no_grad():
        padded = model(batch, attention_mask=mask).logits
        alone_short = model(short).logits
        alone_long = model(long).logits
    assert torch.isfinite(padded).all()
    assert_close("short row", alone_short, padded[:1, 3:], 1e-5)
    assert_close("long row", alone_long, padded[1:], 1e-5)


def test_chunked_prefill_with_left_padding_matches_full_forward():
    model = make_model()
    ids = torch.randint(1, 256, (2, 10))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0
    with torch.no_grad():
        full = model(ids, attention_mask=mask, use_cache=False).logits
        first = model(ids[:, :6], attention_mask=mask[:, :6], use_cache=True)
        second = model(ids[:, 6:], attention_mask=mask, past_key_values=first.past_key_values, use_cache=True)
    # positions are counted over real tokens in both runs; row 0's pad outputs are meaningless and skipped
    assert_close("row 0", full[0, 4:], torch.cat([first.logits, second.logits], 1)[0, 4:], 1e-5)
    assert_close("row 1", full[1], torch.cat([first.logits, second.logits], 1)[1], 1e-5)


def test_greedy_generate_matches_argmax_loop():
    model = make_model()
    ids = torch.randint(0, 256, (1, 5))
    with torch.no_grad():
        generated = model.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=0)
        seq = ids
        for _ in range(6):
            nxt = model(seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
    assert torch.equal(generated, seq)


def test_left_padded_batch_generate_matches_single_rows():
    model = make_model()
    short = torch.randint(1, 256, (1, 4))
    long = torch.randint(1, 256, (1, 7))
    batch = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], 1), long])
    mask = (torch.arange(7)[None, :] >= torch.tensor([[3], [0]])).long()
    kwargs = dict(max_new_tokens=5, do_sample=False, pad_token_id=0)
    with torch.no_grad():
        both = model.generate(batch, attention_mask=mask, **kwargs)
        one = model.generate(short, **kwargs)
        two = model.generate(long, **kwargs)
    assert torch.equal(both[0, 3:], one[0])
    assert torch.equal(both[1], two[0])


def test_sampling_is_seeded_and_in_vocab():
    model = make_model()
    ids = torch.randint(0, 256, (2, 4))
    kwargs = dict(max_new_tokens=8, do_sample=True, top_k=20, temperature=1.5, pad_token_id=0)
    with torch.no_grad():
        torch.manual_seed(7)
        first = model.generate(ids, **kwargs)
        torch.manual_seed(7)
        second = model.generate(ids, **kwargs)
        torch.manual_seed(8)
        third = model.generate(ids, **kwargs)
    assert first.shape == (2, 12)
    assert torch.equal(first, second)
    assert not torch.equal(first, third)
    assert int(first.max()) < 256


@pytest.mark.parametrize("ffn_type", ["gated", "plain"])
def test_hooks_capture_act_and_intermediate(ffn_type):
    model = make_model(ffn_type=ffn_type, activation="relu")
    mlp = model.model.layers[1].mlp
    captured = {}
    inputs = {}
    mlp.register_forward_hook(lambda m, args, out: inputs.setdefault("x", args[0]))
    mlp.act_fn.register_forward_hook(lambda m, args, out: captured.setdefault("act", out))
    mlp.intermediate.register_forward_hook(lambda m, args, out: captured.setdefault("inter", out))
    with torch.no_grad():
        model(torch.randint(0, 256, (1, 6)))
    x = inputs["x"]
    first = mlp.gate_proj if ffn_type == "gated" else mlp.up_proj
    act = torch.relu(x @ first.weight.T)
    inter = act * (x @ mlp.up_proj.weight.T) if ffn_type == "gated" else act
    assert captured["act"].shape == (1, 6, 128)
    assert_close("act_fn", act, captured["act"], 1e-6)
    assert_close("intermediate", inter, captured["inter"], 1e-6)


@pytest.mark.parametrize("ffn_type", ["gated", "plain"])
def test_intermediate_hook_can_replace_tensor(ffn_type):
    model = make_model(ffn_type=ffn_type)
    doubled = make_model(ffn_type=ffn_type)
    with torch.no_grad():
        for layer in doubled.model.layers:
            layer.mlp.down_proj.weight.mul_(2)
    for layer in model.model.layers:
        layer.mlp.intermediate.register_forward_hook(lambda m, args, out: out * 2)
    ids = torch.randint(0, 256, (2, 5))
    with torch.no_grad():
        assert_close("replaced", doubled(ids).logits, model(ids).logits, 1e-6)


@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
@pytest.mark.parametrize("ffn_type", ["gated", "plain"])
def test_parameter_breakdown_matches_real_and_formula(tied, ffn_type):
    cfg = tiny_config(tie_word_embeddings=tied, ffn_type=ffn_type, n_heads=6, n_kv_heads=2, head_dim=24)
    model = GQAForCausalLM(cfg)
    counts = model.num_parameters_breakdown()
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    layers, d, dh, v = cfg.n_layers, cfg.d_model, cfg.head_dim, cfg.vocab_size
    # gqa-cost spec Table 2: attention projections 2*L*d*d_h*(n_h + n_kv); FFN matrices*L*d*d_ff
    assert counts["attention"] == 2 * layers * d * dh * (cfg.n_heads + cfg.n_kv_heads)
    assert counts["ffn"] == cfg.ffn_matrices * layers * d * cfg.d_ff
    assert counts["embedding"] == d * v
    assert counts["lm_head"] == (0 if tied else d * v)
    assert counts["norms"] == (2 * layers + 1) * d
    assert counts["non_embedding"] == counts["attention"] + counts["ffn"] + counts["norms"]


def test_save_and_auto_load_round_trip(tmp_path):
    model = make_model(tie_word_embeddings=True, n_kv_heads=1)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert AutoConfig.from_pretrained(tmp_path).model_type == "lc-gqa"
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, GQAForCausalLM)
    assert loaded.lm_head.weight.data_ptr() == loaded.model.embed_tokens.weight.data_ptr()
    ids = torch.randint(0, 256, (1, 7))
    with torch.no_grad():
        assert torch.equal(model(ids).logits, loaded(ids).logits)


def test_loss_and_gradients():
    model = make_model().train()
    ids = torch.randint(0, 256, (2, 9))
    out = model(ids, labels=ids)
    manual = F.cross_entropy(out.logits[:, :-1].reshape(-1, 256), ids[:, 1:].reshape(-1))
    assert_close("loss", manual, out.loss, 1e-6)
    out.loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


def test_gradient_checkpointing_gives_same_gradients():
    ids = torch.randint(0, 256, (1, 8))
    grads = []
    for checkpointing in (False, True):
        model = make_model().train()
        if checkpointing:
            model.gradient_checkpointing_enable()
        model(ids, labels=ids, use_cache=False).loss.backward()
        grads.append(model.model.layers[0].self_attn.q_proj.weight.grad)
    assert_close("checkpointed grad", grads[0], grads[1], 1e-6)


def test_output_hidden_states_and_logits_to_keep():
    model = make_model()
    ids = torch.randint(0, 256, (1, 6))
    with torch.no_grad():
        out = model(ids, output_hidden_states=True)
        last = model(ids, logits_to_keep=1)
    assert len(out.hidden_states) == 3
    assert last.logits.shape == (1, 1, 256)
    assert_close("keep", out.logits[:, -1:], last.logits, 1e-6)
