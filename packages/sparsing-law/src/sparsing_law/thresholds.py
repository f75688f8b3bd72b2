"""Per-layer thresholds on disk: our JSON and the original's ``thresholds=t_0,t_1,…`` line (``%.4e``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lc_core.io import DataError, atomic_write_json

__all__ = ["format_thresholds_line", "parse_thresholds_line", "save_thresholds", "load_thresholds"]


def format_thresholds_line(thresholds: Sequence[float]) -> str:
    """The original's evaluation line: ``thresholds=1.2340e-02,…``."""
    return "thresholds=" + ",".join(f"{t:.4e}" for t in thresholds)


def parse_thresholds_line(line: str, *, where: str = "<string>") -> list[float]:
    """Parse a ``thresholds=…`` line (the prefix is optional)."""
    body = line.strip()
    if body.startswith("thresholds="):
        body = body[len("thresholds=") :]
    try:
        return [float(x) for x in body.split(",") if x.strip()]
    except ValueError as e:
        raise DataError(f"{where}: not a comma-separated list of numbers ({e})") from e


def save_thresholds(path: str | os.PathLike[str], thresholds: Sequence[float], **info: Any) -> None:
    """Write ``{"thresholds": [...], "line": "thresholds=…", **info}`` atomically."""
    atomic_write_json(path, {"thresholds": [float(t) for t in thresholds], "line": format_thresholds_line(thresholds), **info})


def load_thresholds(path: str | os.PathLike[str]) -> list[float]:
    """Read thresholds from our JSON or from a text file holding a ``thresholds=…`` line.

    Raises:
        DataError: neither format, naming the file (and line for the text form).
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{p}: line {e.lineno}: not JSON ({e.msg})") from e
        values = obj.get("thresholds")
        if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
            raise DataError(f"{p}: field 'thresholds' missing or not a list of numbers")
        return [float(v) for v in values]
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("thresholds="):
            return parse_thresholds_line(line, where=f"{p}:{i}")
    raise DataError(f"{p}: no 'thresholds' JSON field and no 'thresholds=' line")
