"""The four READIN tasks as records: which fields a row must have, which ones the annotators re-entered.

One :class:`Task` per task, looked up with :func:`get_task`; no module branches on a task name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Task", "TASKS", "NOISES", "NOISE_ALIASES", "VERSIONS", "get_task", "canonical_noise", "split_names"]

#: the two input channels; READIN's files call speech ``asr``
NOISES: tuple[str, ...] = ("keyboard", "asr")
#: user-facing spellings of a channel -> the canonical name
NOISE_ALIASES: dict[str, str] = {"keyboard": "keyboard", "kb": "keyboard", "asr": "asr", "speech": "asr", "sp": "asr"}
#: annotator versions per channel (READIN has three annotators per channel)
VERSIONS: tuple[int, ...] = (1, 2, 3)


@dataclass(frozen=True, kw_only=True)
class Task:
    """One READIN task.

    Args:
        name: canonical name (``afqmc``, ``cmrc``, ``cspider``, ``wmt``).
        source: the upstream dataset.
        required: fields every row must carry, with their accepted types.
        noised: the fields the annotators re-entered (the only ones a simulator may change).
        metric: the headline metric.
        aliases: other names (``cmrc2018``, ``nmt``...).
    """

    name: str
    source: str
    required: dict[str, tuple[type, ...]]
    noised: tuple[str, ...]
    metric: str
    aliases: tuple[str, ...] = ()


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            name="afqmc",
            source="AFQMC (CLUE), balanced",
            required={"sentence1": (str,), "sentence2": (str,), "label": (str, int)},
            noised=("sentence1", "sentence2"),
            metric="accuracy per class (pos = label 1, neg = label 0)",
            aliases=("afqmc_balanced",),
        ),
        Task(
            name="cmrc",
            source="CMRC2018 (span extraction)",
            required={"id": (str, int), "context": (str,), "question": (str,), "answers": (list,)},
            noised=("question",),
            metric="exact match and F1",
            aliases=("cmrc2018",),
        ),
        Task(
            name="cspider",
            source="CSpider (Chinese Spider, text-to-SQL)",
            required={"question": (str,), "db_id": (str,), "query": (str,)},
            noised=("question",),
            metric="exact match of the SQL",
            aliases=("spider",),
        ),
        Task(
            name="wmt",
            source="WMT2021 news test zh->en",
            required={"zh": (str,), "en": (str,)},
            noised=("zh",),
            metric="sacreBLEU",
            aliases=("nmt", "wmt21"),
        ),
    )
}


def get_task(name: str) -> Task:
    """The task called ``name`` (or one of its aliases); ``KeyError('unknown task ...')`` otherwise."""
    key = name.strip().lower()
    for task in TASKS.values():
        if key == task.name or key in task.aliases:
            return task
    raise KeyError(f"unknown task {name!r}; known: {', '.join(TASKS)} (aliases: nmt, cmrc2018, afqmc_balanced)")


def canonical_noise(name: str) -> str:
    """``speech`` -> ``asr``, ``kb`` -> ``keyboard``; ``KeyError('unknown noise ...')`` otherwise."""
    try:
        return NOISE_ALIASES[name.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown noise {name!r}; known: keyboard, asr (alias speech)") from None


def split_names(noises: tuple[str, ...] = NOISES) -> list[str]:
    """``["clean", "keyboard_1", ..., "asr_3"]``: the seven test splits of a task."""
    return ["clean"] + [f"{canonical_noise(n)}_{i}" for n in noises for i in VERSIONS]
