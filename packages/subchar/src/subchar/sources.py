"""Rebuild the shipped tables from permissively licensed sources only.

| table | source | licence |
| --- | --- | --- |
| pinyin, pinyin_heteronym, zhuyin | pypinyin ``pinyin_dict`` (first / every reading; zhuyin: bopomofo style) | MIT |
| wubi | pywubi ``data/wubi_86.json`` (the shortest code of each character) | MIT |
| cangjie | Unihan ``kCangjie`` (Debian ``unicode-data``: ``/usr/share/unicode/Unihan_DictionaryLikeData.txt.bz2``) | Unicode |
| stroke | pycorrector ``data/stroke.txt`` (h/s/p/n/z stroke order) | Apache-2.0 |
| index order | jieba ``dict.txt`` word frequencies, summed per character | MIT |

Nothing here reads a Rime or fcitx file: :class:`SourceSet` records every path it opens, and a test checks it.
``tools/subchar_build_tables.py`` writes the tables into the package; ``subchar tables`` rebuilds them and compares
them byte for byte with the shipped files.
"""

from __future__ import annotations

import bz2
import functools
import importlib.metadata
import importlib.util
import json
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lc_core.io import DataError
from lc_core.logging import get_logger
from subchar.symbols import TONE_MARKS
from subchar.tables import SHIPPED_TABLES, Table, assign_indices

__all__ = ["SourceSet", "SourceMissing", "char_frequencies", "build_table", "build_tables", "DEFAULT_UNIHAN"]

logger = get_logger(__name__)

DEFAULT_UNIHAN = (
    "/usr/share/unicode/Unihan_DictionaryLikeData.txt.bz2",
    "/usr/share/unicode/Unihan_DictionaryLikeData.txt",
)


class SourceMissing(FileNotFoundError):
    """A source a table is built from is not installed (the message says how to get it)."""


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _package_dir(module: str, extra_hint: str) -> Path:
    # find_spec locates a top-level package without executing it (pycorrector imports torch-heavy code on import)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceMissing(f"{module} is not installed; pip install 'subchar[{extra_hint}]' (or {module})")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class SourceSet:
    """Where the sources are, and every path read so far (the licence guard checks this list).

    Args:
        unihan: Unihan ``DictionaryLikeData`` file (``.txt``, ``.txt.bz2``) or ``Unihan.zip``; default: Debian's.
        stroke: pycorrector's ``stroke.txt`` or a pycorrector wheel; default: the installed pycorrector.
        wubi: pywubi's ``wubi_86.json``; default: the installed pywubi.
    """

    unihan: str | None = None
    stroke: str | None = None
    wubi: str | None = None
    read_paths: list[str] = field(default_factory=list)

    def _read(self, path: Path, member: str | None = None) -> str:
        self.read_paths.append(str(path))
        if member is not None:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(member)]
                if not names:
                    raise DataError(f"no {member} inside", path=path)
                return zf.read(names[0]).decode("utf-8")
        if path.suffix == ".bz2":
            return bz2.decompress(path.read_bytes()).decode("utf-8")
        return path.read_text(encoding="utf-8")

    def unihan_text(self) -> tuple[str, str]:
        candidates = [self.unihan] if self.unihan else list(DEFAULT_UNIHAN)
        for c in candidates:
            p = Path(c)
            if p.is_file():
                if p.suffix == ".zip":
                    return self._read(p, "Unihan_DictionaryLikeData.txt"), p.name
                return self._read(p), p.name
        raise SourceMissing(
            f"Unihan DictionaryLikeData not found at {', '.join(candidates)}; apt-get install unicode-data or pass --unihan"
        )

    def stroke_text(self) -> tuple[str, str]:
        if self.stroke:
            p = Path(self.stroke)
            if not p.is_file():
                raise SourceMissing(f"{p}: no such stroke source")
            if p.suffix == ".whl":
                return self._read(p, "pycorrector/data/stroke.txt"), f"pycorrector wheel {p.name}"
            return self._read(p), p.name
        p = _package_dir("pycorrector", "tables") / "data" / "stroke.txt"
        if not p.is_file():
            raise SourceMissing(f"{p} is missing from the installed pycorrector")
        return self._read(p), f"pycorrector {_version('pycorrector')} data/stroke.txt"

    def wubi_text(self) -> tuple[str, str]:
        if self.wubi:
            return self._read(Path(self.wubi)), Path(self.wubi).name
        p = _package_dir("pywubi", "tables") / "data" / "wubi_86.json"
        return self._read(p), f"pywubi {_version('pywubi')} data/wubi_86.json"


@functools.lru_cache(maxsize=1)
def char_frequencies() -> dict[str, int]:
    """Character frequencies: jieba's ``dict.txt`` word frequencies summed over each word's characters."""
    p = _package_dir("jieba", "tables") / "dict.txt"
    counts: Counter[str] = Counter()
    with open(p, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                n = int(parts[1])
            except ValueError:
                raise DataError("frequency is not an integer", path=p, line=lineno, field="frequency") from None
            for ch in parts[0]:
                counts[ch] += n
    return dict(counts)


def _meta(name: str, source: str, license_: str) -> dict[str, str]:
    return {
        "name": name,
        "source": source,
        "license": license_,
        "frequency": f"jieba {_version('jieba')} dict.txt (MIT), word frequencies summed per character",
        "index": "digits appended to a base code shared by several characters, by frequency then code point",
    }


def _table(name: str, base: dict[str, list[str]], freq: dict[str, int], source: str, license_: str) -> Table:
    return Table(name, assign_indices(base, freq), {c: freq.get(c, 0) for c in base}, _meta(name, source, license_))


def _pinyin_readings() -> dict[str, list[str]]:
    """character -> its readings in TONE3 with tone 5 for the neutral tone, pypinyin's order (most common first)."""
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, list[str]] = {}
    for cp, readings in pinyin_dict.items():
        ch = chr(cp)
        got = []
        for r in readings.split(","):
            t3 = to_tone3(r.strip(), neutral_tone_with_five=True)
            if t3 and t3[-1] in TONE_MARKS and t3[:-1].isalpha():
                got.append(t3)
        if got:
            out[ch] = list(dict.fromkeys(got))
    return out


