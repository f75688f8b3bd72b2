"""``stuffed-mamba`` console script: diagnose, mitigate and measure state collapse of Mamba-2 models.

Verbs are a lazy table (:class:`lc_core.cli.App`): ``--help`` imports no torch; a verb imports only its module
(:mod:`stuffed_mamba.commands`). Results go through :func:`lc_core.report.emit` (``--out``), plots are PNGs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lc_core.cli import App, Command
from stuffed_mamba import __version__

__all__ = ["app", "main", "build_parser"]

EPILOG = """quick start (offline, the shipped lc-core/demo-mamba2, trained on 128-400-byte contexts):
  stuffed-mamba analyze --length 16384 --train-length 400 --plot state.png
  stuffed-mamba passkey --lengths 256 4096 16384 --samples 10 --method none
  stuffed-mamba passkey --lengths 256 4096 16384 --samples 10 --method m3 --window 256
  stuffed-mamba loss-curve --length 65536 --method m3 --window 256 --plot loss.png
  stuffed-mamba capacity --formulas
"""


def _add_output(p: argparse.ArgumentParser, default_name: str) -> None:
    g = p.add_argument_group("results")
    g.add_argument("--out", help="results root: writes OUT/<run-name>/results_<timestamp>.{json,md}")
    g.add_argument("--run-name", default=default_name, help="folder under --out")


def _add_model(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", default="lc-core/demo-mamba2", help="built-in name or checkpoint folder (lc/HF/state-spaces)")
    g.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    g.add_argument("--chunk-tokens", type=int, default=4096, help="tokens per forward call (bounds memory)")


def add_method_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("mitigation (training-free)")
    g.add_argument("--method", choices=("none", "m1", "m2", "m3"), default="none", help="none, Method 1, 2 or 3")
    g.add_argument("--alpha-scale", type=float, default=1.0, help="m1: λ_α (α ← λ_α·α, exact in log space)")
    g.add_argument("--b-scale", type=float, default=1.0, help="m1: λ_B (B ← λ_B·B)")
    g.add_argument("--dt-scale", type=float, default=1.0, help="m1: λ_Δ (Δ ← λ_Δ·Δ)")
    g.add_argument("--calibration-length", type=int, default=256, help="m2: tokens of the calibration prompt for τ")
    g.add_argument("--calibration-prompt", default="capital", help="m2: newlines, capital or a text file")
    g.add_argument("--tau-multiplier", type=float, default=1.0, help="m2: τ = multiplier × calibrated norm")
    g.add_argument("--legacy-state-norm", action="store_true", help="m2: the released code's inverted rescale")
    g.add_argument("--window", type=int, default=512, help="m3: window r in tokens (history in [r/2, r])")
    g.add_argument("--segment-tokens", type=int, default=128, help="hook granularity (m2 and m3 act per segment)")


def add_analyze_arguments(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument("--prompt", default="newlines", help="newlines, capital, or a UTF-8 text file (repeated to length)")
    p.add_argument("--length", type=int, default=16384, help="tokens to stream")
    p.add_argument("--every", type=int, default=128, help="record statistics every k tokens")
    p.add_argument("--train-length", type=int, default=400, help="reference position (the training length)")
    p.add_argument("--factor", type=float, default=2.0, help="a head explodes when its RMS exceeds factor × reference")
    p.add_argument("--plot", help="PNG: state RMS per layer vs position (needs the plot extra)")
    add_method_arguments(p)
    _add_output(p, "analyze")


def add_passkey_arguments(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument(
        "--backend", default="stream", help="stream (lc-core Mamba-2, bounded memory) or an lc-core backend name (hf, ...)"
    )
    p.add_argument("--lengths", nargs="+", type=int, default=[256, 1024, 4096], help="prompt lengths in tokens")
    p.add_argument("--samples", type=int, default=10, help="samples per length (depths (i+0.5)/n)")
    p.add_argument("--template", choices=("stuffed", "demo"), default="stuffed", help="the original's strings or the demo's")
    p.add_argument("--seed", type=int, default=0, help="passkey seed")
    p.add_argument(
        "--depth-range", nargs=2, type=float, default=[0.0, 1.0], metavar=("LO", "HI"),
        help="spread the needle depths over [LO, HI] (default 0 1: the original's (i+0.5)/n)",
    )  # fmt: skip
    p.add_argument("--max-new-tokens", type=int, default=6, help="greedy tokens to decode")
    p.add_argument("--shard", default="0/1", help="i/n: run every n-th example from i")
    p.add_argument("--limit", type=int, help="only the first examples")
    p.add_argument("--store", help="predictions JSONL (resumable); default OUT/RUN/preds.jsonl or a temp file")
    p.add_argument("--plot", help="PNG heatmap depth × length (needs the plot extra)")
    add_method_arguments(p)
    _add_output(p, "passkey")


def add_loss_curve_arguments(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument("--prompt", default="capital", help="newlines, capital, or a UTF-8 text file (repeated to length)")
    p.add_argument("--length", type=int, default=65536, help="tokens to stream")
    p.add_argument("--bucket", type=int, default=1024, help="bucket size of the means (first and last dropped)")
    p.add_argument("--train-length", type=int, default=400, help="in-length reference: buckets centred before it")
    p.add_argument("--plot", help="PNG: loss vs position (needs the plot extra)")
    add_method_arguments(p)
    _add_output(p, "loss-curve")


def add_calibrate_arguments(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    add_method_arguments(p)
    p.add_argument("--write", help="write τ [layers, heads] as JSON here")
    _add_output(p, "calibrate")


def add_train_long_arguments(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument("--train-dir", required=True, help="lc_core.train output folder (checkpoints, metrics; reruns resume)")
    p.add_argument("--steps", type=int, default=200, help="optimizer steps")
    p.add_argument("--seq-len", type=int, default=4096, help="training window (tokens)")
    p.add_argument("--segment-tokens", type=int, default=512, help="TBPTT segment: state carried, gradient cut")
    p.add_argument("--batch", type=int, default=4, help="windows per step")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (WSD schedule)")
    p.add_argument("--min-len", type=int, default=256, help="shortest passkey document (tokens)")
    p.add_argument("--max-len", type=int, default=16384, help="longest passkey document (tokens)")
    p.add_argument("--seed", type=int, default=0, help="data seed")
    p.add_argument("--answer-weight", type=float, default=1.0, help="loss weight of each document's answer tokens")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: min(20, steps/10))")
    p.add_argument("--save-every", type=int, default=None, help="checkpoint every N steps (default: steps/10)")
    p.add_argument("--keep-last", type=int, default=2, help="checkpoints kept (more: evaluate the training curve)")
    p.add_argument("--time-budget", type=float, default=None, help="stop after this many minutes (checkpoint saved)")
    p.add_argument(
        "--fit-schedule", action="store_true",
        help="with --time-budget: fit the step count (--steps is the upper bound) to the budget from the measured "
        "step time, so the lr decay finishes inside it",
    )  # fmt: skip
    p.add_argument("--decay-fraction", type=float, default=0.2, help="share of the steps in the WSD decay")
    p.add_argument(
        "--packing", choices=["stream", "whole"], default="stream",
        help="stream: documents cut at window edges, no state reset (legacy); whole: whole documents per window, "
        "state reset at each document start",
    )  # fmt: skip
    p.add_argument(
        "--bptt", choices=["truncated", "full"], default="truncated",
        help="truncated: gradient cut at every segment; full: gradient through the carried state of the whole window",
    )  # fmt: skip
    _add_output(p, "train-long")


def add_capacity_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--formulas", action="store_true", help="N_S and the paper-reported T_forget/T_recall of official models")
    p.add_argument("--config", help="a Mamba-2 config.json whose N_S to compute")
    p.add_argument("--sweep", help="sweep JSON (SweepConfig fields) to train tiny models and measure T_recall/T_collapse")
    p.add_argument("--sweep-dir", help="sweep output folder (runs.jsonl; reruns resume)")
    p.add_argument("--max-steps", type=int, help="override the steps of every sweep run (smoke tests)")
    _add_output(p, "capacity")


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", help="result JSONs written with --out (passkey, loss-curve or analyze)")
    p.add_argument("--plot", required=True, help="PNG to write")
    p.add_argument("--train-length", type=int, default=None, help="draw the training length (loss and state plots)")
    p.add_argument("--top", type=int, default=6, help="state plot: how many exploding heads")
    p.add_argument("--title", default=None, help="heatmap title (default: the method)")
    # several passkey results: their lengths side by side; several loss-curve results: overlaid


def _verb(name: str, help_: str) -> Command:
    return Command(f"stuffed_mamba.commands:{name}", f"stuffed_mamba.cli:add_{name}_arguments", help_)


app = App(
    "stuffed-mamba",
    "State collapse of Mamba-2: diagnostics, training-free mitigations, capacity, passkey and loss to 1M tokens.",
    {
        "analyze": _verb("analyze", "per-layer/per-head state statistics, Δ/α and retention over a long prompt"),
        "passkey": _verb("passkey", "passkey retrieval (depth × length) with or without a mitigation, streamed"),
        "loss-curve": Command(
            "stuffed_mamba.commands:loss_curve", "stuffed_mamba.cli:add_loss_curve_arguments", "per-token loss vs position"
        ),
        "calibrate": _verb("calibrate", "Method 2 thresholds τ per layer and head from a calibration prompt"),
        "train-long": Command(
            "stuffed_mamba.commands:train_long",
            "stuffed_mamba.cli:add_train_long_arguments",
            "TBPTT continuation on longer passkey documents",
        ),
        "capacity": _verb("capacity", "state size N_S and capacity laws (paper-reported fits)"),
        "plot": _verb("plot", "PNG from result JSONs: passkey heatmap, loss vs position, exploding heads' state"),
    },
    epilog=EPILOG,
    version=__version__,
    missing_input_example=("analyze", "--prompt", "{missing}", "--length", "128"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``stuffed-mamba`` parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stuffed-mamba`` console script; returns the exit code (2 for bad input)."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
