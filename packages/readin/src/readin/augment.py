"""READIN's baselines that need no model: the ADA augmenter (spec §7.5) and the word-correction hook (§7.6).

**ADA** ("adversarial data augmentation" in the paper; not gradient-based): characters are grouped by same syllable
and same tone; each character of the noised fields is replaced, with probability ``ratio`` (0.5), by a uniformly
random *other* member of its group; characters without a group are kept. The training set is the clean rows followed
by ``copies`` (2) independently noised copies, from one RNG seeded once (seed 0). The default table groups GB2312
characters by their default pypinyin reading (one reading per character, as the SubChar table the original used;
that table has no licence and is not shipped); pass ``table`` to plug in another.

**Correction**: a :class:`Corrector` maps a noisy input to a corrected one before the model sees it; only test
inputs are corrected. :class:`IdentityCorrector` is the default; :class:`PycorrectorCorrector` wraps pycorrector
(its models download at run time, so it is never used unless asked for).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from readin.tasks import Task, get_task

__all__ = ["default_groups", "ada_augment", "Corrector", "IdentityCorrector", "PycorrectorCorrector", "correct_rows"]


@functools.lru_cache(maxsize=1)
def default_groups() -> dict[str, tuple[str, ...]]:
    """TONE3 syllable -> the GB2312 characters whose default reading it is (groups of one are dropped)."""
    from readin.pinyin import get_tables

    groups: dict[str, list[str]] = {}
    for ch, readings in get_tables().readings.items():
        groups.setdefault(readings[0], []).append(ch)
    return {k: tuple(sorted(v)) for k, v in groups.items() if len(v) > 1}


def _member_map(table: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for members in table.values():
        group = tuple(dict.fromkeys(members))
        if len(group) < 2:
            continue
        for ch in group:
            out.setdefault(ch, group)
    return out


def ada_augment(
    rows: Sequence[Mapping[str, Any]],
    task: Task | str,
    *,
    ratio: float = 0.5,
    copies: int = 2,
    seed: int = 0,
    table: Mapping[str, Sequence[str]] | None = None,
    keys: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Clean rows followed by ``copies`` noised copies (``len(out) == (1 + copies) * len(rows)``).

    Args:
        rows: training rows in the task's schema.
        task: which fields to noise (AFQMC both sentences, CMRC/CSpider the question, WMT the source).
        ratio: replacement probability per character that has a group.
        copies: noised copies appended after the clean rows.
        seed: seeds one RNG for the whole run.
        table: group name -> characters (default :func:`default_groups`).
        keys: override the noised fields.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    task = get_task(task) if isinstance(task, str) else task
    fields = tuple(keys) if keys is not None else task.noised
    members = _member_map(table if table is not None else default_groups())
    rng = random.Random(seed)
    out = [dict(r) for r in rows]
    for _ in range(copies):
        for row in rows:
            new = dict(row)
            for key in fields:
                text = row.get(key)
                if not isinstance(text, str):
                    continue
                chars = list(text)
                for i, ch in enumerate(chars):
                    group = members.get(ch)
                    if group is not None and rng.random() < ratio:
                        chars[i] = rng.choice([c for c in group if c != ch])
                new[key] = "".join(chars)
            out.append(new)
    return out


@runtime_checkable
class Corrector(Protocol):
    """Anything with ``correct(text) -> text``."""

    def correct(self, text: str) -> str: ...


class IdentityCorrector:
    """Returns the text unchanged (the no-correction baseline)."""

    def correct(self, text: str) -> str:
        return text


class PycorrectorCorrector:
    """pycorrector's default Chinese spelling corrector. Networked: its language model downloads on first use."""

    def __init__(self, **kwargs: Any):
        try:
            from pycorrector import Corrector as _PC
        except ImportError as e:
            raise ImportError("the pycorrector corrector needs the correct extra: pip install 'readin[correct]'") from e
        self._impl = _PC(**kwargs)

    def correct(self, text: str) -> str:
        result = self._impl.correct(text)
        return result["target"] if isinstance(result, dict) else str(result[0])


def correct_rows(rows: Sequence[Mapping[str, Any]], task: Task | str, corrector: Corrector) -> list[dict[str, Any]]:
    """Apply ``corrector`` to the task's re-entered fields only."""
    task = get_task(task) if isinstance(task, str) else task
    out = []
    for row in rows:
        new = dict(row)
        for key in task.noised:
            if isinstance(new.get(key), str):
                new[key] = corrector.correct(new[key])
        out.append(new)
    return out
