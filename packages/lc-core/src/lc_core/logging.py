"""Logging helpers: module loggers everywhere, ``setup_logging()`` only in CLIs.

Usage::

    from lc_core.logging import get_logger
    logger = get_logger(__name__)
"""

from __future__ import annotations

import logging
import os
import sys

from lc_core import env

__all__ = ["setup_logging", "get_logger", "warn_once", "print0", "rank"]

_WARNED: set[str] = set()


def rank() -> int:
    """Global rank under torchrun (``RANK``), 0 otherwise."""
    return int(os.environ.get("RANK", "0"))


def setup_logging(level: str | int | None = None) -> None:
    """Configure the root handler once; called by console scripts, never by library code.

    Args:
        level: a logging level; defaults to ``LC_LOG_LEVEL`` (``INFO``). Non-zero ranks log warnings only.
    """
    if level is None:
        level = env.log_level()
    if rank() != 0:
        level = logging.WARNING
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_lc_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._lc_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s", datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    """The module logger for ``name`` (pass ``__name__``)."""
    return logging.getLogger(name)


def warn_once(logger: logging.Logger, message: str) -> None:
    """Log ``message`` as a warning the first time only."""
    if message not in _WARNED:
        _WARNED.add(message)
        logger.warning(message)


def print0(*args: object, **kwargs: object) -> None:
    """``print`` on rank 0 only."""
    if rank() == 0:
        print(*args, **kwargs)  # type: ignore[call-overload]
