"""The per-row metric of each ∞Bench task, in the two scoring modes. Pure functions, torch-free.

Every scorer has the signature ``(prediction, label, mode, model_name) -> float in [0, 1]``; the task table
(:mod:`infbench.tasks`) says which task uses which. ``legacy`` reproduces the official ``compute_scores.py``
(@88b3daa) exactly, quirks included (spec §4); ``fixed`` repairs the documented bugs (package README,
"Differences from the original"). Labels reach a scorer already checked for their shape
(:func:`infbench.scoring.check_label`), so a scorer never sees a dict or an empty list::

    from infbench.scorers import code_debug, retrieval_digits

    retrieval_digits("The pass key is 71432.", "71432", "legacy")           # 1.0
    code_debug("The answer is: get_option", ["get_option", "B"], "fixed")    # 1.0
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from lc_core.io import DataError

__all__ = [
    "MODES",
    "DEFAULT_MODE",
    "ScoringError",
    "first_int_match",
    "normalize_answer",
    "normalize_zh_answer",
    "qa_f1_score",
    "qa_f1_zh_score",
    "rouge_lsum",
    "retrieval_digits",
    "kv_retrieval",
    "code_run",
    "code_debug",
    "math_find",
    "math_calc",
    "dialogue",
    "choice",
    "qa_eng",
    "qa_chn",
    "summary",
]

MODES = ("legacy", "fixed")

# The one default of `infbench run`, `score` and `report` (and of the Python API): bug-fixed scoring.
# `legacy` reproduces the paper's numbers.
DEFAULT_MODE = "fixed"

# CJK punctuation removed by the original Chinese normaliser (in addition to ASCII punctuation).
_ZH_PUNCT = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》"
    "「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏."
)


class ScoringError(DataError):
    """A prediction or label the original scorer would crash on (legacy mode only)."""


def first_int_match(pred: str) -> str:
    """The first maximal run of ASCII digits in ``pred`` (``""`` when there is none)."""
    for piece in re.split("[^0-9]", pred):
        if piece:
            return piece
    return ""


def _replace_all(text: str, chars: Iterable[str], by: str = " ") -> str:
    for c in chars:
        text = text.replace(c, by)
    return text


def _collapse_double_spaces(text: str) -> str:
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def _unwrap(label: Any) -> Any:
    return label[0] if isinstance(label, list) else label


def _as_str_list(label: Any) -> list[str]:
    if isinstance(label, list):
        return [str(x) for x in label]
    return [str(label)]


def retrieval_digits(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """passkey / number_string: the first digit run of the prediction equals the label (string compare)."""
    label = _unwrap(label)
    if mode == "fixed":
        label = str(label)
    return float(label == first_int_match(pred))


def kv_retrieval(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """The label is one of the prediction's words after punctuation is replaced by spaces."""
    chars = ["\n", ":", '"', "'", ".", ",", "?", "!", "{", "}"]
    if mode == "fixed":
        # brackets, markdown emphasis and backticks around the value no longer hide it
        chars += ["(", ")", "[", "]", "*", "`", "<", ">"]
        label = str(_unwrap(label))
    return float(label in _replace_all(pred, chars).split())


