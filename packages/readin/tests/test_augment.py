import json

import pytest

from readin.augment import IdentityCorrector, ada_augment, correct_rows, default_groups
from readin.sample import AFQMC, CMRC

TABLE = {"a1": "甲乙丙", "b2": "丁戊", "c3": "己"}


def _rows(n=400):
    text = "甲乙丙丁戊己庚甲乙丁"  # 8 of 10 characters are replaceable (己 is alone, 庚 has no group)
    return [{"sentence1": text, "sentence2": text[::-1], "label": i % 2} for i in range(n)]


def test_ada_parity_properties():
    rows = _rows()
    out = ada_augment(rows, "afqmc", ratio=0.5, copies=2, seed=0, table=TABLE)
    assert len(out) == 3 * len(rows) and out[: len(rows)] == rows
    groups = {ch: set(g) for g in TABLE.values() for ch in g}
    changed = replaceable = 0
    for i, new in enumerate(out[len(rows) :]):
        old = rows[i % len(rows)]
        assert new["label"] == old["label"]
        for key in ("sentence1", "sentence2"):
            for a, b in zip(old[key], new[key]):
                if len(groups.get(a, ())) > 1:
                    replaceable += 1
                    changed += a != b
                    assert b in groups[a]
                else:
                    assert a == b
    assert replaceable > 2000 and abs(changed / replaceable - 0.5) <= 0.05
    again = ada_augment(rows, "afqmc", ratio=0.5, copies=2, seed=0, table=TABLE)
    assert json.dumps(again, ensure_ascii=False) == json.dumps(out, ensure_ascii=False)
    assert ada_augment(rows, "afqmc", seed=1, table=TABLE) != out


def test_ada_only_configured_keys_and_default_table():
    out = ada_augment(CMRC, "cmrc", ratio=1.0, copies=1)
    for old, new in zip(CMRC, out[len(CMRC) :]):
        assert new["context"] == old["context"] and new["answers"] == old["answers"] and new["question"] != old["question"]
    groups = default_groups()
    assert all(len(g) > 1 for g in groups.values()) and any("花" in g and "哗" in g for g in groups.values())


def test_ada_bad_args():
    with pytest.raises(ValueError, match="ratio"):
        ada_augment(AFQMC, "afqmc", ratio=1.5)


def test_correction_touches_only_noised_fields():
    class Upper:
        def correct(self, text):
            return text + "!"

    out = correct_rows(CMRC, "cmrc", Upper())
    assert all(n["question"] == o["question"] + "!" and n["context"] == o["context"] for o, n in zip(CMRC, out))
    assert correct_rows(AFQMC, "afqmc", IdentityCorrector()) == [dict(r) for r in AFQMC]
