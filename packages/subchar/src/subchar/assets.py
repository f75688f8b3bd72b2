"""The shipped tokenizers (``subchar/models/<name>/``), registered by name through lc-core's ``lc_core.models``
entry points: ``SubCharTokenizer.from_pretrained(resolve_model_path("subchar/pinyin"))`` or
:func:`subchar.tokenizer.load_tokenizer` ``("subchar/pinyin")``. Provenance and licences: ``models/README.md``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODELS_DIR", "SHIPPED", "PINYIN", "PINYIN_NOINDEX", "WUBI", "WUBI_NOINDEX", "shipped_path"]

MODELS_DIR = Path(__file__).resolve().parent / "models"

PINYIN = str(MODELS_DIR / "pinyin")
PINYIN_NOINDEX = str(MODELS_DIR / "pinyin-noindex")
WUBI = str(MODELS_DIR / "wubi")
WUBI_NOINDEX = str(MODELS_DIR / "wubi-noindex")

# name -> (folder, encoding, index)
SHIPPED: dict[str, tuple[str, str, bool]] = {
    "subchar/pinyin": (PINYIN, "pinyin", True),
    "subchar/pinyin-noindex": (PINYIN_NOINDEX, "pinyin", False),
    "subchar/wubi": (WUBI, "wubi", True),
    "subchar/wubi-noindex": (WUBI_NOINDEX, "wubi", False),
}


def shipped_path(name: str) -> str:
    """The folder of a shipped tokenizer (``subchar/pinyin`` or just ``pinyin``).

    Raises:
        KeyError: an unknown name.
    """
    key = name if name.startswith("subchar/") else f"subchar/{name}"
    if key not in SHIPPED:
        raise KeyError(f"unknown shipped tokenizer {name!r}; known: {', '.join(SHIPPED)}")
    return SHIPPED[key][0]
