"""pycorrector's bundled confusion sets (SIGHAN-style), read offline from the installed wheel's data files.

pycorrector (Apache-2.0, the ``correct`` extra) ships two character confusion tables in ``pycorrector/data/``:

- ``same_pinyin.txt``: ``char <TAB> same pinyin, same tone <TAB> same pinyin, other tone`` (3,513 characters), the
  confusion set of Chinese spelling-check benchmarks, collected from human errors;
- ``same_stroke.txt``: groups of visually similar characters (831 groups), the errors of stroke / Wubi input
  methods and handwriting.

Only these files are read (no model, no network, and the ``pycorrector`` package itself is not imported: its
import pulls in heavy optional libraries). The keyboard simulator uses them through two extra operations,
``confusion`` (same pinyin) and ``shape`` (same strokes), switched on by ``KeyboardConfig.weights`` or
``readin noise --pycorrector``.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from lc_core.logging import get_logger

__all__ = ["ConfusionSet", "pycorrector_data_dir", "load_pycorrector_confusion"]

logger = get_logger(__name__)


@dataclass(frozen=True)
class ConfusionSet:
    """Character -> confusable characters (each string lists candidates in the file's order)."""

    same_tone: dict[str, str] = field(default_factory=dict)
    other_tone: dict[str, str] = field(default_factory=dict)
    shape: dict[str, str] = field(default_factory=dict)

    def pinyin(self, ch: str) -> str:
        """Same-pinyin candidates of ``ch`` regardless of tone (a pinyin IME ignores tones), same tone first."""
        return self.same_tone.get(ch, "") + self.other_tone.get(ch, "")


def pycorrector_data_dir() -> Path:
    """The installed pycorrector's ``data/`` folder, without importing the package.

    Raises:
        ImportError: pycorrector is not installed (``pip install 'readin[correct]'``) or ships no confusion files.
    """
    spec = importlib.util.find_spec("pycorrector")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pycorrector's confusion sets need the correct extra: pip install 'readin[correct]'")
    for root in spec.submodule_search_locations:
        data = Path(root) / "data"
        if (data / "same_pinyin.txt").is_file():
            return data
    raise ImportError(f"pycorrector at {list(spec.submodule_search_locations)} has no data/same_pinyin.txt")


def _chars(cell: str) -> str:
    return "".join(dict.fromkeys(ch for ch in cell.strip() if "\u4e00" <= ch <= "\u9fff"))


@functools.lru_cache(maxsize=1)
def load_pycorrector_confusion() -> ConfusionSet:
    """Parse ``same_pinyin.txt`` and ``same_stroke.txt`` (cached per process)."""
    data = pycorrector_data_dir()
    same, other, shape = {}, {}, {}
    with open(data / "same_pinyin.txt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            ch = parts[0].strip()
            if len(ch) != 1:
                continue
            a = _chars(parts[1]).replace(ch, "") if len(parts) > 1 else ""
            b = _chars(parts[2]).replace(ch, "") if len(parts) > 2 else ""
            if a:
                same[ch] = a
            if b:
                other[ch] = b
    stroke = data / "same_stroke.txt"
    if stroke.is_file():
        with open(stroke, encoding="utf-8") as f:
            for line in f:
                group = _chars(line.replace("\t", ""))
                for ch in group:
                    rest = group.replace(ch, "")
                    if rest:
                        shape[ch] = "".join(dict.fromkeys(shape.get(ch, "") + rest))
    logger.debug("pycorrector confusion sets: %d same-pinyin, %d same-stroke characters", len(same) + len(other), len(shape))
    return ConfusionSet(same, other, shape)
