"""Tables in READIN's README layout (spec §6), rendered from score records with :func:`lc_core.report.markdown_table`.

Fractions from :mod:`readin.metrics` are multiplied by 100 here and only here; BLEU is already on a 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lc_core.report import markdown_table

__all__ = ["table1", "table2", "clean_avg_worst_table", "NOISE_LABELS"]

NOISE_LABELS = {"keyboard": "Keyboard", "asr": "Speech"}
_T1_GROUPS = (("pos", "AFQMC pos"), ("neg", "AFQMC neg"), ("em", "CMRC"))


def _pct(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def table1(rows: Sequence[Mapping[str, Any]]) -> str:
    """Table 1 (AFQMC pos/neg and CMRC, Clean/Avg/Worst), keyboard then speech block.

    Args:
        rows: one per (noise, model): ``noise`` (``keyboard``/``asr``), ``model`` and any of ``pos_clean, pos_avg,
            pos_worst, neg_*, em_*`` as fractions.
    """
    out, cols = [], ["Noise", "Model"]
    for _, label in _T1_GROUPS:
        cols += [f"{label} Clean", f"{label} Avg", f"{label} Worst"]
    last_noise = None
    for noise in ("keyboard", "asr"):
        for r in (r for r in rows if r["noise"] == noise):
            line: dict[str, Any] = {"Noise": NOISE_LABELS[noise] if noise != last_noise else "", "Model": r["model"]}
            last_noise = noise
            for key, label in _T1_GROUPS:
                for part, head in (("clean", "Clean"), ("avg", "Avg"), ("worst", "Worst")):
                    line[f"{label} {head}"] = _pct(r.get(f"{key}_{part}"), 100.0)
            out.append(line)
    return markdown_table(out, cols)


def clean_avg_worst_table(
    rows: Sequence[Mapping[str, Mapping[str, Any]]], metrics: Sequence[tuple[str, str, str, float]]
) -> str:
    """Clean plus per-noise Avg/Worst columns for each metric (Table 2's layout).

    Args:
        rows: ``{"model": name, "<metric>": {"clean": x, "keyboard": {"avg": .., "worst": ..}, "asr": {...}}}``.
        metrics: ``(key in row, column prefix, record prefix, scale)``, e.g. ``("cspider", "CSpider", "em", 100.0)``.
    """
    cols = ["Model"]
    for _, label, _, _ in metrics:
        cols += [f"{label} Clean", f"{label} KB Avg", f"{label} KB Worst", f"{label} Sp Avg", f"{label} Sp Worst"]
    out = []
    for r in rows:
        line: dict[str, Any] = {"Model": r["model"]}
        for key, label, _, scale in metrics:
            rec = r.get(key) or {}
            line[f"{label} Clean"] = _pct(rec.get("clean"), scale)
            for noise, short in (("keyboard", "KB"), ("asr", "Sp")):
                block = rec.get(noise) or {}
                line[f"{label} {short} Avg"] = _pct(block.get("avg"), scale)
                line[f"{label} {short} Worst"] = _pct(block.get("worst"), scale)
        out.append(line)
    return markdown_table(out, cols)


def table2(rows: Sequence[Mapping[str, Mapping[str, Any]]]) -> str:
    """Table 2: CSpider exact match (fractions) and WMT BLEU (0-100)."""
    return clean_avg_worst_table(rows, [("cspider", "CSpider", "em", 100.0), ("wmt", "WMT", "bleu", 1.0)])
