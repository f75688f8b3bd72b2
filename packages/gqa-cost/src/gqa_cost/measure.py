"""Measure what the cost model predicts, on real models: FLOPs with ``torch.utils.flop_counter`` and KV bytes.

Needs the ``torch`` extra. Used by the tests that hold the analytic formulas to measurement, and by
``gqa-cost verify``. Attention must run as explicit matmuls (``attn_impl="matmul"`` in lc-core, or a
transformers model with ``attn_implementation="eager"``): ``FlopCounterMode`` counts CPU SDPA as 0 FLOPs
in some torch versions, and never applies a causal discount.

RoPE is outside the cost model's convention (matmuls of the model only), but transformers up to 5.17 computes
the rotary angles as an outer-product matmul ``inv_freq[P, d_h/2, 1] @ position_ids[P, 1, T]`` (``P`` = batch of
``position_ids``, 1 by default), which ``FlopCounterMode`` counts as ``P·d_h·T`` FLOPs once per forward; 5.20
uses a broadcast multiply (0 FLOPs). The counts here leave that part out of ``total`` and report it as ``rope``,
so the same formulas hold for every transformers version the workspace allows.

Example::

    from gqa_cost.config import ArchConfig
    from gqa_cost.measure import build_gqa_model, count_forward_flops
    model = build_gqa_model(ArchConfig(n_layers=2, d_model=128, n_heads=4, n_kv_heads=2, head_dim=32, vocab_size=1000))
    flops = count_forward_flops(model, batch=2, length=16)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gqa_cost.config import ArchConfig
from lc_core.testing import requires_torch

__all__ = ["FlopCount", "build_gqa_model", "count_forward_flops", "count_decode_flops", "count_train_flops", "cache_nbytes"]

# aten ops by role: linear layers lower to mm/addmm, explicit-matmul attention to bmm
_LINEAR_OPS = ("mm", "addmm")
_ATTENTION_OPS = ("bmm", "baddbmm")
# module names (last component) whose FLOPs are rotary-angle computations, not model matmuls
_ROPE_MODULES = ("rotary_emb", "rotary_embedding", "rotary")


@dataclass(kw_only=True, frozen=True)
class FlopCount:
    """FLOPs reported by ``FlopCounterMode``, split by aten op family.

    Attributes:
        total: FLOPs under the cost model's convention: every matmul of the model, RoPE angle computations excluded.
        linear: ``mm``/``addmm`` FLOPs (projections, FFN, LM head).
        attention: ``bmm``/``baddbmm`` FLOPs (QKᵀ and AV with explicit-matmul attention).
        by_op: FLOPs per aten op, RoPE excluded.
        rope: FLOPs counted inside rotary-embedding modules (``P·d_h·T`` with transformers <= 5.17, else 0).
        raw_total: what the counter reported, ``total + rope``.
    """

    total: int
    linear: int
    attention: int
    by_op: dict[str, int]
    rope: int = 0
    raw_total: int = 0


def build_gqa_model(cfg: ArchConfig, *, seed: int = 0, **overrides: Any) -> Any:
    """An lc-core ``GQAForCausalLM`` (random init, explicit-matmul attention) with the shape of ``cfg``.

    Args:
        cfg: integral architecture.
        seed: init seed.
        **overrides: extra ``GQAConfig`` fields.
    """
    torch = requires_torch()
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    cfg.validate(integral=True)
    fields: dict[str, Any] = dict(
        vocab_size=int(cfg.vocab_size),
        d_model=int(cfg.d_model),
        n_layers=int(cfg.n_layers),
        n_heads=int(cfg.n_heads),
        n_kv_heads=int(cfg.n_kv_heads),
        head_dim=int(cfg.head_dim),
        d_ff=int(cfg.ffn_dim),
        ffn_type="gated" if cfg.ffn_matrices == 3 else "plain",
        tie_word_embeddings=cfg.tied,
        attention_bias=cfg.attention_bias,
        attention_out_bias=cfg.attention_out_bias,
        attn_impl="matmul",
    )
    fields.update(overrides)
    torch.manual_seed(seed)
    return GQAForCausalLM(GQAConfig(**fields)).eval()


def _op_name(op: Any) -> str:
    text = str(op)
    return text.split(".")[1] if "." in text else text


def _split(counter: Any) -> FlopCount:
    counts = counter.get_flop_counts()
    per_op = {_op_name(op): int(n) for op, n in counts["Global"].items()}
    rope_by_op: dict[str, int] = {}
    for module, ops in counts.items():
        parts = module.split(".")
        # the outermost rotary module only, so nested ones are not counted twice
        if parts[-1] in _ROPE_MODULES and not any(p in _ROPE_MODULES for p in parts[:-1]):
            for op, n in ops.items():
                rope_by_op[_op_name(op)] = rope_by_op.get(_op_name(op), 0) + int(n)
    for op, n in rope_by_op.items():
        per_op[op] -= n
    per_op = {op: n for op, n in per_op.items() if n}
    linear = sum(n for op, n in per_op.items() if op in _LINEAR_OPS)
    attention = sum(n for op, n in per_op.items() if op in _ATTENTION_OPS)
    raw = int(counter.get_total_flops())
    rope = sum(rope_by_op.values())
    return FlopCount(total=raw - rope, linear=linear, attention=attention, by_op=per_op, rope=rope, raw_total=raw)


def _tokens(model: Any, batch: int, length: int, seed: int) -> Any:
    torch = requires_torch()
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, model.config.vocab_size, (batch, length), generator=g)


def count_forward_flops(model: Any, *, batch: int, length: int, seed: int = 0) -> FlopCount:
    """FLOPs of one forward pass over ``[B, T]`` random tokens (logits for every position, no cache).

    Works for lc-core's ``GQAForCausalLM`` and transformers causal LMs (use ``attn_implementation="eager"``).
    """
    torch = requires_torch()
    from torch.utils.flop_counter import FlopCounterMode

    ids = _tokens(model, batch, length, seed)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(input_ids=ids, use_cache=False)
    return _split(counter)


def count_decode_flops(model: Any, *, position: int, batch: int = 1, seed: int = 0) -> tuple[FlopCount, Any]:
    """FLOPs of decoding the token at 1-based ``position`` after caching ``position - 1`` tokens.

    Returns:
        The count for the single decode step and the cache after it.
    """
    torch = requires_torch()
    from torch.utils.flop_counter import FlopCounterMode

    if position < 2:
        raise ValueError(f"position must be >= 2 so that the cache holds a token, got {position}")
    ids = _tokens(model, batch, position, seed)
    with torch.no_grad():
        out = model(input_ids=ids[:, :-1], use_cache=True)
        cache = out.past_key_values
        with FlopCounterMode(display=False) as counter:
            out = model(input_ids=ids[:, -1:], past_key_values=cache, use_cache=True)
    return _split(counter), out.past_key_values


def count_train_flops(model: Any, *, batch: int, length: int, seed: int = 0) -> FlopCount:
    """FLOPs of forward + backward of the next-token loss over ``[B, T]`` random tokens."""
    requires_torch()
    from torch.utils.flop_counter import FlopCounterMode

    ids = _tokens(model, batch, length, seed)
    model.train()
    try:
        with FlopCounterMode(display=False) as counter:
            out = model(input_ids=ids, labels=ids, use_cache=False)
            out.loss.backward()
    finally:
        model.eval()
        model.zero_grad(set_to_none=True)
    return _split(counter)


def cache_nbytes(cache: Any) -> int:
    """Bytes held by the K and V tensors of a transformers cache (``DynamicCache``) or a legacy tuple."""
    layers = getattr(cache, "layers", None)
    if layers is not None:
        pairs = [(layer.keys, layer.values) for layer in layers]
    else:
        pairs = [(k, v) for k, v in cache]
    return int(sum(t.numel() * t.element_size() for pair in pairs for t in pair if t is not None))
