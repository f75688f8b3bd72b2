"""stuffed-mamba: passkey and per-token loss streamed to 1M tokens on ``lc-core/demo-mamba2`` (CPU), next to
transformers' ``Mamba2ForCausalLM`` one-shot forward on the same weights.

Every measurement runs in a fresh subprocess (so the peak RSS, ``ru_maxrss``, is that run's alone):

- ``loss``: the ``haystack`` prompt repeated to N tokens, streamed in ``--chunk`` pieces with
  :func:`stuffed_mamba.loss.loss_curve` (method ``none`` and Method 3), reporting tokens/s, peak RSS, the mean loss
  and the largest 4K-bucket mean relative to the in-length level (first 1K tokens);
- ``passkey``: one passkey prompt of N tokens (template ``demo``, needle a quarter window before the end, i.e. inside
  Method 3's window), prefilled by streaming and decoded greedily, with and without Method 3;
- ``peer``: transformers' ``Mamba2ForCausalLM`` (torch path) with the demo's weights exported by
  ``lc_core.models.mamba2.export_hf``, one forward over N tokens (no streaming), where it runs.

The goal of the issue: RSS(1M) <= 1.1 x RSS(64K). Run (minutes per length on a loaded 2-core box)::

    nice -n 10 uv run python tools/bench/stuffed_stream_1m.py --lengths 65536 262144            # here
    nice -n 10 uv run python tools/bench/stuffed_stream_1m.py --lengths 65536 262144 1048576    # the 1M run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    import resource

    import torch

    torch.set_num_threads(spec["threads"])
    from stuffed_mamba.methods import MethodSpec, build_hooks
    from stuffed_mamba.models import load_model

    n = spec["length"]
    out: dict[str, Any] = {**spec}
    if spec["kind"] == "peer":
        import transformers

        from lc_core.models.mamba2 import export_hf

        lm = load_model("lc-core/demo-mamba2")
        folder = Path(tempfile.mkdtemp()) / "hf"
        export_hf(lm.model, folder)
        model = transformers.Mamba2ForCausalLM.from_pretrained(str(folder)).eval()
        ids = torch.tensor([(list(lm.encode(" The grass is green.")) * (n // 20 + 1))[:n]])
        t = time.perf_counter()
        with torch.inference_mode():
            logits = model(ids, logits_to_keep=1).logits
        out["wall_s"] = time.perf_counter() - t
        out["finite"] = bool(torch.isfinite(logits).all())
    else:
        lm = load_model("lc-core/demo-mamba2")
        spec_m = MethodSpec(method=spec["method"], window=spec["window"])
        if spec["kind"] == "loss":
            from stuffed_mamba.loss import loss_curve
            from stuffed_mamba.prompts import encode_prompt

            curve = loss_curve(
                lm.model, encode_prompt("haystack", lm.encode, n), bucket=4096 if n >= 65536 else 512,
                chunk_tokens=spec["chunk"], hooks=build_hooks(spec_m), total=n, progress=False,
            )  # fmt: skip
            out["wall_s"] = curve.wall_s
            out["mean_loss"] = curve.mean_loss
            first = loss_curve(lm.model, encode_prompt("haystack", lm.encode, 2048), bucket=128, progress=False)
            level = sum(first.means[:8]) / 8  # in-length level: buckets centred before 1K
            out["max_rel"] = max(curve.means) / level if curve.means else None
        else:
            from stuffed_mamba.passkey import StreamingBackend, make_examples, prompt_tokens, score

            ex = make_examples([n], 1, template="demo")[0]
            # the needle a quarter window before the end: inside Method 3's window at every length
            ex["depth"] = 1.0 - spec["window"] / (4.0 * n)
            be = StreamingBackend(
                lm.model, lm.encode, lm.decode, hooks_factory=lambda: build_hooks(spec_m), chunk_tokens=spec["chunk"],
                eos_token_id=lm.eos_token_id,
            )  # fmt: skip
            t = time.perf_counter()
            pred = lm.decode(be.complete_tokens(torch.tensor(list(prompt_tokens(ex, lm.encode))), 6))
            out["wall_s"] = time.perf_counter() - t
            out["prediction"], out["answer"], out["correct"] = pred, ex["answer"], score(pred, ex["answer"])
    out["tokens_per_s"] = n / out["wall_s"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", nargs="+", type=int, default=[65536, 262144], help="stream lengths in tokens")
    p.add_argument("--chunk", type=int, default=4096, help="tokens per forward call")
    p.add_argument("--window", type=int, default=512, help="Method 3 window")
    p.add_argument("--threads", type=int, default=2, help="torch threads per run")
    p.add_argument("--kinds", nargs="+", default=["loss", "passkey", "peer"], help="loss, passkey, peer")
    p.add_argument("--methods", nargs="+", default=["none", "m3"], help="none, m3 (loss and passkey runs)")
    p.add_argument("--peer-max", type=int, default=65536, help="longest one-shot transformers forward to try")
    p.add_argument("--out", help="write JSON here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0
    rows = []
    for n in args.lengths:
        for kind in args.kinds:
            methods = ["none"] if kind == "peer" else args.methods
            if kind == "peer" and n > args.peer_max:
                continue
            for method in methods:
                spec = {"kind": kind, "length": n, "method": method, "window": args.window, "chunk": args.chunk}
                spec["threads"] = args.threads
                res = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, check=False
                )
                if res.returncode:
                    row = {**spec, "error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"}
                else:
                    row = json.loads(res.stdout.strip().splitlines()[-1])
                rows.append(row)
                keys = ("kind", "length", "method", "wall_s", "tokens_per_s", "peak_rss_mb", "mean_loss", "max_rel", "correct")
                cells = [
                    f"{k}={row[k]:.4g}" if isinstance(row.get(k), float) else f"{k}={row.get(k)}" for k in keys if k in row
                ]
                print(" | ".join(cells) + (f" | error={row['error']}" if "error" in row else ""), flush=True)
    for kind in ("loss", "passkey"):
        for method in ("none", "m3"):
            got = {
                r["length"]: r["peak_rss_mb"]
                for r in rows
                if r["kind"] == kind and r["method"] == method and "peak_rss_mb" in r
            }
            if len(got) > 1:
                lo, hi = min(got), max(got)
                print(f"{kind}/{method}: RSS({hi}) / RSS({lo}) = {got[hi] / got[lo]:.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
