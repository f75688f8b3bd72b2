"""Long prompts for the diagnostics and loss curves: ``newlines``, ``capital``, or a text file, repeated to length.

Stuffed Mamba's analysis used a prompt of newlines and a "capital of France" prompt repeated to the target length
(``haystack`` is the passkey filler line);
any UTF-8 text file works too (it is repeated when shorter than the requested length).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["PROMPTS", "prompt_text", "repeat_tokens"]

PROMPTS: dict[str, str] = {
    "newlines": "\n" * 64,
    "capital": "The capital of France is Paris. The capital of Germany is Berlin. The capital of Italy is Rome.\n",
    # the passkey haystack line: in-distribution text for lc-core/demo-mamba2 (trained on passkey prompts)
    "haystack": "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n",
}


def prompt_text(name_or_path: str) -> str:
    """The text of a named prompt or of a UTF-8 file (a missing file is a ``FileNotFoundError`` naming it)."""
    if name_or_path in PROMPTS:
        return PROMPTS[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"prompt {name_or_path!r}: not one of {sorted(PROMPTS)} and no such file")
    text = path.read_text(encoding="utf-8")
    if not text:
        raise ValueError(f"{path}: empty prompt file")
    return text


def repeat_tokens(ids: Sequence[int], length: int) -> Iterator[int]:
    """``ids`` repeated and cut to ``length`` tokens, lazily (no list of ``length`` ints is built)."""
    if not ids:
        raise ValueError("cannot repeat an empty token list")
    return itertools.islice(itertools.cycle(ids), length)


def encode_prompt(name_or_path: str, encode: Callable[[str], list[int]], length: int) -> Iterator[int]:
    """Tokens of a named prompt or file, repeated to ``length``."""
    return repeat_tokens(encode(prompt_text(name_or_path)), length)
