"""Mamba-2 model: config, init, layer semantics, cache continuity, generate, TBPTT, numerics policy, HF parity.

Spec §8 tests 3, 5, 6, 7, 19, 21, 22. Run:
``.venv/bin/python -m pytest packages/lc-core/tests/models/test_mamba2_model.py -q``
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lc_core.models.mamba2 import Mamba2Cache, Mamba2Config, Mamba2ForCausalLM
from lc_core.models.mamba2.checkpoint import config_to_hf
from lc_core.models.mamba2.modeling import discretize_dt, gated_rms_norm
from lc_core.models.mamba2.presets import official_config, tiny_config
from lc_core.ops.ssd.naive import naive_recurrent_ssd


@pytest.fixture(autouse=True)
def _single_thread():
    # tiny shapes: one intra-op thread avoids OpenMP oversubscription on a shared CI box (10x faster here)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model(dtype=torch.float64, seed=0, **overrides):
    torch.manual_seed(seed)
    cfg = tiny_config(ssm_state_dtype="float64" if dtype == torch.float64 else "float32", **overrides)
    return Mamba2ForCausalLM(cfg).to(dtype).eval()


def randomize_(model, seed=1):
    # init leaves D = 1 and zero-free weights; perturb everything so every path carries signal
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("A_log", "dt_bias")):
                continue
            p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype))
    return model


def test_official_dims_match_spec_table():
    # spec §1.5: in_proj rows, conv_dim, heads and N_S for the 130m and 370m models
    c130 = official_config("mamba2-130m")
    assert (c130.vocab_size, c130.nheads, c130.d_in_proj, c130.conv_dim) == (50288, 24, 3352, 1792)
    assert c130.state_size_elements() == 4_847_616
    c370 = official_config("mamba2-370m")
    assert (c370.nheads, c370.d_in_proj, c370.conv_dim, c370.state_size_elements()) == (32, 4384, 2304, 12_914_688)
    assert official_config("mamba2-780m").state_size_elements() == 19_353_600


def test_config_aliases_and_validation():
    cfg = Mamba2Config(hidden_size=64, n_layer=3, state_size=16, head_dim=32, n_groups=2, vocab_size=100, tie_embeddings=False)
    assert (cfg.d_model, cfg.n_layers, cfg.d_state, cfg.headdim, cfg.ngroups) == (64, 3, 16, 32, 2)
    assert cfg.tie_word_embeddings is False and cfg.vocab_size == 112
    with pytest.raises(ValueError, match="multiple of headdim"):
        Mamba2Config(d_model=40, headdim=64)
    with pytest.raises(ValueError, match="multiple of ngroups"):
        Mamba2Config(d_model=64, headdim=32, ngroups=3)
    with pytest.raises(ValueError, match="ssm_state_dtype"):
        Mamba2Config(ssm_state_dtype="int8")


def test_init_follows_spec():
    torch.manual_seed(0)
    cfg = tiny_config(n_layers=4, d_model=64, headdim=8)
    model = Mamba2ForCausalLM(cfg)
    for layer in model.backbone.layers:
        mixer = layer.mixer
        A = mixer.A_log.exp()
        assert ((A >= 1.0) & (A <= 16.0)).all()
        dt = F.softplus(mixer.dt_bias)
        assert ((dt >= 1e-4 * (1 - 1e-6)) & (dt <= 0.1 * (1 + 1e-6))).all()
        assert torch.equal(mixer.D, torch.ones_like(mixer.D))
        # kaiming-uniform(a=sqrt(5)) bound is 1/sqrt(fan_in); out_proj is additionally / sqrt(n_layers)
        bound = 1 / math.sqrt(cfg.d_inner) / math.sqrt(cfg.n_layers)
        assert mixer.out_proj.weight.abs().max() <= bound
        assert mixer.out_proj.weight.abs().max() > 0.5 * bound
    assert model.lm_head.weight is model.backbone.embeddings.weight


@pytest.mark.parametrize("raw", [-30.0, 0.0, 19.9, 20.5, 40.0], ids=lambda v: f"raw{v}")
def test_dt_softplus_threshold_and_clamp(raw):
    dt_raw = torch.full((1, 1, 2), raw, dtype=torch.float64)
    bias = torch.tensor([0.0, 0.5], dtype=torch.float64)
    dt = discretize_dt(dt_raw, bias, (0.0, float("inf")), torch.float64)
    x = dt_raw + bias
    ref = torch.where(x > 20, x, torch.log1p(torch.exp(x)))
    assert torch.allclose(dt, ref, rtol=1e-6, atol=0)
    clamped = discretize_dt(dt_raw, bias, (1e-3, 0.5), torch.float64)
    assert (clamped >= 1e-3).all() and (clamped <= 0.5).all()


def test_A_is_fp32_for_bf16_weights():
    model = make_model(torch.bfloat16)
    mixer = model.backbone.layers[0].mixer
    seen = {}
    orig = mixer._scan

    def spy(x, dt, A, *args, **kwargs):
        seen["A"], seen["dt"] = A, dt
        return orig(x, dt, A, *args, **kwargs)

    mixer._scan = spy
    model(torch.tensor([[1, 2, 3]]), use_cache=False)
    assert seen["A"].dtype == torch.float32 and seen["dt"].dtype == torch.float32
    assert torch.equal(seen["A"], -torch.exp(mixer.A_log.float()))


def test_gated_rmsnorm_is_per_group():
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(1, 3, 8, generator=gen, dtype=torch.float64)
    z = torch.randn(1, 3, 8, generator=gen, dtype=torch.float64)
    w = torch.rand(8, generator=gen, dtype=torch.float64)
    g = y * F.silu(z)
    halves = [h / torch.sqrt(h.pow(2).mean(-1, keepdim=True) + 1e-5) for h in g.split(4, dim=-1)]
    ref2 = torch.cat(halves, dim=-1) * w
    out2 = gated_rms_norm(y, z, w, 1e-5, ngroups=2)
    assert torch.allclose(out2, ref2, atol=1e-14, rtol=0)
    whole = g / torch.sqrt(g.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    assert torch.allclose(gated_rms_norm(y, z, w, 1e-5, ngroups=1), whole, atol=1e-14, rtol=0)
    # the HF/llama.cpp discrepancy: with G=2 the whole-vector norm is wrong
    assert (out2 - whole).abs().max() > 1e-3


def test_mixer_matches_spec_math():
    # one layer rebuilt by hand from the spec formulas with the token-by-token SSD reference
    model = randomize_(make_model(ngroups=2))
    mixer = model.backbone.layers[0].mixer
    cfg = model.config
    u = torch.randn(2, 21, cfg.d_model, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    z, xBC, dt_raw = mixer.in_proj(u).split([cfg.d_inner, cfg.conv_dim, cfg.nheads], dim=-1)
    conv = F.conv1d(
        F.pad(xBC.transpose(1, 2), (cfg.d_conv - 1, 0)), mixer.conv1d.weight, mixer.conv1d.bias, groups=cfg.conv_dim
    )
    xBC = F.silu(conv.transpose(1, 2))
    x, B, C = xBC.split([cfg.d_inner, cfg.ngroups * cfg.d_state, cfg.ngroups * cfg.d_state], dim=-1)
    dt = F.softplus(dt_raw + mixer.dt_bias)
    A = -torch.exp(mixer.A_log)
    y, _ = naive_recurrent_ssd(
        x.reshape(2, 21, cfg.nheads, cfg.headdim), dt, A,
        B.reshape(2, 21, cfg.ngroups, cfg.d_state), C.reshape(2, 21, cfg.ngroups, cfg.d_state), mixer.D,
    )  # fmt: skip
    g = (y.reshape(2, 21, cfg.d_inner) * F.silu(z)).reshape(2, 21, cfg.ngroups, -1)
    g = (g / torch.sqrt(g.pow(2).mean(-1, keepdim=True) + cfg.rms_norm_eps)).reshape(2, 21, -1) * mixer.norm.weight
    ref = mixer.out_proj(g)
    assert (mixer(u) - ref).abs().max().item() <= 1e-12


SPLITS = [[57], [1, 56], [16, 16, 25], [5, 11, 30, 11], [1] * 57]


@pytest.mark.parametrize("split", SPLITS, ids=["one-shot", "1+56", "chunk-aligned", "mid-chunk", "token-by-token"])
def test_chunked_forward_equals_one_shot_fp64(split):
    model = randomize_(make_model(ngroups=2))
    ids = torch.randint(0, 97, (2, 57), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        ref = model(ids, use_cache=False).logits
        cache = model.new_cache(2)
        outs, t0 = [], 0
        for n in split:
            outs.append(model(ids[:, t0 : t0 + n], cache_params=cache).logits)
            t0 += n
    assert cache.seqlen_offset == 57
    assert (torch.cat(outs, dim=1) - ref).abs().max().item() <= 1e-10


def test_cache_states_fp32_for_bf16_weights():
    model = make_model(torch.bfloat16)
    cache = model.new_cache(1)
    assert cache.ssm_states[0].dtype == torch.float32 and cache.conv_states[0].dtype == torch.bfloat16
    with torch.no_grad():
        out = model(torch.tensor([[1, 2, 3, 4]]), cache_params=cache)
    assert out.cache_params is cache and cache.ssm_states[0].dtype == torch.float32
    assert cache.ssm_states[0].abs().sum() > 0


def test_bf16_state_drift_is_measured():
    # numerics policy: fp32 state by default; a bf16 state is allowed, and its drift vs fp32 is visible
    model = randomize_(make_model(torch.float32))
    ids = torch.randint(0, 97, (1, 192), generator=torch.Generator().manual_seed(5))
    drift = {}
    with torch.no_grad():
        for name in ("float32", "bfloat16"):
            cache = Mamba2Cache(model.config, 1, ssm_state_dtype=getattr(torch, name))
            logits = [model(ids[:, t : t + 1], cache_params=cache).logits for t in range(0, 192)]
            drift[name] = torch.cat(logits, dim=1)
        ref = model(ids, use_cache=False).logits
    err32 = (drift["float32"] - ref).abs().max().item()
    err16 = (drift["bfloat16"] - ref).abs().max().item()
    assert err32 <= 1e-4
    assert err16 > err32


def test_generate_matches_manual_greedy():
    model = randomize_(make_model(torch.float32))
    prompt = torch.randint(1, 97, (2, 9), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=6, do_sample=False)
        seq = prompt
        for _ in range(6):
            nxt = model(seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
    assert torch.equal(out, seq)


def test_generate_sampling_runs():
    model = make_model(torch.float32)
    torch.manual_seed(0)
    out = model.generate(
        torch.tensor([[3, 4, 5]]), attention_mask=torch.ones(1, 3, dtype=torch.long), max_new_tokens=4, do_sample=True, top_k=5
    )
    assert out.shape == (1, 7) and (out < model.config.vocab_size).all()


def test_tbptt_detached_segments():
    # spec §8.21: carried states equal one long forward; after detach no gradient crosses the boundary
    model = randomize_(make_model(torch.float64))
    ids = torch.randint(0, 97, (1, 40), generator=torch.Generator().manual_seed(7))
    emb_first = model.backbone.embeddings.weight
    full = model(ids, use_cache=False).logits
    cache = model.new_cache(1)
    first = model(ids[:, :20], cache_params=cache).logits
    cache.detach()
    second = model(ids[:, 20:], cache_params=cache).logits
    assert (torch.cat([first, second], dim=1) - full).abs().max().item() <= 1e-10
    # the loss of segment 2 alone: its gradient on the embedding rows used only in segment 1 must be zero
    only_first = sorted(set(ids[0, :20].tolist()) - set(ids[0, 20:].tolist()))
    model.zero_grad()
    second.sum().backward()
    grad = emb_first.grad
    # tied head: every row gets lm_head gradient, so compare against a run where segment 1 is absent entirely
    cache2 = model.new_cache(1)
    with torch.no_grad():
        model(ids[:, :20], cache_params=cache2)
    model.zero_grad()
    model(ids[:, 20:], cache_params=cache2).logits.sum().backward()
    assert only_first, "seed must give tokens unique to the first segment"
    assert torch.allclose(grad[only_first], emb_first.grad[only_first], atol=1e-12, rtol=0)


def test_seq_idx_resets_between_documents():
    model = randomize_(make_model(torch.float64))
    ids = torch.randint(0, 97, (1, 30), generator=torch.Generator().manual_seed(8))
    seq_idx = torch.tensor([[0] * 12 + [1] * 18])
    with torch.no_grad():
        packed = model(ids, use_cache=False, seq_idx=seq_idx).logits
        a = model(ids[:, :12], use_cache=False).logits
        b = model(ids[:, 12:], use_cache=False).logits
    assert (packed - torch.cat([a, b], dim=1)).abs().max().item() <= 1e-10


def test_left_padding_matches_unpadded():
    model = randomize_(make_model(torch.float64))
    ids = torch.randint(1, 97, (1, 10), generator=torch.Generator().manual_seed(9))
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 10, dtype=torch.long)], dim=1)
    with torch.no_grad():
        ref = model(ids, use_cache=False).logits
        out = model(padded, attention_mask=mask, use_cache=False).logits[:, 3:]
    assert (out - ref).abs().max().item() <= 1e-10


def test_auto_class_roundtrip(tmp_path):
    from transformers import AutoModelForCausalLM

    model = randomize_(make_model(torch.float32))
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(loaded) is Mamba2ForCausalLM
    ids = torch.tensor([[1, 5, 9, 2]])
    with torch.no_grad():
        assert torch.equal(loaded(ids, use_cache=False).logits, model(ids, use_cache=False).logits)


@pytest.mark.parametrize("ngroups", [1], ids=["G1"])
def test_matches_transformers_mamba2(ngroups):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = tiny_config(ngroups=ngroups, chunk_size=16)
    ours = randomize_(Mamba2ForCausalLM(cfg).eval())
    hf_kwargs = {
        k: v for k, v in config_to_hf(cfg).items() if k not in ("model_type", "architectures", "rms_norm", "norm_before_gate")
    }
    theirs = transformers.Mamba2ForCausalLM(transformers.Mamba2Config(**hf_kwargs)).eval()
    theirs.load_state_dict(ours.state_dict())
    ids = torch.randint(0, cfg.vocab_size, (2, 37), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a = ours(ids, use_cache=False).logits
        b = theirs(ids, use_cache=False).logits
    assert (a - b).abs().max().item() <= 1e-4


@pytest.mark.parametrize("bad", [4, 8, 12, 24, 100], ids=lambda v: f"Q{v}")
def test_chunk_size_must_be_a_power_of_two_at_least_16(bad):
    with pytest.raises(ValueError, match=rf"chunk_size must be a power of two >= 16.*got {bad}$"):
        tiny_config(chunk_size=bad)
    assert tiny_config(chunk_size=16).chunk_size == 16 and tiny_config(chunk_size=256).chunk_size == 256


@pytest.mark.parametrize(
    ("limit", "lo", "hi"),
    [((0.0, 0.3), 0.0, 0.3), ((0.2, float("inf")), 0.2, float("inf"))],
    ids=["upper-only", "lower-only"],
)
def test_discretize_dt_one_sided_limits_clamp(limit, lo, hi):
    # softplus spans ~[0.018, 4.02] here, so each one-sided limit must bite (an ``and`` instead of ``or`` skips it)
    dt_raw = torch.linspace(-4.0, 4.0, 9, dtype=torch.float64).reshape(1, 9, 1)
    bias = torch.zeros(1, dtype=torch.float64)
    dt = discretize_dt(dt_raw, bias, limit, torch.float64)
    ref = F.softplus(dt_raw).clamp(min=lo, max=hi)
    assert torch.equal(dt, ref)
    free = F.softplus(dt_raw)
    assert ((free < lo) | (free > hi)).any(), "the limit must bite somewhere for the test to mean anything"
    assert dt.min() >= lo and dt.max() <= hi


@pytest.mark.parametrize("segment", [21, 40], ids=["tail5", "tail8"])
def test_short_tail_segment_runs_on_triton_without_fallback(monkeypatch, segment):
    """Segmented scans (hooks) end in a segment shorter than ``chunk_size``: the Triton backend must take it as is
    (the kernel masks a short last chunk) instead of raising or switching to torch. CPU: TRITON_INTERPRET=1."""
    pytest.importorskip("triton")
    from lc_core.models.mamba2.hooks import SSMHooks
    from lc_core.ops.ssd import chunk as triton_chunk
    from lc_core.ops.ssd import torch_chunk
    from lc_core.ops.utils import triton_runs_on

    if not triton_runs_on(torch.zeros(1)):
        pytest.skip("triton cannot run here (no CUDA and no TRITON_INTERPRET=1)")
    ids = torch.randint(1, 97, (1, 45), generator=torch.Generator().manual_seed(3))
    ref_model = randomize_(make_model(torch.float32, ssd_backend="torch"))
    summaries = []
    hooks = SSMHooks(segment_tokens=segment, on_segment=summaries.append)
    with torch.no_grad():
        ref = ref_model(ids, ssm_hooks=hooks, use_cache=False).logits
    seen = []
    real = triton_chunk.chunk_ssd_triton

    def spy(*args, **kwargs):
        seen.append((args[0].shape[1], kwargs["chunk_size"]))
        return real(*args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("ssd_backend='triton' must not fall back to torch")

    monkeypatch.setattr(triton_chunk, "chunk_ssd_triton", spy)
    monkeypatch.setattr(torch_chunk, "chunk_ssd_torch", refuse)
    model = randomize_(make_model(torch.float32, ssd_backend="triton"))
    with torch.no_grad():
        out = model(ids, ssm_hooks=SSMHooks(segment_tokens=segment, on_segment=lambda s: None), use_cache=False).logits
    n_layers = model.config.n_layers
    tail = 45 % segment
    assert len(seen) == n_layers * (45 // segment + 1)
    assert (tail, 16) in seen, seen  # the short tail ran on Triton with the configured chunk size
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
