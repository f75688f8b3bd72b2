"""``cfdbench`` console script: generate data, train/test baselines, roll out, plot, summarise datasets.

The verbs are a lazy table (:class:`lc_core.cli.App`): ``cfdbench --help`` imports neither torch nor numpy, and a verb
imports only what it runs (:mod:`cfdbench.commands`). Flags are kebab-case; the snake_case spellings of the first
release (``--data_dir``, ``--num_epochs``, ...) still parse for one release, hidden and with a deprecation warning.
Results go to ``<out>/<run-name>/results_<timestamp>.{json,md}`` (:func:`lc_core.report.emit`). Bad input (a missing
folder, a malformed ``case.json`` or ``.npy``) exits 2 with one line naming the file; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cfdbench import __version__
from lc_core.cli import App, Command, add_config_arguments

__all__ = ["main", "build_parser", "app"]

EPILOG = """quick start:
  cfdbench generate --problem cavity --subset bc --cases 3 --frames 10 --out data
  cfdbench info data
  cfdbench overfit --data-dir data --data cavity_bc --models fno,unet --budget 60
  cfdbench train --model fno --data cavity_bc --data-dir data --num-epochs 5
  cfdbench test --run-dir result/auto/cavity_bc/dt0.001/fno
  cfdbench rollout --run-dir result/auto/cavity_bc/dt0.001/fno --steps 5
  cfdbench plot --run-dir result/auto/cavity_bc/dt0.001/fno
