"""Code tables: character -> code (with a disambiguation index), their file format, the shipped ones, user ones.

A table is bijective: characters that share a base code (a syllable+tone, a Wubi key sequence…) get a numeric index
``0, 1, 2, …`` appended, ordered by character frequency (descending) and then code point, so a rebuild gives a
byte-identical file. A base code used by one character carries no index (the original's ``怎 -> ze❃``).

Shipped tables (``subchar/data/tables/*.tsv``, built by ``tools/subchar_build_tables.py`` from permissively
licensed sources, see NOTICE): ``pinyin``, ``pinyin_heteronym`` (every reading of every character, for the
context-aware option), ``zhuyin``, ``wubi``, ``cangjie``, ``stroke``. Computed ablations: ``byte`` (UTF-8 bytes as
256 symbols) and ``random_index`` (a seeded random number per character). Copyleft tables (Rime, fcitx Zhengma) are
never bundled: :func:`load_user_table` reads them from a path the user gives.

File format (UTF-8, ``\\n``): ``# key: value`` header lines (name, source, licence, frequency source), then one
``char<TAB>code<TAB>frequency`` line per (character, code), sorted by code point; a character with several codes
(``pinyin_heteronym``) has its primary code first.
"""

from __future__ import annotations

import functools
import os
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from lc_core.io import DataError
from subchar.symbols import BYTE_BASE, ESC, SEP, TONE_OF_MARK, shifted_ascii

__all__ = [
    "Table",
    "SHIPPED_TABLES",
    "COMPUTED_TABLES",
    "TABLE_NAMES",
    "assign_indices",
    "load_table",
    "load_user_table",
    "read_table",
    "table_path",
    "strip_index",
]

SHIPPED_TABLES = ("pinyin", "pinyin_heteronym", "zhuyin", "wubi", "cangjie", "stroke")
COMPUTED_TABLES = ("byte", "random_index")
TABLE_NAMES = SHIPPED_TABLES + COMPUTED_TABLES
# tables whose codes carry a tone symbol that the toneless variant removes
TONAL = {"pinyin", "pinyin_heteronym", "zhuyin"}
ZHUYIN_TONES = "ˊˇˋ˙"
RANDOM_INDEX_SEED = 0

_DIGITS = re.compile(r"[0-9]+")


def strip_index(code: str) -> str:
    """The base code: every digit removed (the NoIndex variant)."""
    return _DIGITS.sub("", code)


def strip_tone(code: str) -> str:
    """The base code without tone symbols (pinyin ❁❂❃❄❅, zhuyin ˊˇˋ˙) and digits: the toneless variant."""
    return "".join(c for c in strip_index(code) if c not in TONE_OF_MARK and c not in ZHUYIN_TONES)


@dataclass(frozen=True)
class Table:
    """A bijective character <-> code table.

    Args:
        name: the table's name (``pinyin``, ``wubi``…).
        codes: character -> every code of it, primary first (one code except in ``pinyin_heteronym``).
        freq: character -> corpus frequency (orders the indices and the NoIndex decoder).
        meta: header fields (source, licence, frequency source).
    """

    name: str
    codes: Mapping[str, tuple[str, ...]]
    freq: Mapping[str, int]
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reserved = set(shifted_ascii().values()) | {SEP, ESC}
        seen: dict[str, str] = {}
        for ch, codes in self.codes.items():
            if len(ch) != 1:
                raise DataError(f"table {self.name}: key {ch!r} is not one character", field="char")
            if not codes:
                raise DataError(f"table {self.name}: {ch!r} has no code", field="code")
            for code in codes:
                if not code or reserved.intersection(code):
                    raise DataError(f"table {self.name}: code {code!r} of {ch!r} is empty or holds a reserved symbol")
                if code in seen and seen[code] != ch:
                    raise DataError(f"table {self.name}: code {code!r} is shared by {seen[code]!r} and {ch!r}")
                seen[code] = ch

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, ch: object) -> bool:
        return ch in self.codes

    def code(self, ch: str) -> str:
        """The primary code of ``ch`` (KeyError when unmapped)."""
        return self.codes[ch][0]

    @functools.cached_property
    def alphabet(self) -> frozenset[str]:
        """Every symbol used by a code (index digits included)."""
        return frozenset("".join(c for codes in self.codes.values() for c in codes))

    @functools.cached_property
    def reverse(self) -> dict[str, str]:
        """code -> character, for every code."""
        return {code: ch for ch, codes in self.codes.items() for code in codes}

    def most_frequent(self, key: str = "noindex") -> dict[str, str]:
        """The lossy decoders: base code -> its most frequent character.

        Args:
            key: ``noindex`` (digits removed) or ``toneless`` (digits and tone symbols removed).
        """
        strip = strip_index if key == "noindex" else strip_tone
        best: dict[str, str] = {}
        for ch in sorted(self.codes, key=lambda c: (-self.freq.get(c, 0), ord(c))):
            for code in self.codes[ch]:
                best.setdefault(strip(code), ch)
        return best

    def dumps(self) -> str:
        """The table file's text (byte-identical for equal tables)."""
        lines = [f"# {k}: {v}" for k, v in self.meta.items()]
        for ch in sorted(self.codes, key=ord):
            for code in self.codes[ch]:
                lines.append(f"{ch}\t{code}\t{self.freq.get(ch, 0)}")
        return "\n".join(lines) + "\n"

    def write(self, path: str | os.PathLike[str]) -> None:
        from lc_core.io import atomic_write_bytes

        atomic_write_bytes(path, self.dumps().encode("utf-8"))

    def subset(self, chars: Iterable[str]) -> Table:
        """The table restricted to ``chars`` (codes unchanged)."""
        keep = set(chars)
        return Table(
            self.name,
            {c: v for c, v in self.codes.items() if c in keep},
            {c: v for c, v in self.freq.items() if c in keep},
            dict(self.meta),
        )


