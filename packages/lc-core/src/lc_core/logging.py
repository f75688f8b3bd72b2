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
    """Configure the root handler (idempotent: one handler however often it is called); only console scripts call it.

    Args:
        level: a logging level; defaults to ``LC_LOG_LEVEL`` (``INFO``). Non-zero ranks log warnings only.
    """
    if level is None:
        level = env.log_level()
    if rank() != 0:
        level = logging.WARNING
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s", datefmt="%H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not the one seen at setup.

    A handler bound to the stream of its first caller breaks when that stream is replaced and closed (pytest's
    capture, a redirected CLI run): later records then fail with "I/O operation on closed file".
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        # StreamHandler.__init__ assigns a stream; the property always resolves to the current sys.stderr
        pass


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
