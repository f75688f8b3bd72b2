"""Tests for the hf backend (lc_core.inference.hf) on a tiny random Llama, a tiny Mamba-2 and a tiny T5.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/inference/test_hf.py -q``
"""

from __future__ import annotations

import logging

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from lc_core.inference import GenerationConfig, get_backend  # noqa: E402
from lc_core.inference.hf import HFBackend, render_chat_fallback  # noqa: E402

PROMPTS = ["The quick brown fox jumps", "hi", "long-context models need long prompts: " + "abc " * 12]


def _reference(backend: HFBackend, prompt: str, max_new_tokens: int) -> str:
    """Greedy completion by transformers' own ``model.generate`` (unbatched), cut at EOS."""
    ids = torch.tensor([backend.prompt_ids(prompt)])
    seq = backend.model.generate(
        ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=0
    )
    new = seq[0, ids.shape[1] :].tolist()
    if 1 in new:
        new = new[: new.index(1)]
    return backend.decode(new)


def test_greedy_matches_model_generate(hf_backend):
    outs = hf_backend.generate(PROMPTS, GenerationConfig(max_new_tokens=8))
    assert outs == [_reference(hf_backend, p, 8) for p in PROMPTS]
    assert any(outs), "the tiny model should produce some text"


@pytest.mark.parametrize("chunk", [1, 3, 7], ids=lambda c: f"chunk{c}")
def test_chunked_prefill_equals_one_shot(hf_backend, chunk):
    one_shot = hf_backend.generate(PROMPTS, GenerationConfig(max_new_tokens=6))
    chunked = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, prefill_chunk_size=chunk, disable_tqdm=True)
    assert chunked.generate(PROMPTS, GenerationConfig(max_new_tokens=6)) == one_shot


def test_chunked_prefill_logits_match_full_forward(hf_backend):
    ids = torch.tensor([hf_backend.prompt_ids(PROMPTS[2])])
    mask = torch.ones_like(ids)
    full = hf_backend.model(ids).logits[:, -1].float()
    chunked = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, prefill_chunk_size=5, disable_tqdm=True)
    logits, cache = chunked.prefill(ids, mask)
    torch.testing.assert_close(logits, full, rtol=1e-4, atol=1e-4)
    assert cache.get_seq_length() == ids.shape[1]


def test_left_padded_batch_equals_unbatched(hf_backend):
    cfg = GenerationConfig(max_new_tokens=6)
    batched = hf_backend.generate(PROMPTS, cfg)
    single = HFBackend.from_model(
        hf_backend.model, hf_backend.tokenizer, batch_size=1, prefill_chunk_size=0, disable_tqdm=True
    )
    assert single.generate(PROMPTS, cfg) == batched


def test_per_request_max_new_tokens(hf_backend):
    prompt = PROMPTS[0]
    full = hf_backend.model.generate(
        torch.tensor([hf_backend.prompt_ids(prompt)]), max_new_tokens=7, do_sample=False, pad_token_id=0
    )[0, len(hf_backend.prompt_ids(prompt)) :].tolist()
    assert 1 not in full, "seed 0 model should not emit EOS in 7 steps"
    budgets = [0, 3, 7]
    outs = hf_backend.generate([prompt] * 3, [GenerationConfig(max_new_tokens=n) for n in budgets])
    assert outs == [hf_backend.decode(full[:n]) for n in budgets]


def test_stop_strings_cut_the_completion(hf_backend):
    text = hf_backend.generate([PROMPTS[0]], GenerationConfig(max_new_tokens=10))[0]
    assert len(text) >= 4
    stop = text[2:4]
    out = hf_backend.generate([PROMPTS[0]], GenerationConfig(max_new_tokens=10, stop=[stop, "never-there"]))[0]
    assert out == text[: text.index(stop)]


def test_seeded_sampling_is_reproducible_and_batch_independent(hf_backend):
    cfg = GenerationConfig(max_new_tokens=8, temperature=1.0, top_p=0.95, top_k=50, seed=123)
    first = hf_backend.generate(PROMPTS, cfg)
    assert hf_backend.generate(PROMPTS, cfg) == first
    # the same request sampled alone gets the same draw: each request owns its generator
    assert hf_backend.generate([PROMPTS[1]], cfg) == [first[1]]
    other = hf_backend.generate(PROMPTS, cfg.replace(seed=7))
    assert other != first


def test_chat_template_applied_to_messages(hf_backend, caplog):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    rendered = "<|system|>be brief\n<|user|>hello\n<|assistant|>"
    assert hf_backend.prompt_ids(messages) == hf_backend.encode(rendered)
    assert hf_backend.prompt_ids("hello", GenerationConfig(chat=True)) == hf_backend.encode("<|user|>hello\n<|assistant|>")
    assert hf_backend.generate([messages], GenerationConfig(max_new_tokens=5)) == hf_backend.generate(
        [rendered], GenerationConfig(max_new_tokens=5)
    )
    plain = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, chat_template=False, disable_tqdm=True)
    with caplog.at_level(logging.WARNING):
        assert plain.prompt_ids(messages) == plain.encode(render_chat_fallback(messages))


