"""Metrics: normalisation, match variants, ES/BP/EQ, per-bucket BP, preds.json re-scoring (spec §8 17-21)."""

from __future__ import annotations

import json

import pytest

from eren.metrics import eq, match, normalize, rescore_preds_json, score


def test_normalize_and_match():
    assert normalize("The  French.") == "french"
    assert match("Yes", "yes")
    assert match("the French", "French.")
    assert not match("French language", "French")
    assert match("French language", "French", "contains")
    assert not match("anything", "", "contains")
    with pytest.raises(ValueError):
        match("a", "a", "fuzzy")


@pytest.mark.parametrize(
    "es,bp,want", [(96.9, 96.8, 96.9), (96.9, 51.4, 67.2), (98.4, 24.5, 39.2), (81.5, 79.6, 80.5), (41.9, 100, 59.1)]
)
def test_eq_reproduces_the_table(es, bp, want):
    # the table's ES/BP are rounded, so its EQ is reproduced to within half a last digit (96.9/96.8 -> 96.8499...)
    assert abs(eq(es, bp) - want) <= 0.0501
    assert eq(0, 0) == 0


def test_es_bp_eq_hand_made():
    rows = [{"bucket": "edit", "prediction": p, "target": "English"} for p in ["English", "english.", "The English", "French"]]
    rows += [{"bucket": "neighbor_subj", "prediction": "unanswerable", "abstained": True}] * 5
    rows += [{"bucket": "same_subj", "prediction": "Paris", "unedited": "paris"}] * 4
    rows += [{"bucket": "same_subj", "prediction": "English", "unedited": "Paris"}]
    s = score(rows)
    assert s["es"] == 75.0 and s["bp"] == 90.0
    assert round(s["eq"], 2) == 81.82
    assert s["bp_neighbor_subj"] == 100.0 and s["bp_same_subj"] == 80.0
    assert s["n_edit"] == 4 and s["n_unrelated"] == 10 and s["abstain_rate_unrelated"] == 50.0
    zero = score([{"bucket": "edit", "prediction": "x", "target": "y"}, {"bucket": "out_of_scope", "prediction": "z"}])
    assert zero["es"] == 0 and zero["bp"] == 0 and zero["eq"] == 0


def test_rescore_preds_json(tmp_path):
    preds = [
        {
            "id": 0,
            "edit_statement": "X's mother tongue is English.",
            "targets": ["English", "English"],
            "outputs": {
                "edit_scope": ["English", "unanswerable"],
                "unrelated": {"neighbor_subj": ["unanswerable", "French"], "same_subj": ["Paris"]},
            },
        }
    ]
    base = {"neighbor_subj": ["x", "French"], "same_subj": ["Lyon"]}
    unedited = [{"id": 0, "outputs": {"edit_scope": ["French", "French"], "unrelated": base}}]
    p = tmp_path / "preds.json"
    u = tmp_path / "unedited.json"
    p.write_text(json.dumps(preds))
    u.write_text(json.dumps(unedited))
    lower = rescore_preds_json(p)
    assert lower["es"] == 50.0 and round(lower["bp"], 2) == 33.33
    full = rescore_preds_json(p, unedited=u)
    assert full["bp_neighbor_subj"] == 100.0 and full["bp_same_subj"] == 0.0
