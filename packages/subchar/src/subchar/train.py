"""SentencePiece training on code text with the original's settings, but an identity normaliser.

The original trained every 22,675-piece model with SentencePiece's default ``nmt_nfkc`` normaliser, which turns the
zhuyin neutral-tone mark ``˙`` into a space + U+0307 and full-width ``－`` into ``-``, so decoding was lossy. Here the
normaliser is ``identity`` with ``remove_extra_whitespaces=False`` and ``add_dummy_prefix=False``: pieces concatenate
to exactly the code text, so decoding is exact.

Ids follow the original: ``[UNK]=0, [PAD]=1, [CLS]=2, [SEP]=3, [MASK]=4``; no BOS/EOS.

    uv run subchar train --corpus zh.txt --encoding pinyin --vocab-size 22675 --out tok/pinyin
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from lc_core.logging import get_logger
from subchar.corpus import ConvertConfig, ConvertStats, convert_corpus
from subchar.encoder import EncoderConfig
from subchar.tables import Table

__all__ = ["SpmConfig", "SPECIAL_TOKENS", "encoder_symbols", "train_sentencepiece", "train_tokenizer", "TrainResult"]

logger = get_logger(__name__)

SPECIAL_TOKENS = ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]")


@dataclass(kw_only=True)
class SpmConfig:
    """SentencePiece settings (defaults: the original's, except the normaliser).

    Args:
        vocab_size: pieces in the model, specials included (the original: 22,675 = its character vocabulary).
        model_type: unigram (the original's default) or bpe.
        character_coverage: share of characters the model must cover (1.0: all, as the original).
        max_sentencepiece_length: longest piece in characters.
        input_sentence_size: lines sampled for training (0: all; the original used 3,000,000 for NoIndex models).
        byte_fallback: unknown characters become byte pieces instead of [UNK] (off in the original).
        hard_vocab_limit: fail when the corpus cannot fill vocab_size (False: accept a smaller vocabulary).
        normalization: identity (lossless) or nmt_nfkc (the original's, lossy; for reproducing its numbers).
        split_by_whitespace: pieces never cross a space (only the CWS variant writes spaces).
        train_extremely_large_corpus: SentencePiece's flag for corpora of billions of characters.
        num_threads: trainer threads.
        seed: SentencePiece's random generator seed (sampling of input sentences).
    """

    vocab_size: int = 22675
    model_type: Literal["unigram", "bpe"] = "unigram"
    character_coverage: float = 1.0
    max_sentencepiece_length: int = 16
    input_sentence_size: int = 0
    byte_fallback: bool = False
    hard_vocab_limit: bool = True
    normalization: Literal["identity", "nmt_nfkc"] = "identity"
    split_by_whitespace: bool = True
    train_extremely_large_corpus: bool = False
    num_threads: int = 2
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_sentencepiece(
    input_path: str | os.PathLike[str] | list[str],
    model_prefix: str | os.PathLike[str],
    config: SpmConfig | None = None,
    *,
    required_chars: str = "",
) -> Path:
    """Train a SentencePiece model on code text (a file, or a list of files); returns ``<prefix>.model``.

    Args:
        input_path: code text, one line per line.
        model_prefix: writes ``<prefix>.model`` and ``<prefix>.vocab``.
        config: SentencePiece settings.
        required_chars: characters that get a piece even when the corpus lacks them (the encoder's symbols:
            shifted letters, digits, whitespace, SEP, ESC, the code alphabet), so no input maps to [UNK] for want
            of them.

    Raises:
        ValueError: SentencePiece rejected the settings or the corpus (e.g. too small for ``vocab_size``).
    """
    import sentencepiece as spm

    cfg = config or SpmConfig()
    if cfg.vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, got {cfg.vocab_size}")
    inputs = [str(p) for p in input_path] if isinstance(input_path, list) else [str(input_path)]
    prefix = Path(model_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.set_random_generator_seed(cfg.seed)
    kwargs: dict[str, Any] = {
        "input": ",".join(inputs),
        "model_prefix": str(prefix),
        "vocab_size": cfg.vocab_size,
        "model_type": cfg.model_type,
        "character_coverage": cfg.character_coverage,
        "max_sentencepiece_length": cfg.max_sentencepiece_length,
        "byte_fallback": cfg.byte_fallback,
        "hard_vocab_limit": cfg.hard_vocab_limit,
        "normalization_rule_name": cfg.normalization,
        "remove_extra_whitespaces": False,
        "add_dummy_prefix": False,
        "split_by_unicode_script": False,
        "split_by_number": False,
        "split_by_whitespace": cfg.split_by_whitespace,
        "split_digits": False,
        "unk_piece": "[UNK]",
        "unk_id": 0,
        "bos_id": -1,
        "eos_id": -1,
        "pad_id": -1,
        "user_defined_symbols": list(SPECIAL_TOKENS[1:]),
        "train_extremely_large_corpus": cfg.train_extremely_large_corpus,
        "num_threads": cfg.num_threads,
        # code text of one long line is several times longer than the line; the default (4192 bytes) skips it
        "max_sentence_length": 1 << 16,
        "minloglevel": 2,
    }
    if required_chars:
        # SentencePiece's own required_chars only keeps characters the corpus has; one line per symbol makes every
        # symbol a character of the corpus (a negligible count next to a real corpus)
        extra = prefix.with_name(prefix.name + ".required.txt")
        extra.write_text("".join(c + "\n" for c in sorted(set(required_chars))), encoding="utf-8")
        kwargs["input"] += "," + str(extra)
    if cfg.input_sentence_size:
        kwargs["input_sentence_size"] = cfg.input_sentence_size
        kwargs["shuffle_input_sentence"] = True
    try:
        spm.SentencePieceTrainer.train(**kwargs)
    except RuntimeError as e:
        raise ValueError(f"SentencePiece training failed: {e}") from None
    return prefix.with_suffix(".model")


def encoder_symbols(config: EncoderConfig, table: Table | None = None) -> str:
    """Every symbol the encoder can write besides pass-through text: the SentencePiece ``required_chars``."""
    from subchar.encoder import get_encoder
    from subchar.symbols import ESC, SEP, shifted_ascii

    enc = get_encoder(config, table)
    return "".join(sorted({SEP, ESC, *shifted_ascii().values(), *enc.alphabet}))


@dataclass
class TrainResult:
    """Where a trained tokenizer went and what it took."""

    out_dir: Path
    convert: ConvertStats
    train_seconds: float
    vocab_size: int


def train_tokenizer(
    corpus: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    encoder: EncoderConfig | None = None,
    spm_config: SpmConfig | None = None,
    convert: ConvertConfig | None = None,
    *,
    table_file: str | os.PathLike[str] | None = None,
    keep_encoded: bool = False,
) -> TrainResult:
    """Corpus -> code text (streaming, resumable) -> SentencePiece -> a saved :class:`~subchar.tokenizer.SubCharTokenizer`.

    Args:
        corpus: UTF-8 text, one line per document or sentence.
        out_dir: the tokenizer folder (``from_pretrained`` loads it); the code text is kept in ``out_dir/work``
            while training and removed afterwards unless ``keep_encoded``.
        encoder: the encoding (default: pinyin with index, lossless).
        spm_config: SentencePiece settings.
        convert: conversion settings (workers, filtering).
        table_file: a user table (Zhengma, Rime…) instead of a shipped one; it is saved with the tokenizer.
        keep_encoded: keep ``out_dir/work/corpus.code.txt``.
    """
    from subchar.tokenizer import SubCharTokenizer

    encoder = encoder or EncoderConfig()
    out = Path(out_dir)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    encoded = work / "corpus.code.txt"
    stats = convert_corpus(corpus, encoded, encoder, convert, table_file=table_file)
    t0 = time.perf_counter()
    table = None
    if table_file is not None:
        from subchar.tables import load_user_table

        table = load_user_table(table_file)
    model = train_sentencepiece(encoded, work / "spm", spm_config, required_chars=encoder_symbols(encoder, table))
    seconds = time.perf_counter() - t0
    tok = SubCharTokenizer(vocab_file=str(model), table=table, **encoder.to_dict())
    tok.save_pretrained(out)
    if not keep_encoded:
        shutil.rmtree(work)
    logger.info("trained %s (%d pieces) in %.1f s", out, tok.vocab_size, seconds)
    return TrainResult(out, stats, seconds, tok.vocab_size)
