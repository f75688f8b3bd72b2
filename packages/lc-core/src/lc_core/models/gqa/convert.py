"""Conversion between transformers' Llama-family causal LMs and :class:`GQAForCausalLM`.

The GQA model uses Llama's module names, so weights move with an identity key map; only the configs are
translated. Supported sources: ``llama``, ``mistral`` (without sliding window) and ``qwen2`` (q/k/v biases,
no sliding window), with default, ``linear``, ``llama3`` or ``yarn`` RoPE.

Example::

    from lc_core.models.gqa import from_hf, to_llama

    ours = from_hf("path/to/llama-checkpoint")     # a local folder with config.json + *.safetensors
    ours = from_hf(llama_model)                     # or a LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM
    back = to_llama(ours)                           # LlamaForCausalLM with the same weights
    back.save_pretrained("exported/")
"""

from __future__ import annotations

import os
from typing import Any

import torch
from transformers import AutoConfig, LlamaConfig, LlamaForCausalLM, PreTrainedConfig, PreTrainedModel

from lc_core.logging import get_logger
from lc_core.models.gqa.configuration import ROPE_SCALING_TYPES, GQAConfig
from lc_core.models.gqa.modeling import GQAForCausalLM

__all__ = ["SUPPORTED_MODEL_TYPES", "config_from_hf", "config_to_llama", "from_hf", "to_llama", "convert_state_dict"]

logger = get_logger(__name__)

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2")

# non-persistent buffers some older checkpoints still carry; they are recomputed, never loaded
_IGNORED_SUFFIXES = ("rotary_emb.inv_freq",)


def _rope(hf_config: PreTrainedConfig) -> tuple[float, dict[str, Any] | None]:
    rope = dict(getattr(hf_config, "rope_parameters", None) or {})
    rope_type = rope.get("rope_type", "default")
    if rope_type != "default" and rope_type not in ROPE_SCALING_TYPES:
        raise ValueError(
            f"{hf_config.model_type} config: rope_parameters.rope_type={rope_type!r} is not supported "
            f"(GQAConfig supports default RoPE and {', '.join(ROPE_SCALING_TYPES)})"
        )
    theta = rope.pop("rope_theta", getattr(hf_config, "rope_theta", None))
    if theta is None:
        raise ValueError(f"{hf_config.model_type} config: no rope_theta in rope_parameters")
    return float(theta), (rope if rope_type != "default" else None)


def config_from_hf(hf_config: PreTrainedConfig, **overrides: Any) -> GQAConfig:
    """Translate a Llama/Mistral/Qwen2 config into a :class:`GQAConfig`.

    Args:
        hf_config: a transformers config with ``model_type`` in :data:`SUPPORTED_MODEL_TYPES`.
        **overrides: GQAConfig fields to set on top (e.g. ``attn_impl="matmul"``).

    Raises:
        ValueError: an unsupported model type or feature (sliding window, MLP biases, dynamic RoPE), named.
    """
    model_type = hf_config.model_type
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(f"cannot convert model_type {model_type!r}; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    if getattr(hf_config, "mlp_bias", False):
        raise ValueError(f"{model_type} config: mlp_bias=True is not supported by GQAConfig")
    window = getattr(hf_config, "sliding_window", None)
    uses_window = getattr(hf_config, "use_sliding_window", model_type == "mistral")
    if uses_window and window is not None and window < hf_config.max_position_embeddings:
        raise ValueError(
            f"{model_type} config: sliding_window={window} < max_position_embeddings={hf_config.max_position_embeddings}; "
            "GQAConfig has full attention only (set sliding_window=None to convert knowingly)"
        )
    if model_type == "qwen2":
        # Qwen2 has biases on q/k/v but not on the output projection
        qkv_bias, out_bias = True, False
    else:
        qkv_bias = out_bias = bool(getattr(hf_config, "attention_bias", False))
    theta, scaling = _rope(hf_config)
    fields: dict[str, Any] = dict(
        vocab_size=hf_config.vocab_size,
        d_model=hf_config.hidden_size,
        n_layers=hf_config.num_hidden_layers,
        n_heads=hf_config.num_attention_heads,
        n_kv_heads=hf_config.num_key_value_heads or hf_config.num_attention_heads,
        head_dim=getattr(hf_config, "head_dim", None) or hf_config.hidden_size // hf_config.num_attention_heads,
        d_ff=hf_config.intermediate_size,
        ffn_type="gated",
        activation=hf_config.hidden_act,
        rope_theta=theta,
        rope_scaling_config=scaling,
        norm_eps=hf_config.rms_norm_eps,
        tie_word_embeddings=bool(getattr(hf_config, "tie_word_embeddings", False)),
        init_std=hf_config.initializer_range,
        max_position_embeddings=hf_config.max_position_embeddings,
        attention_bias=qkv_bias,
        attention_out_bias=out_bias,
        pad_token_id=hf_config.pad_token_id,
        bos_token_id=hf_config.bos_token_id,
        eos_token_id=hf_config.eos_token_id,
    )
    fields.update(overrides)
    return GQAConfig(**fields)


def config_to_llama(config: GQAConfig) -> LlamaConfig:
    """Translate a :class:`GQAConfig` into a ``LlamaConfig`` (same shapes and RoPE).

    Raises:
        ValueError: features Llama cannot express (plain FFN, q/k/v biases without an output bias).
    """
    if config.ffn_type != "gated":
        raise ValueError("GQAConfig.ffn_type='plain' has no Llama equivalent (Llama's MLP is gated)")
    if config.attention_bias != config.attention_out_bias:
        raise ValueError(
            "GQAConfig.attention_bias != attention_out_bias: Llama's attention_bias covers q/k/v and o together "
            "(q/k/v-only biases are the Qwen2 layout)"
        )
    llama = LlamaConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.d_model,
        intermediate_size=config.d_ff,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        num_key_value_heads=config.n_kv_heads,
        head_dim=config.head_dim,
        hidden_act=config.activation,
        max_position_embeddings=config.max_position_embeddings,
        initializer_range=config.init_std,
        rms_norm_eps=config.norm_eps,
        tie_word_embeddings=config.tie_word_embeddings,
        rope_parameters={"rope_type": "default", **(config.rope_scaling_config or {}), "rope_theta": float(config.rope_theta)},
        attention_bias=config.attention_bias,
        pad_token_id=config.pad_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
    )
    return llama


