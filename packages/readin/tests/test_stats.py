from readin.pinyin import get_tables, toneless
from readin.sample import AFQMC
from readin.stats import homophone_baseline, levenshtein, realism


def test_levenshtein():
    assert levenshtein("花呗提额", "花呗贴") == 2 and levenshtein("", "ab") == 2 and levenshtein("abc", "abc") == 0


def test_baseline_keeps_toneless_pinyin():
    tab = get_tables()
    text = "花呗怎么不能提额了我想知道为什么"
    noisy, pairs = homophone_baseline(text, 1.0, 0)
    assert pairs and len(noisy) == len(text)
    for a, b in pairs:
        assert toneless(tab.readings[a][0]) in {toneless(r) for r in tab.readings[b]}


def test_realism_table():
    texts = [r["sentence1"] for r in AFQMC] * 3
    rows = realism(texts, keyboard_rate=0.5, speech_rate=0.5)
    names = [r["channel"] for r in rows]
    assert names == ["keyboard", "homophone baseline @ keyboard CER", "speech", "homophone baseline @ asr CER"]
    kb, base, sp = rows[0], rows[1], rows[2]
    assert 0 < kb["cer"] < 1 and kb["edits"] > 0 and base["same_toneless"] == 1.0
    assert sp["in_profile"] == 1.0 and 0 <= kb["same_toneless"] <= 1 and kb["pairs_per_1k"] > 0
