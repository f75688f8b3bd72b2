"""Benchmark: generating the six paper-preset ∞Bench synthetic files, ours vs the original's approach.

The baseline re-implements the original ``construct_synthetic_dataset.py`` approach faithfully (unseeded
``random``/``uuid4``, rows collected in memory and written at the end, Code.Run answers by writing
``functions_module.py`` and importing it for every row, kv pairs drawn as 3,000 per example then shuffled
and cut to 2,500) with the released files' sizes. Ours is ``infbench.generate`` (per-row seeded RNGs, numpy
lists, streaming atomic writes, call-chain execution). A second table measures tokenizer-exact sizing
(``fit_units``) at 128K and 1M tokens with the byte tokenizer and a BPE ``tokenizers`` model.

Run::

    .venv/bin/python tools/bench/infbench_generate.py --out /tmp/infbench-bench            # full paper preset
    .venv/bin/python tools/bench/infbench_generate.py --out /tmp/infbench-bench --fraction 0.1  # quick
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from infbench.generate import (
    CALC_INPUT,
    CALC_PROMPT,
    CODE_RUN_HEADER,
    CODE_RUN_INPUT,
    KV_INPUT,
    MATH_FIND_TARGETS,
    NOISE_LINE,
    NUMBER_NEEDLE,
    PASSKEY_NEEDLE,
    GeneratorConfig,
    generate_task,
    paper_config,
    write_task,
)
from infbench.tokenization import FastTokenizer, get_tokenizer
from lc_core.logging import get_logger, setup_logging
from lc_core.report import emit, markdown_table

logger = get_logger("infbench_generate_bench")

TASKS = ("passkey", "number_string", "kv_retrieval", "math_find", "math_calc", "code_run")


def _write_all(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def baseline_passkey(path: Path, number: bool, fraction: float) -> int:
    needle = NUMBER_NEEDLE if number else PASSKEY_NEEDLE
    rows = []
    num_noise, step, repeats = 5220, 90, max(1, round(10 * fraction))
    for j in range(0, num_noise + 1, step):
        for _ in range(repeats):
            keys = [str(random.randint(0, 9)) for _ in range(5)]
            if number:
                for k in range(5):
                    pos = random.randint(0, 4 + k)
                    keys.insert(pos, keys[pos])
            key = "".join(keys)
            context = NOISE_LINE * j + needle.format(key=key) + NOISE_LINE * (num_noise - j)
            q = "What is the sequence of digits?" if number else "What is the pass key?"
            rows.append({"input": q, "context": context, "answer": key, "len": 26 * (num_noise - j)})
    _write_all(rows, path)
    return len(rows)


def baseline_kv(path: Path, fraction: float) -> int:
    n_examples = max(1, round(500 * fraction))
    rows = []
    for cnt in range(n_examples):
        records = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(3000)]
        random.shuffle(records)
        kept = records[:2500]
        ans_id = min(int(cnt * 2500 / 500), 2500)
        key, value = kept[ans_id]
        context = "JSON data:\n{" + ", ".join(f'"{k}": "{v}"' for k, v in kept) + "}"
        rows.append({"id": cnt, "context": context, "input": KV_INPUT.format(key=key), "answer": value})
    _write_all(rows, path)
    return len(rows)


def baseline_math_find(path: Path, fraction: float) -> int:
    rows = []
    n = max(1, round(50 * fraction))
    for target in MATH_FIND_TARGETS:
        for _ in range(n):
            largest = "largest" in target or (target == "median" and random.random() < 0.5)
            lo, hi = (0, random.randint(79, 99)) if largest else (random.randint(0, 19), 99)
            values = [random.randint(lo, hi) for _ in range(30000)]
            if target == "median":
                s = sorted(values)
                ans: float = (s[14999] + s[15000]) / 2
            else:
                distinct = sorted(set(values))
                rank = 1 if target.startswith("second") else 2 if target.startswith("third") else 0
                ans = distinct[-1 - rank] if "largest" in target else distinct[rank]
            rows.append({"prompt": f"Find the {target} from the list below:", "context": str(values), "answer": ans})
    _write_all(rows, path)
    return len(rows)


def baseline_math_calc(path: Path, fraction: float) -> int:
    rows = []
    for _ in range(max(1, round(50 * fraction))):
        value = random.randint(0, 99)
        parts, values = [str(value)], []
        for _ in range(14999):
            x = random.randint(0, 99)
            if random.random() < 0.5:
                if value + x > 99:
                    x = random.randint(0, 99 - value)
                value += x
                parts.append(f"+ {x}")
            else:
                if value - x < 0:
                    x = random.randint(0, value)
                value -= x
                parts.append(f"- {x}")
            values.append(value)
        rows.append({"prompt": CALC_PROMPT, "context": " ".join(parts), "input": CALC_INPUT, "answer": values})
    _write_all(rows, path)
    return len(rows)


def baseline_code_run(path: Path, workdir: Path, fraction: float) -> int:
    rows = []
    sys.path.insert(0, str(workdir))
    n_per_depth = max(1, round(80 * fraction))
    try:
        for depth in (2, 4, 6, 8, 10):
            for _ in range(n_per_depth):
                # the original retries on any failure; ours never needs to
                per_level = 4400 // depth
                ids = random.sample(range(1, 10001), per_level * depth)
                levels = [ids[i * per_level : (i + 1) * per_level] for i in range(depth)]
                defs = {}
                for i, level in enumerate(levels):
                    for fid in level:
                        c = random.randint(-12, 17)
                        const = "" if c == 0 else (f" + {c}" if c > 0 else f" - {-c}")
                        body = f"func_{random.choice(levels[i + 1])}(x){const}" if i + 1 < depth else f"x{const}"
                        defs[fid] = f"def func_{fid}(x):\n    return {body}\n\n"
                source = "".join(defs[k] for k in sorted(defs))
                (workdir / "functions_module.py").write_text(source)
                importlib.invalidate_caches()
                if "functions_module" in sys.modules:
                    module = importlib.reload(sys.modules["functions_module"])
                else:
                    module = importlib.import_module("functions_module")
                start, x = random.choice(levels[0]), random.randint(-10, 10)
                answer = getattr(module, f"func_{start}")(x)
                rows.append(
                    {
                        "context": CODE_RUN_HEADER + source,
                        "input": CODE_RUN_INPUT.format(call=f"func_{start}({x})"),
                        "answer": answer,
                    }
                )
    finally:
        sys.path.remove(str(workdir))
        sys.modules.pop("functions_module", None)
    _write_all(rows, path)
    return len(rows)


def run_baseline(task: str, out: Path, fraction: float) -> int:
    path = out / f"{task}.jsonl"
    if task in ("passkey", "number_string"):
        return baseline_passkey(path, task == "number_string", fraction)
    if task == "kv_retrieval":
        return baseline_kv(path, fraction)
    if task == "math_find":
        return baseline_math_find(path, fraction)
    if task == "math_calc":
        return baseline_math_calc(path, fraction)
    work = out / "code_run_work"
    work.mkdir(exist_ok=True)
    return baseline_code_run(path, work, fraction)


def run_ours(task: str, out: Path, fraction: float) -> int:
    cfg = paper_config(task, seed=0)
    if fraction < 1:
        if task in ("passkey", "number_string"):
            cfg.repeats = max(1, round(cfg.repeats * fraction))
        else:
            cfg.n_rows = max(1, round(cfg.n_rows * fraction))
    return write_task(generate_task(cfg), out / f"{task}.jsonl")


def _bpe_tokenizer(path: Path) -> FastTokenizer:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    sample = [
        NOISE_LINE * 20,
        PASSKEY_NEEDLE.format(key="12345"),
        str(list(range(100))),
        "1 + 2 - 3 + 44 - 5",
        "def func_12(x):\n    return func_7(x) + 3\n",
        '{"3f2a-4b": "9c1d-2e"}',
    ]
    tok.train_from_iterator(sample * 50, trainer)
    tok.save(str(path))
    return FastTokenizer(path)


class _Counting:
    """Wraps a tokenizer and counts the encodes and tokens that sizing needs."""

    def __init__(self, tok: Any) -> None:
        self.tok = tok
        self.calls = 0
        self.tokens = 0

    def encode(self, text: str) -> list[int]:
        ids = self.tok.encode(text)
        self.calls += 1
        self.tokens += len(ids)
        return ids

    def decode(self, ids: Any) -> str:
        return self.tok.decode(ids)


def sizing_bench(out: Path) -> list[dict[str, Any]]:
    rows = []
    tokenizers = {"byte": get_tokenizer("byte"), "bpe-2k (tokenizers)": _bpe_tokenizer(out / "bench_tokenizer.json")}
    for tok_name, tok in tokenizers.items():
        for task in ("passkey", "kv_retrieval", "math_find"):
            for length in (131072, 1048576):
                counting = _Counting(tok)
                cfg = GeneratorConfig(task=task, length=length, n_depths=1, repeats=1, n_rows=1, seed=0)
                t0 = time.perf_counter()
                row = next(iter(generate_task(cfg, counting)))
                dt = time.perf_counter() - t0
                n_tokens = len(tok.encode(row["context"] + row["input"]))
                rows.append(
                    {
                        "tokenizer": tok_name,
                        "task": task,
                        "target": length,
                        "row tokens": n_tokens,
                        "fill %": 100.0 * n_tokens / length,
                        "encodes": counting.calls,
                        "seconds": dt,
                        "Mtok/s": counting.tokens / dt / 1e6,
                    }
                )
                logger.info("sizing %s %s %d: %.2fs", tok_name, task, length, dt)
    return rows


def main() -> int:
    setup_logging()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="scratch folder (paper files need ~1.6 GB: ours + baseline)")
    p.add_argument("--fraction", type=float, default=1.0, help="fraction of the paper rows to generate (1 = full files)")
    p.add_argument("--tasks", default=",".join(TASKS), help="comma list of synthetic tasks")
    p.add_argument("--skip-sizing", action="store_true", help="skip the tokenizer-exact sizing table")
    p.add_argument("--keep", action="store_true", help="keep the generated files")
    args = p.parse_args()
    out = Path(args.out)
    rows = []
    for task in args.tasks.split(","):
        timings = {}
        for name, fn in (("original approach", run_baseline), ("infbench", run_ours)):
            d = out / name.replace(" ", "_")
            d.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            n = fn(task, d, args.fraction)
            timings[name] = (time.perf_counter() - t0, n, (d / f"{task}.jsonl").stat().st_size)
            logger.info("%s %s: %d rows in %.1fs", name, task, n, timings[name][0])
        base, ours = timings["original approach"], timings["infbench"]
        rows.append(
            {
                "task": task,
                "rows": ours[1],
                "MB": ours[2] / 1e6,
                "original approach s": base[0],
                "infbench s": ours[0],
                "speed-up": base[0] / ours[0] if ours[0] else None,
            }
        )
    total = {k: sum(r[k] for r in rows) for k in ("rows", "MB", "original approach s", "infbench s")}
    rows.append({"task": "**total**", **total, "speed-up": total["original approach s"] / total["infbench s"]})
    sizing = [] if args.skip_sizing else sizing_bench(out)
    cpu = platform.processor() or platform.machine()
    header = f"{platform.node()} | {cpu} | {os.cpu_count()} CPUs | Python {platform.python_version()}"
    text = f"Machine: {header}\n\n" + markdown_table(rows, precision=2)
    if sizing:
        text += "\n" + markdown_table(sizing, precision=2)
    print(text)
    written = emit(
        out,
        "infbench_generate",
        {"machine": header, "fraction": args.fraction, "generation": rows, "sizing": sizing},
        text,
        config={"fraction": args.fraction, "tasks": args.tasks, "skip_sizing": args.skip_sizing},
        packages=["infbench", "tokenizers"],
    )
    print(f"results: {written.json}")
    if not args.keep:
        for name in ("original_approach", "infbench"):
            shutil.rmtree(out / name, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
