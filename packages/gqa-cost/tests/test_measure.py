"""The analytic cost model against measurement on real models (spec §11 tests 1–5).

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` on lc-core's ``GQAForCausalLM`` with its
explicit-matmul attention, and on a transformers ``LlamaForCausalLM`` with eager attention (which repeats
K/V to n_h heads); KV bytes come from the real cache tensors.
Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_measure.py -q
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lc_core.models.gqa")

from gqa_cost.config import ArchConfig  # noqa: E402
from gqa_cost.costs import decode_flops, param_count, prefill_flops  # noqa: E402
from gqa_cost.measure import (  # noqa: E402
    build_gqa_model,
    cache_nbytes,
    count_decode_flops,
    count_forward_flops,
    count_train_flops,
)


def _variants(cfg: ArchConfig) -> list[ArchConfig]:
    return [
        cfg,
        cfg.replace(tied=False),
        cfg.replace(ffn_matrices=2, d_ff=512),
        cfg.replace(ffn_matrices=2, d_ff=512, tied=False),
    ]


VARIANT_IDS = ["gated-tied", "gated-untied", "plain-tied", "plain-untied"]


@pytest.fixture(scope="module")
def models():
    cfg = ArchConfig(n_layers=2, d_model=128, n_heads=4, n_kv_heads=2, head_dim=32, d_ff=341, vocab_size=1000, tied=True)
    return [(c, build_gqa_model(c)) for c in _variants(cfg)]


@pytest.mark.parametrize("i", range(4), ids=VARIANT_IDS)
def test_param_count_matches_numel(models, i):
    cfg, model = models[i]
    p = param_count(cfg)
    assert p.total == sum(t.numel() for t in model.parameters())
    breakdown = model.num_parameters_breakdown()
    assert p.norms == breakdown["norms"] == (2 * cfg.n_layers + 1) * cfg.d_model
    assert p.attention == breakdown["attention"] and p.ffn == breakdown["ffn"]


@pytest.mark.parametrize("i", range(4), ids=VARIANT_IDS)
@pytest.mark.parametrize("B,T", [(1, 16), (2, 9)], ids=["B1-T16", "B2-T9"])
def test_forward_flops_both_conventions(models, i, B, T):
    cfg, model = models[i]
    p = param_count(cfg)
    L, d, dh, nh, V = cfg.n_layers, cfg.d_model, cfg.head_dim, cfg.n_heads, cfg.vocab_size
    measured = count_forward_flops(model, batch=B, length=T)
    # spec §11 test 2: B·[2·T·(N_proj + ffn) + 2·T·d·V + 4·T²·L·d_h·n_h] (non-causal, LM head on all T)
    closed_form = B * (2 * T * (p.attention + p.ffn) + 2 * T * d * V + 4 * T * T * L * dh * nh)
    assert measured.total == closed_form == prefill_flops(cfg, T, causal=False, batch=B)
    assert measured.attention == B * 4 * T * T * L * dh * nh
    causal = prefill_flops(cfg, T, causal=True, batch=B)
    assert causal == measured.total - 2 * T * (T - 1) * L * dh * nh * B
    assert causal - B * (2 * T * (p.attention + p.ffn) + 2 * T * d * V) == 2 * T * (T + 1) * L * dh * nh * B


@pytest.mark.parametrize("t", [2, 9], ids=["t2", "t9"])
def test_decode_step_flops_and_cache_bytes(models, t):
    cfg, model = models[0]
    measured, cache = count_decode_flops(model, position=t)
    p = param_count(cfg)
    # spec §11 test 3: 2·N_linear + 2·d·V + 4·t·L·d_h·n_h = Eq. 3 with N counting the tied embedding once
    assert (
        measured.total == 2 * p.linear + 2 * cfg.d_model * cfg.vocab_size + 4 * t * cfg.n_layers * cfg.head_dim * cfg.n_heads
    )
    assert measured.total == decode_flops(cfg, t)
    assert cache_nbytes(cache) == 2 * 1 * t * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * 4


def test_backward_linear_is_twice_forward(models):
    cfg, model = models[0]
    fwd = count_forward_flops(model, batch=2, length=8)
    both = count_train_flops(model, batch=2, length=8)
    # the 6N rule: forward + backward of the linear layers = 3x forward
    assert both.linear == 3 * fwd.linear
    # attention backward is counted apart (documented exclusion): two bmm per forward bmm here
    assert both.attention == 3 * fwd.attention


@pytest.mark.parametrize("dtype,nbytes", [("float32", 4), ("bfloat16", 2)], ids=["fp32", "bf16"])
def test_kv_cache_bytes_match_formula(dtype, nbytes):
    cfg = ArchConfig(n_layers=3, d_model=64, n_heads=4, n_kv_heads=1, head_dim=16, d_ff=96, vocab_size=200)
    model = build_gqa_model(cfg).to(getattr(torch, dtype))
    B, T = 2, 11
    ids = torch.randint(0, 200, (B, T), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        cache = model(input_ids=ids, use_cache=True).past_key_values
    assert cache_nbytes(cache) == 2 * B * T * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * nbytes


def test_transformers_llama_eager_matches(spec_config):
    transformers = pytest.importorskip("transformers")

    hf = transformers.LlamaConfig(
        vocab_size=1000,
        hidden_size=128,
        intermediate_size=341,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        tie_word_embeddings=True,
        attn_implementation="eager",
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(hf).eval()
    assert sum(t.numel() for t in model.parameters()) == param_count(spec_config).total
    B, T = 2, 12
    count = count_forward_flops(model, batch=B, length=T)
    # eager attention repeats K/V to n_h heads, so the count is the same n_h-based formula
    assert count.total == prefill_flops(spec_config, T, causal=False, batch=B)
    # transformers <= 5.17 builds the RoPE angles with an outer-product matmul over position_ids [1, T]
    # (2 · (d_h/2) · T FLOPs, once per forward), later versions with a broadcast multiply (0 FLOPs)
    assert count.rope in (0, spec_config.head_dim * T)
    assert count.raw_total == count.total + count.rope


def test_rope_matmul_is_reported_apart(spec_config):
    """A model whose rotary module runs a matmul (as transformers <= 5.17 does) gets that part in ``rope``."""

    class Rotary(torch.nn.Module):
        def forward(self, pos: torch.Tensor) -> torch.Tensor:
            inv = torch.ones(1, 8, 1)
            return inv @ pos[:, None, :].float()

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rotary_emb = Rotary()
            self.proj = torch.nn.Linear(4, 4, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.rotary_emb(torch.arange(6)[None])
            return self.proj(x)

    from torch.utils.flop_counter import FlopCounterMode

    from gqa_cost.measure import _split

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        Tiny()(torch.zeros(3, 4))
    count = _split(counter)
    assert count.rope == 2 * 8 * 6
    assert count.total == count.linear == 2 * 3 * 4 * 4
    assert count.attention == 0 and "bmm" not in count.by_op


def test_saved_lc_gqa_config_json_reads_back(tmp_path):
    from gqa_cost.config import from_hf_config
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    gqa = GQAConfig(vocab_size=300, d_model=64, n_layers=2, n_heads=4, n_kv_heads=1, head_dim=24, d_ff=100, ffn_type="plain")
    gqa.save_pretrained(tmp_path)
    cfg = from_hf_config(tmp_path)
    assert (cfg.head_dim, cfg.ffn_matrices, cfg.tied) == (24, 2, False)
    assert param_count(cfg).total == sum(t.numel() for t in GQAForCausalLM(gqa).parameters())