def test_byt5_eos_is_not_appended_to_prompts(hf_backend):
    # ByT5 appends </s> with add_special_tokens=True; a causal prompt must not end with it
    assert hf_backend.prompt_ids("ab") == [ord("a") + 3, ord("b") + 3]


def test_bos_is_prepended_but_eos_is_not(hf_backend):
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "hello": 3, "world": 4}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.post_processor = tokenizers.processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)]
    )
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    assert fast.encode("hello world") == [1, 3, 4, 2]
    backend = HFBackend.from_model(hf_backend.model, fast, disable_tqdm=True)
    assert backend.prompt_ids("hello world") == [1, 3, 4]
    assert backend.encode("hello world") == [3, 4]


def test_max_length_truncates_prompt_in_the_middle(hf_backend):
    limited = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, max_length=14, disable_tqdm=True)
    cfg = GenerationConfig(max_new_tokens=4)
    ids = limited.prompt_ids("abcdefghijklmnopqrstuvwxyz")
    assert limited._fit(ids, cfg) == ids[:5] + ids[-5:]
    with pytest.raises(ValueError, match="leaves no room"):
        limited._fit(ids, GenerationConfig(max_new_tokens=14))


def test_token_helpers_use_the_tokenizer(hf_backend):
    text = "héllo 你好"
    assert hf_backend.encode(text) == [b + 3 for b in text.encode()]
    assert hf_backend.decode(hf_backend.encode(text)) == text
    assert hf_backend.count_tokens(text) == len(text.encode())
    assert hf_backend.truncate_middle("abcdefgh", 4) == "abgh"


def test_get_backend_loads_from_folder(llama_dir, hf_backend):
    backend = get_backend("hf", model=str(llama_dir), device="cpu", prefill_chunk_size=4, disable_tqdm=True)
    assert repr(backend).startswith("HFBackend(")
    assert backend.generate([PROMPTS[0]], GenerationConfig(max_new_tokens=4)) == hf_backend.generate(
        [PROMPTS[0]], GenerationConfig(max_new_tokens=4)
    )


def test_bad_settings_are_rejected(hf_backend):
    with pytest.raises(ValueError, match="batch_size"):
        HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, batch_size=0)
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        hf_backend.generate(["a", ""], GenerationConfig(max_new_tokens=1))
    with pytest.raises(ValueError, match="unknown dtype"):
        from lc_core.inference.hf import resolve_dtype

        resolve_dtype("float8", torch.device("cpu"))


def test_mamba2_cache_params_chunked_prefill():
    torch.manual_seed(0)
    config = transformers.Mamba2Config(
        vocab_size=384,
        hidden_size=32,
        state_size=8,
        num_heads=4,
        head_dim=16,
        expand=2,
        n_groups=1,
        num_hidden_layers=2,
        chunk_size=8,
        bos_token_id=None,
        eos_token_id=1,
        pad_token_id=0,
        initializer_range=0.5,
    )
    model = transformers.Mamba2ForCausalLM(config).eval()
    tok = transformers.ByT5Tokenizer()
    one_shot = HFBackend.from_model(model, tok, prefill_chunk_size=0, batch_size=1, disable_tqdm=True)
    assert one_shot._cache_arg == "cache_params"
    prompts = PROMPTS[:2]
    cfg = GenerationConfig(max_new_tokens=5)
    expected = one_shot.generate(prompts, cfg)
    ids = torch.tensor([one_shot.prompt_ids(prompts[0])])
    ref = model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=0)[0, ids.shape[1] :].tolist()
    assert expected[0] == one_shot.decode(ref[: ref.index(1)] if 1 in ref else ref)
    # chunk 5 does not divide the SSD chunk (8): the state must carry across arbitrary cuts
    chunked = HFBackend.from_model(model, tok, prefill_chunk_size=5, batch_size=2, disable_tqdm=True)
    assert chunked.generate(prompts, cfg) == expected


def test_lc_mamba2_cache_chunked_prefill():
    try:
        from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM
    except ImportError as e:
        pytest.skip(f"lc_core.models.mamba2 is not importable: {e}")
    torch.manual_seed(0)
    model = Mamba2ForCausalLM(Mamba2Config(d_model=32, n_layers=2, vocab_size=384, d_state=8, headdim=16, chunk_size=16))
    model = model.eval()
    tok = transformers.ByT5Tokenizer()
    one_shot = HFBackend.from_model(model, tok, prefill_chunk_size=0, batch_size=1, disable_tqdm=True)
    assert one_shot._cache_arg == "cache_params"
    prompt_ids = one_shot.prompt_ids(PROMPTS[0])
    ids = torch.tensor([prompt_ids])
    ref = model.generate(ids, max_new_tokens=5, do_sample=False)[0, ids.shape[1] :].tolist()
    assert one_shot._decode_loop([prompt_ids], [GenerationConfig(max_new_tokens=5)]) == [ref]
    chunked = HFBackend.from_model(model, tok, prefill_chunk_size=5, batch_size=2, disable_tqdm=True)
    cfg = GenerationConfig(max_new_tokens=5)
    assert chunked.generate(PROMPTS[:2], cfg) == one_shot.generate(PROMPTS[:2], cfg)


