"""The fixed symbols of the transliteration: separator, shifted ASCII, escape, tone marks, folded punctuation.

Every mapped character's code is followed by :data:`SEP`. Characters that could be mistaken for code symbols are
moved out of the way so that the encoded text stays decodable:

- ASCII digits and lowercase letters are shifted by +50000 into the Hangul block (U+C380–U+C389, U+C3B1–U+C3CA),
  exactly as the original, so they never collide with the ASCII code letters and digits.
- Uppercase letters (which the original lowercased) go to U+C3D1–U+C3EA, so case survives.
- ASCII whitespace (which the original deleted) is shifted by +50000 as well (space -> U+C370), so it survives and
  SentencePiece never sees a space it would treat as a word boundary.
- An input character that is itself a reserved symbol (SEP, a shifted code point, a non-ASCII code symbol such as a
  tone mark or a bopomofo letter) is written as :data:`ESC` + the character.
"""

from __future__ import annotations

__all__ = [
    "SHIFT",
    "SEP",
    "ESC",
    "UPPER_BASE",
    "WHITESPACE",
    "TONE_MARKS",
    "TONE_OF_MARK",
    "FULLWIDTH_FOLD",
    "BYTE_BASE",
    "shift_char",
    "shifted_ascii",
]

SHIFT = 50000
# chr(ord('_') + 50000): the original's separator, kept so pieces look the same (쎯)
SEP = chr(ord("_") + SHIFT)
# chr(ord('^') + 50000): free in the shifted range, next to SEP
ESC = chr(ord("^") + SHIFT)
# 'A' -> U+C3D1 (the shifted lowercase range + 0x20): clear of shifted digits, letters, whitespace, SEP and ESC
UPPER_BASE = 0xC3D1
# the ASCII whitespace characters the encoder shifts instead of deleting
WHITESPACE = "\t\n\x0b\x0c\r "

# the original's tone symbols (U+2741-U+2745): tone 1-4 and the neutral tone
TONE_MARKS = {"1": "❁", "2": "❂", "3": "❃", "4": "❄", "5": "❅"}
TONE_OF_MARK = {v: k for k, v in TONE_MARKS.items()}

# the original's 24 full-width characters folded to ASCII (CH2EN_PUNC), applied only with fold_punctuation
FULLWIDTH_FOLD = dict(zip("，。！？【】（）％＃＠＆１２３４５６７８９０；：", ",.!?[]()%#@&1234567890;:", strict=True))

# the byte ablation writes UTF-8 byte b as chr(BYTE_BASE + b): the 256 Braille patterns, rare in real text
BYTE_BASE = 0x2800


def shift_char(ch: str) -> str | None:
    """Where the encoder moves an ASCII character (None: the character is not shifted)."""
    o = ord(ch)
    if "0" <= ch <= "9" or "a" <= ch <= "z" or ch in WHITESPACE:
        return chr(o + SHIFT)
    if "A" <= ch <= "Z":
        return chr(UPPER_BASE + o - ord("A"))
    return None


def shifted_ascii() -> dict[str, str]:
    """Every shifted ASCII character: ASCII -> its shifted symbol."""
    out = {}
    for o in range(128):
        s = shift_char(chr(o))
        if s is not None:
            out[chr(o)] = s
    return out
