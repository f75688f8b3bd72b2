"""``lc-core`` console script: environment info and shared utilities.

Run ``lc-core info`` to see versions, devices and which kernel paths are active.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence

from lc_core.logging import setup_logging

__all__ = ["main", "build_parser", "register_command"]

# Subcommands added by other lc-core modules: name -> (help, add_arguments, run).
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def register_command(
    name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None], run: Callable[[argparse.Namespace], int]
) -> None:
    _COMMANDS[name] = (help, add_arguments, run)


def _info(args: argparse.Namespace) -> int:
    from lc_core import env
    from lc_core.report import package_versions

    info: dict[str, object] = {"versions": package_versions(), "triton_interpret": env.triton_interpret()}
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        info["cuda"] = None
    print(json.dumps(info, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lc-core",
        description="Shared core of the lc monorepo.",
        epilog="quick start:\n  lc-core info",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="print versions, devices and kernel settings")
    p.set_defaults(func=_info)
    _load_optional_commands()
    for name, (help_, add_arguments, run) in sorted(_COMMANDS.items()):
        p = sub.add_parser(name, help=help_)
        add_arguments(p)
        p.set_defaults(func=run)
    return parser


def _load_optional_commands() -> None:
    # modules that register subcommands; each is optional because it may need an extra
    for module in ("lc_core.inference.server", "lc_core.train.cli"):
        with contextlib.suppress(ImportError):
            __import__(module)


def main(argv: Sequence[str] | None = None) -> int:
    setup_logging()
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
