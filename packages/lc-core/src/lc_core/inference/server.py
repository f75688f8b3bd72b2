"""Compatibility module: ``lc-core serve`` lives in :mod:`lc_core.inference.serve` (protocol, batcher, httpd, cli).

Kept so that ``from lc_core.inference.server import serve`` (the 0.1.0 import path) goes on working; new code
imports from :mod:`lc_core.inference.serve`.
"""

from lc_core.inference import serve as _serve
from lc_core.inference.serve import *  # noqa: F403 - the shim re-exports exactly serve's public names
from lc_core.inference.serve.cli import add_arguments, run_command

__all__ = [*_serve.__all__, "add_arguments", "run_command"]
