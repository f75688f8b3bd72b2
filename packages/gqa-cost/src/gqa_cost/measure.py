"""Measure what the cost model predicts, on real models: FLOPs with ``torch.utils.flop_counter`` and KV bytes.

Needs the ``torch`` extra. Used by the tests that hold the analytic formulas to measurement, and by
``gqa-cost verify``. Attention must run as explicit matmuls (``attn_impl="matmul"`` in lc-core, or a
transformers model with ``attn_implementation="eager"``): ``FlopCounterMode`` counts CPU SDPA as 0 FLOPs
in some torch versions, and never applies a causal discount.

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


@dataclass(kw_only=True, frozen=True)
class FlopCount:
    """FLOPs reported by ``FlopCounterMode``, split by aten op family."""

    total: int
    linear: int
    attention: int
    by_op: dict[str, int]


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


def _split(counter: Any) -> FlopCount:
    per_op = {
        str(op).split(".")[1] if "." in str(op) else str(op): int(n) for op, n in counter.get_flop_counts()["Global"].items()
    }
    linear = sum(n for op, n in per_op.items() if op in _LINEAR_OPS)
    attention = sum(n for op, n in per_op.items() if op in _ATTENTION_OPS)
    return FlopCount(total=int(counter.get_total_flops()), linear=linear, attention=attention, by_op=per_op)


def _tokens(model: Any, batch: int, length: int, seed: int) -> Any:
    torch = requires_torch()
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, model.config.vocab_size, (batch, length), generator=g)


def count_forward_flops(model: Any, *, batch: int, length: int, seed: int = 0) -> FlopCount:
    """FLOPs of one forward pass over ``[B, T]`` random tokens (logits for every position, no cache)."""
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
