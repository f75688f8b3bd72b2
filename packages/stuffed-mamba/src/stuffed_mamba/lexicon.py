"""Lexicon text: synthetic documents whose loss depends on long memory, for the capacity sweep.

Each document draws its own lexicon of ``lexicon_size`` random lowercase words (``word_min``–``word_max`` letters)
and is a stream of words sampled uniformly from it, separated by spaces. The first letter of a word is a choice
among the lexicon (unpredictable beyond ``log K``); every later letter of a word that already occurred in the
document is *recallable*: determined by the document's own history (a model that remembers the lexicon predicts it,
one that does not pays ~``log 26``). With ``drift > 0`` every emitted word is, with that probability, first replaced
in the lexicon by a fresh random word, so old memories go stale and a model gains by forgetting them.

Unlike the passkey haystack (a fixed line the weights memorise), the text changes per document, so a model can only
lower its loss by carrying the lexicon in its state: the per-token loss then shows both whether memory was learned
(recallable vs fresh letters) and whether it breaks past the trained length (state collapse).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["LexiconSpec", "lexicon_text", "lexicon_windows"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, kw_only=True)
class LexiconSpec:
    """Shape of a lexicon document.

    Args:
        lexicon_size: words per document lexicon ``K``.
        word_min: shortest word (letters).
        word_max: longest word (letters).
        drift: probability, per emitted word, that a random lexicon entry is first replaced by a fresh word.
    """

    lexicon_size: int = 24
    word_min: int = 3
    word_max: int = 6
    drift: float = 0.0

    def __post_init__(self) -> None:
        if self.lexicon_size < 1:
            raise ValueError(f"lexicon_size must be >= 1, got {self.lexicon_size}")
        if not 1 <= self.word_min <= self.word_max:
            raise ValueError(f"need 1 <= word_min <= word_max, got {self.word_min}, {self.word_max}")
        if not 0.0 <= self.drift <= 1.0:
            raise ValueError(f"drift must be in [0, 1], got {self.drift}")


def lexicon_text(n_chars: int, spec: LexiconSpec, *, seed: int = 0) -> tuple[str, np.ndarray]:
    """One lexicon document of exactly ``n_chars`` ASCII characters.

    Returns:
        ``(text, recallable)``: ``recallable`` is a bool array ``[n_chars]``, True on every letter after the first of
        a word occurrence whose word was already emitted earlier in this document (the characters memory can
        predict); False on first letters, spaces and letters of a word's first occurrence.
    """
    if n_chars < 0:
        raise ValueError(f"n_chars must be >= 0, got {n_chars}")
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(_LETTERS) for _ in range(rng.randint(spec.word_min, spec.word_max)))

    lexicon = [word() for _ in range(spec.lexicon_size)]
    seen: set[str] = set()
    parts: list[str] = []
    mask: list[bool] = []
    size = 0
    while size < n_chars:
        if spec.drift and rng.random() < spec.drift:
            lexicon[rng.randrange(len(lexicon))] = word()
        w = lexicon[rng.randrange(len(lexicon))]
        again = w in seen
        seen.add(w)
        piece = w + " "
        parts.append(piece)
        mask.extend([False] + [again] * (len(w) - 1) + [False])
        size += len(piece)
    return "".join(parts)[:n_chars], np.asarray(mask[:n_chars], dtype=bool)


def lexicon_windows(
    windows: int, seq_len: int, spec: LexiconSpec, encode: Callable[[str], list[int]], *, seed: int = 0
) -> np.ndarray:
    """A token stream of ``windows`` windows of ``seq_len + 1`` tokens, each a fresh lexicon document (for
    :class:`lc_core.train.PackedDataset`; every window is trained from a zero state, so the model only ever sees
    contexts of ``seq_len`` tokens). ``encode`` must map one ASCII character to one token (byte tokenizers).

    Returns:
        int64 array ``[windows · (seq_len + 1)]``.
    """
    width = seq_len + 1
    out = np.empty(windows * width, dtype=np.int64)
    for w in range(windows):
        text, _ = lexicon_text(width, spec, seed=seed * 1_000_003 + w)
        ids = encode(text)
        if len(ids) != width:
            raise ValueError(f"encode must give one token per character, got {len(ids)} for {width} characters")
        out[w * width : (w + 1) * width] = ids
    return out
