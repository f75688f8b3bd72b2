"""``gqa-cost`` console script: costs, comparisons, law fitting, cost-optimal search, Table 4, sweeps.

The verbs are a lazy table (:class:`lc_core.cli.App`): ``gqa-cost --help`` imports neither numpy's heavy users nor
scipy, and a verb imports only what it runs (:mod:`gqa_cost.commands`). Every verb prints a Markdown table; with
``--out DIR`` it also writes ``DIR/<run-name>/results_<timestamp>.{json,md}`` (:func:`lc_core.report.emit`: the
record with units and a run manifest, and the table). Bad input exits 2 with one line naming the file and field.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gqa_cost import __version__
from lc_core.cli import App, Command, add_config_arguments, add_legacy_aliases

__all__ = ["main", "build_parser", "app"]

EPILOG = """quick start:
  gqa-cost cost llama-3.2-1b --context 128k
  gqa-cost compare paper-llama3-gqa-1.2b paper-ours-1.8b --context 128k
  gqa-cost table                              # Table 4 from the paper-calibrated preset
  gqa-cost headline                           # (8,1) vs (32,8) at 128K, L* = 2.615
  gqa-cost search --target-loss 2.6 --context 128k --plot pareto.png
  gqa-cost fit runs.jsonl --out results --run-name fits
  gqa-cost search --laws results/fits --target-loss 2.6   # the newest fit in that folder
  gqa-cost sweep sweep.json --out runs/       # train a grid with lc-core (torchrun-capable)
