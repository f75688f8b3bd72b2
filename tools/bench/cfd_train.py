"""Benchmark: training steps per second of every CFDBench baseline at its reference size (64x64, p = 5).

Run::

    .venv/bin/python tools/bench/cfd_train.py --batch-size 8 --steps 5 --out results   # -> results/cfd_train/
"""

from __future__ import annotations

import argparse
import time

import torch

from cfdbench.metrics import nmse_loss
from cfdbench.models import AUTO_MODELS, NONAUTO_MODELS, build_model, count_params
from lc_core.logging import setup_logging
from lc_core.report import emit, markdown_table


def bench(name: str, batch: int, steps: int, device: str) -> dict:
    torch.manual_seed(0)
    if name == "identity":
        return {"model": name, "params": 0, "steps_per_s": None}
    m = build_model(name).to(device)
    opt = torch.optim.Adam(list(m.parameters()) or [torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    p = torch.randn(batch, 5, device=device)
    if name in NONAUTO_MODELS:
        q = torch.randint(0, 64, (1000, 2), device=device).float()
        t = torch.rand(batch, 1, device=device)
        y = torch.randn(batch, 1000, device=device)
        fn = lambda: nmse_loss(m(p, t, q), y)
    else:
        x = torch.randn(batch, 2, 64, 64, device=device)
        mask = torch.ones(batch, 1, 64, 64, device=device)
        y = torch.randn(batch, 2, 64, 64, device=device)
        fn = lambda: nmse_loss(m(x, p, mask), y[:, : m.out_channels])
    fn().backward()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        fn().backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"model": name, "params": count_params(m), "steps_per_s": steps / dt}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8, help="examples per step")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model (after one warm-up)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", default="results", help="results root: OUT/RUN_NAME/results_<timestamp>.{json,md}")
    parser.add_argument("--run-name", default="cfd_train", help="folder under --out")
    args = parser.parse_args()
    setup_logging()
    torch.set_num_threads(args.threads)
    rows = [bench(n, args.batch_size, args.steps, args.device) for n in (*NONAUTO_MODELS, *AUTO_MODELS)]
    table = markdown_table(rows, precision=2)
    emit(args.out, args.run_name, {"rows": rows}, table, config=vars(args), packages=["cfdbench"])
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
