"""Editing metrics: ES (edit success), BP (behaviour preservation), EQ (their harmonic mean), per bucket.

The original ships no scoring code (its issue #1 asks whether matching is exact or "gold contained in output").
Our choice, consistent with every row of the paper's table (spec §2.5):

- ``match(pred, gold)``: SQuAD-style normalisation (lower-case, drop punctuation and a/an/the, collapse whitespace),
  then equality (``mode="em"``, the default) or gold-contained-in-prediction (``mode="contains"``).
- **ES** = 100 x mean over every in-scope query of edited records (micro average) of ``match(pred, target)``.
- **BP** = 100 x mean over every unrelated query of "unchanged": the reader abstained (so the fallback, which *is*
  the unedited prompt, answered), or the answer equals the unedited model's answer for that query (after
  normalisation). Reported overall and per bucket (``neighbor_subj``, ``same_subj``, ``out_of_scope``).
- **EQ** = ``2 * ES * BP / (ES + BP)`` on the aggregated percentages (0 when both are 0).

``score(rows)`` takes one dict per query (see :func:`score`); :func:`rescore_preds_json` re-scores the original
repository's ``preds.json``.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lc_core.io import DataError

__all__ = ["normalize", "match", "eq", "score", "rescore_preds_json", "MATCH_MODES"]

MATCH_MODES = ("em", "contains")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"\u2019", "\u2018", "\u201c", "\u201d"}


def normalize(text: str) -> str:
    """Lower-case, remove punctuation, drop articles (a/an/the), collapse whitespace (SQuAD's ``normalize_answer``).

    ``normalize("The  French.") == "french"``.
    """
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def match(pred: str | None, gold: str | None, mode: str = "em") -> bool:
    """Whether ``pred`` answers ``gold``: normalised equality (``em``) or containment (``contains``).

    An empty gold never matches (it would be contained in everything).
    """
    if mode not in MATCH_MODES:
        raise ValueError(f"unknown match mode {mode!r}; use one of {', '.join(MATCH_MODES)}")
    if pred is None or gold is None:
        return False
    p, g = normalize(pred), normalize(gold)
    if not g:
        return False
    if mode == "em":
        return p == g
    if mode == "contains":
        return g in p
    raise ValueError(f"unknown match mode {mode!r}; use one of {', '.join(MATCH_MODES)}")


def eq(es: float, bp: float) -> float:
    """Edit quality: the harmonic mean of ES and BP (percentages); 0 when both are 0.

    ``round(eq(98.4, 24.5), 1) == 39.2``. From the table's rounded ES/BP every published EQ is reproduced to within
    0.05 (``eq(96.9, 96.8) = 96.849...``: the paper's 96.9 comes from unrounded ES/BP).
    """
    return 0.0 if es + bp == 0 else 2 * es * bp / (es + bp)


def _pct(values: list[bool]) -> float | None:
    return None if not values else 100.0 * sum(values) / len(values)


def score(rows: Iterable[Mapping[str, Any]], *, mode: str = "em") -> dict[str, Any]:
    """ES / BP / EQ from per-query rows.

    Args:
        rows: dicts with ``bucket`` (``"edit"`` or a BP bucket), ``prediction``, and
            for ``edit`` rows ``target``; for BP rows ``abstained`` (bool, optional) and ``unedited`` (the unedited
            model's answer to the same query; required unless the row abstained). A BP row without ``unedited`` that
            did not abstain counts as changed (so a missing baseline can only lower BP).
        mode: ``em`` or ``contains`` for ES (BP always compares normalised answers for equality).

    Returns:
        ``{"es", "bp", "eq", "n_edit", "n_unrelated", "bp_<bucket>", "n_<bucket>", "abstain_rate_edit",
        "abstain_rate_unrelated"}`` (percentages; None where a bucket is empty).
    """
    if mode not in MATCH_MODES:
        raise ValueError(f"unknown match mode {mode!r}; use one of {', '.join(MATCH_MODES)}")
    es_hits: list[bool] = []
    es_abst: list[bool] = []
    bp_all: list[bool] = []
    bp_abst: list[bool] = []
    per: dict[str, list[bool]] = {}
    for i, r in enumerate(rows):
        bucket = r.get("bucket")
        if bucket is None:
            raise DataError(f"row {i} has no bucket", field="bucket")
        pred = r.get("prediction")
        abst = bool(r.get("abstained", False))
        if bucket == "edit":
            es_hits.append(match(pred, r.get("target"), mode))
            es_abst.append(abst)
        else:
            unedited = r.get("unedited")
            same = abst or (unedited is not None and pred is not None and normalize(pred) == normalize(unedited))
            bp_all.append(same)
            bp_abst.append(abst)
            per.setdefault(str(bucket), []).append(same)
    es = _pct(es_hits)
    bp = _pct(bp_all)
    out: dict[str, Any] = {
        "es": es,
        "bp": bp,
        "eq": None if es is None or bp is None else eq(es, bp),
        "n_edit": len(es_hits),
        "n_unrelated": len(bp_all),
        "abstain_rate_edit": _pct(es_abst),
        "abstain_rate_unrelated": _pct(bp_abst),
    }
    for bucket, vals in sorted(per.items()):
        out[f"bp_{bucket}"] = _pct(vals)
        out[f"n_{bucket}"] = len(vals)
    return out


def _abstained(text: str) -> bool:
    from eren.prompts import is_abstention

    return is_abstention(text)


def rescore_preds_json(
    path: str | os.PathLike[str],
    *,
    unedited: str | os.PathLike[str] | None = None,
    mode: str = "em",
) -> dict[str, Any]:
    """Score the original repository's ``preds.json`` (``[{id, edit_statement, targets, outputs: {edit_scope,
    unrelated: {bucket: [...]}}}]``).

    The original's evaluation path returns the literal abstention instead of running the fallback; such outputs count
    as preserved. With ``unedited`` (a ``preds.json`` of the unedited baseline on the same records) a non-abstained
    unrelated answer is compared with the unedited one; without it, it counts as changed (BP is then a lower bound).

    Raises:
        DataError: a record lacks ``targets``/``outputs`` or the lists do not line up (file, record, field named).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg})", path=p, line=e.lineno) from None
    if not isinstance(data, list):
        raise DataError("expected a JSON array of records", path=p)
    base: dict[Any, Any] = {}
    if unedited is not None:
        up = Path(unedited)
        for rec in json.loads(up.read_text(encoding="utf-8")):
            base[rec.get("id")] = rec.get("outputs", {})
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict) or "outputs" not in rec or "targets" not in rec:
            raise DataError(f"record {i} needs 'targets' and 'outputs'", path=p, field="outputs")
        outs = rec["outputs"]
        preds = outs.get("edit_scope", [])
        targets = rec["targets"]
        if len(preds) != len(targets):
            raise DataError(f"record {i}: {len(preds)} outputs for {len(targets)} targets", path=p, field="outputs.edit_scope")
        for pred, gold in zip(preds, targets):
            rows.append({"bucket": "edit", "prediction": pred, "target": gold, "abstained": _abstained(pred)})
        ref = base.get(rec.get("id"), {}).get("unrelated", {})
        for bucket, plist in (outs.get("unrelated") or {}).items():
            rlist = ref.get(bucket, [])
            for j, pred in enumerate(plist):
                rows.append(
                    {
                        "bucket": bucket,
                        "prediction": pred,
                        "abstained": _abstained(pred),
                        "unedited": rlist[j] if j < len(rlist) else None,
                    }
                )
    return score(rows, mode=mode)