def _tone3_code(t3: str) -> str:
    return t3[:-1] + TONE_MARKS[t3[-1]]


def _build_pinyin(src: SourceSet, freq: dict[str, int], *, heteronym: bool) -> Table:
    readings = _pinyin_readings()
    base = {ch: [_tone3_code(r) for r in (rs if heteronym else rs[:1])] for ch, rs in readings.items()}
    name = "pinyin_heteronym" if heteronym else "pinyin"
    what = "every reading (primary first)" if heteronym else "the first (most common) reading"
    source = f"pypinyin {_version('pypinyin')} pinyin_dict, {what}, tones as ❁❂❃❄❅ (1-4, neutral)"
    return _table(name, base, freq, source, "MIT (pypinyin)")


def _build_zhuyin(src: SourceSet, freq: dict[str, int]) -> Table:
    from pypinyin import Style
    from pypinyin.contrib.tone_convert import to_tone
    from pypinyin.style import convert

    base: dict[str, list[str]] = {}
    for ch, rs in _pinyin_readings().items():
        # pypinyin's bopomofo converter takes tone-marked pinyin (tone 5 has no mark)
        z = convert(to_tone(rs[0].rstrip("5")), Style.BOPOMOFO, strict=True)
        if z and not any(c.isascii() for c in z):
            base[ch] = [z]
    source = f"pypinyin {_version('pypinyin')} pinyin_dict first reading in Style.BOPOMOFO (tone 1 unmarked)"
    return Table(
        "zhuyin", assign_indices(base, freq), {c: freq.get(c, 0) for c in base}, _meta("zhuyin", source, "MIT (pypinyin)")
    )


def _build_wubi(src: SourceSet, freq: dict[str, int]) -> Table:
    text, where = src.wubi_text()
    data = json.loads(text)
    base: dict[str, list[str]] = {}
    for ch, codes in data.items():
        if len(ch) != 1 or not codes:
            continue
        # pywubi lists the full code first and the shortest (simple) code last; the original used the shortest
        shortest = min(codes, key=lambda c: (len(c), codes.index(c)))
        if shortest.isalpha() and shortest.isascii():
            base[ch] = [shortest.lower()]
    source = f"{where}, the shortest code of each character (Wubi 86)"
    return _table("wubi", base, freq, source, "MIT (pywubi)")


def _build_cangjie(src: SourceSet, freq: dict[str, int]) -> Table:
    text, where = src.unihan_text()
    base: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if not line.startswith("U+"):
            continue
        parts = line.split("\t")
        if len(parts) == 3 and parts[1] == "kCangjie":
            base[chr(int(parts[0][2:], 16))] = [parts[2].strip().lower()]
    if not base:
        raise DataError("no kCangjie entries", path=src.unihan or DEFAULT_UNIHAN[0])
    source = f"Unihan kCangjie ({where}), lowercased"
    return Table(
        "cangjie", assign_indices(base, freq), {c: freq.get(c, 0) for c in base}, _meta("cangjie", source, "Unicode-DFS")
    )


def _build_stroke(src: SourceSet, freq: dict[str, int]) -> Table:
    text, where = src.stroke_text()
    base: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 1 and set(parts[1]) <= set("hspnz"):
            base.setdefault(parts[0], [parts[1]])
    source = f"{where}: strokes h 横, s 竖, p 撇, n 点/捺, z 折"
    return Table(
        "stroke",
        assign_indices(base, freq),
        {c: freq.get(c, 0) for c in base},
        _meta("stroke", source, "Apache-2.0 (pycorrector)"),
    )


_BUILDERS: dict[str, Callable[[SourceSet, dict[str, int]], Table]] = {
    "pinyin": lambda s, f: _build_pinyin(s, f, heteronym=False),
    "pinyin_heteronym": lambda s, f: _build_pinyin(s, f, heteronym=True),
    "zhuyin": _build_zhuyin,
    "wubi": _build_wubi,
    "cangjie": _build_cangjie,
    "stroke": _build_stroke,
}


def build_table(name: str, sources: SourceSet | None = None) -> Table:
    """Build one shipped table from its permissive source.

    Raises:
        KeyError: an unknown table.
        SourceMissing: its source is not installed.
    """
    if name not in _BUILDERS:
        raise KeyError(f"unknown table {name!r}; buildable: {', '.join(_BUILDERS)}")
    return _BUILDERS[name](sources or SourceSet(), char_frequencies())


def build_tables(
    names: Iterable[str] = SHIPPED_TABLES, out_dir: str | os.PathLike[str] | None = None, sources: SourceSet | None = None
) -> dict[str, Table | SourceMissing]:
    """Build tables (writing ``<out_dir>/<name>.tsv`` when given); a missing source is returned, not raised."""
    sources = sources or SourceSet()
    out: dict[str, Table | SourceMissing] = {}
    for name in names:
        try:
            table = build_table(name, sources)
        except SourceMissing as e:
            logger.warning("%s: skipped (%s)", name, e)
            out[name] = e
            continue
        if out_dir is not None:
            table.write(Path(out_dir) / f"{name}.tsv")
        out[name] = table
    return out