"""


def _add_output(p: argparse.ArgumentParser, default_name: str) -> None:
    g = p.add_argument_group("results")
    g.add_argument("--out", help="results root: writes OUT/<run-name>/results_<timestamp>.{json,md}")
    g.add_argument("--run-name", help=f"folder under --out (default: {default_name})")


def _add_model_args(p: argparse.ArgumentParser, *, positional: str | None = "model") -> None:
    from gqa_cost.config import PAPER_HEAD_DIM, PAPER_VOCAB, preset_names

    if positional:
        p.add_argument(positional, nargs="?", help=f"preset ({', '.join(preset_names())}) or a config.json path/folder")
    g = p.add_argument_group("architecture overrides (or a full custom model when no preset is given)")
    g.add_argument("--n-layers", type=int, help="number of layers L")
    g.add_argument("--d-model", type=int, help="hidden size d")
    g.add_argument("--n-heads", type=int, help="query heads n_h")
    g.add_argument("--n-kv-heads", type=int, help="key/value heads n_kv (must divide n_h)")
    g.add_argument("--head-dim", type=int, help=f"head size d_h (default {PAPER_HEAD_DIM} for custom models)")
    g.add_argument("--d-ff", type=int, help="FFN width (default int(8d/3))")
    g.add_argument("--vocab-size", type=int, help=f"vocabulary V (default {PAPER_VOCAB} for custom models)")
    g.add_argument("--ffn", choices=("gated", "plain"), help="gated FFN (3 matrices, SwiGLU) or plain (2 matrices)")
    g.add_argument("--untied", action="store_true", help="untied input/output embeddings")


def _add_weight_args(p: argparse.ArgumentParser) -> None:
    from gqa_cost.costs import CostUnits

    g = p.add_argument_group("hardware cost Z = λ·M^α + (1−λ)·C^β")
    g.add_argument("--lambda", dest="lam", type=float, default=0.9, help="λ, weight of memory (paper: 0.9)")
    g.add_argument("--alpha", type=float, default=0.5, help="α, exponent of memory (paper: 1/2)")
    g.add_argument("--beta", type=float, default=1 / 3, help="β, exponent of FLOPs (paper: 1/3)")
    g.add_argument(
        "--memory-unit", dest="memory", choices=("values", "bytes", "GB", "GiB"), default="GB", help="unit of M inside Z"
    )
    g.add_argument(
        "--flop-unit", dest="flops", choices=("FLOPs", "GFLOPs", "TFLOPs"), default="GFLOPs", help="unit of C inside Z"
    )
    add_config_arguments(g, CostUnits, include=("bytes_per_elem", "kv_bytes_per_elem", "n_params"))


def add_cost_arguments(p: argparse.ArgumentParser) -> None:
    _add_model_args(p)
    p.add_argument("--context", nargs="+", default=["8k", "128k"], help="context lengths T (e.g. 8192, 32k, 128K)")
    p.add_argument("--batch", type=int, default=1, help="sequences in the KV cache")
    _add_weight_args(p)
    _add_output(p, "the model name")


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", help="baseline preset or config.json")
    p.add_argument("b", help="compared preset or config.json")
    p.add_argument("--context", nargs="+", default=["128k"], help="context lengths T")
    p.add_argument("--batch", type=int, default=1, help="sequences in the KV cache")
    _add_weight_args(p)
    _add_output(p, "A-vs-B")


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", help="runs file, .csv or .jsonl (columns: n_heads, n_kv_heads, n_params, loss[, tokens])")
    p.add_argument("--per-head-e", action="store_true", help="fit E per head configuration instead of one shared E")
    p.add_argument("--chinchilla", action="store_true", help="fit L(N, D) = E + A/N^α + B/D^β instead (needs tokens)")
    p.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    _add_output(p, "the runs file's name; the folder is usable as --laws")


def _add_laws(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--laws",
        help="laws JSON, or a `gqa-cost fit --out` run folder (its newest results); default: the paper-calibrated preset",
    )


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target-loss", type=float, required=True, help="target loss L* (nats/token)")
    p.add_argument("--context", default="128k", help="inference context length T")
    _add_laws(p)
    p.add_argument("--top", type=int, default=21, help="candidates to list")
    p.add_argument("--plot", help="write a loss-vs-memory/FLOPs figure here (needs the plot extra)")
    _add_weight_args(p)
    _add_output(p, "search")


def add_table_arguments(p: argparse.ArgumentParser) -> None:
    _add_laws(p)
    p.add_argument("--losses", type=float, nargs="+", help="target losses (default: Table 4's rows)")
    p.add_argument("--contexts", nargs="+", help="context lengths (default: 8K … 128K)")
    p.add_argument("--plot", help="write a heat map of the table here (needs the plot extra)")
    _add_weight_args(p)
    _add_output(p, "table")


def add_headline_arguments(p: argparse.ArgumentParser) -> None:
    _add_laws(p)
    p.add_argument("--target-loss", type=float, default=2.615, help="loss to match (Llama-3 GQA 1B: 2.615)")
    p.add_argument("--context", default="128k", help="context length T")
    _add_weight_args(p)
    _add_output(p, "headline")


def add_calibrate_arguments(p: argparse.ArgumentParser) -> None:
    from gqa_cost.calibrate import CalibrationSpec

    p.add_argument("--write", required=True, help="where to write the calibrated laws JSON")
    add_config_arguments(p, CalibrationSpec, include=("n_starts", "maxiter", "seed"))
    # the flag was --starts before it came from CalibrationSpec.n_starts
    add_legacy_aliases(p, {"--starts": "--n-starts"})
    _add_weight_args(p)
    _add_output(p, "calibrate")


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="sweep JSON (sizes, heads, contexts, data, tokenizer, train)")
    p.add_argument(
        "--out",
        required=True,
        help="output folder: runs.jsonl + one folder per run (reruns resume) + summary/results_<timestamp>.{json,md}",
    )
    p.add_argument("--max-steps", type=int, help="override the steps of every run (smoke tests)")


def _verb(name: str, help_: str) -> Command:
    return Command(f"gqa_cost.commands:{name}", f"gqa_cost.cli:add_{name}_arguments", help_)


app = App(
    "gqa-cost",
    "Cost model, loss-law fitting and cost-optimal GQA search for long-context LMs.",
    {
        "cost": _verb("cost", "parameter, memory and FLOP breakdown of one model"),
        "compare": _verb("compare", "memory and FLOPs of model B relative to model A"),
        "fit": _verb("fit", "fit size laws (or Chinchilla) to a runs file"),
        "search": _verb("search", "cost-optimal (n_h, n_kv) and size for a target loss and context"),
        "table": _verb("table", "optimal H over a (L*, T) grid in the layout of the paper's Table 4"),
        "headline": _verb("headline", "the paper's headline: (8,1) vs Llama-3 GQA (32,8) at equal loss"),
        "calibrate": _verb("calibrate", "recompute the paper-calibrated loss model (minutes)"),
        "sweep": _verb("sweep", "train a grid of GQA models with lc-core and write runs.jsonl"),
    },
    epilog=EPILOG,
    version=__version__,
    missing_input_example=("fit", "{missing}"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``gqa-cost`` parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gqa-cost`` console script; returns the exit code (2 for bad input)."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
