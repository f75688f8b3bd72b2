"""Benchmark: training steps/s of our reference FNO vs neuraloperator's FNO (needs ``cfdbench[neuralop]``).

Both at the reference config (hidden 32, modes 12x12, depth 4, p = 5), same weights (ported with
``NeuralopFno.from_reference``), same batch, in one process, interleaved rounds so that machine load hits both alike.
``neuralop_fno`` runs neuraloperator's modules with the reference activations; ``neuralop_fno (stock forward)`` runs
``FNO.forward`` as shipped (two GELUs between layers, none after the last).

Run::

    .venv/bin/python tools/bench/cfd_fno_vs_neuralop.py --batch-size 8 --steps 5 --rounds 3 --out results
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import torch

from cfdbench.metrics import nmse_loss
from cfdbench.models import build_model, count_params
from cfdbench.models.neuralop_fno import NeuralopFno
from lc_core.logging import setup_logging
from lc_core.report import emit, markdown_table


def make_step(model: torch.nn.Module, batch: int, size: int, device: str) -> Callable[[], None]:
    """One Adam step (forward + NMSE + backward + update) on a fixed random batch."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 2, size, size, generator=g).to(device)
    p = torch.randn(batch, 5, generator=g).to(device)
    mask = torch.ones(batch, 1, size, size, device=device)
    y = torch.randn(batch, 2, size, size, generator=g).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nmse_loss(model(x, p, mask), y).backward()
        opt.step()

    return step


def timed(step: Callable[[], None], steps: int, device: str) -> float:
    """Seconds per step over ``steps`` steps."""
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8, help="examples per step")
    parser.add_argument("--size", type=int, default=64, help="grid height and width")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model and round (after one warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds; the median is reported")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", default="results", help="results root: OUT/RUN_NAME/results_<timestamp>.{json,md}")
    parser.add_argument("--run-name", default="cfd_fno_vs_neuralop", help="folder under --out")
    args = parser.parse_args()
    setup_logging()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = build_model("fno", height=args.size, width=args.size).to(args.device)
    nop = NeuralopFno.from_reference(copy.deepcopy(ref)).to(args.device)
    stock = NeuralopFno.from_reference(copy.deepcopy(ref)).to(args.device)
    stock.cfg.activations = "neuralop"
    models = {"fno (ours)": ref, "neuralop_fno": nop, "neuralop_fno (stock forward)": stock}
    steps = {name: make_step(m, args.batch_size, args.size, args.device) for name, m in models.items()}
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, step in steps.items():
            times[name].append(timed(step, args.steps, args.device))
    base = statistics.median(times["fno (ours)"])
    rows = []
    for name, m in models.items():
        t = statistics.median(times[name])
        rows.append(
            {
                "model": name,
                "params": count_params(m),
                "ms_per_step": 1e3 * t,
                "steps_per_s": 1 / t,
                "speed_vs_ours": base / t,
            }
        )
    table = markdown_table(rows, precision=3)
    record = {"rows": rows, "times_s": times}
    emit(args.out, args.run_name, record, table, config=vars(args), packages=["cfdbench", "neuraloperator"])
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
