"""Named GQA configs: a tiny one for tests and the shapes of public Llama models (configs only, no weights).

Example::

    from lc_core.models.gqa.presets import get_preset, tiny_config

    cfg = tiny_config(n_kv_heads=1)           # vocab 256, d 64, 2 layers, 4 query heads
    cfg8b = get_preset("llama-3.1-8b")        # 32 layers, d 4096, 32/8 heads, d_ff 14336
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lc_core.models.gqa.configuration import GQAConfig

__all__ = ["tiny_config", "get_preset", "list_presets", "PRESETS"]


def tiny_config(**overrides: Any) -> GQAConfig:
    """A few-thousand-parameter model for CPU tests: vocab 256, d_model 64, 2 layers, 4 heads, 2 KV heads.

    Args:
        **overrides: any :class:`GQAConfig` field (HF alias names work too).
    """
    fields: dict[str, Any] = dict(
        vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=128, max_position_embeddings=256
    )
    fields.update(overrides)
    return GQAConfig(**fields)


# Llama 3.x shapes and RoPE settings as published in the models' config.json files
_LLAMA3: dict[str, dict[str, Any]] = {
    "llama-3.2-1b": dict(
        d_model=2048, n_layers=16, n_heads=32, n_kv_heads=8, head_dim=64, d_ff=8192, tie_word_embeddings=True
    ),
    "llama-3.2-3b": dict(
        d_model=3072, n_layers=28, n_heads=24, n_kv_heads=8, head_dim=128, d_ff=8192, tie_word_embeddings=True
    ),
    "llama-3.1-8b": dict(
        d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, head_dim=128, d_ff=14336, tie_word_embeddings=False
    ),
}


def _llama3(name: str) -> Callable[..., GQAConfig]:
    def build(**overrides: Any) -> GQAConfig:
        fields: dict[str, Any] = dict(
            vocab_size=128256,
            rope_theta=500000.0,
            norm_eps=1e-5,
            max_position_embeddings=131072,
            activation="silu",
            ffn_type="gated",
            rope_scaling_config=dict(
                rope_type="llama3",
                factor=32.0 if name.startswith("llama-3.2") else 8.0,
                low_freq_factor=1.0,
                high_freq_factor=4.0,
                original_max_position_embeddings=8192,
            ),
            bos_token_id=128000,
            eos_token_id=128001,
            **_LLAMA3[name],
        )
        fields.update(overrides)
        return GQAConfig(**fields)

    build.__doc__ = f"Config with the shape of {name} (no weights)."
    return build


PRESETS: dict[str, Callable[..., GQAConfig]] = {"tiny": tiny_config, **{name: _llama3(name) for name in _LLAMA3}}


def list_presets() -> list[str]:
    """Names accepted by :func:`get_preset`."""
    return sorted(PRESETS)


def get_preset(name: str, **overrides: Any) -> GQAConfig:
    """Build the named preset config, with field overrides.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    if name not in PRESETS:
        raise KeyError(f"unknown GQA preset {name!r}; known: {', '.join(list_presets())}")
    return PRESETS[name](**overrides)
