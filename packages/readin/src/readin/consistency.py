"""Tokenization consistency: how often a tokenizer cuts the noisy text exactly as it cuts the clean one.

READIN's analysis (its CMRC tokenization-consistency script, spec §7.7) compares tokenizers by the share of
questions whose tokenization is identical on the clean and the keyboard-noised version: a pinyin-based tokenizer
keeps homophone typos consistent, a character or word tokenizer does not. :func:`consistency_scores` computes it
for every version of every channel of a loaded benchmark, with the channel's average and the share of examples
consistent in all three versions (the worst case), for any of these tokenizers (:func:`get_tokenizer`), offline:

- ``char``: one token per character;
- ``jieba``: jieba's word segmentation (``jieba.lcut``, HMM on);
- ``pinyin``: toneless pinyin per character (pypinyin ``lazy_pinyin``; non-Chinese runs kept), like SubChar's
  ``Pypinyin`` tokenizer; homophones therefore tokenize alike;
- a local folder holding a Hugging Face tokenizer (``AutoTokenizer``, ``local_files_only``; the ``hf`` extra), or a
  SentencePiece ``.model`` file.

Each noised field of a row is one unit (AFQMC: both sentences; CMRC / CSpider: the question; WMT: the source).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lc_core.cli import UserError
from lc_core.logging import get_logger
from readin.data import Benchmark
from readin.metrics import average, tokenization_consistency

__all__ = ["BUILTIN_TOKENIZERS", "get_tokenizer", "consistency_scores"]

logger = get_logger(__name__)

#: tokenizers that need no file
BUILTIN_TOKENIZERS: tuple[str, ...] = ("char", "jieba", "pinyin")

Tokenize = Callable[[str], Sequence[Any]]


def _jieba(text: str) -> list[str]:
    import jieba

    return jieba.lcut(text)


def _pinyin(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(text)


def get_tokenizer(spec: str) -> Tokenize:
    """A ``text -> tokens`` function: ``char``, ``jieba``, ``pinyin``, a local HF tokenizer folder or a ``.model`` file.

    Raises:
        FileNotFoundError: ``spec`` is neither a built-in name nor an existing path.
        UserError: the path needs an extra that is not installed, or holds no tokenizer.
    """
    if spec == "char":
        return list
    if spec == "jieba":
        return _jieba
    if spec == "pinyin":
        return _pinyin
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such tokenizer (built-in: {', '.join(BUILTIN_TOKENIZERS)}; or a local folder)")
    if path.is_file() and path.suffix == ".model":
        try:
            import sentencepiece as spm
        except ImportError:
            raise UserError(f"{spec}: a SentencePiece model needs the sentencepiece package") from None
        sp = spm.SentencePieceProcessor(model_file=str(path))
        return lambda text: sp.encode(text, out_type=str)
    if not path.is_dir():
        raise UserError(f"{spec}: expected a tokenizer folder or a SentencePiece .model file")
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise UserError(f"{spec}: a Hugging Face tokenizer folder needs the hf extra (pip install 'readin[hf]')") from None
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as e:
        raise UserError(f"{spec}: no tokenizer could be loaded from this folder ({type(e).__name__})") from None
    return tok.tokenize


def _units(bench: Benchmark, fields: Sequence[str]) -> tuple[list[str], int]:
    clean = bench.clean.rows
    return [str(r[f]) for f in fields for r in clean], len(clean)


def consistency_scores(
    bench: Benchmark, tokenize: Tokenize, *, fields: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """Per channel: the consistency of each version, their ``avg`` and ``all`` (consistent in every version).

    Args:
        bench: a loaded benchmark (clean + noisy splits, aligned).
        tokenize: ``text -> tokens`` (:func:`get_tokenizer`).
        fields: the fields compared (default: the task's re-entered fields); each field of each row is one unit.

    Returns:
        ``{"keyboard": {"keyboard_1": s1, "keyboard_2": s2, "keyboard_3": s3, "avg": mean, "all": worst,
        "units": n}, "asr": {...}}``, shares in [0, 1]; ``all`` counts the units present in every version.
    """
    fields = tuple(fields or bench.task.noised)
    unknown = [f for f in fields if f not in bench.task.noised]
    if unknown:
        raise UserError(f"--fields {', '.join(unknown)}: not a re-entered field of {bench.task.name} ({bench.task.noised})")
    clean, n = _units(bench, fields)
    cache: dict[str, list[Any]] = {}

    def tok(text: str) -> list[Any]:
        if text not in cache:
            cache[text] = list(tokenize(text))
        return cache[text]

    out: dict[str, dict[str, float]] = {}
    for noise in bench.noises():
        block: dict[str, float] = {}
        same: list[dict[int, bool]] = []
        for split in bench.versions(noise):
            noisy = {fi * n + i: str(row[f]) for fi, f in enumerate(fields) for i, row in zip(split.index, split.rows)}
            block[split.name] = tokenization_consistency(tok, clean, noisy)
            same.append({k: tok(clean[k]) == tok(t) for k, t in noisy.items()})
        common = set.intersection(*(set(s) for s in same))
        block["avg"] = average([block[s.name] for s in bench.versions(noise)])
        block["all"] = sum(all(s[k] for s in same) for k in common) / len(common) if common else 0.0
        block["units"] = len(common)
        out[noise] = block
    return out
