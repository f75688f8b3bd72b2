"""Recipe of the demo models ``sparsing-law/demo-relu`` and ``sparsing-law/demo-silu``: train, export, evaluate, card.

Two byte-level lc-core GQA models of the same shape, one with a gated-ReLU FFN and one with a gated-SiLU FFN, are
trained from scratch with :func:`lc_core.train.train` on the English text of the Python documentation that ships
with every CPython (``pydoc_data.topics``, PSF License Version 2). Every ``--every`` steps the
:class:`sparsing_law.callback.ActivationTracker` measures the activation ratio at fixed CETT values on held-out
topics (``<run>/sparsity.jsonl``): the activation-vs-tokens curve the sparsing laws are fitted to. Run from the
repository root (each train run is bounded to ~5 minutes on a loaded 2-core CPU)::

    nice -n 10 python tools/train_demo_gqa.py train --act relu --out runs/demo-gqa-relu
    nice -n 10 python tools/train_demo_gqa.py train --act silu --out runs/demo-gqa-silu
    python tools/train_demo_gqa.py text                                   # the held-out demo text (--data demo)
    python tools/train_demo_gqa.py export --act relu --out runs/demo-gqa-relu   # weights, eval.json, card
    python tools/train_demo_gqa.py export --act silu --out runs/demo-gqa-silu

Topics are split by name (sorted; every ``HOLDOUT_EVERY``-th is held out), so the probe and demo text were never
trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lc_core.io import atomic_write_json, atomic_write_text
from lc_core.logging import get_logger, setup_logging
from lc_core.models.export import export_run, record_phase, write_card
from lc_core.report import markdown_table, timestamp
from lc_core.tokenizers import ByteTokenizer
from lc_core.train import PackedDataset, TrainConfig, train
from sparsing_law.assets import DEMO_RELU, DEMO_SILU, DEMO_TEXT, DEMO_TEXT_NOTICE
from sparsing_law.callback import SPARSITY_LOG, ActivationTracker, read_sparsity_log

logger = get_logger("train_demo_gqa")

DEST = {"relu": DEMO_RELU, "silu": DEMO_SILU}
NAMES = {"relu": "sparsing-law/demo-relu", "silu": "sparsing-law/demo-silu"}
# the same shape for both; only the FFN activation differs (byte ids: pad 0, eos 1, unk 2, byte b -> b + 3)
MODEL_KWARGS: dict[str, Any] = {
    "vocab_size": 259,
    "d_model": 96,
    "n_layers": 3,
    "n_heads": 4,
    "n_kv_heads": 2,
    "d_ff": 384,
    "ffn_type": "gated",
    "tie_word_embeddings": True,
    "max_position_embeddings": 512,
    "pad_token_id": 0,
    "eos_token_id": 1,
}
HOLDOUT_EVERY = 8
CETTS = (0.1, 0.15, 0.2, 0.3)
PROBE_SEQ, PROBE_SEQS = 128, 8
DEMO_TEXT_BYTES = 16384


def build_model(act: str) -> nn.Module:
    """A fresh demo-shaped ``GQAForCausalLM`` with a gated ``act`` FFN."""
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    return GQAForCausalLM(GQAConfig(**MODEL_KWARGS, activation=act))


def corpus() -> tuple[list[str], list[str], dict[str, Any]]:
    """``(train topics, held-out topics, provenance)`` of the Python documentation text in ``pydoc_data.topics``."""
    from pydoc_data import topics as mod

    names = sorted(mod.topics)
    held = set(names[HOLDOUT_EVERY // 2 :: HOLDOUT_EVERY])
    train_docs = [mod.topics[n] for n in names if n not in held]
    held_docs = [mod.topics[n] for n in names if n in held]
    blob = "\x00".join(mod.topics[n] for n in names).encode("utf-8")
    info = {
        "source": "pydoc_data.topics (CPython standard library: the Python Language Reference topics used by help())",
        "python": platform.python_version(),
        "licence": "PSF License Version 2 (Python documentation)",
        "topics": len(names),
        "held_out_topics": sorted(held),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "train_bytes": sum(len(d.encode("utf-8")) for d in train_docs),
        "held_out_bytes": sum(len(d.encode("utf-8")) for d in held_docs),
    }
    return train_docs, held_docs, info


def probe_batches(
    texts: Sequence[str], *, seq_len: int = PROBE_SEQ, n: int = PROBE_SEQS, batch: int = 8
) -> list[dict[str, torch.Tensor]]:
    """``n`` byte sequences of ``seq_len`` from the held-out text, in batches (all positions valid)."""
    ids = ByteTokenizer().encode("\n\n".join(texts))
    seqs = [ids[i : i + seq_len] for i in range(0, len(ids) - seq_len, seq_len)][:n]
    out = []
    for i in range(0, len(seqs), batch):
        x = torch.tensor(seqs[i : i + batch], dtype=torch.long)
        out.append({"input_ids": x, "attention_mask": torch.ones_like(x)})
    return out


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_docs, held_docs, info = corpus()
    tok = ByteTokenizer()
    stream = np.concatenate([np.asarray([*tok.encode(d), tok.eos_token_id], dtype=np.int64) for d in train_docs])
    data = PackedDataset(stream, args.seq_len)
    logger.info("%d training bytes in %d windows of %d", len(stream), len(data), args.seq_len + 1)
    cfg = TrainConfig(
        seq_len=args.seq_len,
        micro_batch_size=args.batch,
        global_batch_size=args.batch,
        max_steps=args.max_steps,
        lr=args.lr,
        warmup_steps=args.warmup,
        schedule="wsd",
        decay_fraction=args.decay_fraction,
        weight_decay=0.1,
        grad_clip=1.0,
        log_every=10,
        save_every=args.max_steps,
        keep_last=1,
        out_dir=str(out),
        seed=args.seed,
    )
    tracker = ActivationTracker(probe_batches(held_docs), CETTS, every=args.every)
    result = train(lambda: build_model(args.act), cfg, data, callbacks=[tracker], device="cpu")
    phase = {
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "data": info,
        "windows": len(data),
        "tokens_per_step": cfg.tokens_per_step,
        "resumed_from": result.resumed_from,
        "steps": result.step,
        "tokens": result.tokens_seen,
        "final_loss": result.final_loss,
        "train_elapsed_s": result.elapsed_s,
        "machine": f"{platform.machine()} CPU, {args.threads} threads ({platform.processor() or 'unknown'})",
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "finished": timestamp(),
    }
    record_phase(out, phase)
    logger.info(
        "trained %d steps (%d tokens) in %.0f s, loss %.4f",
        result.step,
        result.tokens_seen,
        result.elapsed_s,
        result.final_loss,
    )


def cmd_text(args: argparse.Namespace) -> None:
    """Write the held-out demo text shipped for ``measure --data demo`` and its notice."""
    _, held_docs, info = corpus()
    text, used = "", []
    for name, doc in zip(info["held_out_topics"], held_docs):
        if len((text + doc).encode("utf-8")) > DEMO_TEXT_BYTES and text:
            break
        text += doc.strip() + "\n\n"
        used.append(name)
    atomic_write_text(Path(args.dest), text)
    notice = NOTICE.format(python=info["python"], topics=", ".join(used), n=len(text.encode("utf-8")))
    atomic_write_text(Path(args.notice), notice)
    for p in (Path(args.dest), Path(args.notice)):
        p.chmod(0o644)
    logger.info("wrote %s (%d bytes, topics %s)", args.dest, len(text), used)


NOTICE = """# Demo text: provenance and licence

