"""Tokenizers for sizing and truncation, and ∞Bench middle truncation. Torch-free.

``get_tokenizer("byte")`` is the offline default (UTF-8 bytes, ByT5-compatible ids, from lc-core); a path
to a ``tokenizer.json`` or to a model folder containing one uses the fast ``tokenizers`` library; any
other model folder or hub id falls back to ``transformers.AutoTokenizer`` (needs ``infbench[hf]``)::

    from infbench.tokenization import get_tokenizer, truncate_middle

    tok = get_tokenizer("byte")
    truncate_middle(list(range(10)), 4)  # [0, 1, 8, 9]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["TokenizerLike", "get_tokenizer", "truncate_middle", "truncate_text", "byte_tokenizer", "FastTokenizer"]

T = TypeVar("T")


@runtime_checkable
class TokenizerLike(Protocol):
    """What sizing and truncation need: ``encode`` (no special tokens) and ``decode``."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


def byte_tokenizer() -> TokenizerLike:
    """The byte tokenizer of lc-core (ids = byte + 3, ByT5-compatible)."""
    from lc_core.tokenizers import ByteTokenizer

    return ByteTokenizer()


class FastTokenizer:
    """A ``tokenizers.Tokenizer`` (``tokenizer.json``) behind ``encode``/``decode`` without special tokens."""

    def __init__(self, path: str | os.PathLike[str]):
        from tokenizers import Tokenizer

        self.path = str(path)
        self._tok = Tokenizer.from_file(self.path)

    def __repr__(self) -> str:
        return f"FastTokenizer({self.path!r})"

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=True)


class _HFTokenizer:
    def __init__(self, name: str):
        try:
            from transformers import AutoTokenizer
        except ImportError as e:  # pragma: no cover - depends on the extra
            raise ImportError(f"tokenizer {name!r} needs transformers: pip install 'infbench[hf]'") from e
        self.name = name
        self._tok = AutoTokenizer.from_pretrained(name)

    def __repr__(self) -> str:
        return f"AutoTokenizer({self.name!r})"

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=True)


def get_tokenizer(spec: str | Any | None = "byte") -> TokenizerLike:
    """Resolve a tokenizer.

    Args:
        spec: ``"byte"`` / ``None``; a ``tokenizer.json`` path; a folder with ``tokenizer.json``; a
            built-in lc-core model name; an HF model folder or id; or an object that already has
            ``encode``/``decode`` (a :class:`lc_core.inference.Backend` works).
    """
    if spec is None or spec == "byte":
        return byte_tokenizer()
    if not isinstance(spec, str):
        if hasattr(spec, "encode") and hasattr(spec, "decode"):
            return spec
        raise TypeError(f"not a tokenizer: {spec!r}")
    from lc_core.models.builtin import is_builtin, resolve_model_path

    if is_builtin(spec):
        spec = resolve_model_path(spec)
    p = Path(spec)
    if p.is_file() and p.suffix == ".json":
        return FastTokenizer(p)
    if p.is_dir() and (p / "tokenizer.json").is_file():
        return FastTokenizer(p / "tokenizer.json")
    if p.is_dir() and not any(p.glob("tokenizer*")) and (p / "config.json").is_file():
        # byte-level models (ByT5-style demo models) ship no tokenizer files
        return byte_tokenizer()
    return _HFTokenizer(spec)


def truncate_middle(tokens: Sequence[T], max_length: int, *, variant: str = "legacy") -> list[T]:
    """Drop the middle of ``tokens`` so the head and tail survive.

    Args:
        tokens: token ids (any sequence).
        max_length: the budget ``L``.
        variant: ``"legacy"`` keeps ``L//2`` head and ``ceil(L/2)`` tail tokens (``eval_utils``, total L);
            ``"runner"`` keeps ``L//2`` on both sides (the original runners; L-1 for odd L).

    Returns:
        The tokens unchanged when ``len(tokens) <= L``.
    """
    if max_length < 0:
        raise ValueError(f"max_length must be >= 0, got {max_length}")
    if variant not in ("legacy", "runner"):
        raise ValueError(f"variant must be 'legacy' or 'runner', got {variant!r}")
    tokens = list(tokens)
    if len(tokens) <= max_length:
        return tokens
    head = max_length // 2
    tail = max_length - head if variant == "legacy" else head
    return tokens[:head] + (tokens[len(tokens) - tail :] if tail else [])


def truncate_text(text: str, tokenizer: TokenizerLike, max_length: int, *, variant: str = "legacy") -> tuple[str, int, bool]:
    """Middle-truncate ``text`` to ``max_length`` tokens of ``tokenizer``.

    Returns:
        ``(text, n_tokens_before, truncated)``; the text is decoded from the kept head and tail tokens.
    """
    ids = tokenizer.encode(text)
    if len(ids) <= max_length:
        return text, len(ids), False
    # decoded as one id list, as the original does
    return tokenizer.decode(truncate_middle(ids, max_length, variant=variant)), len(ids), True
