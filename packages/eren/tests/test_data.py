"""Loaders: official shapes and quirks, seeded disjoint splits, real-data counts (spec §8 1-3)."""

from __future__ import annotations

import json

import pytest

from eren.data import detect_kind, load_dataset, load_records
from lc_core.io import DataError


def test_cfh_fixture(cfh_file):
    ds = load_dataset(cfh_file)
    assert ds.name == "cfh" and ds.task == "qa" and len(ds.edited) == 5 and not ds.out_of_scope
    s = ds.summary()
    assert s["edit"] == 8 and s["neighbor_subj"] == 15 and s["same_subj"] == 5
    q = next(q for q in ds.queries if q.id == "0:edit:1")
    assert q.text.startswith("Which") and q.target == "Dutch" and q.true_answer == "Greek"
    # same_subj answers are not aligned: never used per item
    assert all(q.true_answer is None for q in ds.queries if q.bucket == "same_subj")
    assert sorted(ds.notes) == sorted(r["edit_statement"] for r in json.loads(cfh_file.read_text()))


def test_fever_and_hotpot_split_is_seeded_and_disjoint(fever_file, hotpot_file):
    a = load_dataset(fever_file, n=3, seed=7)
    b = load_dataset(fever_file, n=3, seed=7)
    assert [r.id for r in a.edited] == [r.id for r in b.edited]
    assert [r.id for r in a.out_of_scope] == [r.id for r in b.out_of_scope]
    assert not {r.id for r in a.edited} & {r.id for r in a.out_of_scope}
    assert a.task == "fc" and {q.bucket for q in a.queries} == {"edit", "out_of_scope"}
    h = load_dataset(hotpot_file)
    assert len(h.edited) == 3 and len(h.notes) == 6
    assert not h.queries[0].text.startswith(" ")
    with pytest.raises(ValueError, match="at most 3"):
        load_dataset(hotpot_file, n=4)


def test_bad_records_name_the_field(tmp_path, fixtures):
    recs = fixtures["cfh"]()
    recs[2]["edit_scope"] = [["only a question"]]
    p = tmp_path / "cfh_bad.json"
    p.write_text(json.dumps(recs))
    with pytest.raises(DataError, match=r"cfh_bad.json.*edit_scope\[0\]"):
        load_records(p)
    recs = fixtures["cfh"]()
    del recs[1]["edit_statement"]
    p.write_text(json.dumps(recs))
    with pytest.raises(DataError, match="edit_statement"):
        load_records(p)
    p.write_text("{not json")
    with pytest.raises(DataError, match="invalid JSON"):
        load_records(p)
    with pytest.raises(ValueError, match="kind"):
        detect_kind(tmp_path / "data.json")


def test_real_cfh_counts(real_file):
    ds = load_dataset(real_file("cfh_filtered.json"))
    s = ds.summary()
    assert (s["edited"], s["edit"], s["neighbor_subj"], s["same_subj"]) == (1024, 2674, 10240, 7626)
    assert sum(1 for r in ds.edited if not r.edit_scope) == 8
    assert sum(1 for r in ds.edited if not r.unrelated.get("same_subj")) == 189


def test_real_fever_and_hotpot(real_file):
    recs = load_records(real_file("fever_filtered.json"))
    assert len(recs) == 2048 and sum(len(r.edit_scope) for r in recs) == 18298
    ds = load_dataset(real_file("fever_filtered.json"), seed=0)
    assert len(ds.edited) == 1024 and len(ds.out_of_scope) == 1024
    clean = load_dataset(real_file("fever_filtered_small.json"))
    assert clean.name == "fever-clean" and len(clean.edited) == 128
    hot = load_records(real_file("hotpot.json"))
    assert len(hot) == 1024 and all(len(r.statements) == 2 for r in hot)
    assert len(load_dataset(real_file("hotpot.json")).edited) == 512
