"""Dense vs sparse gated FFN for batch-1 decoding on CPU, at activation ratios 5-50 %, in one process.

Both paths run the same ReLU FFN: the dense one computes ``W_down [(s ⊙ mask) ⊙ (W_up x)]`` with full matmuls (what
a dense engine does with activation-sparse weights), the sparse one (:func:`sparsing_law.sparse_ffn.sparse_ffn`)
computes the gate, then only the active rows of ``W_up`` and columns of ``W_down``. Outputs are checked equal
(1e-5) before timing. The activation ratio is set by the gate threshold ε (FAT-ε on the ReLU gate). Run::

    python tools/bench/sparsing_sparse_ffn.py --d-model 1024 --d-ff 4096 --threads 1

With a CUDA device a second table follows: on the GPU, per batch size (``--batches``), the dense masked FFN, the
gathered torch path and the Triton kernels (:func:`sparsing_law.sparse_ffn.sparse_ffn_batch`, ``backend="triton"``;
a batch reads the union of its tokens' active neurons), timed with CUDA events after the same equality check.
Without CUDA the Triton rows are skipped; ``TRITON_INTERPRET=1`` runs them on CPU in the interpreter as a
correctness smoke run only (its times are not kernel timings)::

    TRITON_INTERPRET=1 python tools/bench/sparsing_sparse_ffn.py --d-model 256 --d-ff 1024 --reps 5 --gpu-reps 1
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from lc_core.report import machine_header
from sparsing_law.sparse_ffn import masked_dense_ffn, sparse_ffn, sparse_ffn_batch


def median_time(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def cuda_time(fn, reps: int) -> float:
    """Median seconds per call over ``reps`` CUDA-event-timed calls after 3 warm-up calls (autotuning included)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    times.sort()
    return times[len(times) // 2]


def triton_rows(args, w_gate, w_up, w_down, device: str) -> list[dict]:
    """Dense masked FFN vs gathered torch vs Triton kernels on ``device`` at every batch size and activation ratio."""
    dtype = getattr(torch, args.gpu_dtype)
    w_gate, w_up, w_down = (t.to(device=device, dtype=dtype) for t in (w_gate, w_up, w_down))
    w_down_t = w_down.T.contiguous()
    f = w_gate.shape[0]
    timer = cuda_time if device == "cuda" else median_time
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    rows = []
    for batch in args.batches:
        x = torch.randn(batch, w_gate.shape[1], generator=torch.Generator().manual_seed(batch)).to(device, dtype)
        s0 = torch.relu(x[0].float() @ w_gate.float().T).sort(descending=True).values
        for r in args.ratios:
            k = max(int(r * f), 1)
            eps = float((s0[k - 1] + s0[k]) / 2)  # token 0 keeps k neurons; the others keep about as many

            def dense(e=eps, x=x):
                return masked_dense_ffn(x, w_gate, w_up, w_down, torch.relu, e)

            def gathered(e=eps, x=x):
                return sparse_ffn_batch(x, w_gate, w_up, w_down_t, torch.relu, e, backend="torch")

            def kernel(e=eps, x=x):
                return sparse_ffn_batch(x, w_gate, w_up, w_down_t, torch.relu, e, backend="triton")

            ref = dense().float()
            err = max(float((fn().float() - ref).abs().max()) for fn in (gathered, kernel))
            assert err <= tol * max(1.0, float(ref.abs().max())), err
            union = int((torch.relu(x @ w_gate.T).abs() > eps).any(dim=0).sum())
            t_dense, t_torch, t_triton = (timer(fn, args.gpu_reps) for fn in (dense, gathered, kernel))
            rows.append(
                {
                    "batch": batch,
                    "activation": k / f,
                    "union": union / f,
                    "dense_us": 1e6 * t_dense,
                    "torch_sparse_us": 1e6 * t_torch,
                    "triton_us": 1e6 * t_triton,
                    "speedup": t_dense / t_triton,
                    "max_abs_err": err,
                }
            )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--d-model", type=int, default=1024)
    p.add_argument("--d-ff", type=int, default=4096)
    p.add_argument("--ratios", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.3, 0.5])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 4], help="batch sizes of the Triton (GPU) table")
    p.add_argument("--gpu-reps", type=int, default=100)
    p.add_argument("--gpu-dtype", default="float32", choices=["float32", "float16", "bfloat16"])
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
    interpret = os.environ.get("TRITON_INTERPRET", "") not in ("", "0")
    if torch.cuda.is_available():
        device = "cuda"
        print(f"\nTriton rows on {torch.cuda.get_device_name()} ({args.gpu_dtype}):")
    elif interpret:
        device = "cpu"
        print("\nTriton rows in the CPU interpreter (TRITON_INTERPRET=1): a correctness smoke run, not kernel timings")
    else:
        print("\nTriton rows skipped: no CUDA device (TRITON_INTERPRET=1 runs them in the CPU interpreter, untimed)")
        return
    with torch.no_grad():
        grows = triton_rows(args, w_gate, w_up, w_down, device)
    print("| batch | activation | union | dense (µs) | torch sparse (µs) | Triton (µs) | dense / Triton | max abs err |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in grows:
        cells = [str(r["batch"]), f"{100 * r['activation']:.0f}%", f"{100 * r['union']:.0f}%"]
        cells += [f"{r[k]:.1f}" for k in ("dense_us", "torch_sparse_us", "triton_us")]
        print("| " + " | ".join([*cells, f"{r['speedup']:.2f}x", f"{r['max_abs_err']:.1e}"]) + " |")


if __name__ == "__main__":
    main()