def convert_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a Llama-family state dict to GQA keys (identity apart from dropping recomputed RoPE buffers)."""
    return {k: v for k, v in state_dict.items() if not k.endswith(_IGNORED_SUFFIXES)}


def _load_strict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    result = model.load_state_dict(state_dict, strict=False)
    tied = set(getattr(model, "all_tied_weights_keys", {}) or {})
    missing = [k for k in result.missing_keys if k not in tied]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{source}: state dict does not match {type(model).__name__}: missing {missing[:8]}, "
            f"unexpected {result.unexpected_keys[:8]}"
        )
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def from_hf(
    source: PreTrainedModel | str | os.PathLike[str], *, dtype: torch.dtype | None = None, **overrides: Any
) -> GQAForCausalLM:
    """Build a :class:`GQAForCausalLM` from a Llama/Mistral/Qwen2 model object or a local checkpoint folder.

    Args:
        source: a transformers causal-LM object, or a folder with ``config.json`` and safetensors weights
            (loaded straight into the GQA model; sharded checkpoints work).
        dtype: dtype of the returned model (default: the source's dtype; for folders, the checkpoint's).
        **overrides: GQAConfig fields to set on top (e.g. ``attn_impl="matmul"``).

    Returns:
        The GQA model in eval mode.
    """
    if isinstance(source, PreTrainedModel):
        config = config_from_hf(source.config, **overrides)
        model = GQAForCausalLM(config)
        _load_strict(model, convert_state_dict(source.state_dict()), type(source).__name__)
        ref = next(source.parameters())
        model.to(device=ref.device, dtype=dtype or ref.dtype)
        return model.eval()
    path = os.fspath(source)
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise FileNotFoundError(f"{path}: not a checkpoint folder (no config.json)")
    hf_config = AutoConfig.from_pretrained(path)
    config = config_from_hf(hf_config, **overrides)
    model, info = GQAForCausalLM.from_pretrained(
        path, config=config, dtype=dtype or "auto", output_loading_info=True, use_safetensors=True
    )
    tied = set(getattr(model, "all_tied_weights_keys", {}) or {})
    missing = [k for k in info["missing_keys"] if k not in tied]
    unexpected = [k for k in info["unexpected_keys"] if not k.endswith(_IGNORED_SUFFIXES)]
    if missing or unexpected or info.get("mismatched_keys"):
        raise ValueError(
            f"{path}: weights do not match the converted config: missing {missing[:8]}, unexpected {unexpected[:8]}, "
            f"mismatched {list(info.get('mismatched_keys') or [])[:8]}"
        )
    logger.info("loaded %s (%s) as GQAForCausalLM", path, hf_config.model_type)
    return model.eval()


def to_llama(model: GQAForCausalLM) -> LlamaForCausalLM:
    """Export a :class:`GQAForCausalLM` as a transformers ``LlamaForCausalLM`` with the same weights.

    Save the result with ``save_pretrained`` to get a checkpoint any Llama-compatible tool loads.
    """
    llama = LlamaForCausalLM(config_to_llama(model.config))
    _load_strict(llama, model.state_dict(), "GQAForCausalLM")
    ref = next(model.parameters())
    return llama.to(device=ref.device, dtype=ref.dtype).eval()
