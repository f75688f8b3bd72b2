"""CSpider scoring: normalised exact string match and execution match on the Spider SQLite databases.

Spider's official *exact set match* (component matching against the schema) is :mod:`readin.spider`, the default of
:func:`readin.metrics.cspider_scores`. What is here:

- :func:`exact_match`: the SQL strings agree after normalisation (case outside string literals, whitespace,
  spacing around punctuation, a trailing semicolon) -- the legacy ``string`` mode, stricter than component matching
  (it is order-sensitive and compares values).
- :func:`execution_match`: both queries run on the database (read-only) and return the same rows -- as a multiset,
  or as a list when the gold query has ``ORDER BY``. A query that fails to parse or run is simply wrong (the Spider
  evaluator crashes on some); a runaway query is stopped after ``max_steps`` SQLite VM steps.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

__all__ = ["normalize_sql", "exact_match", "execution_match", "database_path"]

_STRING = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


def normalize_sql(query: str) -> str:
    """Lower-case outside string literals, one space between tokens, no trailing semicolon."""
    parts = _STRING.split(query.strip().rstrip(";").strip())
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a string literal: kept as written, quotes unified
            out.append("'" + part[1:-1] + "'")
            continue
        part = re.sub(r"\s*([(),=<>!]+)\s*", r" \1 ", part.lower())
        out.append(re.sub(r"\s+", " ", part))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def exact_match(pred: str, gold: str) -> bool:
    """Whether the two queries are the same string after :func:`normalize_sql`."""
    return normalize_sql(pred) == normalize_sql(gold)


def database_path(db_dir: str | Path, db_id: str) -> Path:
    """Spider's layout: ``<db_dir>/<db_id>/<db_id>.sqlite``."""
    return Path(db_dir) / db_id / f"{db_id}.sqlite"


def _rows(conn: sqlite3.Connection, query: str) -> list[tuple] | None:
    try:
        return conn.execute(query).fetchall()
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError):
        return None


def execution_match(pred: str, gold: str, db: str | Path, *, max_steps: int = 10_000_000) -> bool:
    """Whether ``pred`` returns the same result as ``gold`` on the SQLite database ``db``."""
    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    steps = {"n": 0}

    def guard() -> int:
        steps["n"] += 1000
        return int(steps["n"] > max_steps)  # non-zero aborts the statement

    conn.set_progress_handler(guard, 1000)
    try:
        want = _rows(conn, gold)
        steps["n"] = 0
        got = _rows(conn, pred)
    finally:
        conn.close()
    if want is None:
        raise ValueError(f"the gold query fails on {path}: {gold}")
    if got is None:
        return False
    if re.search(r"\border\s+by\b", gold, re.I):
        return got == want
    return Counter(got) == Counter(want)
