"""Recipe of the embedded demo model ``lc-core/demo-mamba2``: train, export, evaluate, write the card.

A small Mamba-2 over byte tokens (ByT5 ids) is trained with :func:`lc_core.train.train` on ∞Bench's
synthetic retrieval tasks (passkey, number_string, kv_retrieval) in exactly the prompt format the
infbench runner uses for open models (the ``yarn-mistral`` completion templates), then exported to
``packages/lc-core/src/lc_core/assets/demo-mamba2`` and scored per context length through the real
``hf`` backend. Run from the repository root::

    python tools/train_demo_mamba2.py train --out runs/demo-mamba2     # resumable, CPU
    python tools/train_demo_mamba2.py export --out runs/demo-mamba2
    python tools/train_demo_mamba2.py eval                               # eval.json + README.md card

Each training example is one whole prompt + answer + EOS. Examples are packed into ``seq_len + 1``
windows without being cut, and the SSM state is reset at every example start (``seq_idx``), so the model
always starts from a zero state as at inference. The trainer's token windows carry two flag bits above
the vocabulary (``ANSWER_FLAG``: the token is part of the answer; ``START_FLAG``: an example starts
here); :func:`demo_loss` strips them before the forward pass and uses them for the loss mask and the
document ids.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lc_core.io import atomic_write_json, atomic_write_text
from lc_core.logging import get_logger, setup_logging
from lc_core.models.export import record_phase, write_card
from lc_core.report import markdown_table, run_manifest, timestamp
from lc_core.tokenizers import ByteTokenizer
from lc_core.train import Callback, PackedDataset, TrainConfig, TrainState, train
from lc_core.train.schedule import decay_steps

logger = get_logger("train_demo_mamba2")

REPO = Path(__file__).resolve().parent.parent
ASSET_DIR = REPO / "packages" / "lc-core" / "src" / "lc_core" / "assets" / "demo-mamba2"
MODEL_NAME = "lc-core/demo-mamba2"
FAMILY = "yarn-mistral"
TASKS = ("passkey", "number_string", "kv_retrieval")
# flag bits stored above the byte vocabulary in the packed training stream
ANSWER_FLAG = 1024
START_FLAG = 2048
# the model: ~0.4M parameters (1.6 MB in fp32), sized so that CPU training fits in half an hour
MODEL_KWARGS: dict[str, Any] = {
    "d_model": 128,
    "n_layers": 3,
    "vocab_size": 259,
    "d_state": 32,
    "headdim": 32,
    "chunk_size": 64,
    "pad_vocab_size_multiple": 8,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "bos_token_id": None,
}
# training task mix (fraction of examples) and context lengths (bytes of context + question)
TASK_MIX = {"passkey": 0.7, "number_string": 0.2, "kv_retrieval": 0.1}
TRAIN_SEED = 1
EVAL_SEED = 0
EVAL_LENGTHS = (256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


def build_model() -> nn.Module:
    """A fresh demo-sized ``Mamba2ForCausalLM`` (weights from the trainer's seed)."""
    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM

    return Mamba2ForCausalLM(Mamba2Config(**MODEL_KWARGS))


def task_rows(task: str, length: int, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` seeded infbench rows of ``task`` whose context + question is ``length`` bytes at most.

    passkey/number_string rows place the needle at ``n`` evenly spaced depths; kv_retrieval rows move the
    queried pair from the first to the last position.
    """
    from infbench.generate import GeneratorConfig, generate_task

    if task == "kv_retrieval":
        cfg = GeneratorConfig(task=task, seed=seed, length=length, n_rows=n)
    else:
        cfg = GeneratorConfig(task=task, seed=seed, length=length, n_depths=n)
    rows = list(generate_task(cfg, ByteTokenizer()))
    # fewer distinct depths than n when the haystack has fewer noise lines: repeat with fresh keys
    extra = 1
    while len(rows) < n:
        more = GeneratorConfig(**{**cfg.__dict__, "seed": seed + 1000 * extra, "id_offset": len(rows)})
        rows.extend(generate_task(more, ByteTokenizer()))
        extra += 1
    return rows[:n]


def prompt_and_target(row: dict[str, Any], task: str) -> tuple[str, str]:
    """The runner's prompt for ``row`` and the completion the model is trained to produce."""
    from infbench.prompts import create_prompt

    prompt = create_prompt(row, task, family=FAMILY)
    answer = row["answer"][0] if isinstance(row["answer"], list) else row["answer"]
    # the passkey/number_string templates end with "... is"; kv_retrieval's question ends with ": "
    target = answer if prompt.endswith((" ", "\n")) else " " + answer
    return prompt, target


def encode_example(prompt: str, target: str, tok: ByteTokenizer) -> np.ndarray:
    """Flagged ids of ``prompt + target + EOS`` (see the module docstring)."""
    p = np.asarray(tok.encode(prompt), dtype=np.int64)
    a = np.asarray(tok.encode(target) + [tok.eos_token_id], dtype=np.int64) + ANSWER_FLAG
    ids = np.concatenate([p, a])
    ids[0] += START_FLAG
    return ids


def training_examples(n: int, *, seq_len: int, min_len: int, max_len: int, seed: int) -> list[np.ndarray]:
    """``n`` flagged examples mixing the tasks per ``TASK_MIX`` at lengths in ``[min_len, max_len]``.

    Lengths are drawn log-uniformly on a 64-byte grid; whole examples longer than ``seq_len + 1`` are
    dropped (the template adds ~230 bytes to the context + question length).
    """
    tok = ByteTokenizer()
    rng = random.Random(f"demo-mamba2/train/{seed}")
    grid = list(range(min_len, max_len + 1, 64))
    weights = [1.0 / g for g in grid]
    counts: dict[tuple[str, int], int] = {}
    for task, frac in TASK_MIX.items():
        for _ in range(round(n * frac)):
            length = rng.choices(grid, weights)[0]
            if task == "kv_retrieval":
                # kv pairs are long (~80 bytes): one pair needs ~256 bytes; keep kv at the short end
                length = min(max(length, 256), 768)
            counts[(task, length)] = counts.get((task, length), 0) + 1
    out: list[np.ndarray] = []
    for (task, length), k in sorted(counts.items()):
        for row in task_rows(task, length, k, seed=seed * 100003 + length):
            ids = encode_example(*prompt_and_target(row, task), tok)
            if len(ids) <= seq_len + 1:
                out.append(ids)
    rng.shuffle(out)
    return out


def pack_examples(examples: Sequence[np.ndarray], window: int) -> np.ndarray:
    """First-fit pack whole examples into ``window``-token rows padded with 0; returns the flat stream."""
    rows: list[list[np.ndarray]] = []
    free: list[int] = []
    for ex in examples:
        for i, room in enumerate(free):
            if len(ex) <= room:
                rows[i].append(ex)
                free[i] -= len(ex)
                break
        else:
            rows.append([ex])
            free.append(window - len(ex))
    flat = np.zeros(len(rows) * window, dtype=np.int64)
    for r, parts in enumerate(rows):
        joined = np.concatenate(parts)
        flat[r * window : r * window + len(joined)] = joined
    return flat


def unflag(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split a flagged id tensor into ``(ids, is_answer, is_start)``."""
    return x % ANSWER_FLAG, (x // ANSWER_FLAG) % 2 == 1, x >= START_FLAG


def make_loss(answer_weight: float) -> Any:
    """The trainer's ``loss_fn``: LM loss over example tokens + ``answer_weight`` x loss over answer tokens."""

    def demo_loss(model: nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        ids, _, start = unflag(input_ids)
        tgt, tgt_answer, tgt_start = unflag(targets)
        # document ids: the SSM state and conv window restart where an example starts
        seq_idx = torch.cumsum(start.to(torch.int32), dim=1)
        seq_idx = (seq_idx - seq_idx[:, :1]).to(torch.int32)
        logits = model(input_ids=ids, seq_idx=seq_idx).logits.float()
        # padding (id 0) and the first token of the next example are never predicted
        keep = (tgt != 0) & ~tgt_start
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none").view_as(tgt)
        lm = (ce * keep).sum() / keep.sum().clamp_min(1)
        ans = (ce * tgt_answer).sum() / tgt_answer.sum().clamp_min(1)
        return lm + answer_weight * ans

    return demo_loss


class TimeBudget(Callback):
    """Fit ``max_steps`` to a wall-clock training budget while the WSD schedule is still in its stable phase.

    After every step of the stable phase, ``max_steps`` is re-estimated from the mean step time of this
    process and the training time left (``budget_s - state.elapsed_s``); a change there only moves the
    start of the decay, which has not begun. Once the decay starts the value is frozen and saved in
    ``<out>/budget.json``, which a resumed run reuses, so it follows the same schedule.
    """

    def __init__(self, budget_s: float, out_dir: Path, calib: int = 3) -> None:
        self.budget_s = budget_s
        self.path = out_dir / "budget.json"
        self.calib = calib
        self.t0 = 0.0
        self.start_step = 0
        self.frozen = False

    def on_train_begin(self, state: TrainState) -> None:
        if self.path.exists():
            state.config.max_steps = int(json.loads(self.path.read_text())["max_steps"])
            self.frozen = True
        self.t0 = time.perf_counter()
        self.start_step = state.step

    def on_step_end(self, state: TrainState) -> None:
        cfg = state.config
        done = state.step - self.start_step
        if self.frozen or done < self.calib:
            return
        per_step = (time.perf_counter() - self.t0) / done
        left = max(self.budget_s - state.elapsed_s, 0.0)
        fitted = max(state.step + 1, min(cfg.max_steps, state.step + int(left / per_step)))
        cfg.max_steps = fitted
        cfg.warmup_steps = min(cfg.warmup_steps, fitted)
        state.metrics["fitted_max_steps"] = fitted
        # the decay phase starts at (1 - decay_fraction) * max_steps: from there on max_steps must not move
        if state.step + 1 >= fitted - decay_steps(fitted, cfg.decay_fraction):
            self.frozen = True
            atomic_write_json(self.path, {"max_steps": fitted, "sec_per_step": per_step, "budget_s": self.budget_s})
            logger.info("%.1f s/step: max_steps fixed at %d for a %.0f s budget", per_step, fitted, self.budget_s)


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    examples = training_examples(
        args.examples, seq_len=args.seq_len, min_len=args.min_len, max_len=args.max_len, seed=TRAIN_SEED
    )
    data = PackedDataset(pack_examples(examples, args.seq_len + 1), args.seq_len)
    logger.info("%d examples in %d windows (%.1f s to build)", len(examples), len(data), time.perf_counter() - t0)
    cfg = TrainConfig(
        seq_len=args.seq_len,
        micro_batch_size=args.micro_batch,
        global_batch_size=args.batch,
        max_steps=args.max_steps,
        lr=args.lr,
        warmup_steps=args.warmup,
        schedule="wsd",
        decay_fraction=0.3,
        weight_decay=0.0,
        grad_clip=1.0,
        log_every=1,
        save_every=args.save_every,
        out_dir=str(out),
        seed=args.seed,
    )
    callbacks = [TimeBudget(args.time_budget, out)] if args.time_budget > 0 else []
    result = train(build_model, cfg, data, callbacks=callbacks, loss_fn=make_loss(args.answer_weight), device="cpu")
    phase = {
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "examples": len(examples),
        "windows": len(data),
        "resumed_from": result.resumed_from,
        "steps": result.step,
        "final_loss": result.final_loss,
        # cumulative: the trainer restores the elapsed time of the run it resumes
        "train_elapsed_s": result.elapsed_s,
        "machine": f"{platform.machine()} CPU, {args.threads} threads ({platform.processor() or 'unknown'})",
        "finished": timestamp(),
    }
    record_phase(out, phase)
    logger.info("trained %d steps in %.0f s, final loss %.4f", result.step, result.elapsed_s, result.final_loss)


def cmd_export(args: argparse.Namespace) -> None:
    from lc_core.models.export import export_run

    try:
        export_run(args.out, build_model, args.dest, generation={"eos_token_id": 1, "pad_token_id": 0, "do_sample": False})
    except FileNotFoundError as e:
        raise SystemExit(str(e)) from None


def eval_rows(length: int, n: int) -> list[dict[str, Any]]:
    """The seeded held-out passkey rows at ``length`` bytes (seed ``EVAL_SEED``, never used in training)."""
    return task_rows("passkey", length, n, seed=EVAL_SEED)


def score_passkey(backend: Any, rows: Sequence[dict[str, Any]], *, keep_prompts: int = 0) -> list[dict[str, Any]]:
    """Greedy-decode each row's runner prompt with ``backend`` and score it with infbench's scorer.

    The first ``keep_prompts`` records also hold the prompt text, so lc-core's test can re-decode them
    without importing infbench.
    """
    from infbench.scoring import score_one
    from infbench.tasks import MAX_NEW_TOKENS
    from lc_core.inference.base import GenerationConfig

    prompts = [prompt_and_target(r, "passkey")[0] for r in rows]
    preds = backend.generate(prompts, GenerationConfig(max_new_tokens=MAX_NEW_TOKENS["passkey"], temperature=0.0))
    out = []
    for i, (r, prompt, p) in enumerate(zip(rows, prompts, preds, strict=True)):
        rec = {
            "id": r["id"],
            "depth": r["depth"],
            "prompt_sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
            "answer": r["answer"],
            "pred": p,
            "score": score_one("passkey", p, r["answer"], mode="legacy"),
        }
        if i < keep_prompts:
            rec["prompt"] = prompt
        out.append(rec)
    return out


def per_length_counts(lengths: Sequence[int], n_short: int, n_long: int) -> Iterator[tuple[int, int]]:
    for length in lengths:
        yield length, n_short if length <= 2048 else n_long


def cmd_eval(args: argparse.Namespace) -> None:
    from lc_core.inference import get_backend

    torch.set_num_threads(args.threads)
    backend = get_backend("hf", model=args.model, device="cpu", dtype="fp32", batch_size=args.batch_size)
    results: list[dict[str, Any]] = []
    for length, n in per_length_counts(args.lengths, args.n_short, args.n_long):
        t0 = time.perf_counter()
        keep = args.keep_prompts if length == min(args.lengths) else 0
        examples = score_passkey(backend, eval_rows(length, n), keep_prompts=keep)
        acc = 100.0 * sum(e["score"] for e in examples) / len(examples)
        dt = time.perf_counter() - t0
        logger.info("passkey @ %d bytes: %.1f%% of %d (%.0f s)", length, acc, n, dt)
        results.append({"length": length, "n": n, "accuracy": acc, "seconds": round(dt, 1), "examples": examples})
    recipe_path = Path(args.model_dir) / "train_recipe.json"
    recipe = json.loads(recipe_path.read_text()) if recipe_path.exists() else {}
    record = {
        "model": MODEL_NAME,
        "task": "passkey",
        "family": FAMILY,
        "seed": EVAL_SEED,
        "scorer": "infbench.scoring.score_one (legacy)",
        "results": results,
        "manifest": run_manifest({"lengths": list(args.lengths), "n_short": args.n_short, "n_long": args.n_long}),
    }
    atomic_write_json(Path(args.model_dir) / "eval.json", record)
    table = markdown_table(
        [{"length (bytes)": r["length"], "examples": r["n"], "accuracy %": r["accuracy"]} for r in results], precision=1
    )
    atomic_write_text(Path(args.model_dir) / "eval.md", table + "\n")
    if "args" in recipe:
        write_model_card(Path(args.model_dir), recipe, results)
    print(table)


def write_model_card(model_dir: Path, recipe: dict[str, Any], results: Sequence[dict[str, Any]]) -> None:
    """Write ``README.md`` (the model card) from the recipe record and the evaluation."""
    a = recipe["args"]
    table = markdown_table(
        [{"length (bytes)": r["length"], "examples": r["n"], "passkey accuracy %": r["accuracy"]} for r in results],
        precision=1,
    )
    model = build_model()
    config = model.config
    n_params = sum(p.numel() for p in model.parameters())
    phases = recipe.get("phases", [recipe])
    cmd = "\n".join(
        f"python tools/train_demo_mamba2.py train --out runs/demo-mamba2 --examples {p['args']['examples']} "
        f"--seq-len {p['args']['seq_len']} --batch {p['args']['batch']} --micro-batch {p['args']['micro_batch']} "
        f"--lr {p['args']['lr']} --warmup {p['args']['warmup']} "
        f"--min-len {p['args']['min_len']} --max-len {p['args']['max_len']} "
        f"--answer-weight {p['args']['answer_weight']} --seed {p['args']['seed']} --max-steps {p['steps']} --time-budget 0"
        for p in phases
    )
    schedule = "; ".join(f"phase {i + 1}: steps {p.get('resumed_from') or 0}-{p['steps']}" for i, p in enumerate(phases))
    shape = ", ".join(f"{k}={v}" for k, v in MODEL_KWARGS.items() if k not in ("bos_token_id",))
    text = CARD.format(
        n_params=n_params,
        shape=shape,
        cmd=cmd,
        steps=recipe["steps"],
        schedule=schedule,
        examples=recipe["examples"],
        windows=recipe["windows"],
        minutes=recipe["train_elapsed_s"] / 60.0,
        machine=recipe["machine"],
        final_loss=recipe["final_loss"],
        mix=", ".join(f"{k} {v:.0%}" for k, v in TASK_MIX.items()),
        min_len=a["min_len"],
        max_len=a["max_len"],
        seq_len=a["seq_len"],
        batch=a["batch"],
        lr=a["lr"],
        answer_weight=a["answer_weight"],
        table=table,
        state_floats=config.state_size_elements(),
        summary=summarize(results, a["max_len"]),
    )
    write_card(model_dir, text)


def summarize(results: Sequence[dict[str, Any]], max_len: int) -> str:
    """One sentence on what the table shows, computed from it (so the card never claims more than it measured)."""
    solved = [r["length"] for r in results if r["accuracy"] >= 50.0]
    best = max(results, key=lambda r: r["accuracy"])
    if not solved:
        preds = Counter(e["pred"] for r in results for e in r["examples"])
        pred, count = preds.most_common(1)[0]
        return (
            f"Measured: the model does not solve passkey retrieval at any evaluated length (best "
            f"{best['accuracy']:.1f}% at {best['length']} bytes; a random 5-digit guess scores 0.001%). It learned "
            f"the answer's form but not the retrieval: {count} of {preds.total()} predictions are {pred!r}. "
            f"The training budget (see Recipe) was far too small; rerun the recipe with more steps."
        )
    beyond = [r for r in results if r["length"] > max(solved)]
    tail = f"; above that it falls to {beyond[0]['accuracy']:.1f}% at {beyond[0]['length']} bytes" if beyond else ""
    return (
        f"Measured: at least 50% passkey accuracy up to {max(solved)} bytes (trained up to {max_len} bytes of "
        f"context + question){tail}."
    )


CARD = """# lc-core/demo-mamba2

A {n_params:,}-parameter Mamba-2 over UTF-8 bytes (ByT5 ids: pad 0, eos 1, byte b -> b + 3), shipped inside
lc-core as the offline default model of the README examples. It is a demo of the plumbing (train -> export
-> `hf` backend -> infbench scoring), not a useful language model.

```python
from lc_core.inference import get_backend
backend = get_backend("hf", model="lc-core/demo-mamba2")   # no network
```

## Model

`lc-mamba2` ({shape}); fp32 safetensors. Tokenizer: `ByT5Tokenizer(extra_ids=0)` files, loadable with
`AutoTokenizer.from_pretrained(folder)`; `lc_core.tokenizers.ByteTokenizer` gives the same ids.

## Recipe

Trained from scratch with `lc_core.train.train` on CPU by `tools/train_demo_mamba2.py`:

```
{cmd}
python tools/train_demo_mamba2.py export --out runs/demo-mamba2
python tools/train_demo_mamba2.py eval
```

- Data: ∞Bench synthetic retrieval rows from `infbench.generate` (train seed 1; task mix {mix}), context +
  question lengths {min_len}-{max_len} bytes (log-uniform on a 64-byte grid), random needle depth, in the
  runner's `yarn-mistral` completion prompt: prompt + " " + answer + EOS. Whole examples are packed into
  {seq_len}-token windows; the SSM state is reset at every example start.
- Loss: next-byte loss over the example + {answer_weight} x the loss over the answer bytes.
- {examples} examples in {windows} windows; AdamW, lr {lr}, batch {batch} windows, {steps} steps. Each
  phase runs a WSD schedule to its own `--max-steps` (warm-up, constant, last 30% decaying to 10%); a
  later phase resumes the checkpoint and restarts at the peak rate ({schedule}).
- Wall time: {minutes:.1f} min on {machine}. Final training loss {final_loss:.4f}.

## Passkey accuracy per length

Held-out passkey rows (`infbench.generate`, seed 0, needle depths evenly spaced), greedy decoding of 6 new
tokens through `get_backend("hf", model="lc-core/demo-mamba2")`, scored by `infbench.scoring.score_one`.
Per-example predictions are in `eval.json`; `packages/lc-core/tests/models/test_demo_model.py`
re-decodes the first rows at the shortest length and checks them against that file.

{table}

## Limits

{summary}

The recurrent state has a fixed size ({state_floats:,} floats), and the model saw contexts of at most
{max_len} bytes in training: accuracy beyond that length shows where the learned state decay and capacity
stop holding the key.
The number_string and kv_retrieval rows were a small part of the mix and are not evaluated here. Use it for
smoke tests and demos only.
"""


def cmd_card(args: argparse.Namespace) -> None:
    model_dir = Path(args.model_dir)
    recipe = json.loads((model_dir / "train_recipe.json").read_text(encoding="utf-8"))
    record = json.loads((model_dir / "eval.json").read_text(encoding="utf-8"))
    write_model_card(model_dir, recipe, record["results"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)

    p = sub.add_parser("train", help="train (or resume) the demo model from scratch on CPU")
    p.add_argument("--out", default="runs/demo-mamba2", help="run folder (checkpoints, metrics, recipe.json)")
    p.add_argument("--examples", type=int, default=3000, help="training examples to generate")
    p.add_argument("--seq-len", type=int, default=1024, help="training window length in tokens")
    p.add_argument("--min-len", type=int, default=128, help="shortest context + question, in bytes")
    p.add_argument("--max-len", type=int, default=768, help="longest context + question, in bytes")
    p.add_argument("--batch", type=int, default=4, help="windows per optimizer step")
    p.add_argument("--micro-batch", type=int, default=4, help="windows per forward pass")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps")
    p.add_argument("--max-steps", type=int, default=400, help="optimizer steps (an upper bound with --time-budget)")
    p.add_argument("--time-budget", type=float, default=0.0, help="fit max_steps to this many seconds (0: off)")
    p.add_argument("--answer-weight", type=float, default=4.0, help="extra weight of the answer-token loss")
    p.add_argument("--save-every", type=int, default=10, help="checkpoint cadence in steps")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0, help="trainer seed (init and batch order)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("export", help="write the newest checkpoint as the packaged HF folder")
    p.add_argument("--out", default="runs/demo-mamba2", help="run folder written by train")
    p.add_argument("--dest", default=str(ASSET_DIR), help="destination folder")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("eval", help="passkey accuracy per length through the hf backend; writes eval.json and the card")
    p.add_argument("--model", default=MODEL_NAME, help="model name or folder for get_backend('hf')")
    p.add_argument("--model-dir", default=str(ASSET_DIR), help="folder receiving eval.json, eval.md and README.md")
    p.add_argument("--lengths", type=int, nargs="+", default=list(EVAL_LENGTHS), help="context lengths in bytes")
    p.add_argument("--n-short", type=int, default=20, help="examples per length up to 2048 bytes")
    p.add_argument("--n-long", type=int, default=10, help="examples per length above 2048 bytes")
    p.add_argument("--batch-size", type=int, default=4, help="prompts decoded together")
    p.add_argument("--keep-prompts", type=int, default=4, help="rows at the shortest length whose prompt text is stored")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("card", help="rewrite README.md (the model card) from train_recipe.json and eval.json")
    p.add_argument("--model-dir", default=str(ASSET_DIR), help="the packaged model folder")
    p.set_defaults(func=cmd_card)

    args = parser.parse_args(argv)
    setup_logging()
    args.func(args)


if __name__ == "__main__":
    main()
