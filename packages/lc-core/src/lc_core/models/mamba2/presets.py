"""Named Mamba-2 configs: the official ``state-spaces/mamba2-*`` shapes (spec §1.5) and tiny test models."""

from __future__ import annotations

from typing import Any

from lc_core.models.mamba2.configuration import Mamba2Config

__all__ = ["OFFICIAL_SHAPES", "official_config", "tiny_config"]

# name -> (d_model, n_layers); every official model uses the mamba_ssm defaults otherwise, vocab 50277 -> 50288
OFFICIAL_SHAPES: dict[str, tuple[int, int]] = {
    "mamba2-130m": (768, 24),
    "mamba2-370m": (1024, 48),
    "mamba2-780m": (1536, 48),
    "mamba2-1.3b": (2048, 48),
    "mamba2-2.7b": (2560, 64),
}


def official_config(name: str, **overrides: Any) -> Mamba2Config:
    """Config of an official ``state-spaces`` model (no weights), e.g. ``official_config("mamba2-370m")``."""
    if name not in OFFICIAL_SHAPES:
        raise KeyError(f"unknown Mamba-2 preset {name!r}; choose one of {', '.join(OFFICIAL_SHAPES)}")
    d_model, n_layers = OFFICIAL_SHAPES[name]
    return Mamba2Config(**{"d_model": d_model, "n_layers": n_layers, "vocab_size": 50277, **overrides})


def tiny_config(**overrides: Any) -> Mamba2Config:
    """A 2-layer, d_model 32 model (4 heads of 16, d_state 8, chunk 16) for CPU tests; fields overridable."""
    base: dict[str, Any] = {
        "d_model": 32,
        "n_layers": 2,
        "vocab_size": 97,
        "d_state": 8,
        "headdim": 16,
        "chunk_size": 16,
        "pad_vocab_size_multiple": 8,
    }
    base.update(overrides)
    return Mamba2Config(**base)
