"""Pinyin tables the noise simulators draw from, built once from pypinyin and jieba's dictionary and cached.

- candidate characters: GB2312 (6,763 common characters) listed under every reading pypinyin gives them (an IME
  offers 了 for both ``le`` and ``liao``), ranked by jieba's single-character frequency;
- candidate words: jieba dictionary words of 2-4 such characters (frequency >= 20), keyed by their toneless and their
  toned reading (pypinyin's phrase table, else each character's default reading) and ranked by frequency, the way
  an IME ranks its candidate list;
- syllables are ``TONE3`` strings (``hua1``; neutral tone ``5``; ü written ``v``).

The original text's reading is context-aware (:func:`word_pinyin`, ``lazy_pinyin`` per jieba word, cached).
"""

from __future__ import annotations

import functools
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from lc_core.logging import get_logger

__all__ = [
    "Tables",
    "get_tables",
    "to_tone3",
    "word_pinyin",
    "split_syllable",
    "toneless",
    "tone_of",
    "is_han",
    "INITIALS",
    "segment",
]

logger = get_logger(__name__)

INITIALS = (
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)
#: interjection-only syllables that no IME user types for a real word
_EXCLUDED = {"n", "ng", "m", "hm", "hng", "ê", "r"}
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def is_han(text: str) -> bool:
    """Whether ``text`` is non-empty and made only of CJK unified ideographs (U+4E00-9FFF)."""
    return bool(_HAN.match(text))


def toneless(syl: str) -> str:
    """``hua1`` -> ``hua``."""
    return syl.rstrip("12345")


def tone_of(syl: str) -> int:
    """``hua1`` -> 1 (neutral tone: 5)."""
    return int(syl[-1]) if syl and syl[-1].isdigit() else 5


def split_syllable(syl: str) -> tuple[str, str]:
    """Toneless syllable -> (initial, final); ``an`` -> ("", "an")."""
    for ini in INITIALS:
        if syl.startswith(ini) and len(syl) > len(ini):
            return ini, syl[len(ini) :]
    return "", syl


@functools.lru_cache(maxsize=200_000)
def word_pinyin(word: str) -> tuple[str, ...]:
    """Context-aware ``TONE3`` syllables of a Chinese word (pypinyin phrase data), one per character."""
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
    if len(out) != len(word):  # pypinyin returned a non-Chinese chunk; keep characters aligned
        return tuple(lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0] for ch in word)
    return tuple(out)


