"""Configuration of the lc-core GQA transformer (``model_type = "lc-gqa"``).

Field names are short (``d_model``, ``n_heads``, ...); the usual transformers names (``hidden_size``,
``num_attention_heads``, ...) are aliases through ``attribute_map``, so code written against Llama-style
configs (``DynamicCache(config=...)``, generation utilities, cost calculators) reads them unchanged.

Example::

    from lc_core.models.gqa import GQAConfig

    cfg = GQAConfig(vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2)
    assert cfg.hidden_size == 64 and cfg.num_key_value_heads == 2
"""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.activations import ACT2FN

__all__ = ["GQAConfig", "FFN_TYPES", "ATTN_IMPLS", "ROPE_SCALING_TYPES", "default_d_ff"]

FFN_TYPES = ("gated", "plain")
ATTN_IMPLS = ("sdpa", "matmul")
# transformers RoPE variants whose frequencies do not depend on the current sequence length
ROPE_SCALING_TYPES = ("linear", "llama3", "yarn")


def default_d_ff(d_model: int, ffn_type: str) -> int:
    """FFN width used when ``d_ff`` is not given.

    ``int(8 * d / 3)`` for a gated FFN keeps the parameter count of a ``4d`` plain FFN (and is what the
    cost-optimal-GQA training code uses); a plain FFN gets ``4d``.
    """
    return int(8 * d_model / 3) if ffn_type == "gated" else 4 * d_model


