"""Sequence length, homophone-typo robustness and throughput of sub-character tokenizers on real text.

Lengths (the paper's efficiency measurement): tokens per text for

- char-level: one token per non-whitespace character (what BERT-Chinese's character tokenizer gives);
- a same-size unigram sub-word baseline: SentencePiece unigram on the *raw* training text with the same vocabulary
  size and ``character_coverage=1.0`` (the original's ``raw_zh_22675``);
- each SubChar tokenizer (no special tokens).

Robustness: the share of lines whose token ids are unchanged after homophone noise (:mod:`subchar.noise`) and the
mean token-level similarity ``1 - edit_distance / max(len)``. NoIndex pinyin tokenizers are invariant by construction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subchar.noise import make_noise
from subchar.tokenizer import SubCharTokenizer

__all__ = [
    "StatsConfig",
    "char_length",
    "count_tokens",
    "train_raw_baseline",
    "length_rows",
    "robustness_rows",
    "throughput_rows",
    "edit_similarity",
]


@dataclass(kw_only=True)
class StatsConfig:
    """What ``subchar stats`` measures.

    Args:
        noise_ratios: homophone replacement probabilities for the robustness rows.
        noise_kind: the noise's code table: pinyin (same syllable and tone) or wubi (same Wubi code).
        seed: noise seed.
        max_lines: use at most this many lines of the text (0: all).
    """

    noise_ratios: list[float] = field(default_factory=lambda: [0.1, 0.3])
    noise_kind: str = "pinyin"
    seed: int = 2021
    max_lines: int = 0


def char_length(lines: Sequence[str]) -> int:
    """Characters that a character-level tokenizer turns into tokens (whitespace excluded)."""
    return sum(1 for line in lines for c in line if not c.isspace())


def count_tokens(tok: SubCharTokenizer, lines: Sequence[str]) -> int:
    """SubChar tokens of ``lines`` (no special tokens)."""
    encoded = tok.encoder.encode_batch(list(lines))
    return sum(len(ids) for ids in tok.sp_model.encode(encoded))


def _no_space(line: str) -> str:
    return "".join(c for c in line if not c.isspace())


def train_raw_baseline(corpus: str | Path, vocab_size: int, work_dir: str | Path) -> Any:
    """The same-size unigram sub-word baseline on raw text; returns a SentencePieceProcessor.

    Whitespace is removed from its training and evaluation text, as from the original's corpus and as the
    char-level count does, so its vocabulary is not spent on the space symbol.
    """
    import sentencepiece as spm

    from subchar.train import SpmConfig, train_sentencepiece

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    text = work / "raw_no_space.txt"
    with open(corpus, encoding="utf-8") as src, open(text, "w", encoding="utf-8") as dst:
        for line in src:
            stripped = _no_space(line)
            if stripped:
                dst.write(stripped + "\n")
    model = train_sentencepiece(str(text), work / f"raw_unigram_{vocab_size}", SpmConfig(vocab_size=vocab_size))
    return spm.SentencePieceProcessor(model_file=str(model))


def length_rows(
    lines: Sequence[str], tokenizers: Mapping[str, SubCharTokenizer], raw_baseline: Any | None = None
) -> list[dict[str, Any]]:
    """One row per tokenizer: tokens, share of the char-level length, share of the sub-word baseline."""
    chars = char_length(lines)
    rows: list[dict[str, Any]] = [{"tokenizer": "char-level", "tokens": chars, "% of char": 100.0}]
    raw = None
    if raw_baseline is not None:
        raw = sum(len(ids) for ids in raw_baseline.encode([_no_space(x) for x in lines]))
        rows.append(
            {"tokenizer": f"unigram raw ({raw_baseline.get_piece_size()})", "tokens": raw, "% of char": 100 * raw / chars}
        )
    for name, tok in tokenizers.items():
        n = count_tokens(tok, lines)
        rows.append({"tokenizer": f"{name} ({tok.vocab_size})", "tokens": n, "% of char": 100 * n / chars})
    for r in rows:
        r["% of raw unigram"] = None if raw is None else 100 * r["tokens"] / raw
    return rows


def edit_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """``1 - levenshtein(a, b) / max(len(a), len(b))`` (1.0 for two empty sequences)."""
    if not a and not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))


def robustness_rows(
    lines: Sequence[str], tokenizers: Mapping[str, SubCharTokenizer], config: StatsConfig | None = None
) -> list[dict[str, Any]]:
    """Per tokenizer and noise ratio: realised noise rate, identical-ids share, mean token similarity."""
    cfg = config or StatsConfig()
    rows = []
    for ratio in cfg.noise_ratios:
        noisy = [make_noise(line, ratio, kind=cfg.noise_kind, seed=cfg.seed + i) for i, line in enumerate(lines)]
        eligible = sum(n.eligible for n in noisy)
        rate = sum(n.replaced for n in noisy) / eligible if eligible else 0.0
        for name, tok in tokenizers.items():
            clean_ids = tok.sp_model.encode(tok.encoder.encode_batch(list(lines)))
            noisy_ids = tok.sp_model.encode(tok.encoder.encode_batch([n.text for n in noisy]))
            same = sum(a == b for a, b in zip(clean_ids, noisy_ids))
            sim = sum(edit_similarity(a, b) for a, b in zip(clean_ids, noisy_ids)) / max(1, len(lines))
            rows.append(
                {
                    "tokenizer": name,
                    "noise": f"{cfg.noise_kind} {ratio:g}",
                    "realised rate": rate,
                    "identical lines %": 100 * same / max(1, len(lines)),
                    "token similarity %": 100 * sim,
                }
            )
    return rows


def throughput_rows(lines: Sequence[str], tokenizers: Mapping[str, SubCharTokenizer], repeat: int = 3) -> list[dict[str, Any]]:
    """Characters per second: encoding only, encoding + SentencePiece, and the transformers ``tokenize``."""
    text = list(lines)
    n = sum(len(x) for x in text)
    rows = []
    for name, tok in tokenizers.items():
        best = {"encode": float("inf"), "encode+spm": float("inf"), "tokenizer": float("inf")}
        for _ in range(repeat):
            t0 = time.perf_counter()
            enc = tok.encoder.encode_batch(text)
            t1 = time.perf_counter()
            tok.sp_model.encode(enc)
            t2 = time.perf_counter()
            for line in text:
                tok.tokenize(line)
            t3 = time.perf_counter()
            best["encode"] = min(best["encode"], t1 - t0)
            best["encode+spm"] = min(best["encode+spm"], t2 - t0)
            best["tokenizer"] = min(best["tokenizer"], t3 - t2)
        rows.append({"tokenizer": name, **{f"{k} Mchar/s": n / v / 1e6 for k, v in best.items()}})
    return rows


def plot_lengths(rows: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """Bar chart of each tokenizer's length as a share of char-level (the ``plot`` extra)."""
    from lc_core.plot import pyplot, save_figure

    plt = pyplot("subchar[plot]")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    names = [str(r["tokenizer"]) for r in rows]
    values = [float(r["% of char"]) for r in rows]
    ax.barh(names[::-1], values[::-1], color="#4C72B0")
    for y, v in enumerate(values[::-1]):
        ax.text(v, y, f" {v:.1f}", va="center", fontsize=8)
    ax.set_xlabel("tokens, % of char-level")
    ax.set_xlim(0, max(values) * 1.15)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