def assign_indices(base: Mapping[str, Iterable[str]], freq: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    """Make codes unique: a base code shared by several (character, code) entries gets ``0, 1, …`` appended.

    Entries of a group are ordered by frequency (descending), then code point, then position among the character's
    codes, so the result depends on nothing but the inputs.

    Args:
        base: character -> its base codes, primary first (duplicates within one character are dropped).
        freq: character -> frequency (missing: 0).
    """
    groups: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    per_char: dict[str, list[str]] = {}
    for ch, codes in base.items():
        unique = list(dict.fromkeys(codes))
        per_char[ch] = unique
        for pos, code in enumerate(unique):
            if not code or any(c.isdigit() for c in code):
                raise DataError(f"base code {code!r} of {ch!r} is empty or holds a digit", field="code")
            groups[code].append((-freq.get(ch, 0), ord(ch), pos, ch))
    final: dict[tuple[str, str], str] = {}
    for code, members in groups.items():
        if len(members) == 1:
            final[(members[0][3], code)] = code
            continue
        for i, (_, _, _, ch) in enumerate(sorted(members)):
            final[(ch, code)] = f"{code}{i}"
    return {ch: tuple(final[(ch, code)] for code in codes) for ch, codes in per_char.items()}


def read_table(text: str, *, path: str | os.PathLike[str] | None = None, name: str | None = None) -> Table:
    """Parse a table file's text (see the module docstring).

    Raises:
        DataError: a malformed line (file, line and field named) or a non-bijective table.
    """
    meta: dict[str, str] = {}
    codes: dict[str, list[str]] = defaultdict(list)
    freq: dict[str, int] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# "):
            key, sep, value = line[2:].partition(": ")
            if sep:
                meta[key] = value
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise DataError(f"expected char<TAB>code<TAB>frequency, got {len(parts)} field(s)", path=path, line=lineno)
        ch, code, count = parts
        if len(ch) != 1:
            raise DataError(f"{ch!r} is not one character", path=path, line=lineno, field="char")
        try:
            freq[ch] = int(count)
        except ValueError:
            raise DataError(f"frequency {count!r} is not an integer", path=path, line=lineno, field="frequency") from None
        codes[ch].append(code)
    table_name = name or meta.get("name") or (Path(path).stem if path else "table")
    try:
        return Table(table_name, {c: tuple(v) for c, v in codes.items()}, freq, meta)
    except DataError as e:
        raise DataError(str(e), path=path) from None


def table_path(name: str) -> Path:
    """The shipped file of table ``name``."""
    if name not in SHIPPED_TABLES:
        raise KeyError(f"unknown shipped table {name!r}; known: {', '.join(SHIPPED_TABLES)}")
    return Path(str(resources.files("subchar") / "data" / "tables" / f"{name}.tsv"))


@functools.cache
def load_table(name: str) -> Table:
    """A shipped or computed table by name (cached).

    Raises:
        KeyError: an unknown name.
    """
    if name == "byte":
        return _byte_table()
    if name == "random_index":
        return _random_index_table()
    path = table_path(name)
    return read_table(path.read_text(encoding="utf-8"), path=path, name=name)


def _byte_table() -> Table:
    base = load_table("pinyin")
    codes = {ch: ("".join(chr(BYTE_BASE + b) for b in ch.encode("utf-8")),) for ch in base.codes}
    meta = {"name": "byte", "source": "UTF-8 bytes of the pinyin table's characters as U+2800+byte"}
    return Table("byte", codes, dict(base.freq), meta)


def _random_index_table() -> Table:
    base = load_table("pinyin")
    chars = sorted(base.codes, key=ord)
    numbers = list(range(10000, 10000 + len(chars)))
    random.Random(RANDOM_INDEX_SEED).shuffle(numbers)
    codes = {ch: (str(n),) for ch, n in zip(chars, numbers)}
    meta = {
        "name": "random_index",
        "source": f"a random integer >= 10000 per pinyin-table character, seed {RANDOM_INDEX_SEED}",
    }
    return Table("random_index", codes, dict(base.freq), meta)


UserFormat = Literal["tsv", "rime", "fcitx"]


def load_user_table(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    fmt: UserFormat | None = None,
    pick: Literal["first", "last", "shortest"] = "first",
    freq: Mapping[str, int] | None = None,
) -> Table:
    """Read a table from a path the user supplies (Zhengma, Rime dictionaries…); never bundled with the package.

    Args:
        path: the file.
        name: the table's name (default: the file name without suffixes).
        fmt: ``tsv`` (``char<TAB>code``, or a shipped-format file), ``rime`` (``*.dict.yaml``: YAML header, then
            ``text<TAB>code[<TAB>weight]``) or ``fcitx`` (a text table from ``mb2txt``: ``code char`` lines after
            ``[Data]``/``[数据]``). Default: from the file name.
        pick: which of a character's codes to keep: the first listed (what the original did), the last (Rime's
            ``stroke.dict.yaml`` lists a wrong duplicate first for 6,720 characters) or the shortest.
        freq: character frequencies for the index order (default: jieba's, as for the shipped tables).

    Raises:
        DataError: an unreadable line, naming file and line.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if fmt is None:
        fmt = "rime" if p.name.endswith(".dict.yaml") else "fcitx" if "[Data]" in text or "[数据]" in text else "tsv"
    if fmt == "tsv" and text.startswith("# ") and "\t" in text.split("\n", 3)[-1]:
        lines = [ln for ln in text.split("\n") if ln and not ln.startswith("#")]
        if lines and len(lines[0].split("\t")) == 3:
            return read_table(text, path=p, name=name)
    entries: dict[str, list[str]] = defaultdict(list)
    in_data = fmt == "tsv"
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not in_data:
            if (fmt == "rime" and line.strip() == "...") or (fmt == "fcitx" and line.strip() in ("[Data]", "[数据]")):
                in_data = True
            continue
        if not line.strip() or line.startswith("#"):
            continue
        if fmt == "fcitx":
            parts = line.split()
            if len(parts) < 2:
                raise DataError("expected 'code char'", path=p, line=lineno)
            code, text_ = parts[0], parts[1]
        else:
            parts = line.split("\t")
            if len(parts) < 2:
                raise DataError("expected char<TAB>code", path=p, line=lineno)
            text_, code = parts[0], parts[1].strip()
        if len(text_) != 1 or not code:
            continue
        entries[text_].append(strip_index(code.replace(" ", "")))
    if not entries:
        raise DataError(f"no single-character entries found (format {fmt})", path=p)
    chosen: dict[str, list[str]] = {}
    for ch, codes in entries.items():
        codes = [c for c in codes if c]
        if not codes:
            continue
        c = codes[0] if pick == "first" else codes[-1] if pick == "last" else min(codes, key=len)
        chosen[ch] = [c]
    if freq is None:
        from subchar.sources import char_frequencies

        freq = char_frequencies()
    table_name = name or p.name.split(".")[0]
    meta = {"name": table_name, "source": f"user file {p.name} ({fmt}, {pick} code per character)", "license": "see the file"}
    return Table(table_name, assign_indices(chosen, freq), {c: freq.get(c, 0) for c in chosen}, meta)