@strict
class GQAConfig(PreTrainedConfig):
    """Decoder-only transformer with grouped-query attention, RoPE, RMSNorm and a gated or plain FFN.

    Args:
        vocab_size: number of tokens.
        d_model: residual width ``d`` (alias ``hidden_size``).
        n_layers: number of decoder blocks ``L`` (alias ``num_hidden_layers``).
        n_heads: query heads ``n_h`` (alias ``num_attention_heads``).
        n_kv_heads: key/value heads ``n_kv`` (alias ``num_key_value_heads``); ``None`` means ``n_heads`` (MHA).
            Must divide ``n_heads``.
        head_dim: per-head width ``d_h``; ``None`` means ``d_model // n_heads``. Decoupled: ``n_heads * head_dim``
            need not equal ``d_model``.
        d_ff: FFN width (alias ``intermediate_size``); ``None`` means :func:`default_d_ff`.
        ffn_type: ``"gated"`` (``down(act(gate(x)) * up(x))``, 3 matrices) or ``"plain"`` (``down(act(up(x)))``,
            2 matrices).
        activation: a ``transformers.activations.ACT2FN`` name, e.g. ``"silu"``, ``"relu"``, ``"gelu"``,
            ``"relu2"`` (ReLU squared) (alias ``hidden_act``).
        rope_theta: RoPE base.
        rope_scaling_config: optional frequency scaling in transformers' ``rope_parameters`` format without
            ``rope_theta``, e.g. ``{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}``; ``rope_type`` is one of
            :data:`ROPE_SCALING_TYPES`. The frequencies come from ``transformers.modeling_rope_utils``.
        norm_eps: RMSNorm epsilon (alias ``rms_norm_eps``).
        tie_word_embeddings: share the input embedding with the output head.
        init_std: std of the normal init of every matrix (alias ``initializer_range``).
        max_position_embeddings: longest context the model is meant for (RoPE itself has no hard limit).
        attn_impl: ``"sdpa"`` (``torch.nn.functional.scaled_dot_product_attention``) or ``"matmul"`` (explicit
            ``QK^T``, softmax, ``AV``; used by FLOP counters). Both are exact GQA without repeating K/V.
        attention_bias: biases on the q/k/v projections (Qwen2 style); off by default.
        attention_out_bias: bias on the output projection (Llama ``attention_bias=True`` sets both).
    """

    model_type = "lc-gqa"
    keys_to_ignore_at_inference = ["past_key_values"]
    attribute_map = {
        "hidden_size": "d_model",
        "num_hidden_layers": "n_layers",
        "num_attention_heads": "n_heads",
        "num_key_value_heads": "n_kv_heads",
        "intermediate_size": "d_ff",
        "hidden_act": "activation",
        "rms_norm_eps": "norm_eps",
        "initializer_range": "init_std",
    }

    vocab_size: int = 32000
    d_model: int = 512
    n_layers: int = 4
    n_heads: int = 8
    n_kv_heads: int | None = None
    head_dim: int | None = None
    d_ff: int | None = None
    ffn_type: str = "gated"
    activation: str = "silu"
    rope_theta: float | int = 10000.0
    rope_scaling_config: dict | None = None
    norm_eps: float = 1e-6
    tie_word_embeddings: bool = False
    init_std: float = 0.02
    max_position_embeddings: int = 2048
    attn_impl: str = "sdpa"
    attention_bias: bool = False
    attention_out_bias: bool = False
    use_cache: bool = True
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None

    def __post_init__(self, **kwargs: Any) -> None:
        # HF-style aliases (hidden_size=...) arrive as extra kwargs; apply them before deriving defaults
        for alias in [k for k in kwargs if k in self.attribute_map]:
            setattr(self, self.attribute_map[alias], kwargs.pop(alias))
        self._check_sizes()
        if self.n_kv_heads is None:
            self.n_kv_heads = self.n_heads
        if self.head_dim is None:
            self.head_dim = self.d_model // self.n_heads
        if self.d_ff is None:
            self.d_ff = default_d_ff(self.d_model, self.ffn_type)
        self._check_architecture()
        super().__post_init__(**kwargs)

    def _check_sizes(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ValueError(f"GQAConfig.{name} must be a positive integer, got {value!r}")
        if self.head_dim is None and self.d_model < self.n_heads:
            raise ValueError(
                f"GQAConfig: d_model={self.d_model} < n_heads={self.n_heads}, so the default head_dim would be 0; "
                "set head_dim explicitly"
            )

    def _check_architecture(self) -> None:
        if self.n_heads % self.n_kv_heads != 0:
            raise ValueError(
                f"GQAConfig: n_heads={self.n_heads} must be a multiple of n_kv_heads={self.n_kv_heads} "
                "(each KV head serves a whole group of query heads)"
            )
        if self.head_dim % 2 != 0:
            raise ValueError(f"GQAConfig.head_dim must be even for RoPE, got {self.head_dim}")
        if self.ffn_type not in FFN_TYPES:
            raise ValueError(f"GQAConfig.ffn_type must be one of {FFN_TYPES}, got {self.ffn_type!r}")
        if self.attn_impl not in ATTN_IMPLS:
            raise ValueError(f"GQAConfig.attn_impl must be one of {ATTN_IMPLS}, got {self.attn_impl!r}")
        if self.activation not in ACT2FN:
            raise ValueError(
                f"GQAConfig.activation {self.activation!r} is not a transformers activation; "
                "use e.g. 'silu', 'relu', 'gelu' or 'relu2'"
            )
        if self.rope_scaling_config is not None:
            rope_type = self.rope_scaling_config.get("rope_type")
            if rope_type not in ROPE_SCALING_TYPES:
                raise ValueError(
                    f"GQAConfig.rope_scaling_config.rope_type must be one of {ROPE_SCALING_TYPES}, got {rope_type!r}"
                )
        if self.rope_theta <= 0 or self.norm_eps <= 0 or self.init_std < 0:
            raise ValueError(
                f"GQAConfig: rope_theta ({self.rope_theta}) and norm_eps ({self.norm_eps}) must be > 0, "
                f"init_std ({self.init_std}) >= 0"
            )

    @property
    def n_groups(self) -> int:
        """Query heads per KV head (``n_heads // n_kv_heads``)."""
        return self.n_heads // self.n_kv_heads

    @property
    def ffn_matrices(self) -> int:
        """Weight matrices in one FFN: 3 for ``gated``, 2 for ``plain``."""
        return 3 if self.ffn_type == "gated" else 2