`demo_text.txt` ({n} bytes) is the text of the Python Language Reference topics {topics}, as shipped in the
CPython {python} standard library (`pydoc_data/topics.py`, the text behind `help()`). These topics were held out
from the demo models' training data.

Copyright (c) 2001 Python Software Foundation; All Rights Reserved. The Python documentation is licensed under the
Python Software Foundation License Version 2 (https://docs.python.org/3/license.html), which permits
redistribution of derived works provided this notice is retained.
"""


def evaluate(act: str, model_dir: Path, eps: float) -> dict[str, Any]:
    """PPL-1% CETT search, fixed-CETT and zero activation of the exported model on the held-out demo text."""
    from transformers import AutoModelForCausalLM

    from lc_core.models import register_all
    from sparsing_law import metrics
    from sparsing_law.search import cett_for_ppl, dense_stats, evaluate_mask, evaluate_thresholds, thresholds_for_cett

    register_all()
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    text = DEMO_TEXT.read_text(encoding="utf-8")
    batches = probe_batches([text], seq_len=256, n=16, batch=4)
    t0 = time.perf_counter()
    with torch.no_grad():
        res = cett_for_ppl(model, batches, 0.01, eps=eps)
        bis = cett_for_ppl(model, batches, 0.01, eps=eps, method="bisect")
        stats = dense_stats(model, batches)
        zero = evaluate_mask(model, batches, lambda _i, _a, s: metrics.zero_mask(s), dense_loss=stats.loss, needs_gate=True)
        fixed = {}
        for c in CETTS:
            ev = evaluate_thresholds(model, batches, thresholds_for_cett(stats, c), dense_loss=stats.loss)
            fixed[f"{c:g}"] = {"activation": ev.activation, "ppl_ratio": ev.ppl_ratio}
    return {
        "model": NAMES[act],
        "data": "demo text (sparsing_law/assets/demo_text.txt), 16 x 256 bytes",
        "dense_loss_nats_per_byte": stats.loss,
        "ppl1": {k: v for k, v in res.to_dict().items() if k not in ("history",)},
        "ppl1_history": res.history,
        "ppl1_bisect": {k: v for k, v in bis.to_dict().items() if k not in ("history", "thresholds", "layer_activation")},
        "eps": eps,
        "zero_activation": zero.activation,
        "fixed_cett": fixed,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def cmd_export(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    out, dest = Path(args.out), Path(args.dest or DEST[args.act])
    export_run(out, lambda: build_model(args.act), dest, generation={"eos_token_id": 1, "pad_token_id": 0, "do_sample": False})
    shutil.copyfile(out / SPARSITY_LOG, dest / SPARSITY_LOG)
    (dest / SPARSITY_LOG).chmod(0o644)
    record = evaluate(args.act, dest, args.eps)
    atomic_write_json(dest / "eval.json", record)
    (dest / "eval.json").chmod(0o644)
    write_model_card(args.act, dest)


def write_model_card(act: str, dest: Path) -> None:
    recipe = json.loads((dest / "train_recipe.json").read_text(encoding="utf-8"))
    record = json.loads((dest / "eval.json").read_text(encoding="utf-8"))
    rows = read_sparsity_log(dest)
    a = recipe["args"]
    curve = markdown_table(
        [
            {
                "step": r["step"],
                "tokens": r["tokens"],
                "probe loss": r["dense_loss"],
                "zero %": 100 * r.get("zero", float("nan")),
                **{f"CETT {k} %": 100 * v["activation"] for k, v in r["cett"].items()},
            }
            for r in rows
        ],
        precision=2,
    )
    fixed = markdown_table(
        [
            {"CETT": k, "activation %": 100 * v["activation"], "PPL ratio": v["ppl_ratio"]}
            for k, v in record["fixed_cett"].items()
        ],
        precision=4,
    )
    p = record["ppl1"]
    n_params = sum(t.numel() for t in build_model(act).parameters())
    shape = ", ".join(f"{k}={v}" for k, v in MODEL_KWARGS.items())
    cmd = (
        f"nice -n 10 python tools/train_demo_gqa.py train --act {act} --out runs/demo-gqa-{act} --max-steps {a['max_steps']} "
        f"--seq-len {a['seq_len']} --batch {a['batch']} --lr {a['lr']} --warmup {a['warmup']} "
        f"--decay-fraction {a['decay_fraction']} --every {a['every']} --seed {a['seed']} --threads {a['threads']}\n"
        f"python tools/train_demo_gqa.py export --act {act} --out runs/demo-gqa-{act} --eps {record['eps']}"
    )
    d = recipe["data"]
    text = CARD.format(
        name=NAMES[act],
        act=act,
        Act={"relu": "ReLU", "silu": "SiLU"}[act],
        n_params=n_params,
        shape=shape,
        cmd=cmd,
        source=d["source"],
        python=d["python"],
        sha=d["sha256"],
        topics=d["topics"],
        held=len(d["held_out_topics"]),
        train_bytes=d["train_bytes"],
        held_bytes=d["held_out_bytes"],
        steps=recipe["steps"],
        tokens=recipe["tokens"],
        tps=recipe["tokens_per_step"],
        minutes=recipe["train_elapsed_s"] / 60,
        machine=recipe["machine"],
        final_loss=recipe["final_loss"],
        lr=a["lr"],
        warmup=a["warmup"],
        decay=a["decay_fraction"],
        every=a["every"],
        epochs=recipe["tokens"] / max(d["train_bytes"], 1),
        curve=curve,
        fixed=fixed,
        loss=record["dense_loss_nats_per_byte"],
        cett=p["cett"],
        act_ppl=100 * p["activation"],
        ratio=p["ppl_ratio"],
        iters=p["iterations"],
        fw=p["forwards"],
        ofw=p["original_forwards"],
        bfw=record["ppl1_bisect"]["forwards"],
        bcett=record["ppl1_bisect"]["cett"],
        bact=100 * record["ppl1_bisect"]["activation"],
        zero=100 * record["zero_activation"],
    )
    write_card(dest, text)


CARD = """# {name}

A {n_params:,}-parameter byte-level lc-core GQA decoder with a **gated-{Act}** FFN, shipped inside sparsing-law as
the offline demo model of its README (`sparsing-law measure --model {name} --data demo`). Its twin
(`sparsing-law/demo-relu` / `demo-silu`) has the same shape, data, seed and schedule; only the FFN activation
differs. It is a small demo of the sparsing-law measurements, not a useful language model.

```python
from transformers import AutoModelForCausalLM
from lc_core.models import register_all
from lc_core.models.builtin import resolve_model_path
register_all()
model = AutoModelForCausalLM.from_pretrained(resolve_model_path("{name}"))   # no network
```

## Model

`lc-gqa` ({shape}, activation={act}); fp32 safetensors. Tokenizer: `ByT5Tokenizer(extra_ids=0)` files
(`AutoTokenizer.from_pretrained(folder)`); `lc_core.tokenizers.ByteTokenizer` gives the same ids.

## Data: provenance and licence

{source}, CPython {python} (sha256 of the topic texts joined by NUL: `{sha}`). Licence: Python Software
Foundation License Version 2 (https://docs.python.org/3/license.html); Copyright (c) 2001 Python Software
Foundation, All Rights Reserved. {topics} topics; every 8th by sorted name ({held} topics, {held_bytes:,} bytes) is
held out (probe set of the activation tracker and `sparsing_law/assets/demo_text.txt`); the other
{train_bytes:,} bytes are the training stream (each topic + EOS). Another Python version ships a slightly
different text; the recipe records the hash.

## Recipe

Trained from scratch with `lc_core.train.train` on CPU by `tools/train_demo_gqa.py`:

```
{cmd}
```

AdamW (weight decay 0.1), peak lr {lr}, {warmup} warm-up steps, WSD schedule (last {decay:.0%} decaying), {steps}
steps of {tps} tokens = {tokens:,} tokens ({epochs:.2f} passes over the training bytes). Trainer time {minutes:.1f} min
on {machine}. Final training loss {final_loss:.4f} nats/byte.

## Activation ratio vs training tokens (the sparsing-law curve)

Every {every} steps `sparsing_law.callback.ActivationTracker` runs the model on 8 x 128 held-out bytes: one dense
pass, then for each fixed CETT the exact per-layer thresholds and a sparse pass. "zero" is the fraction of
neurons with `act(W_gate x) != 0` (ReLU's exact zeros; ~100 % for SiLU). Full per-layer values: `sparsity.jsonl`.
Fits and plots: `sparsing-law curve` (see the package README).

{curve}

## Sparsity of the final model on the demo text

16 x 256 bytes of `demo_text.txt`; dense loss {loss:.4f} nats/byte.

- **CETT-PPL-1%**: CETT {cett:.4f}, activation ratio **{act_ppl:.2f} %**, PPL ratio {ratio:.5f}; {iters}
  candidates of the default interpolation search, **{fw} model forwards** (the original's bisection with a dense and a
  sparse pass per candidate: {ofw}; our bisection with cached dense statistics, `method="bisect"`: {bfw} forwards,
  CETT {bcett:.4f}, activation {bact:.2f} %).
- zero-threshold activation: {zero:.2f} %.

{fixed}
"""


def cmd_card(args: argparse.Namespace) -> None:
    write_model_card(args.act, Path(args.dest or DEST[args.act]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)

    p = sub.add_parser("train", help="train (or resume) one demo model from scratch on CPU")
    p.add_argument("--act", required=True, choices=("relu", "silu"), help="FFN activation")
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics.jsonl, sparsity.jsonl, recipe.json)")
    p.add_argument("--max-steps", type=int, default=300, help="optimizer steps")
    p.add_argument("--seq-len", type=int, default=128, help="training window length in bytes")
    p.add_argument("--batch", type=int, default=16, help="windows per optimizer step")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=20, help="warm-up steps")
    p.add_argument("--decay-fraction", type=float, default=0.2, help="fraction of steps in the WSD decay")
    p.add_argument("--every", type=int, default=15, help="activation tracker cadence in steps")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0, help="trainer seed (init and batch order)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("text", help="write the held-out demo text (measure --data demo) and its notice")
    p.add_argument("--dest", default=str(DEMO_TEXT), help="text file")
    p.add_argument("--notice", default=str(DEMO_TEXT_NOTICE), help="provenance / licence file")
    p.set_defaults(func=cmd_text)

    p = sub.add_parser("export", help="export the newest checkpoint, evaluate it on the demo text, write the card")
    p.add_argument("--act", required=True, choices=("relu", "silu"), help="FFN activation")
    p.add_argument("--out", required=True, help="run folder written by train")
    p.add_argument("--dest", help="destination folder (default: the package's asset folder)")
    p.add_argument("--eps", type=float, default=1e-3, help="bisection width of the PPL-1%% search")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("card", help="rewrite README.md (the model card) from train_recipe.json, eval.json, sparsity.jsonl")
    p.add_argument("--act", required=True, choices=("relu", "silu"), help="FFN activation")
    p.add_argument("--dest", help="the packaged model folder (default: the package's asset folder)")
    p.set_defaults(func=cmd_card)

    args = parser.parse_args(argv)
    setup_logging()
    args.func(args)


if __name__ == "__main__":
    main()
