"""A tiny licence-clean sample in the READIN schemas (sentences written for this package, not READIN data).

Used by the tests, the README quick start and ``readin noise`` demos: :func:`write_task` writes a task folder in
the released layout (or flat files) with three marked noisy copies per channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["AFQMC", "CMRC", "WMT", "CSPIDER", "SAMPLES", "write_jsonl", "write_task"]

AFQMC = [
    {"sentence1": "花呗怎么不能提额了", "sentence2": "花呗为什么不能提升额度", "label": "1"},
    {"sentence1": "借呗可以提前还款吗", "sentence2": "借呗能提前还吗", "label": 1},
    {"sentence1": "花呗账单怎么查", "sentence2": "借呗利息多少", "label": "0"},
    {"sentence1": "余额宝收益怎么算", "sentence2": "花呗怎么开通", "label": 0},
]
CMRC = [
    {
        "id": f"cmrc2018_dev_DEV_{i}_QUERY_0",
        "context": ctx,
        "question": q,
        "answers": [{"text": a, "answer_start": ctx.index(a)}],
    }
    for i, (ctx, q, a) in enumerate(
        [
            ("北京是中华人民共和国的首都。", "中国的首都是哪里？", "北京"),
            ("长江是中国最长的河流，全长六千多公里。", "长江有多长？", "六千多公里"),
            ("李白是唐代著名诗人，被称为诗仙。", "李白被称为什么？", "诗仙"),
        ]
    )
]
WMT = [
    {"id": i, "zh": zh, "en": en}
    for i, (zh, en) in enumerate(
        [
            ("今天天气很好。", "The weather is nice today."),
            ("我喜欢读书。", "I like reading books."),
            ("他明天去北京。", "He is going to Beijing tomorrow."),
            ("这个问题很难。", "This question is very hard."),
            ("我们一起吃饭吧。", "Let's have a meal together."),
        ]
    )
]
CSPIDER = [
    {"question": "有多少个歌手？", "db_id": "concert_singer", "query": "SELECT count(*) FROM singer"},
    {"question": "列出所有歌手的名字。", "db_id": "concert_singer", "query": "SELECT name FROM singer"},
    {"question": "年龄大于三十岁的歌手有哪些？", "db_id": "concert_singer", "query": "SELECT name FROM singer WHERE age > 30"},
]
SAMPLES = {"afqmc": (AFQMC, "sentence1"), "cmrc": (CMRC, "question"), "cspider": (CSPIDER, "question"), "wmt": (WMT, "zh")}


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write rows as UTF-8 JSON Lines (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _noisy(rows: list[dict[str, Any]], key: str, tag: str) -> list[dict[str, Any]]:
    return [{**r, key: r[key] + tag} for r in rows]


def write_task(root: Path, task: str, *, flat: bool = False, speech: str = "asr") -> Path:
    """Write clean + 6 noisy splits of a fixture task in the nested (or flat) layout."""
    rows, key = SAMPLES[task]
    root = Path(root)
    name = lambda split: root / (f"{split}.json" if flat else f"{split}/test.json")
    write_jsonl(name("test_clean"), rows)
    for noise in ("keyboard", speech):
        for i in (1, 2, 3):
            write_jsonl(name(f"test_noisy_{noise}_{i}"), _noisy(rows, key, f"{noise[0]}{i}"))
    return root