def _gb2312_chars() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes([hi, lo]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if is_han(ch):
                chars.append(ch)
    return chars


_MARKS = {}
for _base, _marked in (("a", "āáǎà"), ("e", "ēéěè"), ("i", "īíǐì"), ("o", "ōóǒò"), ("u", "ūúǔù"), ("v", "ǖǘǚǜ")):
    for _tone, _ch in enumerate(_marked, start=1):
        _MARKS[_ch] = (_base, _tone)
_MARKS["ü"] = ("v", 0)


def to_tone3(marked: str) -> str:
    """``zhōng`` -> ``zhong1``, ``lǜ`` -> ``lv4``, ``ma`` -> ``ma5`` (pypinyin's tone-mark data to TONE3)."""
    tone, out = 5, []
    for ch in marked:
        base, t = _MARKS.get(ch, (ch, 0))
        out.append(base)
        if t:
            tone = t
    return "".join(out).replace("ḿ", "m").replace("ń", "n").replace("ň", "n").replace("ǹ", "n") + str(tone)


@dataclass
class Tables:
    """Candidate characters and words by syllable (see the module docstring)."""

    readings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # char -> TONE3 readings, default first
    freq: dict[str, int] = field(default_factory=dict)
    by_toneless: dict[str, list[str]] = field(default_factory=dict)
    by_tone3: dict[str, list[str]] = field(default_factory=dict)
    words_toneless: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    words_tone3: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    syllables: frozenset[str] = frozenset()

    def top(self, items: list[str] | None, exclude: str, k: int) -> list[str]:
        """The first ``k`` candidates other than ``exclude``."""
        if not items:
            return []
        out = []
        for x in items:
            if x != exclude:
                out.append(x)
                if len(out) == k:
                    break
        return out

    def can_read(self, text: str, syllables: Sequence[str], *, tones: bool = True) -> bool:
        """Whether each character of ``text`` has the matching syllable among its readings."""
        if len(text) != len(syllables):
            return False
        for ch, syl in zip(text, syllables):
            have = self.readings.get(ch, ())
            if tones and syl not in have:
                return False
            if not tones and toneless(syl) not in {toneless(r) for r in have}:
                return False
        return True


def _jieba_dict() -> str:
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:  # pragma: no cover - jieba is a dependency
        raise ImportError("readin needs jieba: pip install jieba")
    return os.path.join(os.path.dirname(spec.origin), "dict.txt")


@functools.lru_cache(maxsize=1)
def get_tables(min_word_freq: int = 20, min_char_freq: int = 50) -> Tables:
    """Build (once per process) the candidate tables from pypinyin's data and jieba's dictionary (< 1 s)."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    t = Tables()
    words: list[tuple[str, int]] = []
    with open(_jieba_dict(), encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            w, n = parts[0], int(parts[1])
            if len(w) == 1:
                t.freq[w] = max(t.freq.get(w, 0), n)
            elif 2 <= len(w) <= 4 and n >= min_word_freq:
                words.append((w, n))
    for ch in _gb2312_chars():
        marked = pinyin_dict.get(ord(ch), "")
        readings = tuple(dict.fromkeys(to_tone3(m) for m in marked.split(",") if m))
        readings = tuple(r for r in readings if toneless(r) not in _EXCLUDED)
        if readings:
            t.readings[ch] = readings
    by_tl: dict[str, list[str]] = defaultdict(list)
    by_t3: dict[str, list[str]] = defaultdict(list)
    for ch, readings in t.readings.items():
        if t.freq.get(ch, 0) < min_char_freq:
            continue  # neither an IME's first page nor an ASR decoder offers rare characters
        for syl in readings:
            by_t3[syl].append(ch)
        for syl in dict.fromkeys(toneless(r) for r in readings):
            by_tl[syl].append(ch)
    # characters read this way by default first (占 is listed under tie, but nobody types tie for it), then frequency
    t.by_toneless = {
        k: sorted(v, key=lambda ch, k=k: (toneless(t.readings[ch][0]) != k, -t.freq.get(ch, 0), ch)) for k, v in by_tl.items()
    }
    t.by_tone3 = {k: sorted(v, key=lambda ch, k=k: (t.readings[ch][0] != k, -t.freq.get(ch, 0), ch)) for k, v in by_t3.items()}
    t.syllables = frozenset(t.by_toneless)
    w_tl: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
    w_t3: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
    readings = t.readings
    for w, n in words:
        if any(ch not in readings for ch in w):
            continue
        phrase = phrases_dict.get(w)
        if phrase is not None and len(phrase) == len(w):
            key = tuple(to_tone3(p[0]) for p in phrase)
        else:
            key = tuple(readings[ch][0] for ch in w)
        w_t3[key].append((-n, w))
        w_tl[tuple(toneless(s) for s in key)].append((-n, w))
    t.words_toneless = {k: [w for _, w in sorted(v)] for k, v in w_tl.items()}
    t.words_tone3 = {k: [w for _, w in sorted(v)] for k, v in w_t3.items()}
    logger.debug("pinyin tables: %d chars, %d word keys", len(t.readings), len(t.words_tone3))
    return t


def segment(letters: str, syllables: frozenset[str]) -> list[str] | None:
    """Split a toneless letter string into valid syllables (fewest syllables; None if impossible)."""
    n = len(letters)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        cur = best[i]
        if cur is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            piece = letters[i:j]
            if piece in syllables:
                cand = cur + [piece]
                if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = cand
    return best[n]
