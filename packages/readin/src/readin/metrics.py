"""READIN's metrics: clean, average over the three annotator versions, and the per-example worst case.

Definitions (spec §5):

- **average**: the mean of a metric over the three versions of a channel.
- **worst**: an example counts only if the model is right on *all three* versions (AFQMC: the three predictions agree
  and equal the label; CMRC: the prediction matches a gold answer on all three). For BLEU, the mean over sentences of
  the per-sentence minimum ``sentence_bleu(..., use_effective_order=False)`` -- not a corpus BLEU.
- AFQMC is reported per class: ``pos`` (label 1) and ``neg`` (label 0).

Fractions are returned in [0, 1]; the report layer multiplies by 100. BLEU is on sacreBLEU's 0-100 scale.

Noisy predictions are given per version either as a list aligned with the clean examples or as a mapping
``clean_index -> prediction`` (noisy sets that are subsets, e.g. WMT). The worst case is taken over examples present
in every version.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "average",
    "class_accuracy",
    "afqmc_scores",
    "cmrc_normalize",
    "cmrc_em",
    "cmrc_f1",
    "cmrc_scores",
    "wmt_scores",
    "tokenization_consistency",
    "binary_scores",
    "cspider_scores",
]

Preds = Sequence[Any] | Mapping[int, Any]


def average(scores: Sequence[float]) -> float:
    """Mean of the per-version scores (``math.fsum``: 0.5, 0.6, 0.7 average to exactly 0.6)."""
    if not scores:
        raise ValueError("average of no scores")
    return math.fsum(scores) / len(scores)


def _as_map(preds: Preds, n: int, what: str) -> dict[int, Any]:
    if isinstance(preds, Mapping):
        bad = [k for k in preds if not (isinstance(k, int) and 0 <= k < n)]
        if bad:
            raise ValueError(f"{what}: clean indices out of range 0..{n - 1}: {bad[:5]}")
        return dict(preds)
    if len(preds) != n:
        raise ValueError(f"{what}: {len(preds)} predictions for {n} examples")
    return dict(enumerate(preds))


def _common(maps: Sequence[dict[int, Any]]) -> list[int]:
    keys = set(maps[0])
    for m in maps[1:]:
        keys &= set(m)
    return sorted(keys)


def _check_versions(noisy: Sequence[Preds]) -> None:
    if not noisy:
        raise ValueError("no noisy versions given")


def class_accuracy(labels: Sequence[int], preds: Sequence[Any]) -> dict[str, float | None]:
    """Accuracy on label-1 (``pos``) and label-0 (``neg``) examples; None for a class with no example.

    A prediction outside {0, 1} (an unparsable generation) counts as wrong.
    """
    if len(labels) != len(preds):
        raise ValueError(f"{len(preds)} predictions for {len(labels)} labels")
    out: dict[str, float | None] = {}
    for name, cls in (("pos", 1), ("neg", 0)):
        idx = [i for i, y in enumerate(labels) if int(y) == cls]
        out[name] = sum(_same(preds[i], cls) for i in idx) / len(idx) if idx else None
    return out


def _same(pred: Any, label: int) -> bool:
    try:
        return int(pred) == label
    except (TypeError, ValueError):
        return False


def afqmc_scores(labels: Sequence[int], clean: Sequence[Any], noisy: Sequence[Preds]) -> dict[str, float | None]:
    """AFQMC per-class clean / average / worst.

    Args:
        labels: gold labels of the clean examples, ``[N]``.
        clean: predictions on the clean split, ``[N]``.
        noisy: one entry per annotator version: predictions ``[N]`` or ``{clean_index: pred}``.

    Returns:
        ``pos_clean, pos_avg, pos_worst, neg_clean, neg_avg, neg_worst`` as fractions.
    """
    _check_versions(noisy)
    n = len(labels)
    acc = class_accuracy(labels, clean)
    maps = [_as_map(p, n, f"version {i + 1}") for i, p in enumerate(noisy)]
    out: dict[str, float | None] = {}
    for name, cls in (("pos", 1), ("neg", 0)):
        per_version = []
        for m in maps:
            idx = [i for i in m if int(labels[i]) == cls]
            if idx:
                per_version.append(sum(_same(m[i], cls) for i in idx) / len(idx))
        # worst: the prediction is kept only when all versions agree (then it must equal the label)
        common = [i for i in _common(maps) if int(labels[i]) == cls]
        worst = sum(all(_same(m[i], cls) for m in maps) for i in common) / len(common) if common else None
        out[f"{name}_clean"] = acc[name]
        out[f"{name}_avg"] = average(per_version) if per_version else None
        out[f"{name}_worst"] = worst
    return out


_PUNCT = set(string.punctuation) | set("，。！？、；：“”‘’（）《》〈〉【】『』「」﹃﹄〔〕…—～·．")


def cmrc_normalize(text: str) -> str:
    """CMRC2018's answer normalisation: lower-case, drop punctuation and whitespace (NFKC first)."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in text if ch not in _PUNCT and not ch.isspace())


