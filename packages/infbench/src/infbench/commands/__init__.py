"""The verbs of the ``infbench`` console script, one module each (imported only when the verb is named).

Each module has ``add_arguments(parser)`` and ``run(args) -> int``; :mod:`infbench.cli` maps them with
:class:`lc_core.cli.App`. Shared flags are defined here once.
"""

from __future__ import annotations

import argparse

__all__ = ["add_mode_argument", "add_lenient_argument"]


def add_mode_argument(parser: argparse.ArgumentParser) -> None:
    """``--mode``: the one scoring-mode flag of ``run``, ``score`` and ``report`` (default ``fixed``)."""
    from infbench.scorers import DEFAULT_MODE, MODES

    parser.add_argument(
        "--mode",
        choices=list(MODES),
        default=DEFAULT_MODE,
        help="scoring mode: fixed repairs the original scorer's bugs, legacy reproduces it exactly (the paper's numbers)",
    )


def add_lenient_argument(parser: argparse.ArgumentParser) -> None:
    """``--lenient``: keep the JSON object of a prediction line with trailing garbage (warns)."""
    parser.add_argument(
        "--lenient", action="store_true", help="tolerate prediction lines with trailing garbage (warns per line)"
    )
