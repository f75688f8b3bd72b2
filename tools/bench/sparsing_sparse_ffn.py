"""Dense vs sparse gated FFN for batch-1 decoding on CPU, at activation ratios 5-50 %, in one process.

Both paths run the same ReLU FFN: the dense one computes ``W_down [(s ⊙ mask) ⊙ (W_up x)]`` with full matmuls (what
a dense engine does with activation-sparse weights), the sparse one (:func:`sparsing_law.sparse_ffn.sparse_ffn`)
computes the gate, then only the active rows of ``W_up`` and columns of ``W_down``. Outputs are checked equal
(1e-5) before timing. The activation ratio is set by the gate threshold ε (FAT-ε on the ReLU gate). Run::

    python tools/bench/sparsing_sparse_ffn.py --d-model 1024 --d-ff 4096 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from lc_core.report import machine_header
from sparsing_law.sparse_ffn import masked_dense_ffn, sparse_ffn


def median_time(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--d-model", type=int, default=1024)
    p.add_argument("--d-ff", type=int, default=4096)
    p.add_argument("--ratios", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.3, 0.5])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    d, f = args.d_model, args.d_ff
    w_gate = torch.randn(f, d, generator=g) / d**0.5
    w_up = torch.randn(f, d, generator=g) / d**0.5
    w_down = torch.randn(d, f, generator=g) / f**0.5
    w_down_t = w_down.T.contiguous()
    x = torch.randn(d, generator=g)
    s = torch.relu(w_gate @ x)
    order = s.sort(descending=True).values
    rows = []
    with torch.no_grad():
        for r in args.ratios:
            k = max(int(r * f), 1)
            eps = float((order[k - 1] + order[k]) / 2)
            ref = masked_dense_ffn(x, w_gate, w_up, w_down, torch.relu, eps)
            out = sparse_ffn(x, w_gate, w_up, w_down_t, torch.relu, eps)
            err = float((out - ref).abs().max())
            assert err <= 1e-5, err
            t_dense = median_time(lambda e=eps: masked_dense_ffn(x, w_gate, w_up, w_down, torch.relu, e), args.reps)
            t_sparse = median_time(lambda e=eps: sparse_ffn(x, w_gate, w_up, w_down_t, torch.relu, e), args.reps)
            rows.append(
                {
                    "activation": k / f,
                    "dense_us": 1e6 * t_dense,
                    "sparse_us": 1e6 * t_sparse,
                    "speedup": t_dense / t_sparse,
                    "max_abs_err": err,
                }
            )
    print(json.dumps({"machine": machine_header(), "d_model": d, "d_ff": f, "threads": args.threads}, default=str))
    print("| activation | dense FFN (µs) | sparse FFN (µs) | speed-up | max abs err |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        cells = [f"{100 * r['activation']:.0f}%", f"{r['dense_us']:.1f}", f"{r['sparse_us']:.1f}", f"{r['speedup']:.2f}x"]
        print("| " + " | ".join([*cells, f"{r['max_abs_err']:.1e}"]) + " |")


if __name__ == "__main__":
    main()