_SEG = re.compile(r"[a-z0-9]+|\S")


def _segments(text: str) -> list[str]:
    # CJK characters one by one, runs of latin letters/digits as words (CMRC's mixed segmentation)
    return _SEG.findall(cmrc_normalize(text))


def _longest_common_substring(a: Sequence[str], b: Sequence[str]) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def cmrc_em(pred: str, golds: Sequence[str], *, legacy: bool = False) -> float:
    """1.0 if ``pred`` matches one of ``golds`` (normalised; ``legacy``: raw ``pred in golds`` as READIN's script)."""
    if legacy:
        return float(pred in list(golds))
    p = cmrc_normalize(pred)
    return float(any(p == cmrc_normalize(g) for g in golds))


def cmrc_f1(pred: str, golds: Sequence[str]) -> float:
    """CMRC2018 F1: best over golds of the F1 of the longest common substring of the segmented strings."""
    ps = _segments(pred)
    best = 0.0
    for g in golds:
        gs = _segments(g)
        lcs = _longest_common_substring(gs, ps)
        if lcs == 0:
            continue
        prec, rec = lcs / len(ps), lcs / len(gs)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


def cmrc_scores(
    golds: Sequence[Sequence[str]], clean: Sequence[str], noisy: Sequence[Preds], *, legacy: bool = False
) -> dict[str, float]:
    """CMRC EM and F1, clean / average / worst (EM worst: matched on all versions; F1 worst: mean of the min).

    Args:
        golds: gold answer texts per clean example, ``[N][k]``.
        clean: predicted answer texts on the clean split, ``[N]``.
        noisy: one entry per version: ``[N]`` texts or ``{clean_index: text}``.
        legacy: raw string membership for EM, as READIN's worst-case script (no normalisation).
    """
    _check_versions(noisy)
    n = len(golds)
    if len(clean) != n:
        raise ValueError(f"{len(clean)} clean predictions for {n} examples")
    maps = [_as_map(p, n, f"version {i + 1}") for i, p in enumerate(noisy)]
    em = lambda i, p: cmrc_em(p, golds[i], legacy=legacy)
    f1 = lambda i, p: cmrc_f1(p, golds[i])
    common = _common(maps)
    out: dict[str, float] = {}
    for name, fn in (("em", em), ("f1", f1)):
        out[f"{name}_clean"] = math.fsum(fn(i, p) for i, p in enumerate(clean)) / n if n else 0.0
        out[f"{name}_avg"] = average([math.fsum(fn(i, p) for i, p in m.items()) / max(len(m), 1) for m in maps])
        out[f"{name}_worst"] = math.fsum(min(fn(i, m[i]) for m in maps) for i in common) / len(common) if common else 0.0
    return out


