"""A synthetic Chinese corpus with Zipfian word frequencies (spec §14.8's compression check, tests, demos).

Words of 1-4 characters are drawn from the most common characters (jieba frequencies); word ranks follow Zipf's
law, so frequent multi-character words exist for a sub-word vocabulary to merge, as in real text.
"""

from __future__ import annotations

import random

from subchar.tables import load_table

__all__ = ["zipf_corpus"]


def zipf_corpus(n_chars: int, *, seed: int = 0, n_words: int = 3000, n_common: int = 2500) -> list[str]:
    """Lines of about 5-20 words each until ``n_chars`` characters are written.

    Args:
        n_chars: total characters (at least).
        seed: RNG seed.
        n_words: size of the random word list.
        n_common: characters drawn from (the most frequent that have both a pinyin and a wubi code).
    """
    rng = random.Random(seed)
    pinyin, wubi = load_table("pinyin"), load_table("wubi")
    chars = sorted(pinyin.codes.keys() & wubi.codes.keys(), key=lambda c: (-pinyin.freq.get(c, 0), ord(c)))[:n_common]
    # rarer words draw from a wider set of characters
    words = ["".join(rng.choice(chars[: 300 + 8 * i]) for _ in range(rng.choice((1, 2, 2, 2, 3, 4)))) for i in range(n_words)]
    weights = [1.0 / (r + 1) for r in range(n_words)]
    lines, total = [], 0
    while total < n_chars:
        line = "".join(rng.choices(words, weights, k=rng.randint(5, 20)))
        lines.append(line)
        total += len(line)
    return lines