def test_lc_gqa_past_key_values_chunked_prefill():
    try:
        from lc_core.models.gqa import GQAForCausalLM, tiny_config
    except ImportError as e:
        pytest.skip(f"lc_core.models.gqa is not importable: {e}")
    torch.manual_seed(0)
    model = GQAForCausalLM(tiny_config(vocab_size=384)).eval()
    tok = transformers.ByT5Tokenizer()
    one_shot = HFBackend.from_model(model, tok, prefill_chunk_size=0, batch_size=1, disable_tqdm=True)
    assert one_shot._cache_arg == "past_key_values"
    prompt_ids = one_shot.prompt_ids(PROMPTS[0])
    ref = model.generate(torch.tensor([prompt_ids]), max_new_tokens=5, do_sample=False, pad_token_id=0)[0, len(prompt_ids) :]
    assert one_shot._decode_loop([prompt_ids], [GenerationConfig(max_new_tokens=5)]) == [ref.tolist()]
    chunked = HFBackend.from_model(model, tok, prefill_chunk_size=3, batch_size=3, disable_tqdm=True)
    cfg = GenerationConfig(max_new_tokens=5)
    assert chunked.generate(PROMPTS, cfg) == one_shot.generate(PROMPTS, cfg)


def test_builtin_demo_model_loads_offline():
    from lc_core.models.builtin import resolve_model_path

    try:
        resolve_model_path("lc-core/demo-mamba2")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    backend = HFBackend("lc-core/demo-mamba2", device="cpu", disable_tqdm=True)
    out = backend.generate(["Once upon a time"], GenerationConfig(max_new_tokens=4))
    assert isinstance(out[0], str) and backend.count_tokens("abc") > 0


def test_seq2seq_falls_back_to_model_generate():
    torch.manual_seed(0)
    config = transformers.T5Config(
        vocab_size=384,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_heads=4,
        decoder_start_token_id=0,
        eos_token_id=1,
        pad_token_id=0,
        initializer_factor=5.0,
    )
    model = transformers.T5ForConditionalGeneration(config).eval()
    tok = transformers.ByT5Tokenizer()
    backend = HFBackend.from_model(model, tok, disable_tqdm=True)
    assert not backend.uses_decode_loop
    ids = torch.tensor([backend.prompt_ids("translate")])
    ref = model.generate(ids, max_new_tokens=6, do_sample=False)[0, 1:].tolist()
    ref = ref[: ref.index(1)] if 1 in ref else ref
    outs = backend.generate(
        ["translate", "translate"], [GenerationConfig(max_new_tokens=6), GenerationConfig(max_new_tokens=2)]
    )
    assert outs == [backend.decode(ref), backend.decode(ref[:2])]


@pytest.mark.slow
def test_long_padded_batch_chunked_equals_one_shot(hf_backend):
    long_prompt = ("lorem ipsum dolor sit amet " * 80)[:2000]
    prompts = [long_prompt, long_prompt[:700], "short"]
    cfg = GenerationConfig(max_new_tokens=6)
    one_shot = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, prefill_chunk_size=0, disable_tqdm=True)
    chunked = HFBackend.from_model(hf_backend.model, hf_backend.tokenizer, prefill_chunk_size=256, disable_tqdm=True)
    assert chunked.generate(prompts, cfg) == one_shot.generate(prompts, cfg)


@pytest.mark.gpu
def test_cuda_bf16_greedy_and_chunked_prefill(llama_dir):
    backend = HFBackend(str(llama_dir), device="cuda", dtype="bfloat16", batch_size=1, prefill_chunk_size=0, disable_tqdm=True)
    assert backend.model.dtype == torch.bfloat16
    outs = backend.generate(PROMPTS, GenerationConfig(max_new_tokens=6))
    assert outs == [_reference(backend, p, 6) for p in PROMPTS]
    ids = torch.tensor([backend.prompt_ids(PROMPTS[2])], device="cuda")
    mask = torch.ones_like(ids)
    full, _ = backend.prefill(ids, mask)
    chunked = HFBackend.from_model(backend.model, backend.tokenizer, prefill_chunk_size=5, disable_tqdm=True)
    logits, _ = chunked.prefill(ids, mask)
    torch.testing.assert_close(logits, full, rtol=3e-2, atol=3e-2)
