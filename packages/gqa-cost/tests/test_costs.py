"""Tests of gqa_cost.costs against the spec's closed forms and published vectors (torch-free).

The measurement side (FlopCounterMode, real caches) is in test_measure.py.
Run: .venv/bin/python -m pytest packages/gqa-cost/tests/test_costs.py -q
"""

from __future__ import annotations

import pytest

from gqa_cost.config import ArchConfig, get_preset, paper_config
from gqa_cost.costs import (
    CostUnits,
    cost_summary,
    decode_flops,
    generate_flops,
    hardware_cost,
    infer_flop_breakdown,
    infer_flops,
    infer_memory,
    kv_cache_values,
    param_count,
    prefill_flops,
    train_flops,
    train_memory,
)


def test_param_terms_of_spec_config(spec_config):
    p = param_count(spec_config)
    assert p.embedding == 128 * 1000 and p.lm_head == 0
    assert p.attention == 2 * 2 * 128 * 32 * (4 + 2)
    assert p.ffn == 3 * 2 * 128 * 341
    # RMSNorm gains are their own term: (2L + 1)·d
    assert p.norms == (2 * 2 + 1) * 128
    untied = param_count(ArchConfig(**{**spec_config.to_dict(), "tied": False}))
    assert untied.total - p.total == 128 * 1000


def test_plain_ffn_has_two_matrices(spec_config):
    plain = spec_config.replace(ffn_matrices=2, d_ff=512)
    assert param_count(plain).ffn == 2 * 2 * 128 * 512


@pytest.mark.parametrize(
    ("preset", "bytes_per_token"),
    [("llama-3.2-1b", 32_768), ("llama-3.1-8b", 131_072)],
    ids=["llama-3.2-1b", "llama-3.1-8b"],
)
def test_kv_bytes_per_token_known_vectors(preset, bytes_per_token):
    # spec §2.1 / §11 test 5 (BF16)
    cfg = get_preset(preset)
    assert infer_memory(cfg, 1, bytes_per_elem=2).kv == bytes_per_token
    assert infer_memory(cfg, 131_072, bytes_per_elem=2, batch=3).kv == 3 * bytes_per_token * 131_072


def test_llama_32_1b_kv_is_4_gib_at_128k():
    assert infer_memory(get_preset("llama-3.2-1b"), 131_072, bytes_per_elem=2).kv == 4 * 2**30


def test_appendix_g_shares_at_128k():
    # spec §11 test 6: L36/d1536 MHA, SwiGLU, V=50,304 tied, T=131,072 -> both shares 0.93 ± 0.01
    cfg = paper_config(36, 1536, 24, 24)
    assert infer_memory(cfg, 131_072).kv_fraction == pytest.approx(0.93, abs=0.01)
    assert infer_flop_breakdown(cfg, 131_072).attention_fraction == pytest.approx(0.93, abs=0.01)


def test_eq3_tied_equals_2n_plus_attention(spec_config):
    p = param_count(spec_config)
    T = 77
    # Eq. 3 with tied embeddings: 2N (N counts dV once, norms excluded) + 4·T·L·d_h·n_h
    assert infer_flops(spec_config, T) == 2 * p.total_matmul + 4 * T * 2 * 32 * 4


def test_prefill_conventions(spec_config):
    T, B = 16, 3
    unit = 2 * 32 * 4
    dense = prefill_flops(spec_config, T, causal=False, batch=B)
    causal = prefill_flops(spec_config, T, causal=True, batch=B)
    assert dense - causal == 2 * T * (T - 1) * unit * B
    # the causal count is the sum of per-position decode costs
    assert causal == B * sum(decode_flops(spec_config, t) for t in range(1, T + 1))
    last_only = prefill_flops(spec_config, T, logits="last")
    assert prefill_flops(spec_config, T) - last_only == 2 * (T - 1) * 128 * 1000


def test_generate_is_sum_of_decode_steps(spec_config):
    P, G = 10, 7
    assert generate_flops(spec_config, P, G) == sum(decode_flops(spec_config, t) for t in range(P + 1, P + G + 1))


def test_train_flops_fixed_length_and_table8_reading(spec_config):
    # spec §11 test 7: 6·D·N + 6·D·L·T_train·d_h·n_h, and Table 8's 12·D·T̄·L·d_h·n_h with T̄ = T_train/2
    D, T = 1_000_000, 512
    N = param_count(spec_config).total_matmul
    expected = 6 * D * N + 6 * D * 2 * T * 32 * 4
    assert train_flops(spec_config, D, train_context=T) == expected
    assert train_flops(spec_config, D, mean_context=T / 2) == 6 * D * N + 12 * D * (T / 2) * 2 * 32 * 4 == expected
    with pytest.raises(ValueError, match="exactly one"):
        train_flops(spec_config, D)


