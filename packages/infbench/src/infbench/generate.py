"""Seeded, length-parametric generators for the six synthetic ∞Bench tasks. Torch-free.

Two ways to size a task:

* ``preset="paper"``: the released 128K files' structure (passkey/number_string 5,220 noise lines, 59
  depths × 10 repeats = 590 rows in depth-major order; kv_retrieval 500 rows of 2,500 pairs with the
  queried pair at position ``5·id``; math_find 7 × 50 rows of 30,000 numbers; math_calc 50 rows of
  15,000 operands; code_run 80 rows per depth 2..10).
* ``length=<tokens>``: the largest haystack whose ``context + input`` fits ``length`` tokens of the given
  tokenizer, found by exact counting (:func:`fit_units`) and checked row by row.

Every row gets its own RNG seeded from ``(seed, task, length, id)``, so a shard or ``--limit`` slice of a
file is identical to the same rows of the full file::

    from infbench.generate import GeneratorConfig, generate_task

    rows = list(generate_task(GeneratorConfig(task="passkey", length=4096, n_depths=5, repeats=2, seed=0)))

From the shell: ``infbench generate -h``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import random
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from infbench.tasks import SYNTHETIC_TASKS, canonical_task, get_task
from infbench.tokenization import TokenizerLike, get_tokenizer
from lc_core.logging import get_logger

__all__ = [
    "NOISE_LINE",
    "PASSKEY_NEEDLE",
    "NUMBER_NEEDLE",
    "LEGACY_PASSKEY_LENGTHS",
    "MATH_FIND_TARGETS",
    "GeneratorConfig",
    "SuiteOptions",
    "SyntheticGenerator",
    "paper_config",
    "parse_length",
    "fit_units",
    "generate_task",
    "write_task",
    "generate_files",
    "passkey_key",
    "number_string_key",
    "math_find_answer",
    "math_calc_expression",
    "code_run_program",
]

logger = get_logger(__name__)

# Haystack and needles of the original passkey/number_string tasks (the Landmark-Attention haystack).
NOISE_LINE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n"
PASSKEY_NEEDLE = "The pass key is {key}. Remember it. {key} is the pass key.\n"
NUMBER_NEEDLE = "The sequence of digits is {key}. Remember it. {key} is the sequence of digits.\n"
PASSKEY_QUESTION = "What is the pass key?"
NUMBER_QUESTION = "What is the sequence of digits?"

# The original generator's length table: target -> (noise lines, depth step).
LEGACY_PASSKEY_LENGTHS: dict[str, tuple[int, int]] = {
    "8k": (326, 6),
    "16k": (652, 12),
    "32k": (1305, 22),
    "64k": (2610, 45),
    "128k": (5220, 90),
    "256k": (10440, 180),
}

# math_find sub-tasks in file order (50 rows each in the paper preset).
MATH_FIND_TARGETS: tuple[str, ...] = (
    "largest number",
    "second largest number",
    "third largest number",
    "smallest number",
    "second smallest number",
    "third smallest number",
    "median",
)

KV_PREFIX = "JSON data:\n"
KV_INPUT = '\nKey: "{key}"\nThe value associated with the specified key is: '
CALC_INPUT = "The value of the numerical expression is: "
CALC_PROMPT = (
    "Compute the value of the long arithmetic expression below from left to right and list every intermediate "
    "result after each operation, e.g. for 1 + 3 + 10 - 8 output [4, 14, 6]. The expression is:"
)
CODE_RUN_HEADER = "\nHere is the content of functions_module.py:\n\n"
CODE_RUN_INPUT = (
    "Please give me the exact number of the return value of {call}. "
    "Your response should end with the sentence 'The return value is:'."
)
CODE_RUN_DEPTHS: tuple[int, ...] = (2, 4, 6, 8, 10)


@dataclass(kw_only=True)
class GeneratorConfig:
    """What to generate for one synthetic task.

    Args:
        task: one of the six synthetic tasks.
        seed: base seed; each row derives its own RNG from it.
        length: target tokens of ``context + input``; ``None`` uses the unit counts below as given.
        length_label: name recorded in each row's ``length`` field (default: ``length`` or "paper").
        n_depths: needle depths for passkey/number_string (evenly spaced from start to end).
        repeats: rows per depth for passkey/number_string.
        n_units: haystack size when ``length`` is None: noise lines, kv pairs, list numbers, operands
            or functions.
        n_rows: rows for kv_retrieval/math_calc; per sub-task for math_find; per depth for code_run.
        depth_step: explicit noise-line step for passkey/number_string (the original generator's
            ``step``); overrides ``n_depths``.
        code_run_depths: call-chain depths for code_run.
        code_run_id_range: function ids are drawn from ``[1, code_run_id_range]`` (None: twice the count).
        id_offset: added to every row id (several lengths in one file).
    """

    task: str
    seed: int = 0
    length: int | None = None
    length_label: str | None = None
    n_depths: int = 11
    repeats: int = 1
    n_units: int | None = None
    n_rows: int = 10
    depth_step: int | None = None
    code_run_depths: tuple[int, ...] = CODE_RUN_DEPTHS
    code_run_id_range: int | None = None
    id_offset: int = 0

    def __post_init__(self) -> None:
        self.task = canonical_task(self.task)
        if not get_task(self.task).synthetic:
            raise ValueError(f"{self.task!r} is not a synthetic task; synthetic: {', '.join(SYNTHETIC_TASKS)}")
        if self.length is None and self.n_units is None:
            raise ValueError("give either length (tokens) or n_units")
        if self.length is not None and self.length < 64:
            raise ValueError(f"length must be >= 64 tokens, got {self.length}")
        if self.n_depths < 1 or self.repeats < 1 or self.n_rows < 1:
            raise ValueError("n_depths, repeats and n_rows must be >= 1")

    @property
    def label(self) -> str:
        if self.length_label:
            return self.length_label
        return str(self.length) if self.length is not None else "paper"


def paper_config(task: str, *, seed: int = 0) -> GeneratorConfig:
    """The preset reproducing the structure of the released 128K file of ``task``.

    math_find's 30,000 numbers and code_run's 4,400 functions with ids up to 10,000 are estimates from the
    released file sizes (the generator in the original repo has different, smaller parameters).
    """
    spec = get_task(task)
    return GeneratorConfig(task=spec.name, seed=seed, length_label="128k", **spec.load_generator().paper)


def parse_length(text: str) -> int:
    """``"4k"`` -> 4096, ``"1m"`` -> 1048576, ``"3000"`` -> 3000."""
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1024, t[:-1]
    elif t.endswith("m"):
        mult, t = 1024 * 1024, t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise ValueError(f"not a length: {text!r} (use e.g. 4096, 4k, 1m)") from None
    return int(value)


def fit_units(build: Callable[[int], str], count: Callable[[str], int], target: int, *, start: int = 16) -> int:
    """Largest ``n >= 0`` with ``count(build(n)) <= target``, by exact counting.

    Assumes the count grows with ``n``. A linear estimate from two probes is refined until the bracket
    ``count(build(n)) <= target < count(build(n + 1))`` is verified, so only a handful of full encodes
    are needed even at 1M tokens.

    Raises:
        ValueError: even ``n = 0`` exceeds the target.
    """
    base = count(build(0))
    if base > target:
        raise ValueError(f"the fixed part alone has {base} tokens > target {target}")
    cache: dict[int, int] = {0: base}

    def c(n: int) -> int:
        if n not in cache:
            cache[n] = count(build(n))
        return cache[n]

    n = start
    while c(n) <= base:
        n *= 2
    lo, hi = 0, None
    for _ in range(64):
        per_unit = max((c(n) - base) / n, 1e-9)
        guess = max(int((target - base) / per_unit), 0)
        if hi is not None:
            guess = min(max(guess, lo), hi - 1)
        n = max(guess, lo)
        if c(n) <= target:
            lo = n
            if c(n + 1) > target:
                return n
            # under-estimated: step forward proportionally, at least one unit
            n = n + max(1, int((target - c(n)) / per_unit))
            if hi is not None:
                n = min(n, hi - 1)
            if c(n) > target:
                hi = n
            else:
                lo = n
        else:
            hi = n
        if hi is not None and hi - lo <= 1:
            return lo
        if hi is not None:
            # bisect inside the verified bracket when the estimate stalls
            mid = (lo + hi) // 2
            if c(mid) <= target:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1:
                return lo
            n = lo
    return lo


def _row_rng(cfg: GeneratorConfig, row_id: int) -> random.Random:
    # str seeds hash with SHA-512 in Python's random, so this is stable across runs and platforms
    return random.Random(f"infbench/{cfg.task}/{cfg.seed}/{cfg.label}/{row_id}")


def passkey_key(rng: random.Random) -> str:
    """Five independent digits (leading zeros allowed)."""
    return "".join(str(rng.randint(0, 9)) for _ in range(5))


def number_string_key(rng: random.Random) -> str:
    """Five random digits grown to ten by duplicating a random digit in place five times."""
    digits = [str(rng.randint(0, 9)) for _ in range(5)]
    for k in range(5):
        pos = rng.randint(0, 4 + k)
        digits.insert(pos, digits[pos])
    return "".join(digits)


def _needle_depths(n_noise: int, cfg: GeneratorConfig) -> list[int]:
    if cfg.depth_step is not None:
        return list(range(0, n_noise + 1, cfg.depth_step))
    if cfg.n_depths == 1:
        return [n_noise // 2]
    return sorted({round(k * n_noise / (cfg.n_depths - 1)) for k in range(cfg.n_depths)})


def _gen_needle(
    cfg: GeneratorConfig,
    tok: TokenizerLike | None,
    *,
    needle_tpl: str,
    question: str,
    make_key: Callable[[random.Random], str],
    key_digits: int,
) -> Iterator[dict[str, Any]]:
    probe_key = "0" * key_digits
    if cfg.length is not None:
        assert tok is not None
        n_noise = fit_units(
            lambda n: NOISE_LINE * n + needle_tpl.format(key=probe_key) + question, lambda s: len(tok.encode(s)), cfg.length
        )
    else:
        assert cfg.n_units is not None
        n_noise = cfg.n_units
    depths = _needle_depths(n_noise, cfg)
    probe_needle = len(tok.encode(needle_tpl.format(key=probe_key))) if tok is not None and cfg.length is not None else 0
    rid = 0
    for j in depths:
        head, tail = NOISE_LINE * j, NOISE_LINE * (n_noise - j)
        for _ in range(cfg.repeats):
            rng = _row_rng(cfg, rid)
            key = make_key(rng)
            needle = needle_tpl.format(key=key)
            context = head + needle + tail
            if probe_needle and len(tok.encode(needle)) > probe_needle:
                # this key tokenizes longer than the sizing probe: check the full row, drop noise lines if needed
                lines_head, lines_tail = j, n_noise - j
                while len(tok.encode(context + question)) > cfg.length and lines_head + lines_tail > 0:
                    if lines_tail >= lines_head:
                        lines_tail -= 1
                    else:
                        lines_head -= 1
                    context = NOISE_LINE * lines_head + needle + NOISE_LINE * lines_tail
            yield {
                "id": cfg.id_offset + rid,
                "context": context,
                "input": question,
                "answer": key,
                "len": 26 * (n_noise - j),
                "depth": j / n_noise if n_noise else 0.0,
                "length": cfg.label,
                "n_units": n_noise,
            }
            rid += 1


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _uuid4_batch(nrng: np.random.Generator, n: int) -> list[str]:
    """``n`` random version-4 UUID strings from a numpy generator (vectorised: ~50x faster than ``uuid.UUID``)."""
    raw = np.frombuffer(nrng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    # version 4 and the RFC 4122 variant bits, exactly as uuid.UUID(version=4) sets them
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hx = raw.tobytes().hex()
    return [
        f"{hx[i : i + 8]}-{hx[i + 8 : i + 12]}-{hx[i + 12 : i + 16]}-{hx[i + 16 : i + 20]}-{hx[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def _kv_context(pairs: Sequence[tuple[str, str]]) -> str:
    return KV_PREFIX + "{" + ", ".join(f'"{k}": "{v}"' for k, v in pairs) + "}"


def _gen_kv(cfg: GeneratorConfig, tok: TokenizerLike | None) -> Iterator[dict[str, Any]]:
    probe = random.Random(f"infbench/kv-probe/{cfg.seed}")
    if cfg.length is not None:
        assert tok is not None
        pool = [(_uuid4(probe), _uuid4(probe)) for _ in range(64)]
        n_pairs = fit_units(
            lambda n: _kv_context([pool[i % len(pool)] for i in range(n)]) + KV_INPUT.format(key=pool[0][0]),
            lambda s: len(tok.encode(s)),
            cfg.length,
        )
    else:
        assert cfg.n_units is not None
        n_pairs = cfg.n_units
    if n_pairs < 1:
        raise ValueError(f"length {cfg.length} is too small for one key-value pair")
    for rid in range(cfg.n_rows):
        nrng = np.random.default_rng(_row_rng(cfg, rid).getrandbits(64))
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        while len(pairs) < n_pairs:
            ids = _uuid4_batch(nrng, 2 * (n_pairs - len(pairs)))
            for k, v in zip(ids[0::2], ids[1::2]):
                # a repeated key (p ~ 1e-31) would make the answer ambiguous: draw again
                if k not in seen:
                    seen.add(k)
                    pairs.append((k, v))
        # the queried pair moves linearly from the start to the end with the row id (5·id of 2,500 in the paper)
        pos = min(int(rid * n_pairs / cfg.n_rows), n_pairs - 1)
        key, value = pairs[pos]
        context = _kv_context(pairs)
        if tok is not None and cfg.length is not None:
            # BPE token counts of UUIDs vary: drop pairs after the needle (or before it) until the row fits
            n_tok = len(tok.encode(context + KV_INPUT.format(key=key)))
            while n_tok > cfg.length and len(pairs) > 1:
                for _ in range(max(1, -(-(n_tok - cfg.length) * len(pairs) // n_tok))):
                    if len(pairs) == 1:
                        break
                    drop = len(pairs) - 1 if pos < len(pairs) - 1 else 0
                    pairs.pop(drop)
                    if drop < pos:
                        pos -= 1
                context = _kv_context(pairs)
                n_tok = len(tok.encode(context + KV_INPUT.format(key=key)))
        yield {
            "id": cfg.id_offset + rid,
            "context": context,
            "input": KV_INPUT.format(key=key),
            "answer": value,
            "depth": pos / (len(pairs) - 1) if len(pairs) > 1 else 0.0,
            "length": cfg.label,
            "n_units": len(pairs),
        }


def math_find_answer(values: Sequence[int], target: str) -> int | float:
    """The reference answer: distinct-value ranks for k-th largest/smallest, the usual median."""
    if target == "median":
        s = sorted(values)
        n = len(s)
        if n % 2:
            return int(s[n // 2])
        return (s[n // 2 - 1] + s[n // 2]) / 2
    distinct = sorted(set(values))
    rank = 1 if target.startswith("second") else 2 if target.startswith("third") else 0
    return int(distinct[-1 - rank] if "largest" in target else distinct[rank])


def _math_find_list(rng: random.Random, target: str, n: int) -> list[int]:
    nrng = np.random.default_rng(rng.getrandbits(64))
    largest = "largest" in target or (target == "median" and rng.random() < 0.5)
    if largest:
        lo, hi = 0, rng.randint(79, 99)
    else:
        lo, hi = rng.randint(0, 19), 99
    return nrng.integers(lo, hi + 1, size=n).tolist()


def _gen_math_find(cfg: GeneratorConfig, tok: TokenizerLike | None) -> Iterator[dict[str, Any]]:
    def text(target: str, values: Sequence[int]) -> str:
        return str(list(values)) + _math_find_input(target)

    if cfg.length is not None:
        assert tok is not None
        probe = np.random.default_rng(cfg.seed).integers(0, 100, size=cfg.length * 2).tolist()
        n = fit_units(lambda k: text("second largest number", probe[:k]), lambda s: len(tok.encode(s)), cfg.length)
    else:
        assert cfg.n_units is not None
        n = cfg.n_units
    if n < 3:
        raise ValueError(f"length {cfg.length} is too small for a list of 3 numbers")
    rid = 0
    for target in MATH_FIND_TARGETS:
        for _ in range(cfg.n_rows):
            rng = _row_rng(cfg, rid)
            if tok is not None and cfg.length is not None:
                # refit on this row's own numbers: narrowed value ranges tokenize differently from the probe
                values = _math_find_list(rng, target, int(n * 1.25) + 8)
                k = fit_units(lambda k, v=values, t=target: text(t, v[:k]), lambda s: len(tok.encode(s)), cfg.length, start=n)
                values = values[: max(k, 3)]
            else:
                values = _math_find_list(rng, target, n)
            # a k-th distinct value must exist
            while len(set(values)) < 3:
                values.append(values[-1] + 1 if values[-1] < 99 else 0)
            yield {
                "id": cfg.id_offset + rid,
                "prompt": f"Find the {target} from the list below:",
                "context": str(values),
                "input": _math_find_input(target),
                "answer": math_find_answer(values, target),
                "target": target,
                "length": cfg.label,
                "n_units": len(values),
            }
            rid += 1


def _math_find_input(target: str) -> str:
    return f"You should answer with only one number, no other words. The {target} of the list is: "


def math_calc_expression(rng: random.Random, n_operands: int) -> tuple[str, list[int]]:
    """A ``+``/``-`` chain of ``n_operands`` numbers in [0, 99] whose running value stays in [0, 99].

    Returns:
        ``(expression, running_values)``; the values exclude the first operand (length ``n - 1``), as in
        the released answers.
    """
    value = rng.randint(0, 99)
    parts = [str(value)]
    values: list[int] = []
    for _ in range(n_operands - 1):
        x = rng.randint(0, 99)
        if rng.random() < 0.5:
            if value + x > 99:
                x = rng.randint(0, 99 - value)
            value += x
            parts.append(f"+ {x}")
        else:
            if value - x < 0:
                x = rng.randint(0, value)
            value -= x
            parts.append(f"- {x}")
        values.append(value)
    return " ".join(parts), values


def _gen_math_calc(cfg: GeneratorConfig, tok: TokenizerLike | None) -> Iterator[dict[str, Any]]:
    if cfg.length is not None:
        assert tok is not None
        probe_expr, _ = math_calc_expression(random.Random(cfg.seed), max(cfg.length, 8))
        probe_parts = probe_expr.split(" ")

        def build(n: int) -> str:
            return " ".join(probe_parts[: max(2 * n - 1, 0)]) + CALC_INPUT

        n = fit_units(build, lambda s: len(tok.encode(s)), cfg.length)
    else:
        assert cfg.n_units is not None
        n = cfg.n_units
    if n < 2:
        raise ValueError(f"length {cfg.length} is too small for a 2-operand expression")
    for rid in range(cfg.n_rows):
        rng = _row_rng(cfg, rid)
        if tok is not None and cfg.length is not None:
            # refit on this row's own expression (a prefix of a chain is a valid chain with a prefix of the values)
            expr, values = math_calc_expression(rng, int(n * 1.25) + 8)
            parts = expr.split(" ")
            k = fit_units(
                lambda k, parts=parts: " ".join(parts[: max(2 * k - 1, 0)]) + CALC_INPUT,
                lambda s: len(tok.encode(s)),
                cfg.length,
                start=n,
            )
            k = max(k, 2)
            expr, values = " ".join(parts[: 2 * k - 1]), values[: k - 1]
        else:
            expr, values = math_calc_expression(rng, n)
        yield {
            "id": cfg.id_offset + rid,
            "prompt": CALC_PROMPT,
            "context": expr,
            "input": CALC_INPUT,
            "answer": values,
            "length": cfg.label,
            "n_units": len(values) + 1,
        }


def _fmt_const(c: int) -> str:
    if c == 0:
        return ""
    return f" + {c}" if c > 0 else f" - {-c}"


def code_run_program(
    rng: random.Random, n_functions: int, depth: int, id_range: int, *, exec_all: bool = False
) -> tuple[str, str, int]:
    """Build a module of ``depth`` levels of chained one-line functions and execute it.

    Level ``i`` functions return ``func_<random level i+1 id>(x) ± c``; the last level returns ``x ± c``;
    constants are in [-12, 17]. The file lists functions sorted by id, so call order differs from file order.

    Args:
        rng: the row's RNG.
        n_functions: functions in the module (rounded down to a multiple of ``depth``).
        depth: call-chain length from the queried function to a leaf.
        id_range: ids are drawn without replacement from ``[1, id_range]``.
        exec_all: compile the whole module; by default only the definitions on the queried call chain are
            executed (the same source lines, ~100x faster for 4,000-function modules).

    Returns:
        ``(source, call, answer)`` where ``call`` is e.g. ``func_12(-3)`` on a level-0 function and ``answer``
        comes from executing the generated source.
    """
    per_level = max(n_functions // depth, 1)
    if per_level * depth > id_range:
        raise ValueError(f"id_range {id_range} too small for {per_level * depth} functions")
    ids = rng.sample(range(1, id_range + 1), per_level * depth)
    levels = [ids[i * per_level : (i + 1) * per_level] for i in range(depth)]
    callees: dict[int, int | None] = {}
    defs: dict[int, str] = {}
    for i, level in enumerate(levels):
        for fid in level:
            c = rng.randint(-12, 17)
            if i + 1 < depth:
                callee = rng.choice(levels[i + 1])
                callees[fid] = callee
                body = f"func_{callee}(x){_fmt_const(c)}"
            else:
                callees[fid] = None
                body = f"x{_fmt_const(c)}"
            defs[fid] = f"def func_{fid}(x):\n    return {body}\n\n"
    source = "".join(defs[fid] for fid in sorted(defs))
    start = rng.choice(levels[0])
    x = rng.randint(-10, 10)
    call = f"func_{start}({x})"
    if exec_all:
        code = source
    else:
        chain = [start]
        while (nxt := callees[chain[-1]]) is not None:
            chain.append(nxt)
        code = "".join(defs[fid] for fid in chain)
    namespace: dict[str, Any] = {}
    # the answer is whatever our own generated code returns when run
    exec(compile(code, "functions_module.py", "exec"), namespace)
    answer = eval(call, namespace)
    return source, call, int(answer)


def _gen_code_run(cfg: GeneratorConfig, tok: TokenizerLike | None) -> Iterator[dict[str, Any]]:
    if cfg.length is not None:
        assert tok is not None

        def build(n: int) -> str:
            # a fresh RNG per call keeps build(n) a prefix of build(n + 1), so counts grow with n
            probe = random.Random(cfg.seed)
            fns = "".join(
                f"def func_{probe.randint(1, 9999)}(x):\n    return func_{probe.randint(1, 9999)}(x) + 5\n\n" for _ in range(n)
            )
            return CODE_RUN_HEADER + fns + CODE_RUN_INPUT.format(call="func_1234(-5)")

        n = fit_units(build, lambda s: len(tok.encode(s)), cfg.length)
    else:
        assert cfg.n_units is not None
        n = cfg.n_units
    rid = 0
    for depth in cfg.code_run_depths:
        if n < depth:
            raise ValueError(f"length {cfg.length} is too small for {depth} chained functions")
        for _ in range(cfg.n_rows):
            rng = _row_rng(cfg, rid)
            n_fn = n
            # ids of a real module are shorter than the sizing probe's: refit the function count per row
            for attempt in range(64):
                row_rng = random.Random(rng.getrandbits(64))
                id_range = cfg.code_run_id_range or max(2 * n_fn, 20)
                source, call, answer = code_run_program(row_rng, n_fn, depth, id_range)
                inp = CODE_RUN_INPUT.format(call=call)
                if tok is None or cfg.length is None:
                    break
                n_tok = len(tok.encode(CODE_RUN_HEADER + source + inp))
                per_fn = n_tok / max(n_fn, 1)
                if n_tok <= cfg.length and (cfg.length - n_tok < 2 * per_fn * depth or attempt >= 5):
                    break
                step = int((cfg.length - n_tok) / per_fn)
                if n_tok > cfg.length:
                    step = min(step, -depth)
                n_fn = max(depth, n_fn + step)
                if n_fn == depth and n_tok > cfg.length:
                    break
            yield {
                "id": cfg.id_offset + rid,
                "context": CODE_RUN_HEADER + source,
                "input": inp,
                "answer": answer,
                "depth": depth,
                "length": cfg.label,
                "n_units": n_fn,
            }
            rid += 1


@dataclass(frozen=True)
class SyntheticGenerator:
    """How one synthetic task is generated (referenced by its :class:`~infbench.tasks.Task` record).

    Args:
        rows: ``(config, tokenizer) -> rows`` in file order.
        paper: the :class:`GeneratorConfig` fields of the paper preset (the released 128K file's structure).
        rows_per_length: an upper bound of the rows one length writes (ids stay unique across lengths).
    """

    rows: Callable[[GeneratorConfig, TokenizerLike | None], Iterator[dict[str, Any]]]
    paper: Mapping[str, Any]
    rows_per_length: Callable[[GeneratorConfig], int]


def _needle_rows(cfg: GeneratorConfig) -> int:
    # an upper bound is enough for unique ids; the exact count depends on the fitted haystack
    return max(cfg.n_depths, 1) * cfg.repeats if cfg.depth_step is None else 10**6


PASSKEY = SyntheticGenerator(
    functools.partial(_gen_needle, needle_tpl=PASSKEY_NEEDLE, question=PASSKEY_QUESTION, make_key=passkey_key, key_digits=5),
    paper={"n_units": 5220, "depth_step": 90, "repeats": 10},
    rows_per_length=_needle_rows,
)
NUMBER_STRING = SyntheticGenerator(
    functools.partial(
        _gen_needle, needle_tpl=NUMBER_NEEDLE, question=NUMBER_QUESTION, make_key=number_string_key, key_digits=10
    ),
    paper={"n_units": 5220, "depth_step": 90, "repeats": 10},
    rows_per_length=_needle_rows,
)
KV_RETRIEVAL = SyntheticGenerator(_gen_kv, paper={"n_units": 2500, "n_rows": 500}, rows_per_length=lambda c: c.n_rows)
MATH_FIND = SyntheticGenerator(
    _gen_math_find,
    paper={"n_units": 30000, "n_rows": 50},
    rows_per_length=lambda c: c.n_rows * len(MATH_FIND_TARGETS),
)
MATH_CALC = SyntheticGenerator(_gen_math_calc, paper={"n_units": 15000, "n_rows": 50}, rows_per_length=lambda c: c.n_rows)
CODE_RUN = SyntheticGenerator(
    _gen_code_run,
    paper={"n_units": 4400, "n_rows": 80, "code_run_id_range": 10000},
    rows_per_length=lambda c: c.n_rows * len(c.code_run_depths),
)


def generate_task(
    cfg: GeneratorConfig, tokenizer: TokenizerLike | str | None = "byte", *, count_tokens: bool = False
) -> Iterator[dict[str, Any]]:
    """Yield the rows of one synthetic task, in file order.

    Args:
        cfg: the generator configuration (see :func:`paper_config` for the released structure).
        tokenizer: used for length sizing (``cfg.length``) and, with ``count_tokens``, to record each row's
            exact ``n_tokens`` (of ``context + input``).
        count_tokens: add ``n_tokens`` to every row (one full encode per row).
    """
    tok = get_tokenizer(tokenizer) if (cfg.length is not None or count_tokens) else None
    for row in get_task(cfg.task).load_generator().rows(cfg, tok):
        if count_tokens and tok is not None:
            row["n_tokens"] = len(tok.encode(row["context"] + row["input"]))
        yield row


def write_task(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> int:
    """Stream rows to a JSONL file atomically (a crash never leaves a half-written file); returns the count."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n


def config_to_dict(cfg: GeneratorConfig) -> dict[str, Any]:
    """JSON-ready form of a config (for manifests)."""
    return dataclasses.asdict(cfg)


def generate_files(
    tasks: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    lengths: Sequence[int] | None = None,
    preset: str = "custom",
    seed: int = 0,
    tokenizer: TokenizerLike | str | None = "byte",
    n_depths: int = 11,
    repeats: int = 1,
    n_rows: int = 10,
    count_tokens: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Write ``<out_dir>/<task>.jsonl`` for each synthetic task, all ``lengths`` in one file.

    Args:
        tasks: synthetic task names.
        out_dir: output folder.
        lengths: target token lengths (ignored by ``preset="paper"``).
        preset: ``"paper"`` (the released 128K structure) or ``"custom"`` (``lengths`` × the knobs below).
        seed: base seed.
        tokenizer: sizing tokenizer (any object with ``encode``/``decode``, a path, or ``"byte"``).
        n_depths: needle depths (passkey/number_string).
        repeats: rows per depth (passkey/number_string).
        n_rows: rows (kv_retrieval, math_calc), rows per sub-task (math_find) or per depth (code_run).
        count_tokens: record each row's exact token count.
        progress: show a progress bar per task.

    Returns:
        A manifest: per task the file fingerprint, row count and generator configs.
    """
    from infbench.data import file_fingerprint
    from infbench.tokenization import get_tokenizer

    if preset not in ("paper", "custom"):
        raise ValueError(f"preset must be 'paper' or 'custom', got {preset!r}")
    if preset == "custom" and not lengths:
        raise ValueError("the custom preset needs at least one length")
    tok = get_tokenizer(tokenizer)
    manifest: dict[str, Any] = {"preset": preset, "seed": seed, "tokenizer": repr(tok), "tasks": {}}
    for task in tasks:
        task = canonical_task(task)
        if preset == "paper":
            configs = [paper_config(task, seed=seed)]
        else:
            configs = []
            offset = 0
            for length in lengths or []:
                cfg = GeneratorConfig(task=task, seed=seed, length=length, n_depths=n_depths, repeats=repeats, n_rows=n_rows)
                cfg.id_offset = offset
                offset += get_task(task).load_generator().rows_per_length(cfg)
                configs.append(cfg)

        def rows(cfgs: list[GeneratorConfig] = configs) -> Iterator[dict[str, Any]]:
            for cfg in cfgs:
                yield from generate_task(cfg, tok, count_tokens=count_tokens)

        path = Path(out_dir) / f"{task}.jsonl"
        n = write_task(_progress(rows(), task, progress), path)
        manifest["tasks"][task] = {"rows": n, **file_fingerprint(path), "configs": [config_to_dict(c) for c in configs]}
        logger.info("wrote %s (%d rows)", path, n)
    return manifest


@dataclass(kw_only=True)
class SuiteOptions:
    """Which synthetic files to write: the knobs of ``infbench generate`` and of ``infbench run`` without data.

    Args:
        lengths: target token lengths, e.g. 4k,32k,128k,1m (all lengths go into one file per task).
        preset: paper = the released 128K structure (ignores the lengths); custom = the lengths x the knobs below.
        seed: generator base seed (every row derives its own); a run also uses it as the sampling seed.
        n_depths: needle depths of passkey/number_string, evenly spaced from start to end.
        repeats: rows per depth of passkey/number_string.
        n_rows: rows of kv_retrieval/math_calc; per sub-task of math_find; per call depth of code_run.
    """

    lengths: list[str] = field(default_factory=lambda: ["1k", "2k", "4k"])
    preset: Literal["paper", "custom"] = "custom"
    seed: int = 0
    n_depths: int = 5
    repeats: int = 2
    n_rows: int = 10

    def __post_init__(self) -> None:
        if self.preset not in ("paper", "custom"):
            raise ValueError(f"preset must be 'paper' or 'custom', got {self.preset!r}")
        if self.preset == "custom" and not self.lengths:
            raise ValueError("the custom preset needs at least one length")
        if min(self.n_depths, self.repeats, self.n_rows) < 1:
            raise ValueError("n_depths, repeats and n_rows must be >= 1")
        self.token_lengths  # noqa: B018 - parse now so a bad length fails before any work

    @property
    def token_lengths(self) -> list[int]:
        """The lengths in tokens (``"4k"`` -> 4096)."""
        return [parse_length(x) for x in self.lengths]

    def files_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`generate_files`."""
        return {
            "lengths": self.token_lengths,
            "preset": self.preset,
            "seed": self.seed,
            "n_depths": self.n_depths,
            "repeats": self.repeats,
            "n_rows": self.n_rows,
        }


def _progress(rows: Iterable[dict[str, Any]], task: str, enabled: bool = True) -> Iterator[dict[str, Any]]:
    from tqdm.auto import tqdm

    yield from tqdm(rows, desc=f"generate {task}", unit="row", leave=False, disable=not enabled)
