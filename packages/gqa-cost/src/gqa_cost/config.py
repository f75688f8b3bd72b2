"""Architecture description used by the cost model, and the ways to get one.

An :class:`ArchConfig` holds exactly the numbers the formulas of the paper need (L, d, n_h, n_kv, d_h,
d_ff, V, FFN matrix count, tied embeddings). It can come from a named preset, an HF ``config.json``
(Llama / Qwen2 / Mistral style, ``head_dim`` decoupled), an lc-core ``GQAConfig`` or CLI flags.
Fields are floats on purpose: the search (``gqa_cost.search``) costs real-valued shapes, as the paper
does in its Appendix B.1; :meth:`ArchConfig.validate` with ``integral=True`` checks a buildable model.

Example::

    from gqa_cost.config import get_preset, from_hf_config
    cfg = get_preset("llama-3.2-1b")
    cfg = from_hf_config("path/to/config.json")
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_core.io import DataError, read_json_object

__all__ = [
    "ArchConfig",
    "PAPER_VOCAB",
    "PAPER_HEAD_DIM",
    "TABLE9_LADDER",
    "TABLE7_LADDER",
    "PRESETS",
    "get_preset",
    "preset_names",
    "paper_config",
    "from_hf_config",
    "from_gqa_config",
    "load_config",
]

# GPT-2 tokenizer padded to a multiple of 64 (paper §1 notation) and the fixed head size.
PAPER_VOCAB = 50_304
PAPER_HEAD_DIM = 64

# (label, L, d) of the MHA scaling ladder, paper Table 9 (<= 1.2B).
TABLE9_LADDER: tuple[tuple[str, int, int], ...] = (
    ("3M", 4, 256),
    ("19M", 6, 512),
    ("85M", 12, 768),
    ("150M", 12, 1024),
    ("200M", 16, 1024),
    ("470M", 24, 1280),
    ("680M", 24, 1536),
    ("1.2B", 36, 1536),
)

# (label, L, d) of the larger predefined shapes, paper Table 7 (1.2B is shared with Table 9).
TABLE7_LADDER: tuple[tuple[str, int, int], ...] = (
    ("1.8B", 36, 2048),
    ("4B", 48, 2560),
    ("6B", 54, 3072),
    ("13B", 64, 4096),
    ("33B", 72, 6144),
    ("64B", 80, 8192),
)


@dataclass(kw_only=True)
class ArchConfig:
    """A decoder-only GQA transformer as seen by the cost formulas.

    Attributes:
        n_layers: L.
        d_model: d, the residual width.
        n_heads: n_h, query heads.
        n_kv_heads: n_kv, key/value heads (groups); must divide ``n_heads`` for a buildable model.
        head_dim: d_h, decoupled from ``d_model / n_heads`` as in the paper.
        d_ff: FFN inner width; ``None`` means ``int(8 * d / 3)`` (the official code's rule).
        vocab_size: V.
        ffn_matrices: 3 for a gated FFN (SwiGLU: gate, up, down), 2 for a plain one.
        tied: input and output embeddings share one matrix (counted once in N).
        attention_bias: Q/K/V projections carry biases (Qwen2 style); biases are parameters but no matmul FLOPs.
        attention_out_bias: the output projection carries a bias (Llama's ``attention_bias`` sets both).
        name: a label carried into reports.
    """

    n_layers: float
    d_model: float
    n_heads: float
    n_kv_heads: float
    head_dim: float = PAPER_HEAD_DIM
    d_ff: float | None = None
    vocab_size: int = PAPER_VOCAB
    ffn_matrices: int = 3
    tied: bool = True
    attention_bias: bool = False
    attention_out_bias: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if self.d_ff is None:
            self.d_ff = float(int(8 * self.d_model / 3))
        self.validate()

    @property
    def ffn_dim(self) -> float:
        """d_ff as a number (never ``None`` after construction)."""
        assert self.d_ff is not None
        return float(self.d_ff)

    @property
    def group_size(self) -> float:
        """Query heads per KV head, n_h / n_kv."""
        return self.n_heads / self.n_kv_heads

    def validate(self, *, integral: bool = False) -> None:
        """Raise ``ValueError`` naming the field when the shape is impossible.

        Args:
            integral: also require integer sizes and ``n_kv_heads`` dividing ``n_heads`` (a model that can be built).
        """
        where = f" in config {self.name!r}" if self.name else ""
        for field in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff", "vocab_size"):
            value = getattr(self, field)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{field} must be a positive number{where}, got {value!r}")
        if self.ffn_matrices not in (2, 3):
            raise ValueError(f"ffn_matrices must be 2 (plain FFN) or 3 (gated FFN){where}, got {self.ffn_matrices!r}")
        if self.n_kv_heads > self.n_heads:
            raise ValueError(f"n_kv_heads ({self.n_kv_heads:g}) must not exceed n_heads ({self.n_heads:g}){where}")
        ratio = self.n_heads / self.n_kv_heads
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(f"n_heads ({self.n_heads:g}) must be divisible by n_kv_heads ({self.n_kv_heads:g}){where}")
        if integral:
            for field in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff"):
                value = getattr(self, field)
                if float(value) != int(value):
                    raise ValueError(f"{field} must be an integer for a buildable model{where}, got {value!r}")

    def replace(self, **changes: Any) -> ArchConfig:
        """A copy with ``changes`` applied (``d_ff`` is re-derived if ``d_model`` changes and ``d_ff`` is not given)."""
        if "d_model" in changes and "d_ff" not in changes:
            changes["d_ff"] = None
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready), floats that are integral written as ints."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out[f.name] = value
        return out


def paper_config(
    n_layers: float, d_model: float, n_heads: float, n_kv_heads: float, *, name: str = "", **kw: Any
) -> ArchConfig:
    """A config following the paper's recipe: d_h 64, SwiGLU, d_ff = int(8d/3), V 50,304, tied embeddings."""
    return ArchConfig(n_layers=n_layers, d_model=d_model, n_heads=n_heads, n_kv_heads=n_kv_heads, name=name, **kw)


def _llama(name: str, L: int, d: int, n_h: int, n_kv: int, d_h: int, d_ff: int, tied: bool) -> ArchConfig:
    return ArchConfig(
        n_layers=L, d_model=d, n_heads=n_h, n_kv_heads=n_kv, head_dim=d_h, d_ff=d_ff, vocab_size=128_256, tied=tied, name=name
    )


def _build_presets() -> dict[str, ArchConfig]:
    presets = {
        # published config.json values of the Meta models
        "llama-3.2-1b": _llama("llama-3.2-1b", 16, 2048, 32, 8, 64, 8192, True),
        "llama-3.2-3b": _llama("llama-3.2-3b", 28, 3072, 24, 8, 128, 8192, True),
        "llama-3.1-8b": _llama("llama-3.1-8b", 32, 4096, 32, 8, 128, 14336, False),
        # the two models of the paper's downstream experiment (§5.5, Table 5)
        "paper-llama3-gqa-1.2b": paper_config(36, 1536, 32, 8, name="paper-llama3-gqa-1.2b"),
        "paper-ours-1.8b": paper_config(36, 2048, 8, 1, name="paper-ours-1.8b"),
    }
    for label, L, d in TABLE9_LADDER + TABLE7_LADDER:
        key = f"paper-{label.lower()}"
        presets[key] = paper_config(L, d, d // PAPER_HEAD_DIM, d // PAPER_HEAD_DIM, name=key)
    return presets


PRESETS: dict[str, ArchConfig] = _build_presets()


def preset_names() -> list[str]:
    """Names accepted by :func:`get_preset`."""
    return sorted(PRESETS)


def get_preset(name: str, **overrides: Any) -> ArchConfig:
    """A named preset (case-insensitive), optionally with fields overridden.

    Presets: ``llama-3.2-1b``, ``llama-3.2-3b``, ``llama-3.1-8b``, the paper's MHA ladder ``paper-3m`` …
    ``paper-64b`` (Tables 9 and 7) and the Table 5 pair ``paper-llama3-gqa-1.2b`` / ``paper-ours-1.8b``.
    """
    key = name.lower()
    if key not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    cfg = dataclasses.replace(PRESETS[key])
    return cfg.replace(**overrides) if overrides else cfg


def _hf_get(cfg: Mapping[str, Any], names: tuple[str, ...], path: Path | None, *, default: Any = ...) -> Any:
    for n in names:
        if n in cfg and cfg[n] is not None:
            return cfg[n]
    if default is not ...:
        return default
    raise DataError(
        f"missing required field (also looked for {', '.join(names[1:]) or 'no alias'})", path=path, field=names[0]
    )


def from_hf_config(source: str | os.PathLike[str] | Mapping[str, Any], *, name: str | None = None) -> ArchConfig:
    """Read an HF ``config.json`` (Llama, Qwen2, Mistral, lc-core ``lc-gqa``; GPT-style key names too).

    Args:
        source: a path to ``config.json`` (or to the folder holding it) or the parsed dict.
        name: label for reports (default: the folder name or ``model_type``).

    Raises:
        DataError: a required key is missing or a value is not a positive number; the message names the file and key.
    """
    path: Path | None = None
    if isinstance(source, Mapping):
        raw = dict(source)
    else:
        path = Path(source)
        if path.is_dir():
            path = path / "config.json"
        raw = read_json_object(path, what="config.json")
    n_layers = _hf_get(raw, ("num_hidden_layers", "n_layers", "n_layer"), path)
    d_model = _hf_get(raw, ("hidden_size", "d_model", "n_embd"), path)
    n_heads = _hf_get(raw, ("num_attention_heads", "n_heads", "n_head"), path)
    n_kv = _hf_get(raw, ("num_key_value_heads", "n_kv_heads", "n_kv_head"), path, default=n_heads)
    head_dim = _hf_get(raw, ("head_dim", "dim_k"), path, default=None)
    d_ff = _hf_get(raw, ("intermediate_size", "d_ff", "ffn_d_mid"), path, default=None)
    vocab = _hf_get(raw, ("vocab_size",), path)
    for field, value in (
        ("num_hidden_layers", n_layers),
        ("hidden_size", d_model),
        ("num_attention_heads", n_heads),
        ("num_key_value_heads", n_kv),
        ("vocab_size", vocab),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise DataError(f"expected a positive integer, got {value!r}", path=path, field=field)
    if head_dim is None:
        head_dim = d_model // n_heads
    model_type = str(raw.get("model_type", ""))
    gated = raw.get("ffn_type", "gated") == "gated" and raw.get("ffn_is_gated", True) not in (False, 0)
    # HF's Llama/Qwen2/Mistral default to untied embeddings when the key is absent
    tied = bool(raw.get("tie_word_embeddings", raw.get("tie_emb", False)))
    label = name or (path.parent.name if path is not None else model_type) or "hf-config"
    try:
        return ArchConfig(
            n_layers=n_layers,
            d_model=d_model,
            n_heads=n_heads,
            n_kv_heads=n_kv,
            head_dim=head_dim,
            d_ff=d_ff,
            vocab_size=vocab,
            ffn_matrices=3 if gated else 2,
            tied=tied,
            attention_bias=bool(raw.get("attention_bias", model_type == "qwen2")),
            attention_out_bias=bool(raw.get("attention_out_bias", model_type != "qwen2" and raw.get("attention_bias", False))),
            name=label,
        )
    except ValueError as e:
        raise DataError(str(e), path=path) from None


def from_gqa_config(cfg: Any, *, name: str = "lc-gqa") -> ArchConfig:
    """Convert an lc-core ``GQAConfig`` (or any object with its field names) to an :class:`ArchConfig`."""
    return ArchConfig(
        n_layers=cfg.n_layers,
        d_model=cfg.d_model,
        n_heads=cfg.n_heads,
        n_kv_heads=cfg.n_kv_heads,
        head_dim=cfg.head_dim,
        d_ff=cfg.d_ff,
        vocab_size=cfg.vocab_size,
        ffn_matrices=3 if getattr(cfg, "ffn_type", "gated") == "gated" else 2,
        tied=bool(getattr(cfg, "tie_word_embeddings", True)),
        attention_bias=bool(getattr(cfg, "attention_bias", False)),
        attention_out_bias=bool(getattr(cfg, "attention_out_bias", False)),
        name=name,
    )


def load_config(spec: str) -> ArchConfig:
    """A preset name, a ``config.json`` path or a folder holding one."""
    if spec.lower() in PRESETS:
        return get_preset(spec)
    p = Path(spec)
    if p.exists():
        return from_hf_config(p)
    raise KeyError(f"unknown model {spec!r}: neither a preset ({', '.join(preset_names())}) nor an existing config path")
