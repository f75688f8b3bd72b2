"""Configuration of the lc-core Mamba-2 language model (``model_type = "lc-mamba2"``).

Field names follow ``mamba_ssm`` (``d_model``, ``d_state``, ``headdim``, ``ngroups``, ...); the state-spaces
``config.json`` names (``n_layer``, ``tie_embeddings``) and the transformers names (``hidden_size``,
``num_hidden_layers``, ``state_size``) are aliases through ``attribute_map``. Defaults are those of
``mamba_ssm.modules.mamba2.Mamba2`` (spec §1.1), which every official ``state-spaces/mamba2-*`` model uses.

Example::

    from lc_core.models.mamba2 import Mamba2Config

    cfg = Mamba2Config(d_model=64, n_layers=2, vocab_size=50277, d_state=16, headdim=16)
    assert cfg.vocab_size == 50288 and cfg.nheads == 8
"""

from __future__ import annotations

import math
from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

__all__ = ["Mamba2Config", "SSM_STATE_DTYPES"]

SSM_STATE_DTYPES = ("float32", "float64", "bfloat16", "float16")


@strict
class Mamba2Config(PreTrainedConfig):
    """Mamba-2 stack: embedding, ``n_layers`` x pre-norm residual [RMSNorm -> Mamba-2 mixer], final RMSNorm, LM head.

    Args:
        vocab_size: tokenizer vocabulary; padded up to a multiple of ``pad_vocab_size_multiple`` on construction
            (50277 -> 50288 for the official models), so the stored value is the embedding size.
        d_model: residual width (alias ``hidden_size``).
        n_layers: number of blocks (aliases ``n_layer``, ``num_hidden_layers``).
        d_state: SSM state size ``N`` (alias ``state_size``).
        d_conv: causal conv width (alias ``conv_kernel``).
        expand: ``d_inner = expand * d_model``.
        headdim: head width ``P``; ``nheads = d_inner / headdim``.
        ngroups: groups ``G`` sharing B and C (alias ``n_groups``); must divide ``nheads``.
        chunk_size: SSD chunk length ``Q``, a power of two ``>= 16`` (checked here, once, so every SSD backend
            runs the same chunking; a sequence shorter than ``Q`` or a short last chunk is fine).
        dt_min: smallest initial step Δ.
        dt_max: largest initial step Δ.
        dt_init_floor: lower clamp of the initial Δ.
        dt_limit: ``(lo, hi)`` clamp applied to Δ after the softplus.
        A_init_range: ``A = -U(lo, hi)`` at init (stored as ``A_log``).
        rms_norm_eps: epsilon of every RMSNorm, the gated one included.
        tie_word_embeddings: share the embedding with the LM head (alias ``tie_embeddings``).
        pad_vocab_size_multiple: vocabulary padding multiple.
        residual_in_fp32: keep the residual stream in fp32.
        ssm_state_dtype: dtype of the cached SSM state (``"float32"`` by default, even for bf16 weights).
        conv_bias: bias on the depthwise conv.
        bias: bias on ``in_proj`` and ``out_proj``.
        initializer_range: std of the embedding init.
        rescale_prenorm_residual: scale ``out_proj`` by ``1 / sqrt(n_layers)`` at init.
        ssd_backend: ``"auto"`` (dispatcher: mamba_ssm or Triton on CUDA, torch otherwise) or ``"torch"``.
    """

    model_type = "lc-mamba2"
    keys_to_ignore_at_inference = ["cache_params"]
    attribute_map = {
        "hidden_size": "d_model",
        "num_hidden_layers": "n_layers",
        "n_layer": "n_layers",
        "state_size": "d_state",
        "conv_kernel": "d_conv",
        "n_groups": "ngroups",
        "head_dim": "headdim",
        "tie_embeddings": "tie_word_embeddings",
        "layer_norm_epsilon": "rms_norm_eps",
    }

    vocab_size: int = 50277
    d_model: int = 768
    n_layers: int = 24
    d_state: int = 128
    d_conv: int = 4
    expand: int = 2
    headdim: int = 64
    ngroups: int = 1
    chunk_size: int = 256
    dt_min: float = 1e-3
    dt_max: float = 0.1
    dt_init_floor: float = 1e-4
    dt_limit: list[float] | tuple[float, ...] = (0.0, float("inf"))
    A_init_range: list[float] | tuple[float, ...] = (1.0, 16.0)
    rms_norm_eps: float = 1e-5
    tie_word_embeddings: bool = True
    pad_vocab_size_multiple: int = 16
    residual_in_fp32: bool = True
    ssm_state_dtype: str = "float32"
    conv_bias: bool = True
    bias: bool = False
    initializer_range: float = 0.02
    rescale_prenorm_residual: bool = True
    ssd_backend: str = "auto"
    use_cache: bool = True
    pad_token_id: int | None = 0
    bos_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 0

    def __post_init__(self, **kwargs: Any) -> None:
        for alias in [k for k in kwargs if k in self.attribute_map]:
            setattr(self, self.attribute_map[alias], kwargs.pop(alias))
        for name in ("vocab_size", "d_model", "n_layers", "d_state", "d_conv", "expand", "headdim", "ngroups", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Mamba2Config.{name} must be a positive integer, got {value!r}")
        if self.chunk_size < 16 or self.chunk_size & (self.chunk_size - 1):
            raise ValueError(
                f"Mamba2Config.chunk_size must be a power of two >= 16 (16, 32, 64, 128, 256, ...; the Triton and "
                f"mamba_ssm SSD kernels need it), got {self.chunk_size}"
            )
        if self.pad_vocab_size_multiple > 1 and self.vocab_size % self.pad_vocab_size_multiple:
            self.vocab_size += self.pad_vocab_size_multiple - self.vocab_size % self.pad_vocab_size_multiple
        self.dt_limit = tuple(float(v) for v in self.dt_limit)
        self.A_init_range = tuple(float(v) for v in self.A_init_range)
        if self.d_inner % self.headdim:
            raise ValueError(
                f"Mamba2Config: d_inner = expand * d_model = {self.d_inner} is not a multiple of headdim={self.headdim}"
            )
        if self.nheads % self.ngroups:
            raise ValueError(f"Mamba2Config: nheads={self.nheads} is not a multiple of ngroups={self.ngroups}")
        if len(self.dt_limit) != 2 or self.dt_limit[0] > self.dt_limit[1]:
            raise ValueError(f"Mamba2Config.dt_limit must be (lo, hi) with lo <= hi, got {self.dt_limit}")
        if len(self.A_init_range) != 2 or not 0 < self.A_init_range[0] <= self.A_init_range[1]:
            raise ValueError(f"Mamba2Config.A_init_range must be (lo, hi) with 0 < lo <= hi, got {self.A_init_range}")
        if not 0 < self.dt_min <= self.dt_max:
            raise ValueError(f"Mamba2Config: need 0 < dt_min <= dt_max, got {self.dt_min}, {self.dt_max}")
        if self.ssm_state_dtype not in SSM_STATE_DTYPES:
            raise ValueError(f"Mamba2Config.ssm_state_dtype must be one of {SSM_STATE_DTYPES}, got {self.ssm_state_dtype!r}")
        if self.ssd_backend not in ("auto", "torch", "triton", "mamba_ssm"):
            raise ValueError(f"Mamba2Config.ssd_backend must be auto/torch/triton/mamba_ssm, got {self.ssd_backend!r}")
        super().__post_init__(**kwargs)

    @property
    def d_inner(self) -> int:
        """``expand * d_model``."""
        return self.expand * self.d_model

    @property
    def nheads(self) -> int:
        """Number of SSM heads ``H = d_inner / headdim``."""
        return self.d_inner // self.headdim

    @property
    def conv_dim(self) -> int:
        """Channels of the depthwise conv: ``d_inner + 2 * G * N`` (x, B, C)."""
        return self.d_inner + 2 * self.ngroups * self.d_state

    @property
    def d_in_proj(self) -> int:
        """Rows of ``in_proj``: ``[z, x, B, C, dt]`` = ``2 * d_inner + 2 * G * N + H``."""
        return 2 * self.d_inner + 2 * self.ngroups * self.d_state + self.nheads

    @property
    def layer_types(self) -> list[str]:
        return ["linear_attention"] * self.n_layers

    def state_size_elements(self) -> int:
        """Recurrent state elements ``L * (H * P * N + (d_conv - 1) * conv_dim)`` (the paper's ``N_S``)."""
        return self.n_layers * (self.nheads * self.headdim * self.d_state + (self.d_conv - 1) * self.conv_dim)

    def dt_init_log_range(self) -> tuple[float, float]:
        """``(log dt_min, log dt_max)`` used by the Δ-bias init."""
        return math.log(self.dt_min), math.log(self.dt_max)
