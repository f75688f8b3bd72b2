"""Train subchar's shipped tokenizers (pinyin, pinyin-noindex, wubi, wubi-noindex) on real Chinese running text.

    uv run python tools/subchar_corpus.py --out /tmp/zh --root ...        # train.txt / heldout.txt / gpl_eval.txt
    uv run python tools/subchar_train_shipped.py --corpus /tmp/zh        # writes packages/subchar/src/subchar/models/

The vocabulary size follows the paper's rule: the number of distinct non-whitespace characters of the training
text + 5 specials (the original's 22,675 is its character vocabulary), so the SubChar models and a character-level
model have equal-size vocabularies. The folders hold the SentencePiece model and the tokenizer config (with the
SHA-256 of the package table it was trained with); the code table is the package's own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from subchar.assets import MODELS_DIR, SHIPPED
from subchar.corpus import ConvertConfig
from subchar.encoder import EncoderConfig
from subchar.train import SpmConfig, train_tokenizer


def vocab_rule(corpus: Path) -> int:
    text = corpus.read_text(encoding="utf-8")
    return len({c for c in text if not c.isspace()}) + 5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True, help="folder written by tools/subchar_corpus.py")
    ap.add_argument("--out", type=Path, default=MODELS_DIR, help="models folder")
    ap.add_argument("--vocab-size", type=int, help="override the paper's rule (distinct characters + 5)")
    args = ap.parse_args(argv)
    train = args.corpus / "train.txt"
    vocab = args.vocab_size or vocab_rule(train)
    print(f"vocabulary size {vocab}")
    for name, (folder, encoding, index) in SHIPPED.items():
        out = args.out / Path(folder).name
        if out.exists():
            shutil.rmtree(out)
        train_tokenizer(
            train,
            out,
            EncoderConfig(encoding=encoding, index=index),
            SpmConfig(vocab_size=vocab, num_threads=2),
            ConvertConfig(progress=False),
        )
        # the package's table is used (checked by SHA-256); do not ship a copy per model
        (out / "subchar_table.tsv").unlink()
        print(f"{name}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