def code_run(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """The last word of the prediction is the integer label (fixed: else the last signed integer anywhere)."""
    label = _unwrap(label)
    if mode == "fixed":
        try:
            label = int(str(label).strip())
        except ValueError:
            return 0.0
    chars = ["\n", ".", "`", "'", '"', ":"]
    if mode == "fixed":
        chars += ["*", "_", "$", "(", ")"]
    words = _replace_all(pred.strip(), chars).split()
    if not words:
        return 0.0
    try:
        return float(int(words[-1]) == label)
    except ValueError:
        if mode == "legacy":
            return 0.0
    found = re.findall(r"-?\d+", pred)
    return float(bool(found) and int(found[-1]) == label)


# Answer prefixes: the original list (first found wins), and the extended list of the fixed mode.
_DEBUG_PREFIXES_LEGACY = ["answer is:", "is:", "answer:", "correct option is:"]
_DEBUG_PREFIXES_FIXED = [
    "correct option is:",
    "correct option is",
    "correct answer is:",
    "correct answer is",
    "answer is:",
    "answer is",
    "answer:",
    "FINAL ANSWER:",
    "Answer:",
    "Answer",
    "is:",
]
_DEBUG_STRIP = ["\n", "`", "'", '"', "-", "*", "Option", "option"]


def _debug_clean(text: str) -> str:
    return _collapse_double_spaces(_replace_all(text, _DEBUG_STRIP))


def code_debug(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """Option matching for ``[function_name, letter]`` labels.

    The original removes ``-``, ``*``, quotes and the words "Option"/"option" from the prediction but not
    from the function name, so an answer quoting ``get_option_value`` or ``parse-args`` can never match it.
    ``fixed`` cleans the function name the same way before comparing.
    """
    fn_name, letter = label[0], label[1]
    pred = pred.strip()
    if pred[:2] in (f"{letter}.", f"{letter}:"):
        return 1.0
    if mode == "fixed" and re.fullmatch(r"\(?[ABCD]\)?[.:]?", pred):
        return float(pred.strip("().:") == letter)
    pred = _debug_clean(pred)
    prefixes = _DEBUG_PREFIXES_LEGACY if mode == "legacy" else _DEBUG_PREFIXES_FIXED
    if mode == "fixed":
        fn_name = _debug_clean(fn_name).strip()
    for prefix in prefixes:
        idx = pred.find(prefix)
        if idx == -1:
            continue
        if mode == "legacy":
            if len(pred) < idx + len(prefix) + 1:
                return 0.0
            # the original skips exactly one character after the prefix
            rest = pred[idx + len(prefix) + 1 :]
            return float(rest.startswith(letter) or rest.startswith(fn_name))
        rest = pred[idx + len(prefix) :].lstrip(" :[(")
        if fn_name and rest.startswith(fn_name):
            return 1.0
        return float(bool(re.match(rf"{letter}(?![A-Za-z])", rest)))
    return 0.0


def math_find(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """The first number of the prediction equals the int/float label (signs ignored, as the original)."""
    label = _unwrap(label)
    m = re.search(r"\d+\.\d+|\d+", pred)
    if m is None:
        return 0.0
    found = m.group(0)
    if mode == "legacy":
        if isinstance(label, bool) or not isinstance(label, int | float):
            raise ScoringError(f"legacy math_find needs an int or float label, got {type(label).__name__} ({label!r})")
        if isinstance(label, int):
            try:
                return float(int(found) == label)
            except ValueError:
                raise ScoringError(
                    f"legacy math_find crashes on a decimal prediction {found!r} for int label {label}"
                ) from None
        return float(float(found) == label)
    try:
        value = float(str(label).strip())
    except ValueError:
        return 0.0
    return float(math.isclose(float(found), value, rel_tol=0.0, abs_tol=1e-9))


def dialogue(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """legacy: ``label[0]`` is one of the upper-cased words; fixed: any alias appears as a whole phrase."""
    chars = ["\n", ":", '"', "'", ".", ",", "?", "!", "{", "}"]
    labels = _as_str_list(label)
    if mode == "legacy":
        words = [w.upper() for w in _replace_all(pred.strip(), chars).split()]
        return float(labels[0] in words)
    norm_pred = " " + " ".join(_replace_all(pred.strip(), chars).upper().split()) + " "
    for alias in labels:
        norm_alias = " ".join(_replace_all(alias, chars).upper().split())
        if norm_alias and f" {norm_alias} " in norm_pred:
            return 1.0
    return 0.0


def choice(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """En.MC option matching for ``[option_text, letter]`` labels."""
    pred = pred.strip()
    if not pred:
        return 0.0
    # legacy: "Based on ..." is read as option B; fixed: the letter must stand alone
    if pred[0] in "ABCD" and (mode == "legacy" or len(pred) == 1 or not pred[1].isalpha()):
        return float(pred[0] in label)
    if pred in label:
        return 1.0
    pred = _collapse_double_spaces(_replace_all(pred, ["\n", '"', "'", ".", ",", "?", "!", "{", "}"]))
    for prefix in ["answer is:", "answer:", "answer is", "option is"]:
        idx = pred.find(prefix)
        if idx == -1:
            continue
        if len(pred) < idx + len(prefix) + 1:
            return 0.0
        rest = pred[idx + len(prefix) + 1 :]
        return float(any(rest.startswith(s) for s in label))
    for word in pred.split():
        # legacy quirk: a substring test, so "AB" or "BCD" also stop the search
        if (mode == "legacy" and word in "ABCD") or (mode == "fixed" and word in {"A", "B", "C", "D"}):
            return float(word in label)
    return 0.0


def normalize_answer(s: str) -> str:
    """SQuAD normalisation: lower-case, drop punctuation, drop articles, collapse whitespace."""
    s = s.lower()
    punct = set(string.punctuation)
    s = "".join(ch for ch in s if ch not in punct)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def normalize_zh_answer(s: str) -> str:
    """The original Chinese normalisation: lower-case, drop ASCII and CJK punctuation, delete all whitespace."""
    s = s.lower()
    punct = set(string.punctuation + _ZH_PUNCT)
    s = "".join(ch for ch in s if ch not in punct)
    return "".join(s.split())


def _f1(pred_tokens: Sequence[str], gt_tokens: Sequence[str]) -> float:
    common = Counter(pred_tokens) & Counter(gt_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gt_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_f1_score(pred: str, ground_truths: Sequence[str]) -> float:
    """Token F1 after SQuAD normalisation, max over references."""
    pred_tokens = normalize_answer(pred).split()
    return max((_f1(pred_tokens, normalize_answer(gt).split()) for gt in ground_truths), default=0.0)


def qa_f1_zh_score(pred: str, ground_truths: Sequence[str]) -> float:
    """Character F1 after Chinese normalisation, max over references."""
    pred_tokens = list(normalize_zh_answer(pred))
    return max((_f1(pred_tokens, list(normalize_zh_answer(gt))) for gt in ground_truths), default=0.0)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=False)


def rouge_lsum(pred: str, references: Sequence[str]) -> float:
    """ROUGE-Lsum F-measure (rouge-score, no stemming, sentences = lines), max over references.

    This is what the original's ``evaluate.load("rouge")`` computes for a one-element reference list.
    """
    return float(_rouge_scorer().score_multi(list(references), pred)["rougeLsum"].fmeasure)


def qa_eng(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """En.QA: token F1, max over the reference answers."""
    return qa_f1_score(pred, _as_str_list(label))


def qa_chn(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """Zh.QA: character F1, max over the reference answers."""
    return qa_f1_zh_score(pred, _as_str_list(label))


def summary(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """En.Sum: ROUGE-Lsum F, max over the reference summaries."""
    return rouge_lsum(pred, _as_str_list(label))


def _calc_prefix_score(pred_nums: Sequence[int], label: Sequence[int]) -> float:
    # leading positions only: the count stops at the first wrong running value
    cnt = 0
    for want, got in zip(label, pred_nums):
        if want != got:
            break
        cnt += 1
    return cnt / len(label)


def math_calc(pred: str, label: Any, mode: str, model_name: str = "") -> float:
    """Fraction of leading running values predicted correctly.

    ``legacy`` drops the first predicted number only for ``model_name == "gpt4"`` and reads numbers
    without their sign; ``fixed`` reads signed integers and scores the better of the two alignments
    (with and without a leading first operand), since the few-shot prompts show the first operand.
    """
    if label and isinstance(label[0], list):
        label = label[0]
    if mode == "legacy":
        pred_nums = [int(x) for x in re.split("[^0-9]", pred) if x]
        if model_name == "gpt4":
            pred_nums = pred_nums[1:]
        return _calc_prefix_score(pred_nums, label)
    values = [int(x) for x in label]
    nums = [int(x) for x in re.findall(r"-?\d+", pred)]
    return max(_calc_prefix_score(nums, values), _calc_prefix_score(nums[1:], values))
