"""The one transliteration function (corpus building and inference both call :meth:`Encoder.encode`) and its inverse.

``encode`` is a single ``str.translate`` over a precomputed table (code point -> code + SEP, shifted ASCII, escapes),
so it runs in C, not in a per-character Python loop. ``decode`` inverts it exactly for indexed encodings:

    >>> enc = Encoder(EncoderConfig(encoding="pinyin"))
    >>> enc.decode(enc.encode("Hello 世界，2023年!")) == "Hello 世界，2023年!"
    True

With the ``legacy`` normalisation (the original's behaviour: lowercase, whitespace deleted, 24 full-width characters
folded to ASCII) ``decode(encode(x)) == normalize(x)``. NoIndex variants drop the digits of every code, so homophones
(pinyin) or same-code glyphs (wubi) become identical; their decoder picks the most frequent character for a code and
is therefore lossy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from subchar.symbols import ESC, FULLWIDTH_FOLD, SEP, TONE_OF_MARK, shift_char, shifted_ascii
from subchar.tables import TABLE_NAMES, TONAL, Table, load_table, strip_index, strip_tone

__all__ = ["EncoderConfig", "Encoder", "DecodeError", "get_encoder", "ENCODINGS"]

ENCODINGS = ("pinyin", "zhuyin", "wubi", "cangjie", "stroke", "byte", "random_index")
# whitespace in SentencePiece pieces: a raw space (word boundaries of the CWS variant) and its meta symbol
_BOUNDARY = " ▁"


class DecodeError(ValueError):
    """Encoded text that no input could have produced (an unknown code, a code without its separator…)."""


@dataclass(kw_only=True, frozen=True)
class EncoderConfig:
    """How text becomes sub-character code text.

    Args:
        encoding: pinyin, zhuyin, wubi, cangjie, stroke, byte or random_index (or a user table's name with
            ``table=`` given to the encoder).
        index: keep the disambiguation index (lossless); False is the NoIndex variant (homophones collide; lossy).
        tone: keep tone symbols (pinyin/zhuyin); False needs index=False (the toneless variant, lossy).
        heteronyms: context-aware pinyin readings (pypinyin's phrase dictionary picks the reading per word; pinyin
            only; slower, a Python path).
        lowercase: lowercase the text first (the original did; lossy).
        keep_whitespace: keep whitespace as shifted symbols (False: delete it, as the original did; lossy).
        fold_punctuation: map the original's 24 full-width characters (，。！？…１２３) to ASCII (lossy).
    """

    encoding: str = "pinyin"
    index: bool = True
    tone: bool = True
    heteronyms: bool = False
    lowercase: bool = False
    keep_whitespace: bool = True
    fold_punctuation: bool = False

    def __post_init__(self) -> None:
        if not self.tone and self.index:
            raise ValueError("tone=False (toneless) is only defined without the index: pass index=False too")
        if not self.tone and self.encoding not in TONAL:
            raise ValueError(f"tone=False needs a tonal encoding (pinyin, zhuyin), not {self.encoding!r}")
        if self.heteronyms and self.encoding != "pinyin":
            raise ValueError("heteronyms=True is only available for the pinyin encoding")
        if not self.index and self.encoding in ("random_index", "byte"):
            raise ValueError(f"{self.encoding} has no disambiguation index to drop (index=False is meaningless)")

    @property
    def lossless(self) -> bool:
        """Whether ``decode(encode(x)) == x`` for every ``x``."""
        return self.index and not self.lowercase and self.keep_whitespace and not self.fold_punctuation

    @property
    def table_name(self) -> str:
        return "pinyin_heteronym" if self.heteronyms else self.encoding

    @property
    def variant(self) -> str:
        """A short name: ``pinyin``, ``pinyin-noindex``, ``pinyin-toneless``, ``pinyin-context``, ``…-legacy``."""
        name = self.encoding + ("-context" if self.heteronyms else "")
        if not self.tone:
            name += "-toneless"
        elif not self.index:
            name += "-noindex"
        if self.lowercase and not self.keep_whitespace and self.fold_punctuation:
            name += "-legacy"
        return name

    @classmethod
    def legacy(cls, encoding: str = "pinyin", **kw: Any) -> EncoderConfig:
        """The original's text handling: lowercase, whitespace deleted, full-width punctuation folded."""
        return cls(encoding=encoding, lowercase=True, keep_whitespace=False, fold_punctuation=True, **kw)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Encoder:
    """Transliterate text to code text and back.

    Args:
        config: the encoding and its options.
        table: the code table (default: the shipped/computed table named by ``config``); give a
            :func:`~subchar.tables.load_user_table` table for Zhengma, Rime…
    """

    def __init__(self, config: EncoderConfig | None = None, table: Table | None = None) -> None:
        self.config = config or EncoderConfig()
        if table is None:
            if self.config.table_name not in TABLE_NAMES:
                raise KeyError(f"unknown encoding {self.config.encoding!r}; known: {', '.join(ENCODINGS)} (or pass table=)")
            table = load_table(self.config.table_name)
        self.table = table
        cfg = self.config
        self._strip = strip_index if cfg.tone else strip_tone
        self._code_of = {ch: self._code(codes[0]) for ch, codes in table.codes.items()}
        alphabet = set("".join(self._code_of.values()))
        if cfg.heteronyms:
            alphabet |= {c for codes in table.codes.values() for code in codes for c in self._code(code)}
        self.alphabet = frozenset(alphabet)
        self._shift = shifted_ascii()
        self._unshift = {v: k for k, v in self._shift.items()}
        # a character of the input that the decoder would read as a symbol must be escaped
        self.reserved = frozenset({SEP, ESC, *_BOUNDARY, *self._unshift, *(c for c in self.alphabet if not c.isascii())})
        self._map = self._build_map()
        if cfg.index:
            self._reverse = dict(table.reverse) if cfg.heteronyms else {c: ch for ch, c in self._code_of.items()}
        else:
            self._reverse = table.most_frequent("noindex" if cfg.tone else "toneless")
        self._decode_re = self._build_decode_re()

    def _code(self, code: str) -> str:
        return code if self.config.index else self._strip(code)

    def _build_map(self) -> dict[int, str | None]:
        cfg = self.config
        m: dict[int, str | None] = {}
        for ch in self.reserved:
            m[ord(ch)] = ESC + ch
        for ch, s in self._shift.items():
            m[ord(ch)] = s
        if not cfg.keep_whitespace:
            for o in range(0x110000):
                if chr(o).isspace():
                    m[o] = None
        if cfg.fold_punctuation:
            for full, ascii_ in FULLWIDTH_FOLD.items():
                m[ord(full)] = shift_char(ascii_) or ascii_
        for ch, code in self._code_of.items():
            m[ord(ch)] = code + SEP
        return m

    def _build_decode_re(self) -> re.Pattern[str]:
        alph = "".join(re.escape(c) for c in sorted(self.alphabet))
        shifted = "".join(re.escape(c) for c in sorted(self._unshift))
        bound = re.escape(_BOUNDARY)
        return re.compile(
            f"{re.escape(ESC)}(.)|([{alph}]+)({re.escape(SEP)})?|({re.escape(SEP)})|([{shifted}])|([{bound}])", re.DOTALL
        )

    # ---- encode -------------------------------------------------------------------------------------------

    def encode(self, text: str) -> str:
        """Code text of ``text``: each mapped character becomes its code + SEP; ASCII letters, digits and whitespace
        are shifted; reserved symbols escaped; everything else passes through unchanged."""
        if self.config.lowercase:
            text = text.lower()
        if self.config.heteronyms:
            return "".join(self._encode_context(text))
        return text.translate(self._map)

    def encode_batch(self, texts: Sequence[str]) -> list[str]:
        return [self.encode(t) for t in texts]

    def encode_chars(self, text: str) -> list[str]:
        """The code text of each character of ``text`` (what each character contributes to :meth:`encode`)."""
        encoded, starts = self.encode_with_spans(text)
        return [encoded[starts[i] : starts[i + 1]] for i in range(len(starts) - 1)]

    @functools.cached_property
    def _lengths(self) -> np.ndarray:
        lens = np.ones(0x110000, dtype=np.int32)
        for o, v in self._map.items():
            lens[o] = 0 if v is None else len(v)
        return lens

    def encode_with_spans(self, text: str) -> tuple[str, np.ndarray]:
        """The code text and where each input character's code lies in it.

        Returns:
            ``(encoded, starts)`` with ``starts`` of shape ``[len(text) + 1]``: character ``i`` of ``text`` became
            ``encoded[starts[i]:starts[i + 1]]`` (empty when deleted, e.g. whitespace in legacy mode).
        """
        if self.config.heteronyms:
            parts = self._encode_context(text.lower() if self.config.lowercase else text)
            starts = np.zeros(len(parts) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in parts], out=starts[1:])
            return "".join(parts), starts
        lowered = text.lower() if self.config.lowercase else text
        if len(lowered) != len(text):
            # a character whose lowercase is longer (İ): go character by character
            parts = [ch.lower().translate(self._map) for ch in text]
            starts = np.zeros(len(parts) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in parts], out=starts[1:])
            return "".join(parts), starts
        cps = np.frombuffer(lowered.encode("utf-32-le"), dtype="<u4")
        starts = np.zeros(len(cps) + 1, dtype=np.int64)
        np.cumsum(self._lengths[cps], out=starts[1:])
        return lowered.translate(self._map), starts

    @functools.cached_property
    def _context_codes(self) -> dict[tuple[str, str], str]:
        """(character, TONE3 reading) -> code, from the heteronym table."""
        out = {}
        for ch, codes in self.table.codes.items():
            for code in codes:
                base = strip_index(code)
                out[(ch, base[:-1] + TONE_OF_MARK.get(base[-1], ""))] = code
        return out

    def _encode_context(self, text: str) -> list[str]:
        from pypinyin import Style, pinyin

        parts = [ch.translate(self._map) for ch in text]
        i, n = 0, len(text)
        codes = self._context_codes
        while i < n:
            if text[i] not in self._code_of:
                i += 1
                continue
            j = i
            while j < n and text[j] in self._code_of:
                j += 1
            run = text[i:j]
            readings = pinyin(run, style=Style.TONE3, neutral_tone_with_five=True, heteronym=False)
            if len(readings) == len(run):
                for k, (ch, r) in enumerate(zip(run, readings)):
                    code = codes.get((ch, r[0]))
                    if code is not None:
                        parts[i + k] = self._code(code) + SEP
            i = j
        return parts

    # ---- decode -------------------------------------------------------------------------------------------

    def decode(self, encoded: str, errors: Literal["strict", "replace", "ignore"] = "strict") -> str:
        """The text ``encoded`` came from (exact for lossless configs; see the module docstring).

        Args:
            encoded: code text, e.g. the concatenation of a tokenizer's pieces.
            errors: what to do with a code no character has, or a code cut off before its separator (a truncated
                sequence): raise :class:`DecodeError`, write U+FFFD, or drop it.
        """
        rev, unshift = self._reverse, self._unshift

        def repl(m: re.Match[str]) -> str:
            lit, code, sep, lone, shifted, _boundary = m.groups()
            if lit is not None:
                return lit
            if shifted is not None:
                return unshift[shifted]
            if code is not None:
                ch = rev.get(code) if sep is not None else None
                if ch is not None:
                    return ch
                what = f"unknown code {code!r}" if sep is not None else f"code {code!r} without a separator"
            elif lone is not None:
                what = "a separator without a code"
            else:
                return ""
            if errors == "strict":
                raise DecodeError(f"{what} at position {m.start()} of the encoded text")
            return "\ufffd" if errors == "replace" else ""

        return self._decode_re.sub(repl, encoded)

    def normalize(self, text: str) -> str:
        """What a lossless decode of ``encode(text)`` gives: ``text`` with this config's lossy steps applied."""
        enc = self._normal_encoder
        return enc.decode(enc.encode(text))

    @functools.cached_property
    def _normal_encoder(self) -> Encoder:
        if self.config.index and self.config.tone:
            return self
        return get_encoder(replace(self.config, index=True, tone=True), self.table)


@functools.lru_cache(maxsize=32)
def _cached(config: EncoderConfig) -> Encoder:
    return Encoder(config)


def get_encoder(config: EncoderConfig | None = None, table: Table | None = None) -> Encoder:
    """An encoder, cached per config when it uses a shipped table (building one takes a fraction of a second)."""
    config = config or EncoderConfig()
    shipped = config.table_name in TABLE_NAMES
    if table is None or (shipped and table.name == config.table_name and table is load_table(config.table_name)):
        return _cached(config)
    return Encoder(config, table)
