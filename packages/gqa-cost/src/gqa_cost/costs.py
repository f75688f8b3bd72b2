"""Exact parameter, FLOP and memory accounting of a GQA transformer (paper §2, Eq. 3–4, 10–12).

Conventions (the README explains each choice):

- FLOPs count 2 per multiply-accumulate, matmuls only: softmax, scaling, RoPE, norms, residual adds,
  activations and bias adds are ignored, as in the paper's Table 2.
- The "2N" constant of Eq. 3 is ``2·(N_attn + N_ffn) + 2·d·V``: every linear layer once plus the LM head.
  With tied embeddings this is exactly 2N; with untied ones the input embedding (a lookup) costs nothing.
- Attention cost uses ``n_h`` (every query head scans every key) and the full context: a decode token at
  position t costs ``4·t·L·d_h·n_h``. Prefill is available in the causal (sum over positions) and dense
  (non-causal kernel) conventions.
- Memory counts values unless ``bytes_per_elem`` is given; batch multiplies only the KV cache.

Example::

    from gqa_cost.config import get_preset
    from gqa_cost.costs import infer_flops, infer_memory
    cfg = get_preset("llama-3.2-1b")
    infer_memory(cfg, 131072, bytes_per_elem=2).kv  # 4 GiB
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from gqa_cost.config import ArchConfig

__all__ = [
    "ParamCounts",
    "MemoryBreakdown",
    "FlopBreakdown",
    "CostUnits",
    "param_count",
    "linear_flops_per_token",
    "attention_flops_per_token",
    "infer_flops",
    "infer_flop_breakdown",
    "decode_flops",
    "prefill_flops",
    "generate_flops",
    "train_flops",
    "kv_cache_values",
    "infer_memory",
    "train_memory",
    "hardware_cost",
    "cost_summary",
]


@dataclass(kw_only=True, frozen=True)
class ParamCounts:
    """Parameter counts by component (paper Table 2, norms and biases as their own terms).

    Attributes:
        embedding: input embedding, d·V.
        lm_head: output embedding, d·V when untied, 0 when tied.
        attention: Q, K, V, O projections, 2·L·d·d_h·(n_h + n_kv).
        ffn: ffn_matrices·L·d·d_ff.
        norms: RMSNorm gains, (2L + 1)·d (no matmul FLOPs).
        biases: Q/K/V biases L·d_h·(n_h + 2·n_kv) when ``attention_bias``, output bias L·d when
            ``attention_out_bias`` (no matmul FLOPs).
    """

    embedding: float
    lm_head: float
    attention: float
    ffn: float
    norms: float
    biases: float

    @property
    def non_embedding(self) -> float:
        """Attention projections + FFN: the N of the scaling laws (paper footnote 4)."""
        return self.attention + self.ffn

    @property
    def linear(self) -> float:
        """Weights that enter a matmul for every token except the LM head: attention projections + FFN."""
        return self.attention + self.ffn

    @property
    def total(self) -> float:
        """Every parameter, the tied embedding counted once: what ``sum(p.numel())`` reports."""
        return self.embedding + self.lm_head + self.attention + self.ffn + self.norms + self.biases

    @property
    def total_matmul(self) -> float:
        """N of Eq. 3 (tied reading): linear weights + one d·V, without norms and biases."""
        return self.linear + self.embedding

    def to_dict(self) -> dict[str, float]:
        out = asdict(self)
        out.update(non_embedding=self.non_embedding, total=self.total, total_matmul=self.total_matmul)
        return out


_MEMORY_UNITS = {"values": None, "bytes": 1.0, "GB": 1e-9, "GiB": 1.0 / 2**30}
_FLOP_UNITS = {"FLOPs": 1.0, "GFLOPs": 1e-9, "TFLOPs": 1e-12}


@dataclass(kw_only=True, frozen=True)
class CostUnits:
    """Units of M and C inside Z (recorded with every result, because Z's arg-min depends on them).

    Z = λ·M^α + (1−λ)·C^β is not scale-invariant: rescaling M or C changes the weight of one term against
    the other. The paper does not say which units its λ, α, β assume; GB (BF16) and GFLOPs per token are
    the units under which the paper-calibrated model reproduces Table 4 (see ``gqa_cost.calibrate``).

    Attributes:
        memory: ``"values"`` (the paper's notation table), ``"bytes"``, ``"GB"`` (1e9 bytes) or ``"GiB"``.
        flops: ``"FLOPs"``, ``"GFLOPs"`` or ``"TFLOPs"`` (per token).
        bytes_per_elem: bytes per weight value for the byte-based memory units (2 = BF16, Figure 2).
        kv_bytes_per_elem: bytes per cached K/V value when the KV cache is stored in another dtype than the
            weights (1 = an FP8 cache next to BF16 weights); ``None`` = ``bytes_per_elem``.
        n_params: ``"total"`` (tied embedding counted once, the default) or ``"non_embedding"`` for N in M and C.
    """

    memory: Literal["values", "bytes", "GB", "GiB"] = "GB"
    flops: Literal["FLOPs", "GFLOPs", "TFLOPs"] = "GFLOPs"
    bytes_per_elem: float = 2.0
    kv_bytes_per_elem: float | None = None
    n_params: Literal["total", "non_embedding"] = "total"

    def __post_init__(self) -> None:
        if self.memory not in _MEMORY_UNITS:
            raise ValueError(f"memory unit must be one of {', '.join(_MEMORY_UNITS)}, got {self.memory!r}")
        if self.flops not in _FLOP_UNITS:
            raise ValueError(f"FLOP unit must be one of {', '.join(_FLOP_UNITS)}, got {self.flops!r}")
        if self.n_params not in ("total", "non_embedding"):
            raise ValueError(f"n_params must be 'total' or 'non_embedding', got {self.n_params!r}")
        if self.bytes_per_elem <= 0:
            raise ValueError(f"bytes_per_elem must be positive, got {self.bytes_per_elem!r}")
        if self.kv_bytes_per_elem is not None and self.kv_bytes_per_elem <= 0:
            raise ValueError(f"kv_bytes_per_elem must be positive, got {self.kv_bytes_per_elem!r}")

    @property
    def kv_bytes(self) -> float:
        """Bytes per cached K/V value (``kv_bytes_per_elem``, else ``bytes_per_elem``)."""
        return self.bytes_per_elem if self.kv_bytes_per_elem is None else self.kv_bytes_per_elem

    @property
    def memory_scale(self) -> float:
        """Factor from a number of weight values to the chosen memory unit."""
        per_byte = _MEMORY_UNITS[self.memory]
        return 1.0 if per_byte is None else self.bytes_per_elem * per_byte

    @property
    def kv_memory_scale(self) -> float:
        """Factor from a number of cached K/V values to the chosen memory unit."""
        per_byte = _MEMORY_UNITS[self.memory]
        return 1.0 if per_byte is None else self.kv_bytes * per_byte

    def memory_in_unit(self, mem: MemoryBreakdown) -> MemoryBreakdown:
        """``mem`` counted in values -> the same memory in this unit (weights and KV cache at their own widths)."""
        if mem.unit != "values":
            raise ValueError(f"expected a memory breakdown in values, got {mem.unit!r}")
        return MemoryBreakdown(weights=mem.weights * self.memory_scale, kv=mem.kv * self.kv_memory_scale, unit=self.memory)

    @property
    def flop_scale(self) -> float:
        """Factor from FLOPs to the chosen FLOP unit."""
        return _FLOP_UNITS[self.flops]

    def describe(self) -> dict[str, Any]:
        """JSON record: memory and FLOP units, bytes per element and what N means."""
        return {
            "memory": self.memory,
            "bytes_per_elem": None if self.memory == "values" else self.bytes_per_elem,
            "kv_bytes_per_elem": None if self.memory == "values" else self.kv_bytes,
            "flops": f"{self.flops} per token (2 per multiply-accumulate, matmuls only)",
            "n_params": self.n_params,
        }


@dataclass(kw_only=True, frozen=True)
class MemoryBreakdown:
    """Inference memory: weights + KV cache, in ``unit``."""

    weights: float
    kv: float
    unit: str

    @property
    def total(self) -> float:
        return self.weights + self.kv

    @property
    def kv_fraction(self) -> float:
        return self.kv / self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "kv": self.kv,
            "total": self.total,
            "kv_fraction": self.kv_fraction,
            "unit": self.unit,
        }


@dataclass(kw_only=True, frozen=True)
class FlopBreakdown:
    """Per-token inference FLOPs split into the time-invariant (linear) and time-variant (attention) parts."""

    linear: float
    attention: float

    @property
    def total(self) -> float:
        return self.linear + self.attention

    @property
    def attention_fraction(self) -> float:
        return self.attention / self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "linear": self.linear,
            "attention": self.attention,
            "total": self.total,
            "attention_fraction": self.attention_fraction,
            "unit": "FLOPs/token",
        }


def param_count(cfg: ArchConfig) -> ParamCounts:
    """Parameter counts of ``cfg`` by component (see :class:`ParamCounts`)."""
    L, d, dh = cfg.n_layers, cfg.d_model, cfg.head_dim
    emb = d * cfg.vocab_size
    return ParamCounts(
        embedding=emb,
        lm_head=0.0 if cfg.tied else emb,
        attention=2 * L * d * dh * (cfg.n_heads + cfg.n_kv_heads),
        ffn=cfg.ffn_matrices * L * d * cfg.ffn_dim,
        norms=(2 * L + 1) * d,
        biases=(L * dh * (cfg.n_heads + 2 * cfg.n_kv_heads) if cfg.attention_bias else 0.0)
        + (L * d if cfg.attention_out_bias else 0.0),
    )


def linear_flops_per_token(cfg: ArchConfig) -> float:
    """Time-invariant FLOPs per token: ``2·(N_attn + N_ffn) + 2·d·V`` (the 2N of Eq. 3)."""
    p = param_count(cfg)
    return 2 * p.linear + 2 * cfg.d_model * cfg.vocab_size


def attention_flops_per_token(cfg: ArchConfig, context: float) -> float:
    """QKᵀ and AV FLOPs of one query token against ``context`` keys: ``4·T·L·d_h·n_h``."""
    return 4 * context * cfg.n_layers * cfg.head_dim * cfg.n_heads


def _check_nonneg(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")


def infer_flops(cfg: ArchConfig, context: float) -> float:
    """Eq. 3: per-token inference FLOPs at context length T, ``2N + 4·T·L·d_h·n_h``."""
    _check_nonneg("context", context)
    return linear_flops_per_token(cfg) + attention_flops_per_token(cfg, context)


def infer_flop_breakdown(cfg: ArchConfig, context: float) -> FlopBreakdown:
    """Eq. 3 split into its linear and attention parts."""
    _check_nonneg("context", context)
    return FlopBreakdown(linear=linear_flops_per_token(cfg), attention=attention_flops_per_token(cfg, context))


def decode_flops(cfg: ArchConfig, position: float) -> float:
    """FLOPs of decoding the token at ``position`` t (t − 1 tokens already cached, t keys attended)."""
    if position < 1:
        raise ValueError(f"position is 1-based and must be >= 1, got {position!r}")
    return infer_flops(cfg, position)


def prefill_flops(cfg: ArchConfig, length: float, *, causal: bool = True, batch: int = 1, logits: str = "all") -> float:
    """FLOPs of a forward pass over a ``length``-token prompt.

    Args:
        cfg: the model.
        length: prompt length T.
        causal: sum the per-position cost over t = 1..T (``2·T(T+1)·L·d_h·n_h`` attention); ``False`` is a
            dense kernel's count, ``4·T²·L·d_h·n_h`` (what ``FlopCounterMode`` reports for a full matmul).
        batch: sequences B.
        logits: ``"all"`` computes the LM head for every position, ``"last"`` only for the last one.
    """
    _check_nonneg("length", length)
    if logits not in ("all", "last"):
        raise ValueError(f"logits must be 'all' or 'last', got {logits!r}")
    p = param_count(cfg)
    head_positions = length if logits == "all" else min(length, 1)
    linear = 2 * length * p.linear + 2 * head_positions * cfg.d_model * cfg.vocab_size
    unit = cfg.n_layers * cfg.head_dim * cfg.n_heads
    attn = 2 * length * (length + 1) * unit if causal else 4 * length * length * unit
    return batch * (linear + attn)


def generate_flops(cfg: ArchConfig, prompt: float, new_tokens: float) -> float:
    """FLOPs of decoding G tokens after a P-token prompt, ``Σ_{t=P+1}^{P+G} C_dec(t)`` (prefill excluded)."""
    _check_nonneg("prompt", prompt)
    _check_nonneg("new_tokens", new_tokens)
    G = new_tokens
    return linear_flops_per_token(cfg) * G + 2 * cfg.n_layers * cfg.head_dim * cfg.n_heads * G * (2 * prompt + G + 1)


def train_flops(
    cfg: ArchConfig, tokens: float, *, train_context: float | None = None, mean_context: float | None = None
) -> float:
    """Training FLOPs, Eq. 10–12: ``C_train = 3·D·C_infer(T̄) = 6·D·(N + 2·L·T̄·d_h·n_h)``.

    Give exactly one of ``train_context`` (fixed-length chunks of T_train tokens, so T̄ = T_train/2 and the
    attention term is ``6·D·L·T_train·d_h·n_h``) or ``mean_context`` (T̄ itself, the mean number of
    preceding tokens). Table 8's ``12·D·T·L·d_h·n_h`` is this formula with T read as T̄.

    Args:
        cfg: the model.
        tokens: D, training tokens.
        train_context: T_train for fixed-length chunks.
        mean_context: T̄.
    """
    _check_nonneg("tokens", tokens)
    if (train_context is None) == (mean_context is None):
        raise ValueError("give exactly one of train_context (T_train) or mean_context (T̄)")
    t_bar = train_context / 2 if train_context is not None else mean_context
    assert t_bar is not None
    _check_nonneg("context", t_bar)
    return 3 * tokens * infer_flops(cfg, t_bar)


def kv_cache_values(cfg: ArchConfig, context: float, *, batch: int = 1) -> float:
    """Cached K and V values, ``2·B·T·L·d_h·n_kv``."""
    _check_nonneg("context", context)
    return 2 * batch * context * cfg.n_layers * cfg.head_dim * cfg.n_kv_heads


def infer_memory(
    cfg: ArchConfig,
    context: float,
    *,
    batch: int = 1,
    bytes_per_elem: float | None = None,
    kv_bytes_per_elem: float | None = None,
    n_params: str = "total",
) -> MemoryBreakdown:
    """Eq. 4: weights + KV cache at context T.

    Args:
        cfg: the model.
        context: T.
        batch: B, multiplies only the KV cache.
        bytes_per_elem: bytes per weight value; ``None`` reports values instead of bytes.
        kv_bytes_per_elem: bytes per cached value (default: ``bytes_per_elem``).
        n_params: ``"total"`` (every parameter, tied embedding once) or ``"non_embedding"``.
    """
    p = param_count(cfg)
    if n_params not in ("total", "non_embedding"):
        raise ValueError(f"n_params must be 'total' or 'non_embedding', got {n_params!r}")
    weights = p.total if n_params == "total" else p.non_embedding
    kv = kv_cache_values(cfg, context, batch=batch)
    if bytes_per_elem is None:
        if kv_bytes_per_elem is not None:
            raise ValueError("kv_bytes_per_elem needs bytes_per_elem too (otherwise the units would mix)")
        return MemoryBreakdown(weights=weights, kv=kv, unit="values")
    kvb = bytes_per_elem if kv_bytes_per_elem is None else kv_bytes_per_elem
    return MemoryBreakdown(weights=weights * bytes_per_elem, kv=kv * kvb, unit="bytes")


def train_memory(cfg: ArchConfig, context: float, *, batch: int = 1, bytes_per_elem: float | None = None) -> float:
    """Appendix C: ``M_train ≈ 4N + B·T·d·L`` (weights, grads, two Adam moments, one activation per layer)."""
    _check_nonneg("context", context)
    values = 4 * param_count(cfg).total + batch * context * cfg.d_model * cfg.n_layers
    return values * (bytes_per_elem or 1.0)


def hardware_cost(memory: float, flops: float, *, lam: float = 0.9, alpha: float = 0.5, beta: float = 1 / 3) -> float:
    """Eq. 5: ``Z = λ·M^α + (1 − λ)·C^β``; the units of M and C are the caller's (record them)."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam!r}")
    if memory < 0 or flops < 0:
        raise ValueError(f"memory and FLOPs must be non-negative, got M={memory!r}, C={flops!r}")
    return lam * memory**alpha + (1 - lam) * flops**beta


def cost_summary(
    cfg: ArchConfig,
    context: float,
    *,
    units: CostUnits | None = None,
    batch: int = 1,
    lam: float = 0.9,
    alpha: float = 0.5,
    beta: float = 1 / 3,
) -> dict[str, Any]:
    """Everything about one config at one context length, as a JSON-ready record (units included)."""
    units = units or CostUnits()
    p = param_count(cfg)
    mem = infer_memory(cfg, context, batch=batch, n_params=units.n_params)
    fl = infer_flop_breakdown(cfg, context)
    if units.n_params == "non_embedding":
        fl = FlopBreakdown(linear=fl.linear - 2 * cfg.d_model * cfg.vocab_size, attention=fl.attention)
    mem_u = units.memory_in_unit(mem)
    return {
        "config": cfg.to_dict(),
        "context": context,
        "batch": batch,
        "params": p.to_dict(),
        "memory": mem_u.to_dict(),
        "memory_bytes": infer_memory(
            cfg,
            context,
            batch=batch,
            bytes_per_elem=units.bytes_per_elem,
            kv_bytes_per_elem=units.kv_bytes,
            n_params=units.n_params,
        ).to_dict(),
        "flops": fl.to_dict(),
        "Z": hardware_cost(mem_u.total, fl.total * units.flop_scale, lam=lam, alpha=alpha, beta=beta),
        "cost_weights": {"lambda": lam, "alpha": alpha, "beta": beta},
        "units": units.describe(),
    }
