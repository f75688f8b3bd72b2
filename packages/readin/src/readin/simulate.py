"""Turn any clean test set in a READIN task format into a READIN-style benchmark: 3 keyboard + 3 speech versions.

Only the task's re-entered fields change (:attr:`readin.tasks.Task.noised`): AFQMC both sentences, CMRC and CSpider
the question (so the passage and answer offsets stay valid), WMT the Chinese source. CSpider string values that the
SQL must match are protected. Version ``i`` of the speech channel uses speaker profile
``VERSION_PROFILES[i - 1]``; every (example, field, channel, version) has its own seed, so results do not depend on
the number of processes.

    >>> from readin.simulate import noise_rows
    >>> rows, log = noise_rows([{"question": "中国的首都是哪里？", ...}], "cmrc", "keyboard", 1)   # doctest: +SKIP
"""

from __future__ import annotations

import multiprocessing as mp
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lc_core.io import write_jsonl
from lc_core.logging import get_logger
from readin.noise import PYCORRECTOR_WEIGHTS, VERSION_PROFILES, Edit, KeyboardConfig, SpeechConfig, noise_text
from readin.tasks import NOISES, VERSIONS, Task, canonical_noise, get_task

__all__ = ["NoiseSettings", "noise_rows", "protected_spans", "make_benchmark"]

logger = get_logger(__name__)

_SQL_STRING = re.compile(r"'([^']+)'|\"([^\"]+)\"")


@dataclass(kw_only=True)
class NoiseSettings:
    """Rates and seeds for :func:`noise_rows` / :func:`make_benchmark`.

    Args:
        keyboard_rate: per-word probability of one IME operation.
        speech_rate: per-syllable probability of a mishearing.
        seed: the base seed.
        processes: worker processes (1: in-process).
        pycorrector: add pycorrector's SIGHAN confusion sets to the keyboard channel (same-pinyin and same-stroke
            character swaps; needs the correct extra, read offline).
    """

    keyboard_rate: float = 0.15
    speech_rate: float = 0.15
    seed: int = 0
    processes: int = 1
    pycorrector: bool = False

    def config(self, channel: str, version: int) -> KeyboardConfig | SpeechConfig:
        if canonical_noise(channel) == "keyboard":
            if self.pycorrector:
                base = KeyboardConfig().weights
                return KeyboardConfig(rate=self.keyboard_rate, weights={**base, **PYCORRECTOR_WEIGHTS})
            return KeyboardConfig(rate=self.keyboard_rate)
        return SpeechConfig(rate=self.speech_rate, profile=VERSION_PROFILES[(version - 1) % len(VERSION_PROFILES)])


def protected_spans(task: Task, row: Mapping[str, Any], field: str) -> list[tuple[int, int]]:
    """Spans of ``row[field]`` that must survive: for CSpider, string literals of the SQL found in the question."""
    if task.name != "cspider":
        return []
    text, spans = row[field], []
    for m in _SQL_STRING.finditer(str(row.get("query", ""))):
        value = m.group(1) or m.group(2)
        for hit in re.finditer(re.escape(value), text):
            spans.append((hit.start(), hit.end()))
    return spans


def _one(job: tuple[str, str, str, Any, list[tuple[int, int]]]) -> tuple[str, list[Edit]]:
    text, channel, seed, config, protect = job
    return noise_text(text, channel, seed, config, protect)


def _pool(processes: int) -> Any:
    from readin.noise import tokenize
    from readin.pinyin import get_tables

    # build the tables and jieba's dictionary once, before forking, so workers share them
    get_tables()
    tokenize("预热")
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else None).Pool(processes)


def noise_rows(
    rows: Sequence[Mapping[str, Any]],
    task: Task | str,
    channel: str,
    version: int,
    settings: NoiseSettings | None = None,
    *,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One noisy version of ``rows``.

    Returns:
        ``(noisy_rows, log)``; ``log`` has one entry per changed field: ``{"index", "field", "text", "noisy",
        "edits": [Edit as dict]}``.
    """
    task = get_task(task) if isinstance(task, str) else task
    st = settings or NoiseSettings()
    channel = canonical_noise(channel)
    config = st.config(channel, version)
    jobs, where = [], []
    for i, row in enumerate(rows):
        for field in task.noised:
            text = row.get(field)
            if isinstance(text, str) and text:
                seed = f"{st.seed}:{channel}:{version}:{i}:{field}"
                jobs.append((text, channel, seed, config, protected_spans(task, row, field)))
                where.append((i, field))
    if st.processes > 1 and len(jobs) > 64:
        with _pool(st.processes) as pool:
            results = list(
                tqdm(pool.imap(_one, jobs, chunksize=64), total=len(jobs), disable=not progress, desc=f"{channel}_{version}")
            )
    else:
        results = [_one(j) for j in tqdm(jobs, disable=not progress, desc=f"{channel}_{version}")]
    out = [dict(r) for r in rows]
    log = []
    for (i, field), (job, (noisy, edits)) in zip(where, zip(jobs, results)):
        out[i][field] = noisy
        if edits:
            log.append({"index": i, "field": field, "text": job[0], "noisy": noisy, "edits": [e.to_dict() for e in edits]})
    return out, log


def make_benchmark(
    rows: Sequence[Mapping[str, Any]],
    task: Task | str,
    out: str | Path,
    settings: NoiseSettings | None = None,
    *,
    noises: Iterable[str] = NOISES,
    progress: bool = True,
) -> dict[str, Any]:
    """Write ``out/test_clean/test.json`` and ``out/test_noisy_<noise>_<i>/test.json`` (+ ``edits_<noise>_<i>.jsonl``).

    Returns:
        ``{"sentences": fields noised per version, "seconds": wall time, "sentences_per_s": ...}``.
    """
    task = get_task(task) if isinstance(task, str) else task
    st = settings or NoiseSettings()
    out = Path(out)
    write_jsonl(out / "test_clean" / "test.json", rows)
    start, count = time.perf_counter(), 0
    for noise in dict.fromkeys(canonical_noise(n) for n in noises):
        for v in VERSIONS:
            noisy, log = noise_rows(rows, task, noise, v, replace(st), progress=progress)
            write_jsonl(out / f"test_noisy_{noise}_{v}" / "test.json", noisy)
            write_jsonl(out / f"edits_{noise}_{v}.jsonl", log)
            count += sum(isinstance(r.get(f), str) and bool(r.get(f)) for r in rows for f in task.noised)
    secs = time.perf_counter() - start
    return {"sentences": count, "seconds": secs, "sentences_per_s": count / secs if secs > 0 else None}