"""

MODEL_HELP = (
    "baseline: ffn, deeponet, auto_ffn, auto_deeponet, auto_edeeponet, auto_deeponet_cnn, resnet, unet, fno, identity, "
    "or neuralop_fno (neuraloperator's FNO; needs the [neuralop] extra)"
)


def _strict(p: argparse.ArgumentParser) -> None:
    # abbreviations are rejected: the original README's `--data` was an ambiguous prefix, and a prefix of a hidden
    # legacy spelling would be accepted silently
    p.allow_abbrev = False


def _add_data_name(p: argparse.ArgumentParser, default: str) -> None:
    # `--data` is the spelling of the original README, kept as an explicit alias
    p.add_argument(
        "--data-name", "--data", dest="data_name", default=default, help="{problem}_{subsets}, e.g. cavity_prop_bc_geo"
    )


def add_generate_arguments(p: argparse.ArgumentParser) -> None:
    from cfdbench.generate import GenerateConfig

    _strict(p)
    p.add_argument("--problem", required=True, choices=["cavity", "tube", "dam", "cylinder"], help="problem to generate")
    p.add_argument("--subset", default="bc", choices=["bc", "prop", "geo"], help="parameter family that varies")
    p.add_argument("--backend", default="torch", choices=["torch", "openfoam"], help="solver backend")
    p.add_argument("--out", required=True, help="dataset root; cases go to OUT/{problem}/{subset}/caseNNNN")
    p.add_argument(
        "--tube-phases",
        type=int,
        default=2,
        choices=[1, 2],
        help="OpenFOAM tube: 2 = water/air VOF (interFoam, the original's), 1 = single-phase icoFoam channel",
    )
    add_config_arguments(
        p,
        GenerateConfig,
        include=("cases", "frames", "original", "max_re", "resolution", "data_dt", "device", "seed", "processes"),
        help={
            "max_re": "drop cases above this Reynolds number (default 1000)",
            "data_dt": "frame interval in seconds (default per problem)",
        },
    )


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from cfdbench.config import TrainConfig

    _strict(p)
    p.add_argument("--model", default="fno", help=MODEL_HELP)
    _add_data_name(p, "cavity_prop")
    p.add_argument(
        "--task", choices=["auto", "nonauto"], default=None, help="check that the model matches this task (default: inferred)"
    )
    p.add_argument(
        "--mode",
        choices=["train", "test", "train_test"],
        default="train_test",
        help="train, test the best checkpoint, or both",
    )
    add_config_arguments(
        p,
        TrainConfig,
        include=(
            "data_dir",
            "output_dir",
            "run_dir",
            "num_epochs",
            "lr",
            "lr_step_size",
            "lr_gamma",
            "batch_size",
            "eval_batch_size",
            "eval_interval",
            "num_query_points",
            "seed",
            "device",
        ),
        help={"run_dir": "explicit run folder (overrides the --output-dir layout)"},
    )
    p.add_argument("--delta-time", type=float, default=None, help="model step in seconds (default: one frame of the data)")
    p.add_argument(
        "--encoding", choices=["fixed", "legacy"], default="fixed", help="64x64 with correct masks, or the original 66x65"
    )
    p.add_argument("--no-norm", dest="normalize", action="store_false", help="do not normalise case parameters")
    p.add_argument("--model-kwargs", default="{}", help="JSON overrides of the model config, e.g. '{\"hidden\": 8}'")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="start from scratch even if checkpoints exist")


def _add_run(p: argparse.ArgumentParser) -> None:
    _strict(p)
    p.add_argument("--run-dir", required=True, help="a training run folder (holds args.json and ckpt-*)")
    p.add_argument("--data-dir", default=None, help="dataset root (default: the one in args.json)")
    p.add_argument("--device", default="cpu", help="torch device")


def _add_output(p: argparse.ArgumentParser, default_name: str) -> None:
    p.add_argument("--out", default=None, help="results root (default: the run folder)")
    p.add_argument("--run-name", default=default_name, help="folder under --out: OUT/RUN_NAME/results_<timestamp>.{json,md}")


def add_test_arguments(p: argparse.ArgumentParser) -> None:
    _add_run(p)
    _add_output(p, "test")


def add_rollout_arguments(p: argparse.ArgumentParser) -> None:
    _add_run(p)
    p.add_argument("--steps", type=int, default=20, help="rollout steps from frame 0 of each test case")
    p.add_argument("--legacy", action="store_true", help="reproduce the original's off-by-one step alignment")
    _add_output(p, "rollout")


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    _add_run(p)
    p.add_argument("--case", type=int, default=0, help="index of the test case to draw")
    p.add_argument("--frame", type=int, default=0, help="input frame index")
    p.add_argument("--out", default=None, help="figures root (default: the run folder)")
    p.add_argument("--run-name", default="plots", help="folder under --out for the PNG files")


def add_overfit_arguments(p: argparse.ArgumentParser) -> None:
    from cfdbench.config import OverfitConfig

    _strict(p)
    p.add_argument("--data-dir", required=True, help="dataset root holding {problem}/{subset}/caseNNNN")
    _add_data_name(p, "cavity_bc")
    p.add_argument("--models", default="all", help="comma-separated baselines, or 'all' (the nine)")
    p.add_argument("--cases", type=int, default=2, help="first N cases of the subset")
    p.add_argument("--frames", type=int, default=8, help="first N frames of each case")
    p.add_argument("--steps", dest="max_steps", type=int, default=2000, help="full-batch optimiser steps at most")
    p.add_argument("--budget", dest="time_budget_s", type=float, default=120.0, help="seconds of training per model at most")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: per model, see the README)")
    add_config_arguments(
        p,
        OverfitConfig,
        include=("num_query_points", "target", "ratio", "check_every", "seed"),
        help={
            "num_query_points": "FFN/DeepONet query pixels per step (0: all)",
            "target": "absolute NMSE goal",
            "ratio": "relative goal: this fraction of the trivial predictor's NMSE",
        },
    )
    p.add_argument("--out", default="results/overfit", help="results root")
    p.add_argument("--run-name", default=None, help="folder under --out (default: the data name)")


def add_info_arguments(p: argparse.ArgumentParser) -> None:
    _strict(p)
    p.add_argument("dir", help="dataset root")
    p.add_argument("--check", action="store_true", help="also scan every frame for NaN/Inf (reads all data)")


def _verb(name: str, help_: str) -> Command:
    return Command(f"cfdbench.commands:{name}", f"cfdbench.cli:add_{name}_arguments", help_)


app = App(
    "cfdbench",
    "CFDBench: data generation, baselines, training, rollouts.",
    {
        "generate": _verb("generate", "generate a dataset subset in the released layout"),
        "train": _verb("train", "train (and test) a baseline"),
        "test": _verb("test", "score the best checkpoint of a run on the test split"),
        "rollout": _verb("rollout", "multi-step rollout errors on the test split"),
        "plot": _verb("plot", "draw predicted vs true fields and rollout curves"),
        "overfit": _verb("overfit", "check that each baseline memorises a few cases (spec §9.8)"),
        "info": _verb("info", "summarise a dataset folder"),
    },
    epilog=EPILOG,
    version=__version__,
    missing_input_example=("info", "{missing}"),
    # the first release had snake_case flags: they keep working (hidden, with a warning) for one release
    legacy_snake_flags=True,
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``cfdbench`` parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cfdbench`` console script; returns the exit code (2 for bad input)."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
