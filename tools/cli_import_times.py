"""Time each workspace console script's ``--help`` (import + parser), best of N, in fresh interpreters.

Run: uv run python tools/cli_import_times.py [--repeats 7] [--src-root PATH]

``--src-root`` points at another checkout (e.g. an older commit in a git worktree) whose ``packages/*/src`` are put
first on ``PYTHONPATH``, to compare before/after. Prints a Markdown table; timings include interpreter start-up,
so the baseline ``python -c pass`` is printed too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _best(cmd: list[str], env: dict[str, str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=300)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="runs per script; the best is kept")
    ap.add_argument("--src-root", default=str(ROOT), help="checkout whose packages/*/src are imported")
    args = ap.parse_args()
    src_root = Path(args.src_root)
    env = dict(os.environ)
    srcs = sorted(str(p) for p in src_root.glob("packages/*/src"))
    env["PYTHONPATH"] = os.pathsep.join([*srcs, env.get("PYTHONPATH", "")])
    base = _best([sys.executable, "-c", "pass"], env, args.repeats)
    print(f"| script | `--help` best of {args.repeats} (s) | minus `python -c pass` ({base:.3f} s) |")
    print("| :--- | ---: | ---: |")
    for src in srcs:
        for mod in sorted(p.name for p in Path(src).iterdir() if (p / "__main__.py").is_file()):
            t = _best([sys.executable, "-m", mod, "--help"], env, args.repeats)
            print(f"| {mod} | {t:.3f} | {t - base:.3f} |")


if __name__ == "__main__":
    main()
