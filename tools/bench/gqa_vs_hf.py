"""Benchmark lc-core's GQA transformer against transformers' ``LlamaForCausalLM`` on CPU.

Both models get the same config and the same random weights (saved once to a safetensors file). For each
batch size one subprocess times both models, alternating which runs first in every repeat so that load from
other processes hits both alike; then each model gets its own fresh subprocess for the memory measurement, so
one model's allocations never count against the other. Reported:

- forward tokens/s: median over ``--repeats`` timed full forwards (``B x T`` tokens, all logits) after one warm-up;
- peak memory: the process's resident-set high-water mark (``VmHWM``) during one forward after a warm-up one,
  minus the RSS just before it (weights, inputs and imports are excluded). The mark is reset by writing
  ``5`` to ``/proc/self/clear_refs`` (Linux >= 4.0), and glibc is told to serve every block >= 64 KiB by mmap and
  to trim its heap first, so freed tensors leave the RSS and the mark sees activations, masks and logits (where
  that is not possible the whole-process ``ru_maxrss`` is reported instead);
- decode tokens/s: a prompt of ``--prompt-len`` tokens is prefilled into a ``DynamicCache`` (not timed), then
  ``--decode-tokens`` single-token steps are timed (``B x steps`` tokens), median over ``--repeats``.

Ratios are lc / HF: speed > 1 and memory < 1 mean lc-core wins. Results print as a fixed-width table under
a machine header and can be written as JSON + Markdown (``--out``).

Run (defaults: L=4, d=512, 8 query / 2 KV heads, T=2048, batches 1 and 4)::

    .venv/bin/python tools/bench/gqa_vs_hf.py
    .venv/bin/python tools/bench/gqa_vs_hf.py --seq-len 256 --batch-sizes 1 --repeats 2   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _worker import malloc_release_to_os, peak_kb, reset_peak, run_child, status_kb

from lc_core.logging import get_logger, setup_logging
from lc_core.report import machine_header

logger = get_logger("gqa_vs_hf")

IMPLS = ("hf", "lc")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # model shape
    parser.add_argument("--layers", type=int, default=4, help="decoder layers L")
    parser.add_argument("--d-model", type=int, default=512, help="hidden size d")
    parser.add_argument("--n-heads", type=int, default=8, help="query heads")
    parser.add_argument("--n-kv-heads", type=int, default=2, help="key/value heads")
    parser.add_argument("--d-ff", type=int, default=None, help="FFN width (default int(8d/3))")
    parser.add_argument("--vocab-size", type=int, default=32000, help="vocabulary size (logits are part of the cost)")
    # workload
    parser.add_argument("--seq-len", type=int, default=2048, help="forward sequence length T")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4], help="batch sizes to run")
    parser.add_argument(
        "--logits", choices=("all", "last"), default="all", help="forward computes logits at all positions or the last"
    )
    parser.add_argument(
        "--left-pad", type=int, default=0, help="left-pad the first row of the forward batch by N tokens (mask path)"
    )
    parser.add_argument("--prompt-len", type=int, default=512, help="cached prompt length before timed decoding")
    parser.add_argument("--decode-tokens", type=int, default=32, help="timed single-token decode steps")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (median reported)")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shared random weights and inputs")
    # output
    parser.add_argument("--out", type=Path, default=None, help="folder for results_<time>.json + .md (optional)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser


def _build(impl: str, spec: dict[str, Any]) -> Any:
    from safetensors.torch import load_file
    from transformers import LlamaForCausalLM

    from lc_core.models.gqa import GQAConfig, GQAForCausalLM
    from lc_core.models.gqa.convert import config_to_llama

    config = GQAConfig(**spec["config"])
    if impl == "lc":
        model = GQAForCausalLM(config)
    else:
        hf_config = config_to_llama(config)
        hf_config._attn_implementation = "sdpa"
        model = LlamaForCausalLM(hf_config)
    model.load_state_dict(load_file(spec["weights"]))
    return model.eval()


def _inputs(spec: dict[str, Any]) -> tuple[Any, Any, Any, dict[str, Any]]:
    import torch

    gen = torch.Generator().manual_seed(spec["seed"])
    vocab, bsz = spec["config"]["vocab_size"], spec["batch"]
    ids = torch.randint(0, vocab, (bsz, spec["seq_len"]), generator=gen)
    prompt = torch.randint(0, vocab, (bsz, spec["prompt_len"]), generator=gen)
    steps = torch.randint(0, vocab, (bsz, spec["decode_tokens"]), generator=gen)
    forward_kwargs: dict[str, Any] = {"use_cache": False, "logits_to_keep": 1 if spec["logits"] == "last" else 0}
    if spec["left_pad"]:
        mask = torch.ones_like(ids)
        mask[0, : spec["left_pad"]] = 0
        forward_kwargs["attention_mask"] = mask
    return ids, prompt, steps, forward_kwargs


def time_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Time both models in one process, alternating which goes first, so background load hits both alike."""
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    models = {impl: _build(impl, spec) for impl in IMPLS}
    ids, prompt, steps, fkw = _inputs(spec)
    forward: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    decode: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    with torch.inference_mode():
        for model in models.values():
            model(ids, **fkw)
        for rep in range(spec["repeats"]):
            order = IMPLS if rep % 2 == 0 else IMPLS[::-1]
            for impl in order:
                start = time.perf_counter()
                out = models[impl](ids, **fkw)
                forward[impl].append(time.perf_counter() - start)
                del out
            for impl in order:
                cache = models[impl](prompt, use_cache=True).past_key_values
                start = time.perf_counter()
                for t in range(spec["decode_tokens"]):
                    cache = models[impl](steps[:, t : t + 1], past_key_values=cache, use_cache=True).past_key_values
                decode[impl].append(time.perf_counter() - start)
                del cache
    bsz = spec["batch"]
    return {
        impl: {
            "forward_s": forward[impl],
            "forward_tok_s": bsz * spec["seq_len"] / statistics.median(forward[impl]),
            "decode_s": decode[impl],
            "decode_tok_s": bsz * spec["decode_tokens"] / statistics.median(decode[impl]),
        }
        for impl in IMPLS
    } | {"threads": torch.get_num_threads()}


def memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Peak extra RSS of one forward of one model, alone in this fresh process."""
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    model = _build(spec["impl"], spec)
    ids, _, _, fkw = _inputs(spec)
    with torch.inference_mode():
        malloc_release_to_os()
        model(ids, **fkw)
        base_kb = status_kb("VmRSS") or 0
        reset_ok = reset_peak()
        out = model(ids, **fkw)
        peak = peak_kb(reset_ok)
        del out
    return {
        "peak_extra_mib": max(peak - base_kb, 0) / 1024 if reset_ok else None,
        "peak_rss_mib": peak / 1024,
        "memory_method": "VmHWM reset via clear_refs" if reset_ok else "ru_maxrss (whole process)",
    }


def _peak(row: dict[str, Any]) -> float:
    return row["peak_extra_mib"] if row["peak_extra_mib"] is not None else row["peak_rss_mib"]


def _run_child(spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    return run_child(os.path.abspath(__file__), spec_path, spec)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.left_pad < args.seq_len:
        parser.error(f"--left-pad must be in [0, --seq-len) = [0, {args.seq_len}), got {args.left_pad}")
    if args.worker:
        spec = json.loads(Path(args.worker).read_text())
        result = memory_worker(spec) if spec.get("impl") else time_worker(spec)
        print(json.dumps(result))
        return 0
    setup_logging()
    import torch
    from safetensors.torch import save_file

    from lc_core.models.gqa import GQAConfig, GQAForCausalLM
    from lc_core.report import markdown_table, run_manifest, timestamp, write_results

    config = GQAConfig(
        vocab_size=args.vocab_size,
        d_model=args.d_model,
        n_layers=args.layers,
        n_heads=args.n_heads,
        n_kv_heads=args.n_kv_heads,
        d_ff=args.d_ff,
        max_position_embeddings=max(args.seq_len, args.prompt_len + args.decode_tokens),
    )
    header = machine_header()
    config_fields = {k: v for k, v in config.to_diff_dict().items() if k not in ("model_type", "transformers_version")}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(args.seed)
        weights = os.path.join(tmp, "weights.safetensors")
        save_file({k: v.contiguous() for k, v in GQAForCausalLM(config).state_dict().items()}, weights)
        for batch in args.batch_sizes:
            base = dict(
                batch=batch,
                config=config_fields,
                weights=weights,
                seed=args.seed,
                seq_len=args.seq_len,
                prompt_len=args.prompt_len,
                decode_tokens=args.decode_tokens,
                repeats=args.repeats,
                threads=args.threads,
                logits=args.logits,
                left_pad=args.left_pad,
            )
            logger.info("batch %d: timing both models (interleaved)", batch)
            timing = _run_child(Path(tmp) / f"time_{batch}.json", base)
            for impl in IMPLS:
                logger.info("batch %d: peak memory of %s", batch, impl)
                memory = _run_child(Path(tmp) / f"mem_{impl}_{batch}.json", base | {"impl": impl})
                rows.append({"impl": impl, "batch": batch, "threads": timing["threads"], **timing[impl], **memory})
    table = []
    for batch in args.batch_sizes:
        hf = next(r for r in rows if r["impl"] == "hf" and r["batch"] == batch)
        lc = next(r for r in rows if r["impl"] == "lc" and r["batch"] == batch)
        mem_ratio = _peak(lc) / _peak(hf) if _peak(hf) else None
        table.append(
            {
                "batch": batch,
                "fwd tok/s HF": round(hf["forward_tok_s"], 1),
                "fwd tok/s lc": round(lc["forward_tok_s"], 1),
                "fwd speed x": round(lc["forward_tok_s"] / hf["forward_tok_s"], 3),
                "peak MiB HF": round(_peak(hf), 1),
                "peak MiB lc": round(_peak(lc), 1),
                "memory x": round(mem_ratio, 3) if mem_ratio is not None else None,
                "decode tok/s HF": round(hf["decode_tok_s"], 1),
                "decode tok/s lc": round(lc["decode_tok_s"], 1),
                "decode speed x": round(lc["decode_tok_s"] / hf["decode_tok_s"], 3),
            }
        )
    shape = (
        f"L={args.layers} d={args.d_model} heads={args.n_heads}/{args.n_kv_heads} d_ff={config.d_ff} "
        f"V={args.vocab_size} T={args.seq_len} prompt={args.prompt_len} decode={args.decode_tokens} "
        f"repeats={args.repeats} logits={args.logits} left_pad={args.left_pad}"
    )
    print("=" * 100)
    print(
        f"machine: {header['cpu']} | {header['logical_cpus']} logical CPUs | torch threads {rows[0]['threads']} | "
        f"load(1m) {header['load_avg_1m']:.2f}"
    )
    print(f"torch {header['torch']} | transformers {header['transformers']} | python {header['python']} | fp32 CPU")
    print(f"shape: {shape}")
    print(f"memory: {rows[0]['memory_method']}, peak RSS during one forward minus RSS before it")
    print("=" * 100)
    cols = list(table[0])
    widths = [max(len(c), 9) for c in cols]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for row in table:
        print("  ".join(str(row[c]).rjust(w) for c, w in zip(cols, widths)))
    if args.out is not None:
        record = {
            "manifest": run_manifest(vars(args) | {"out": str(args.out)}, packages=("torch", "transformers")),
            "machine": header,
            "shape": shape,
            "raw": rows,
            "table": table,
        }
        json_path, _ = write_results(args.out / f"gqa_vs_hf_{timestamp()}", record, markdown_table(table, precision=3))
        logger.info("wrote %s", json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
