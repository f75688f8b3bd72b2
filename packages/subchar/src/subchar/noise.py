"""Homophone (same pinyin + tone) and homograph (same Wubi code) typos, for robustness checks.

Each eligible character -- one whose NoIndex code is shared with another candidate character -- is replaced with
probability ``ratio`` by a different candidate with the same NoIndex code, chosen uniformly with a seeded RNG (the
original's ``make_noise.py`` setting: phonetic noise ``phonetic_{0..50}`` and glyph noise by Wubi code). So a
NoIndex tokenizer sees identical code text before and after the noise, by construction.

Candidates are characters with a non-zero jieba frequency (common characters): a typo by an input method picks a
common character, not a rare extension-block one.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from subchar.tables import load_table, strip_index

__all__ = ["NoiseResult", "make_noise", "noise_groups"]


@dataclass(frozen=True)
class NoiseResult:
    """A noisy text and how much noise it got."""

    text: str
    eligible: int
    replaced: int

    @property
    def rate(self) -> float:
        """Replaced share of the eligible characters."""
        return self.replaced / self.eligible if self.eligible else 0.0


@functools.lru_cache(maxsize=8)
def noise_groups(table: str = "pinyin") -> dict[str, tuple[str, ...]]:
    """character -> the other candidate characters sharing its NoIndex code (only characters with some)."""
    t = load_table(table)
    by_code: dict[str, list[str]] = {}
    for ch, codes in t.codes.items():
        if t.freq.get(ch, 0) > 0:
            by_code.setdefault(strip_index(codes[0]), []).append(ch)
    out: dict[str, tuple[str, ...]] = {}
    for members in by_code.values():
        if len(members) < 2:
            continue
        members.sort(key=ord)
        for ch in members:
            out[ch] = tuple(m for m in members if m != ch)
    return out


def make_noise(text: str, ratio: float, *, kind: str = "pinyin", seed: int = 2021) -> NoiseResult:
    """Replace a ``ratio`` share of the eligible characters of ``text`` by same-code characters.

    Args:
        text: input text.
        ratio: replacement probability per eligible character, in [0, 1].
        kind: ``pinyin`` (homophones with the same tone), ``wubi`` (same Wubi code) or any shipped table name.
        seed: RNG seed (the original used 2021).
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    groups = noise_groups(kind)
    rng = random.Random(seed)
    out = []
    eligible = replaced = 0
    for ch in text:
        alts = groups.get(ch)
        if alts is None:
            out.append(ch)
            continue
        eligible += 1
        if rng.random() < ratio:
            out.append(rng.choice(alts))
            replaced += 1
        else:
            out.append(ch)
    return NoiseResult("".join(out), eligible, replaced)
