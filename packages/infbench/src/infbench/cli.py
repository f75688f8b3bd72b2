"""``infbench`` console script: ``generate``, ``run``, ``score``, ``report`` on :class:`lc_core.cli.App`.

The verbs live in :mod:`infbench.commands` and are imported only when named, so ``infbench --help`` imports
neither torch, numpy nor a backend. Errors the user can fix (bad data, a missing file, an unreachable API, a
bad flag) print one line ``infbench: error: …`` and exit 2; ``--debug`` shows the traceback.

Quick start (offline, embedded demo model)::

    infbench run --model lc-core/demo-mamba2 --tasks retrieval --lengths 1k,2k,4k
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infbench import __version__
from lc_core.cli import App, Command

__all__ = ["app", "main", "build_parser"]

EPILOG = """quick start:
  infbench run --model lc-core/demo-mamba2 --tasks retrieval --lengths 1k,2k,4k   # generate, run, score, print
  infbench generate --tasks synthetic --preset paper --out data/               # the released 128K structure
  infbench run --backend openai --model gpt-4o-mini --data data/ --tasks passkey --truncate 127000
  infbench score results/gpt4 --mode legacy                                    # the original's numbers
  infbench report results/ --out reports/                                      # table + depth x length heatmaps

Results: <out>/<run-name>/results_<time>.{json,md}. Scoring mode: fixed unless --mode legacy.
"""

app = App(
    "infbench",
    "∞Bench (InfiniteBench): generate synthetic tasks, run models, score exactly, report.",
    {
        "generate": Command(
            "infbench.commands.generate:run", "infbench.commands.generate:add_arguments", "write seeded synthetic task files"
        ),
        "run": Command(
            "infbench.commands.run:run", "infbench.commands.run:add_arguments", "run a model over tasks, then score"
        ),
        "score": Command(
            "infbench.commands.score:run", "infbench.commands.score:add_arguments", "score prediction files or results folders"
        ),
        "report": Command(
            "infbench.commands.report:run",
            "infbench.commands.report:add_arguments",
            "tables and heatmaps over many results folders",
        ),
    },
    epilog=EPILOG,
    version=__version__,
    missing_input_example=("score", "{missing}"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infbench`` console script; returns the exit code."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
