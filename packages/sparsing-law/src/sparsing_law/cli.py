"""``sparsing-law`` console script: measure activation sparsity, apply thresholds, fit the sparsing laws.

The verbs are a lazy table (:class:`lc_core.cli.App`): ``sparsing-law --help`` imports neither torch nor scipy, and
a verb imports only what it runs (:mod:`sparsing_law.commands`). Results print as the original's lines plus a
Markdown table; ``--out DIR`` also writes ``DIR/<run-name>/results_<timestamp>.{json,md}`` (:func:`lc_core.report.emit`).
Bad input exits 2 with one line naming the file and field.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lc_core.cli import App, Command
from sparsing_law import __version__

__all__ = ["main", "build_parser", "app"]

EPILOG = """quick start:
  sparsing-law measure --model MODEL --data text.txt --metric cett --arg 0.2 --thresholds-out t.json
  sparsing-law apply --model MODEL --data text.txt --thresholds t.json
  sparsing-law fit 0.1b_relu.txt --act relu --plot fit.png
  sparsing-law curve sparsing-law/demo-relu sparsing-law/demo-silu --cett 0.2 --plot curve.png
"""


def _add_output(p: argparse.ArgumentParser, default_name: str) -> None:
    g = p.add_argument_group("results")
    g.add_argument("--out", help="results root: writes OUT/<run-name>/results_<timestamp>.{json,md}")
    g.add_argument("--run-name", help=f"folder under --out (default: {default_name})")


def _add_model_data(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model and data")
    g.add_argument("--model", required=True, help="model folder, hub id or built-in name (sparsing-law/demo-relu)")
    g.add_argument(
        "--data", required=True, help="UTF-8 text file (calibration = measurement set), or demo: the built-in sample"
    )
    g.add_argument("--seq-len", type=int, default=256, help="tokens per sequence")
    g.add_argument("--batch-size", type=int, default=4, help="sequences per forward")
    g.add_argument("--max-sequences", type=int, default=16, help="sequences taken from the text")
    g.add_argument("--device", default="auto", help="cpu, cuda, cuda:N, or auto (cuda when available)")
    g.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"), help="model weights dtype")
    g.add_argument("--device-map", help="transformers device_map (e.g. auto) for models spread over devices")


def add_measure_arguments(p: argparse.ArgumentParser) -> None:
    _add_model_data(p)
    p.add_argument("--metric", default="pplp", choices=("cett", "pplp", "topk", "fat", "zero"), help="sparsity metric")
    p.add_argument(
        "--arg",
        type=float,
        help="metric argument: CETT value (cett), 1+p (pplp, 1.01 = PPL-1%%), keep ratio (topk), epsilon (fat)",
    )
    p.add_argument("--eps", type=float, default=1e-3, help="final bracket width of the pplp search")
    p.add_argument(
        "--search",
        default="secant",
        choices=("secant", "bisect"),
        help="pplp search: power-law interpolation (fewer forwards) or Algorithm 1's bisection",
    )
    p.add_argument("--legacy-grid", action="store_true", help="per-layer thresholds on the original's 65,536-point grid")
    p.add_argument("--legacy-topk", action="store_true", help="top-k over the whole layer tensor (the original code)")
    p.add_argument("--thresholds-out", help="write the per-layer thresholds as JSON here (cett/pplp)")
    p.add_argument("--plot", help="write the layer x token activation heatmap (PNG) here")
    _add_output(p, "the model name")


def add_apply_arguments(p: argparse.ArgumentParser) -> None:
    _add_model_data(p)
    p.add_argument("--thresholds", required=True, help="thresholds JSON (measure --thresholds-out) or a thresholds=... file")
    _add_output(p, "the model name")


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help='JSON {"token_passed": [...], "activation_ratio": [...]} (SparsingLawData format)')
    p.add_argument("--act", required=True, choices=("relu", "silu"), help="law to fit")
    p.add_argument("--drop", type=int, default=0, help="warm-up points dropped before fitting")
    p.add_argument("--plot", help="write the data, the fit and the baselines (PNG) here")
    _add_output(p, "the data file's name")


def add_curve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders, sparsity.jsonl files or demo model names (sparsing-law/demo-relu)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cett", type=float, default=0.2, help="the logged CETT whose activation ratio is fitted")
    g.add_argument("--zero", action="store_true", help="fit the zero-threshold ratio instead")
    p.add_argument("--act", choices=("relu", "silu"), help="law of every run (default: from its config.json)")
    p.add_argument("--drop", type=int, default=0, help="warm-up points dropped before fitting")
    p.add_argument("--unit", type=float, default=1e6, help="tokens per unit of D (default: millions)")
    p.add_argument("--plot", help="write data and fitted laws (PNG) here")
    p.add_argument("--title", help="plot title")
    _add_output(p, "curve")


def _verb(name: str, help_: str) -> Command:
    return Command(f"sparsing_law.commands:{name}", f"sparsing_law.cli:add_{name}_arguments", help_)


app = App(
    "sparsing-law",
    "Activation sparsity of gated-FFN LMs: CETT / CETT-PPL-p% / Top-k / FAT, sparse inference, sparsing-law fits.",
    {
        "measure": _verb("measure", "activation ratio and PPL ratio of a model under a sparsity metric"),
        "apply": _verb("apply", "sparse PPL and activation with saved per-layer thresholds"),
        "fit": _verb("fit", "fit the ReLU or SiLU sparsing law to an activation-vs-tokens file"),
        "curve": _verb("curve", "fit the sparsing laws to training-time activation curves (sparsity.jsonl)"),
    },
    epilog=EPILOG,
    version=__version__,
    missing_input_example=("fit", "{missing}", "--act", "relu"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``sparsing-law`` parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sparsing-law`` console script; returns the exit code (2 for bad input)."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