def wmt_scores(refs: Sequence[str], clean: Sequence[str], noisy: Sequence[Preds]) -> dict[str, float]:
    """sacreBLEU: clean corpus BLEU, average of the versions' corpus BLEUs, mean per-sentence minimum (worst).

    Args:
        refs: English references of the clean examples, ``[N]``.
        clean: hypotheses for the clean sources, ``[N]``.
        noisy: per version, hypotheses ``[N]`` or ``{clean_index: hyp}`` (a noisy subset is scored against the
            references of the clean rows it indexes).
    """
    import sacrebleu

    _check_versions(noisy)
    n = len(refs)
    if len(clean) != n:
        raise ValueError(f"{len(clean)} clean hypotheses for {n} references")
    maps = [_as_map(p, n, f"version {i + 1}") for i, p in enumerate(noisy)]
    corpus = []
    for m in maps:
        keys = sorted(m)
        corpus.append(sacrebleu.corpus_bleu([m[i] for i in keys], [[refs[i] for i in keys]]).score)
    common = _common(maps)
    worst = [min(sacrebleu.sentence_bleu(m[i], [refs[i]], use_effective_order=False).score for m in maps) for i in common]
    return {
        "bleu_clean": sacrebleu.corpus_bleu(list(clean), [list(refs)]).score,
        "bleu_avg": average(corpus),
        "bleu_worst": math.fsum(worst) / len(worst) if worst else 0.0,
    }


def tokenization_consistency(
    tokenize: Callable[[str], Sequence[Any]], clean: Sequence[str], noisy: Sequence[str] | Mapping[int, str]
) -> float:
    """Share of examples whose tokenization is identical on the clean and the noisy text (READIN's CMRC analysis)."""
    m = _as_map(noisy, len(clean), "noisy texts")
    if not m:
        raise ValueError("no examples")
    return sum(list(tokenize(clean[i])) == list(tokenize(t)) for i, t in m.items()) / len(m)


def binary_scores(
    correct: Callable[[int, Any], bool], n: int, clean: Sequence[Any], noisy: Sequence[Preds], prefix: str
) -> dict[str, float]:
    """Clean / average / worst of a right-or-wrong metric: ``correct(clean_index, prediction)``."""
    _check_versions(noisy)
    if len(clean) != n:
        raise ValueError(f"{len(clean)} clean predictions for {n} examples")
    maps = [_as_map(p, n, f"version {i + 1}") for i, p in enumerate(noisy)]
    common = _common(maps)
    return {
        f"{prefix}_clean": sum(correct(i, p) for i, p in enumerate(clean)) / n if n else 0.0,
        f"{prefix}_avg": average([sum(correct(i, p) for i, p in m.items()) / max(len(m), 1) for m in maps]),
        f"{prefix}_worst": sum(all(correct(i, m[i]) for m in maps) for i in common) / len(common) if common else 0.0,
    }


def cspider_scores(
    golds: Sequence[str],
    clean: Sequence[str],
    noisy: Sequence[Preds],
    dbs: Sequence[Any] | None = None,
    *,
    match: str = "set",
    schemas: Sequence[Any] | None = None,
) -> dict[str, float]:
    """CSpider: exact match (``em_*``) and, given one database path per example, execution match (``ex_*``).

    Args:
        match: ``"set"``: Spider's component-level exact set match (:mod:`readin.spider`); ``"string"`` (legacy,
            readin 0.1): normalised string equality (:func:`readin.sql.exact_match`).
        schemas: one :class:`readin.spider.Schema` (or None) per example for column attribution and foreign keys;
            without it the schema is read from ``dbs`` when given.
    """
    from readin.sql import exact_match, execution_match

    n = len(golds)
    if match == "string":
        em = lambda i, p: exact_match(str(p), golds[i])  # noqa: E731
    elif match == "set":
        from readin.spider import Schema, exact_set_match

        if schemas is None and dbs is not None:
            cache: dict[str, Any] = {}
            schemas = [cache.setdefault(str(d), Schema.from_sqlite(d)) for d in dbs]
        em = lambda i, p: exact_set_match(str(p), golds[i], schemas[i] if schemas is not None else None)  # noqa: E731
    else:
        raise ValueError(f"match must be 'set' or 'string', not {match!r}")
    out = binary_scores(em, n, clean, noisy, "em")
    if dbs is not None:
        out.update(binary_scores(lambda i, p: execution_match(str(p), golds[i], dbs[i]), n, clean, noisy, "ex"))
    return out
