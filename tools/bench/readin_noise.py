"""Benchmark: readin's keyboard and speech simulators vs nlpcda's homophone replacement (the peer), sentences/s.

Both run in this process on the same sentences. nlpcda's ``Homophone`` replaces random characters by entries of a
pinyin -> characters list (no segmentation, no context-aware pinyin, no candidate ranking, no edit log); readin
segments with jieba, reads each word with pypinyin's phrase data, applies IME / ASR operations and logs every edit,
so it is expected to be slower: the ratio says by how much. Each readin row starts with an empty per-text analysis
cache (jieba words + pypinyin readings, :func:`readin.noise.analyse`). Also: the workload of ``readin noise`` (3
keyboard + 3 speech versions of each sentence, where the analysis is computed once per sentence), reported per
noisy version, and readin with 2 worker processes (multiprocessing).

Sentences: the shipped sample's texts, re-shuffled into distinct 30-character strings (no cache hits across them).

    uv run python tools/bench/readin_noise.py              # 3,000 sentences
    uv run python tools/bench/readin_noise.py --n 500 --quick
"""

from __future__ import annotations

import argparse
import random
import time

from lc_core.report import machine_header, markdown_table
from readin.noise import KeyboardConfig, SpeechConfig, analyse, keyboard_noise, speech_noise
from readin.sample import SAMPLES
from readin.simulate import NoiseSettings, noise_rows


def sentences(n: int, length: int = 30, seed: int = 0) -> list[str]:
    pool = "".join(r[k] for rows, k in SAMPLES.values() for r in rows)
    pool = "".join(ch for ch in pool if "\u4e00" <= ch <= "\u9fff") + "，。"
    rng = random.Random(seed)
    return ["".join(rng.choices(pool, k=length)) for _ in range(n)]


def rate(fn, texts: list[str]) -> float:
    analyse.cache_clear()
    start = time.perf_counter()
    for i, t in enumerate(texts):
        fn(t, i)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000, help="sentences")
    ap.add_argument("--rate", type=float, default=0.15, help="per-word (keyboard) / per-syllable (speech) / per-char (nlpcda)")
    ap.add_argument("--quick", action="store_true", help="skip the multiprocessing row")
    args = ap.parse_args()
    texts = sentences(args.n)
    kb, sp = KeyboardConfig(rate=args.rate), SpeechConfig(rate=args.rate, profile="southern")
    # warm-up: tables, jieba's dictionary, nlpcda's dictionary are loaded before timing
    keyboard_noise(texts[0], 0, kb)
    speech_noise(texts[0], 0, sp)
    from nlpcda import Homophone

    peer = Homophone(create_num=2, change_rate=args.rate, seed=1)
    peer.replace(texts[0])
    rows = [
        {"tool": "nlpcda Homophone (peer)", "sentences_per_s": rate(lambda t, i: peer.replace(t), texts)},
        {"tool": "readin keyboard", "sentences_per_s": rate(lambda t, i: keyboard_noise(t, i, kb), texts)},
        {"tool": "readin speech", "sentences_per_s": rate(lambda t, i: speech_noise(t, i, sp), texts)},
    ]
    profiles = ("standard", "southern", "southwestern")
    sps = [SpeechConfig(rate=args.rate, profile=p) for p in profiles]

    def six(t: str, i: int) -> None:
        for v in range(3):
            keyboard_noise(t, f"{i}:{v}", kb)
            speech_noise(t, f"{i}:{v}", sps[v])

    rows.append({"tool": "readin 3 keyboard + 3 speech versions, per version", "sentences_per_s": 6 * rate(six, texts)})
    if not args.quick:
        data = [{"zh": t, "en": "", "id": i} for i, t in enumerate(texts)]
        analyse.cache_clear()
        start = time.perf_counter()
        noise_rows(data, "wmt", "asr", 2, NoiseSettings(processes=2, speech_rate=args.rate))
        rows.append({"tool": "readin speech, 2 processes", "sentences_per_s": len(texts) / (time.perf_counter() - start)})
    peer_rate = rows[0]["sentences_per_s"]
    for r in rows:
        r["slower_than_peer_x"] = peer_rate / r["sentences_per_s"]
    print(machine_header())
    print(f"{len(texts)} sentences of 30 characters, rate {args.rate}")
    print(markdown_table(rows, precision=1), end="")


if __name__ == "__main__":
    main()