def test_train_memory_counts_adam_state(spec_config):
    assert train_memory(spec_config, 64, batch=2) == 4 * param_count(spec_config).total + 2 * 64 * 128 * 2


def test_hardware_cost_limits():
    assert hardware_cost(100.0, 1000.0, lam=1.0) == pytest.approx(10.0)
    assert hardware_cost(100.0, 1000.0, lam=0.0) == pytest.approx(10.0)
    assert hardware_cost(4.0, 8.0, lam=0.5, alpha=0.5, beta=1 / 3) == pytest.approx(0.5 * 2 + 0.5 * 2)
    with pytest.raises(ValueError, match="lambda"):
        hardware_cost(1.0, 1.0, lam=1.5)


def test_units_are_recorded_and_scale_memory(spec_config):
    values = cost_summary(spec_config, 1024, units=CostUnits(memory="values", flops="FLOPs"))
    in_gb = cost_summary(spec_config, 1024, units=CostUnits(memory="GB", bytes_per_elem=2))
    assert values["units"]["memory"] == "values" and in_gb["units"]["memory"] == "GB"
    assert in_gb["memory"]["total"] == pytest.approx(values["memory"]["total"] * 2e-9)
    assert values["memory_bytes"]["kv"] == 2 * kv_cache_values(spec_config, 1024)


def test_kv_cache_in_its_own_dtype(spec_config):
    # BF16 weights with an FP8 KV cache: only the cache shrinks, in bytes and in every unit Z sees
    T = 4096
    mem = infer_memory(spec_config, T, bytes_per_elem=2, kv_bytes_per_elem=1)
    assert mem.weights == 2 * param_count(spec_config).total
    assert mem.kv == kv_cache_values(spec_config, T)
    with pytest.raises(ValueError, match="needs bytes_per_elem"):
        infer_memory(spec_config, T, kv_bytes_per_elem=1)
    same = cost_summary(spec_config, T, units=CostUnits(memory="bytes"))
    fp8 = cost_summary(spec_config, T, units=CostUnits(memory="bytes", kv_bytes_per_elem=1))
    assert fp8["memory_bytes"]["kv"] == same["memory_bytes"]["kv"] / 2
    assert fp8["memory"]["kv"] == same["memory"]["kv"] / 2
    assert fp8["memory"]["weights"] == same["memory"]["weights"]
    assert fp8["Z"] < same["Z"]
    assert fp8["units"]["kv_bytes_per_elem"] == 1 and same["units"]["kv_bytes_per_elem"] == 2
    assert CostUnits(kv_bytes_per_elem=2.0) == CostUnits(kv_bytes_per_elem=2.0)
    assert CostUnits(memory="GiB", kv_bytes_per_elem=1).kv_memory_scale == pytest.approx(1 / 2**30)
    with pytest.raises(ValueError, match="kv_bytes_per_elem"):
        CostUnits(kv_bytes_per_elem=0)


def test_kv_cache_dtype_reaches_the_search(spec_config):
    from gqa_cost.search import CostWeights, evaluate

    w16 = CostWeights(units=CostUnits(memory="bytes"))
    w8 = CostWeights(units=CostUnits(memory="bytes", kv_bytes_per_elem=1))
    M16, kv16, C16, _, Z16 = evaluate(spec_config, 65536, w16)
    M8, kv8, C8, _, Z8 = evaluate(spec_config, 65536, w8)
    assert kv8 == kv16 / 2 and C8 == C16 and Z8 < Z16
    saved = M16 - M8
    assert saved == pytest.approx(kv16 / 2)


@pytest.mark.parametrize("bad", [-1, -0.5], ids=["int", "float"])
def test_negative_context_rejected(spec_config, bad):
    with pytest.raises(ValueError, match="non-negative"):
        infer_flops(spec_config, bad)
    with pytest.raises(ValueError, match=">= 1"):
        decode_flops(spec_config, 0)


def test_paper_pair_reduces_memory_and_flops_by_half():
    # spec §11 test 16 (sign and rough size only): (L36, d1536, 32/8) vs (L36, d2048, 8/1) at 128K
    base, ours = get_preset("paper-llama3-gqa-1.2b"), get_preset("paper-ours-1.8b")
    T = 131_072
    assert infer_memory(ours, T).total / infer_memory(base, T).total - 1 < -0.5
    assert infer_flops(ours, T) / infer_flops(base, T) - 1 < -0.5
