"""GPU check and benchmark of the SSD scan: lc Triton kernels vs lc torch chunked vs mamba_ssm (if installed).

One prepared script for a session with a lent GPU (sized for an H200, < 5 minutes):

1. correctness on fp32 and bf16 (forward, final state, gradients, the one-token update) against an fp64
   torch reference;
2. forward and forward+backward timings at T = 8K..64K, bf16, H=32, P=64, N=128, chunk 256, with the
   achieved memory bandwidth and matmul throughput against the H200 roofline (4.8 TB/s, 989 TFLOP/s bf16).

Without CUDA it prints why and exits 0, unless ``--dry-run`` is given: then it runs the same code on tiny
shapes on CPU through the Triton interpreter (a smoke test of the script, timings meaningless).

Run::

    .venv/bin/python tools/bench/ssd_gpu.py --out $OUT/ssd_gpu            # on the GPU machine
    .venv/bin/python tools/bench/ssd_gpu.py --dry-run --out /tmp/ssd_gpu  # CPU smoke test
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

H200_BANDWIDTH = 4.8e12
H200_BF16_FLOPS = 989e12


@dataclass(kw_only=True)
class Shape:
    """One benchmark problem: batch, length, heads, head dim, groups, state size, chunk."""

    B: int
    T: int
    H: int
    P: int
    G: int
    N: int
    Q: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny shapes on CPU through the Triton interpreter")
    parser.add_argument("--seqlens", type=int, nargs="+", default=[8192, 16384, 32768, 65536], help="sequence lengths to time")
    parser.add_argument("--heads", type=int, default=32, help="number of heads H in the timing runs")
    parser.add_argument("--headdim", type=int, default=64, help="head dimension P in the timing runs")
    parser.add_argument("--dstate", type=int, default=128, help="state size N in the timing runs")
    parser.add_argument("--chunk-size", type=int, default=256, help="chunk length Q in the timing runs")
    parser.add_argument("--rep-ms", type=int, default=60, help="time per measurement in ms (do_bench rep)")
    parser.add_argument("--no-backward", action="store_true", help="time the forward only")
    parser.add_argument("--out", default="ssd_gpu", help="output prefix: writes <out>.json and <out>.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.dry_run:
        print("ssd_gpu: no CUDA device visible to torch; nothing to benchmark (use --dry-run for a CPU smoke test)")
        return 0
    if not cuda:
        # must be set before lc_core.ops imports triton kernels (jit decides at decoration time)
        os.environ["TRITON_INTERPRET"] = "1"

    from lc_core.logging import get_logger, setup_logging

    setup_logging()
    log = get_logger("ssd_gpu")
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name() if cuda else "cpu (Triton interpreter)"
    log.info("device: %s", name)

    check_shape = Shape(B=2, T=2000, H=8, P=64, G=2, N=64, Q=64) if cuda else Shape(B=1, T=40, H=4, P=8, G=2, N=8, Q=16)
    checks = run_checks(check_shape, device)
    for row in checks:
        log.info("check %-28s %-6s err %.2e (limit %.0e) %s", row["what"], row["dtype"], row["err"], row["limit"], row["ok"])

    if cuda:
        shapes = [Shape(B=1, T=t, H=args.heads, P=args.headdim, G=1, N=args.dstate, Q=args.chunk_size) for t in args.seqlens]
    else:
        shapes = [Shape(B=1, T=64, H=4, P=16, G=1, N=16, Q=16)]
    timings = []
    for shape in shapes:
        timings.extend(run_timings(shape, device, args.rep_ms, backward=not args.no_backward, log=log))
    decode_batch = 64 if cuda else 2
    decode_shape = shapes[0]
    timings.extend(run_decode_timings(decode_batch, decode_shape, device, args.rep_ms, log=log))

    from lc_core.report import markdown_table, run_manifest, write_results

    record = {"manifest": run_manifest(vars(args)), "device": name, "checks": checks, "timings": timings}
    check_rows = [{**r, "err": f"{r['err']:.2e}", "limit": f"{r['limit']:.0e}"} for r in checks]
    table = "## Correctness\n\n" + markdown_table(check_rows) + "\n## Timings\n\n" + markdown_table(timings, precision=3)
    json_path, md_path = write_results(args.out, record, table)
    print(table)
    log.info("wrote %s and %s", json_path, md_path)
    return 0 if all(r["ok"] for r in checks) else 1


def make_inputs(shape: Shape, dtype: Any, device: str, seed: int = 0) -> dict[str, Any]:
    import torch

    g = torch.Generator(device="cpu").manual_seed(seed)
    B, T, H, P, G, N = shape.B, shape.T, shape.H, shape.P, shape.G, shape.N

    def randn(*size: int) -> Any:
        return torch.randn(*size, generator=g)

    seq = torch.zeros(B, T, dtype=torch.int32)
    seq[:, T // 2 :] = 1
    inputs = {
        "x": randn(B, T, H, P).to(dtype),
        "dt": torch.nn.functional.softplus(randn(B, T, H) - 3.0).to(dtype),
        "A": -torch.exp(torch.rand(H, generator=g) * 2.7),
        "B": (randn(B, T, G, N) / N**0.5).to(dtype),
        "C": (randn(B, T, G, N) / N**0.5).to(dtype),
        "D": torch.ones(H),
        "initial_state": 0.1 * randn(B, H, P, N),
        "seq_idx": seq,
    }
    return {k: v.to(device) for k, v in inputs.items()}


def check_row(what: str, dtype: Any, err: float, limit: float) -> dict[str, Any]:
    return {"what": what, "dtype": str(dtype).split(".")[-1], "err": err, "limit": limit, "ok": err <= limit}


def run_checks(shape: Shape, device: str) -> list[dict[str, Any]]:
    """Every backend vs an fp64 torch reference: forward, state, gradients and the decode step."""
    import torch

    from lc_core.ops import ssd
    from lc_core.testing import get_err_ratio

    rows: list[dict[str, Any]] = []
    backends = ["triton"]
    if device == "cuda" and ssd.dispatch._mamba_ssm_available():
        backends.append("mamba_ssm")
    for dtype in (torch.float32, torch.bfloat16):
        inputs = make_inputs(shape, dtype, device)
        ref_in = {
            k: (v.double() if v.is_floating_point() else v).requires_grad_(v.is_floating_point()) for k, v in inputs.items()
        }
        y_ref, h_ref = ssd.chunk_ssd_torch(**ref_in, chunk_size=shape.Q)
        dy = torch.randn_like(y_ref)
        (y_ref * dy).sum().backward()
        # tf32 dots (fp32) and bf16 storage (bf16) bound the error; limits are relative RMS
        limit = 5e-3 if dtype == torch.float32 else 3e-2
        for backend in backends:
            run_in = {k: v.clone().requires_grad_(v.is_floating_point()) for k, v in inputs.items()}
            y, h = ssd.chunk_ssd(**run_in, chunk_size=shape.Q, backend=backend)
            (y.float() * dy.float()).sum().backward()
            errs = {"y": get_err_ratio(y_ref, y), "final_state": get_err_ratio(h_ref, h)}
            for k in ("x", "dt", "B", "C", "initial_state"):
                if run_in[k].grad is not None:
                    errs[f"d{k}"] = get_err_ratio(ref_in[k].grad, run_in[k].grad)
            for what, err in errs.items():
                rows.append(check_row(f"{backend} {what}", dtype, err, limit))
        state = inputs["initial_state"]
        step = (inputs["x"][:, 0], inputs["dt"][:, 0], inputs["A"], inputs["B"][:, 0], inputs["C"][:, 0], inputs["D"])
        y_ref1, s_ref1 = ssd.naive_ssd_state_update(state.double(), *(t.double() for t in step))
        for backend in backends:
            y1, s1 = ssd.ssd_state_update(state, *step, backend=backend)
            for what, ref, out in (("step y", y_ref1, y1), ("step state", s_ref1, s1)):
                err = get_err_ratio(ref, out)
                rows.append(check_row(f"{backend} {what}", dtype, err, limit))
    return rows


def bench(fn: Callable[[], Any], device: str, rep_ms: int) -> float:
    """Median milliseconds of ``fn``: CUDA events via triton.testing on a GPU, wall clock on CPU."""
    if device == "cuda":
        from triton.testing import do_bench

        return float(do_bench(fn, warmup=max(10, rep_ms // 4), rep=rep_ms))
    fn()
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def traffic_and_flops(shape: Shape, elem: int) -> tuple[float, float, float]:
    """Bytes (minimal, and with the lc kernels' fp32 intermediates) and matmul FLOPs of one forward."""
    B, T, H, P, G, N, Q = shape.B, shape.T, shape.H, shape.P, shape.G, shape.N, shape.Q
    NC = -(-T // Q)
    # inputs x, dt, B, C read once, y written once, final state written once (fp32)
    essential = elem * (2 * B * T * H * P + B * T * H + 2 * B * T * G * N) + 4 * B * H * P * N
    # chunk states written + read twice (passing, scan), prev states written + read, CB written + read
    intermediates = 4 * (4 * B * NC * H * P * N + 2 * B * NC * G * Q * Q + 2 * B * H * NC * Q)
    # CB, chunk states, state->output and the (full, unskipped) intra-chunk matmul
    flops = 2 * B * T * Q * G * N + 2 * B * T * H * P * N + 2 * B * T * H * N * P + 2 * B * T * Q * H * P
    return float(essential), float(essential + intermediates), float(flops)


def run_timings(shape: Shape, device: str, rep_ms: int, *, backward: bool, log: Any) -> list[dict[str, Any]]:
    import torch

    from lc_core.ops import ssd

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    inputs = make_inputs(shape, dtype, device)
    inputs.pop("seq_idx")
    elem = torch.finfo(dtype).bits // 8
    essential, with_inter, flops = traffic_and_flops(shape, elem)
    backends = ["triton", "torch"]
    if device == "cuda" and ssd.dispatch._mamba_ssm_available():
        backends.append("mamba_ssm")
    rows = []
    for backend in backends:
        fwd_in = dict(inputs)

        def fwd(fwd_in: dict[str, Any] = fwd_in, backend: str = backend) -> Any:
            with torch.no_grad():
                return ssd.chunk_ssd(**fwd_in, chunk_size=shape.Q, backend=backend)

        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        ms = bench(fwd, device, rep_ms)
        peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
        row = {
            **asdict(shape),
            "backend": backend,
            "pass": "fwd",
            "ms": ms,
            "GB/s (min bytes)": essential / ms / 1e6,
            "GB/s (with intermediates)": with_inter / ms / 1e6 if backend == "triton" else None,
            "% of 4.8 TB/s": 100 * essential / ms / 1e-3 / H200_BANDWIDTH,
            "TFLOP/s": flops / ms / 1e9,
            "% of 989 TF": 100 * flops / ms / 1e-3 / H200_BF16_FLOPS,
            "peak GiB": peak,
        }
        rows.append(row)
        log.info("T=%d %s fwd %.3f ms (%.0f GB/s min-bytes)", shape.T, backend, ms, row["GB/s (min bytes)"])
        if not backward:
            continue
        grad_in = {k: v.clone().requires_grad_(k in ("x", "dt", "B", "C")) for k, v in inputs.items()}

        def fwd_bwd(grad_in: dict[str, Any] = grad_in, backend: str = backend) -> None:
            y, _ = ssd.chunk_ssd(**grad_in, chunk_size=shape.Q, backend=backend)
            y.sum().backward()

        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        ms = bench(fwd_bwd, device, rep_ms)
        peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
        rows.append({**asdict(shape), "backend": backend, "pass": "fwd+bwd", "ms": ms, "peak GiB": peak})
        log.info("T=%d %s fwd+bwd %.3f ms", shape.T, backend, ms)
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows


def run_decode_timings(batch: int, shape: Shape, device: str, rep_ms: int, *, log: Any) -> list[dict[str, Any]]:
    """One-token state update: reads and writes the fp32 state once, so it is bandwidth bound."""
    import torch

    from lc_core.ops import ssd

    H, P, N, G = shape.H, shape.P, shape.N, shape.G
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    g = torch.Generator(device="cpu").manual_seed(0)
    state = torch.randn(batch, H, P, N, generator=g).to(device)
    x = torch.randn(batch, H, P, generator=g).to(device, dtype)
    dt = torch.rand(batch, H, generator=g).to(device, dtype)
    A = -torch.rand(H, generator=g).to(device)
    Bm = torch.randn(batch, G, N, generator=g).to(device, dtype)
    Cm = torch.randn(batch, G, N, generator=g).to(device, dtype)
    D = torch.ones(H, device=device)
    # the state is read and written in fp32; everything else is negligible
    traffic = 2 * 4 * batch * H * P * N
    backends = ["triton", "torch"]
    if device == "cuda" and ssd.dispatch._mamba_ssm_available():
        backends.append("mamba_ssm")
    rows = []
    for backend in backends:

        def step(backend: str = backend) -> Any:
            return ssd.ssd_state_update(state, x, dt, A, Bm, Cm, D, backend=backend, inplace=True)

        ms = bench(step, device, rep_ms)
        gbs = traffic / ms / 1e6
        row = {"B": batch, "T": 1, "H": H, "P": P, "G": G, "N": N, "Q": None, "backend": backend, "pass": "decode step"}
        rows.append({**row, "ms": ms, "GB/s (min bytes)": gbs, "% of 4.8 TB/s": 100 * gbs * 1e9 / H200_BANDWIDTH})
        log.info("decode step B=%d %s %.4f ms (%.0f GB/s)", batch, backend, ms, gbs)
    return rows


if __name__ == "__main__":
    sys.exit(main())
