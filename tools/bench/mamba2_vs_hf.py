"""Benchmark lc-core's Mamba-2 against transformers' ``Mamba2ForCausalLM`` (torch path) on CPU, plus 1M-token streaming.

Both models get the same config and the same random weights (saved once to a safetensors file). For each
sequence length one subprocess times both models, alternating which runs first in every repeat so that load
from other processes hits both alike; then each model gets its own fresh subprocess for the memory
measurement. Reported:

- forward seconds: median over ``--repeats`` full-sequence forwards (batch 1, no cache) after one warm-up;
  logits are computed for the last position only (``logits_to_keep=1``) so the comparison is the Mamba-2
  stack, not a shared ``T x vocab`` matmul;
- peak memory: the resident-set high-water mark (``VmHWM``) during one forward after a warm-up one, minus the
  RSS just before it. The mark is reset through ``/proc/self/clear_refs`` and glibc serves blocks >= 64 KiB
  by mmap, so freed tensors leave the RSS (where that is impossible the whole-process ``ru_maxrss`` is used);
- streaming: ``--stream-tokens`` tokens (default 2^20) through a tiny random model (d_model 64, 2 layers,
  vocab 256) with :func:`lc_core.models.mamba2.stream` in ``--stream-chunk`` pieces: tokens/s, peak RSS of
  the whole process, and the peak RSS a quarter of the way in (the two should match: memory is flat).

Ratios are lc / HF: time < 1 and memory < 1 mean lc-core wins. Results print as a table and can be written
as JSON + Markdown (``--out``).

Run (defaults: 130m widths, d_model 768, d_state 128, headdim 64, 2 layers, T = 2048 and 8192)::

    .venv/bin/python tools/bench/mamba2_vs_hf.py --out results/mamba2_vs_hf
    .venv/bin/python tools/bench/mamba2_vs_hf.py --seq-lens 512 --repeats 1 --stream-tokens 65536   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _worker import malloc_release_to_os, peak_kb, reset_peak, run_child, status_kb

from lc_core.logging import get_logger, setup_logging
from lc_core.report import machine_header

logger = get_logger("mamba2_vs_hf")

IMPLS = ("hf", "lc")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # model shape
    parser.add_argument("--layers", type=int, default=2, help="Mamba-2 blocks")
    parser.add_argument("--d-model", type=int, default=768, help="residual width (768 = mamba2-130m)")
    parser.add_argument("--d-state", type=int, default=128, help="SSM state size N")
    parser.add_argument("--headdim", type=int, default=64, help="head width P")
    parser.add_argument("--vocab-size", type=int, default=50277, help="vocabulary (padded to a multiple of 16)")
    parser.add_argument("--chunk-size", type=int, default=256, help="SSD chunk length for both models")
    # workload
    parser.add_argument("--seq-lens", type=int, nargs="+", default=[2048, 8192], help="forward sequence lengths T")
    parser.add_argument("--repeats", type=int, default=3, help="timed forwards per model and length (median reported)")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch default)")
    parser.add_argument("--stream-tokens", type=int, default=1 << 20, help="tokens for the streaming run (0 = skip)")
    parser.add_argument("--stream-chunk", type=int, default=4096, help="tokens per forward in the streaming run")
    # output
    parser.add_argument("--out", default=None, help="write <out>.json and <out>.md")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser


def _config(spec: dict[str, Any]) -> Any:
    from lc_core.models.mamba2 import Mamba2Config

    return Mamba2Config(
        d_model=spec["d_model"],
        n_layers=spec["layers"],
        vocab_size=spec["vocab_size"],
        d_state=spec["d_state"],
        headdim=spec["headdim"],
        chunk_size=spec["chunk_size"],
        ssd_backend="torch",
    )


def _build(impl: str, spec: dict[str, Any]) -> Any:
    import torch
    from safetensors.torch import load_file

    from lc_core.models.mamba2 import Mamba2ForCausalLM
    from lc_core.models.mamba2.checkpoint import config_to_hf

    config = _config(spec)
    if impl == "lc":
        model = Mamba2ForCausalLM(config)
    else:
        import transformers

        kwargs = {
            k: v
            for k, v in config_to_hf(config).items()
            if k not in ("model_type", "architectures", "rms_norm", "norm_before_gate")
        }
        model = transformers.Mamba2ForCausalLM(transformers.Mamba2Config(**kwargs))
    model.load_state_dict(load_file(spec["weights"]), strict=False)
    model.tie_weights()
    return model.eval().to(torch.float32)


def _ids(spec: dict[str, Any], seq_len: int) -> Any:
    import torch

    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, spec["vocab_size"], (1, seq_len), generator=gen)


def time_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Median forward seconds of both models at one length, alternating their order."""
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    models = {impl: _build(impl, spec) for impl in IMPLS}
    ids = _ids(spec, spec["seq_len"])
    times: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    logits = {}
    with torch.inference_mode():
        for impl in IMPLS:
            logits[impl] = models[impl](ids, use_cache=False, logits_to_keep=1).logits.float()
        for r in range(spec["repeats"]):
            order = IMPLS if r % 2 == 0 else IMPLS[::-1]
            for impl in order:
                t0 = time.perf_counter()
                models[impl](ids, use_cache=False, logits_to_keep=1)
                times[impl].append(time.perf_counter() - t0)
    return {
        "seconds": {impl: statistics.median(v) for impl, v in times.items()},
        "max_abs_logit_diff": (logits["lc"] - logits["hf"]).abs().max().item(),
    }


def memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Peak extra RSS of one forward of one model, alone in this fresh process."""
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    model = _build(spec["impl"], spec)
    ids = _ids(spec, spec["seq_len"])
    with torch.inference_mode():
        malloc_release_to_os()
        model(ids, use_cache=False, logits_to_keep=1)
        base_kb = status_kb("VmRSS") or 0
        reset_ok = reset_peak()
        out = model(ids, use_cache=False, logits_to_keep=1)
        peak = peak_kb(reset_ok)
        del out
    return {
        "peak_extra_mib": max(peak - base_kb, 0) / 1024 if reset_ok else None,
        "peak_rss_mib": peak / 1024,
        "memory_method": "VmHWM reset via clear_refs" if reset_ok else "ru_maxrss (whole process)",
    }


def stream_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Stream ``stream_tokens`` random tokens through a tiny model; throughput and RSS at 1/4 and at the end."""
    import torch

    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM, stream

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model = Mamba2ForCausalLM(
        Mamba2Config(d_model=64, n_layers=2, vocab_size=256, d_state=16, headdim=16, chunk_size=64)
    ).eval()
    total, chunk = spec["stream_tokens"], spec["stream_chunk"]
    quarter = (total // 4) // chunk * chunk
    marks: dict[str, int] = {}

    def tokens() -> Any:
        gen = torch.Generator().manual_seed(0)
        for start in range(0, total, chunk):
            if start == quarter:
                marks["quarter_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            yield from torch.randint(0, 256, (min(chunk, total - start),), generator=gen).tolist()

    res = stream(model, tokens(), chunk_tokens=chunk, positions=[total - 1], progress=False)
    finite = bool(torch.isfinite(res.losses).all()) and all(bool(torch.isfinite(s).all()) for s in res.cache.ssm_states)
    return {
        "tokens": res.n_tokens,
        "seconds": res.wall_s,
        "tokens_per_s": res.tokens_per_s,
        "mean_loss": res.mean_loss,
        "finite": finite,
        "peak_rss_quarter_mib": marks.get("quarter_kb", 0) / 1024,
        "peak_rss_end_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_child(spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    return run_child(os.path.abspath(__file__), spec_path, spec)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        spec = json.loads(Path(args.worker).read_text())
        kind = spec["kind"]
        result = time_worker(spec) if kind == "time" else memory_worker(spec) if kind == "memory" else stream_worker(spec)
        print(json.dumps(result))
        return 0
    setup_logging()
    import torch
    from safetensors.torch import save_file

    from lc_core.models.mamba2 import Mamba2ForCausalLM
    from lc_core.report import markdown_table, run_manifest, timestamp, write_results

    base = {
        "layers": args.layers,
        "d_model": args.d_model,
        "d_state": args.d_state,
        "headdim": args.headdim,
        "vocab_size": args.vocab_size,
        "chunk_size": args.chunk_size,
        "threads": args.threads,
        "repeats": args.repeats,
    }
    header = machine_header()
    rows = []
    stream_row = None
    with tempfile.TemporaryDirectory(prefix="mamba2_bench_") as tmp:
        tmp_dir = Path(tmp)
        torch.manual_seed(0)
        model = Mamba2ForCausalLM(_config(base))
        weights = tmp_dir / "weights.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}, str(weights))
        del model
        base["weights"] = str(weights)
        for seq_len in args.seq_lens:
            logger.info("T=%d: timing both models", seq_len)
            timing = _run_child(tmp_dir / f"time_{seq_len}.json", {**base, "kind": "time", "seq_len": seq_len})
            mem = {}
            for impl in IMPLS:
                logger.info("T=%d: memory of %s", seq_len, impl)
                mem[impl] = _run_child(
                    tmp_dir / f"mem_{impl}_{seq_len}.json", {**base, "kind": "memory", "impl": impl, "seq_len": seq_len}
                )
            peak = {impl: mem[impl]["peak_extra_mib"] or mem[impl]["peak_rss_mib"] for impl in IMPLS}
            rows.append(
                {
                    "T": seq_len,
                    "hf_s": timing["seconds"]["hf"],
                    "lc_s": timing["seconds"]["lc"],
                    "time_ratio": timing["seconds"]["lc"] / timing["seconds"]["hf"],
                    "speedup": timing["seconds"]["hf"] / timing["seconds"]["lc"],
                    "hf_peak_mib": peak["hf"],
                    "lc_peak_mib": peak["lc"],
                    "mem_ratio": peak["lc"] / peak["hf"] if peak["hf"] else float("nan"),
                    "max_abs_logit_diff": timing["max_abs_logit_diff"],
                    "memory_method": mem["lc"]["memory_method"],
                }
            )
        if args.stream_tokens:
            logger.info("streaming %d tokens", args.stream_tokens)
            stream_row = _run_child(
                tmp_dir / "stream.json",
                {**base, "kind": "stream", "stream_tokens": args.stream_tokens, "stream_chunk": args.stream_chunk},
            )
    columns = ["T", "hf_s", "lc_s", "speedup", "hf_peak_mib", "lc_peak_mib", "mem_ratio", "max_abs_logit_diff"]
    table = markdown_table(rows, columns, precision=3)
    if stream_row is not None:
        table += "\n\n" + markdown_table(
            [stream_row],
            ["tokens", "seconds", "tokens_per_s", "peak_rss_quarter_mib", "peak_rss_end_mib", "finite"],
            precision=1,
        )
    print(" | ".join(f"{k}={v}" for k, v in header.items()))
    print(table)
    if args.out:
        record = {
            "created": timestamp(),
            "machine": header,
            "forward": rows,
            "stream": stream_row,
            "manifest": run_manifest(vars(args)),
        }
        paths = write_results(args.out, record, table + "\n")
        logger.info("wrote %s", ", ".join(str(p) for p in paths if p))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
