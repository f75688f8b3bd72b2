"""The ``subchar`` console script (lazy verbs on :mod:`lc_core.cli`; each verb lives in :mod:`subchar.commands`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from lc_core.cli import App, Command

__all__ = ["main", "app"]

EPILOG = """quick start:
  subchar tokenize "他是我的朋友，Hello 2023！"            # every shipped tokenizer: codes, pieces, lengths, round-trip
  subchar encode --encoding wubi "中国人"                 # code text (SEP 쎯 after each character's code)
  subchar encode --encoding pinyin --no-index "她是我的朋友" | subchar decode --encoding pinyin --no-index
  subchar train --corpus zh.txt --encoding pinyin --vocab-size 22675 --out tok/pinyin
  subchar stats --text heldout.txt --baseline-corpus zh.txt --out results
  subchar tables                                          # rebuild the tables, compare with the shipped ones
"""


def _cmd(name: str, help: str) -> Command:
    return Command(f"subchar.commands:{name}", f"subchar.commands:add_{name}_arguments", help)


def _version() -> str:
    from subchar import __version__

    return __version__


app = App(
    prog="subchar",
    description="Sub-character Chinese tokenizers: pinyin/zhuyin/wubi/cangjie/stroke codes + SentencePiece.",
    commands={
        "encode": _cmd("encode", "transliterate text to code text"),
        "decode": _cmd("decode", "code text (or tokenizer pieces) back to text"),
        "tokenize": _cmd("tokenize", "tokenize text with shipped or trained tokenizers and show the round-trip"),
        "train": _cmd("train", "convert a corpus and train a SentencePiece tokenizer on its code text"),
        "stats": _cmd("stats", "lengths vs char-level and a same-size unigram, homophone robustness, throughput"),
        "noise": _cmd("noise", "write homophone (or same-Wubi-code) typos into text"),
        "tables": _cmd("tables", "rebuild the code tables from their sources and compare with the shipped files"),
    },
    epilog=EPILOG,
    version=_version(),
    missing_input_example=("stats", "--text", "{missing}"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``subchar`` console script."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
