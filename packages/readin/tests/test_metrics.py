import math

import pytest
import sacrebleu

from readin.metrics import (
    afqmc_scores,
    average,
    class_accuracy,
    cmrc_em,
    cmrc_f1,
    cmrc_scores,
    tokenization_consistency,
    wmt_scores,
)


def test_average_is_exact():
    labels = [1] * 10
    accs = []
    for k in (5, 6, 7):
        preds = [1] * k + [0] * (10 - k)
        accs.append(class_accuracy(labels, preds)["pos"])
    assert average(accs) == 0.6


def test_afqmc_worst_case_spec_example():
    labels = [1, 1, 0, 0]
    v1, v2, v3 = [1, 0, 0, 0], [1, 1, 0, 1], [1, 1, 0, 0]
    s = afqmc_scores(labels, [1, 1, 0, 0], [v1, v2, v3])
    assert s["pos_worst"] == 0.5 and s["neg_worst"] == 0.5
    assert set(s) == {f"{c}_{k}" for c in ("pos", "neg") for k in ("clean", "avg", "worst")}
    assert s["pos_clean"] == 1.0 and s["neg_clean"] == 1.0
    assert s["pos_avg"] == pytest.approx((0.5 + 1 + 1) / 3) and s["neg_avg"] == pytest.approx((1 + 0.5 + 1) / 3)


def test_afqmc_unparsable_prediction_is_wrong_and_subset_versions():
    s = afqmc_scores([1, 0], ["1", "0"], [{0: "equivalent?", 1: 0}, {0: 1}, {0: 1, 1: 0}])
    assert s["pos_clean"] == 1.0 and s["pos_worst"] == 0.0
    # example 1 is missing from version 2: it is left out of the worst case
    assert s["neg_worst"] is None


def test_cmrc_worst_needs_all_three():
    golds = [["北京", "北京市"], ["诗仙"], ["六千多公里"]]
    clean = ["北京", "诗仙", "六千公里"]
    noisy = [["北京市", "诗仙", "六千多公里"], ["北京", "诗人", "六千多公里"], ["北京", "诗仙", "六千多公里"]]
    s = cmrc_scores(golds, clean, noisy)
    assert s["em_clean"] == pytest.approx(2 / 3)
    assert s["em_worst"] == pytest.approx(2 / 3)  # examples 0 and 2; example 1 fails in version 2
    assert s["em_avg"] == pytest.approx((1 + 2 / 3 + 1) / 3)
    assert 0 < s["f1_worst"] <= s["f1_avg"] <= 1


def test_cmrc_normalisation_and_legacy():
    assert cmrc_em("北京。", ["北京"]) == 1.0 and cmrc_em("北京。", ["北京"], legacy=True) == 0.0
    assert cmrc_f1("六千公里", ["六千多公里"]) == pytest.approx(2 * (2 / 4) * (2 / 5) / (2 / 4 + 2 / 5))
    assert cmrc_f1("abc", ["北京"]) == 0.0


REFS = [
    "The weather is nice today.",
    "I like reading books.",
    "He is going to Beijing tomorrow.",
    "This question is very hard.",
    "Let's have a meal together.",
]
HYPS = [
    [
        "The weather is good today.",
        "I like to read books.",
        "He goes to Beijing tomorrow.",
        "This problem is hard.",
        "Let us eat.",
    ],
    [
        "Weather nice today.",
        "I like reading books.",
        "He will go to Beijing.",
        "The question is very hard.",
        "Let's eat together.",
    ],
    ["Today the weather is nice.", "I love books.", "He is going to Beijing tomorrow.", "This is hard.", "Have a meal."],
]


def test_wmt_matches_sacrebleu():
    s = wmt_scores(REFS, HYPS[0], HYPS)
    corpus = [sacrebleu.corpus_bleu(h, [REFS]).score for h in HYPS]
    worst = [min(sacrebleu.sentence_bleu(h[i], [REFS[i]], use_effective_order=False).score for h in HYPS) for i in range(5)]
    assert abs(s["bleu_avg"] - sum(corpus) / 3) < 1e-9
    assert abs(s["bleu_worst"] - sum(worst) / 5) < 1e-9
    assert abs(s["bleu_clean"] - sacrebleu.corpus_bleu(HYPS[0], [REFS]).score) < 1e-9


def test_wmt_shuffled_subsets_score_the_same():
    maps = [dict(enumerate(h)) for h in HYPS]
    shuffled = [dict(reversed(list(m.items()))) for m in maps]
    assert wmt_scores(REFS, HYPS[0], maps) == wmt_scores(REFS, HYPS[0], shuffled)
    keep = (1, 3, 4)
    sub = [{i: h[i] for i in keep} for h in HYPS]
    s = wmt_scores(REFS, HYPS[0], sub)
    refs = [[REFS[i] for i in keep]]
    want = [sacrebleu.corpus_bleu([h[i] for i in keep], refs).score for h in HYPS]
    assert math.isclose(s["bleu_avg"], sum(want) / 3, abs_tol=1e-9)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="3 predictions for 4"):
        afqmc_scores([1, 0, 1, 0], [1, 0, 1, 0], [[1, 0, 1]])


def test_tokenization_consistency():
    assert tokenization_consistency(list, ["ab", "cd"], ["ab", "ce"]) == 0.5
