import pytest

from readin.noise import (
    PROFILES,
    KeyboardConfig,
    SpeechConfig,
    apply_edits,
    keyboard_noise,
    speech_noise,
    within_confusion,
)
from readin.pinyin import get_tables, split_syllable, to_tone3, toneless

TEXT = (
    "花呗怎么不能提额了，我想知道为什么借呗的额度突然降低了。今天天气很好，我们一起去北京吃饭吧。"
    "长江是中国最长的河流，全长六千多公里。李白是唐代著名诗人，被称为诗仙。Version 2.0 发布于2023年。"
)


def test_tables_basics():
    tab = get_tables()
    assert to_tone3("zhōng") == "zhong1" and to_tone3("lǜ") == "lv4" and to_tone3("ma") == "ma5"
    assert split_syllable("zhuang") == ("zh", "uang") and split_syllable("an") == ("", "an")
    assert "贴" in tab.by_toneless["tie"] and "tian" in tab.syllables and "ng" not in tab.syllables


def test_keyboard_seeded_and_rate_zero():
    cfg = KeyboardConfig(rate=0.3)
    assert keyboard_noise(TEXT, 7, cfg) == keyboard_noise(TEXT, 7, cfg)
    assert keyboard_noise(TEXT, 7, cfg)[0] != keyboard_noise(TEXT, 8, cfg)[0]
    assert keyboard_noise(TEXT, 7, KeyboardConfig(rate=0.0)) == (TEXT, [])


@pytest.mark.parametrize("seed", range(6))
def test_keyboard_edits_explain_the_output(seed):
    tab = get_tables()
    noisy, edits = keyboard_noise(TEXT, seed, KeyboardConfig(rate=0.5))
    assert edits and apply_edits(TEXT, edits) == noisy
    for e in edits:
        assert e.op in {"candidate", "merge", "split", "typo", "drop", "duplicate"}
        assert TEXT[e.start : e.end] == e.src
        # the logged reading is the context-aware one; each original character can be read that way
        src_py = e.src_pinyin.split("'")
        assert tab.can_read(e.src, src_py, tones=False)
        if e.op == "candidate":
            # an IME matches toneless pinyin: the replacement reads exactly like the original
            assert e.dst_pinyin == e.src_pinyin and tab.can_read(e.dst, src_py, tones=False)
        elif e.op == "merge":
            assert len(e.src) == 2 and len(e.dst) == 1 and e.dst_pinyin == "".join(src_py)
        elif e.op == "split":
            assert len(e.src) == 1 and len(e.dst) == 2 and e.dst_pinyin.replace("'", "") == src_py[0]
        elif e.op == "typo":
            assert e.dst_pinyin != e.src_pinyin and tab.can_read(e.dst, e.dst_pinyin.split("'"), tones=False)
        elif e.op == "drop":
            assert e.dst == ""
        else:
            assert e.dst == e.src * 2


def test_merge_tie():
    outs = {keyboard_noise("提额", s, KeyboardConfig(rate=1.0, weights={"merge": 1.0}))[0] for s in range(5)}
    tab = get_tables()
    assert all(len(o) == 1 and "tie" in {toneless(r) for r in tab.readings[o]} for o in outs)


def test_non_chinese_untouched():
    for seed in range(5):
        noisy, edits = keyboard_noise(TEXT, seed, KeyboardConfig(rate=1.0))
        assert "Version 2.0 发布于2023年" not in TEXT or all(not any(c.isascii() for c in e.src) for e in edits)
        assert "Version 2.0" in noisy and "2023" in noisy


def test_protected_spans_untouched():
    start = TEXT.index("北京")
    for seed in range(5):
        noisy, edits = keyboard_noise(TEXT, seed, KeyboardConfig(rate=1.0), protect=[(start, start + 2)])
        assert all(e.end <= start or e.start >= start + 2 for e in edits)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_speech_changes_stay_in_the_confusion_set(profile):
    tab = get_tables()
    for seed in range(4):
        noisy, edits = speech_noise(TEXT, seed, SpeechConfig(rate=0.4, profile=profile))
        assert apply_edits(TEXT, edits) == noisy
        for e in edits:
            src, dst = e.src_pinyin.split("'"), e.dst_pinyin.split("'")
            assert tab.can_read(e.src, src) and len(e.dst) == len(src)
            assert tab.can_read(e.dst, dst) or all(a == b or tab.can_read(c, [b]) for a, b, c in zip(src, dst, e.dst))
            assert all(within_confusion(a, b, profile) for a, b in zip(src, dst)) and src != dst


def test_speech_profiles_differ_and_rate_zero():
    outs = {speech_noise(TEXT, 3, SpeechConfig(rate=0.3, profile=p))[0] for p in PROFILES}
    assert len(outs) == 3
    assert speech_noise(TEXT, 3, SpeechConfig(rate=0.0)) == (TEXT, [])


def test_within_confusion():
    assert within_confusion("hua1", "hua4", "standard")
    assert within_confusion("zhi1", "zi1", "southern") and not within_confusion("zhi1", "zi1", "standard")
    assert within_confusion("xin1", "xing1", "standard") and not within_confusion("xin1", "xing2", "standard")


def test_bad_configs():
    with pytest.raises(ValueError, match="rate"):
        KeyboardConfig(rate=2)
    with pytest.raises(ValueError, match="unknown speaker profile"):
        SpeechConfig(profile="martian")


def _only(op, **kw):
    return KeyboardConfig(rate=1.0, weights={op: 1.0}, **kw)


def test_candidates_ranked_by_word_frequency():
    import collections

    import jieba

    tab = get_tables()
    ranked = tab.top(tab.words_toneless[("shi", "shi")], "事实", 5)
    freqs = [jieba.get_FREQ(w) for w in ranked]
    assert len(ranked) == 5 and freqs == sorted(freqs, reverse=True)  # an IME's list: most frequent first
    counts = collections.Counter(keyboard_noise("事实", s, _only("candidate"))[0] for s in range(300))
    assert set(counts) <= set(ranked) and counts.most_common(1)[0][0] == ranked[0]  # rank r drawn with weight 1/r
    assert counts[ranked[0]] > counts[ranked[-1]]


def test_split_drop_duplicate_ops():
    tab = get_tables()
    for seed in range(5):
        noisy, (e,) = keyboard_noise("天", seed, _only("split"))  # tian -> ti'an (提案, 体案...)
        assert e.op == "split" and len(noisy) == 2 and e.dst_pinyin == "ti'an"
        assert tab.can_read(noisy, ["ti", "an"], tones=False)
        noisy, edits = keyboard_noise("花呗", seed, _only("drop"))  # one op per jieba word: 花 / 呗
        assert [e.op for e in edits] == ["drop", "drop"] and noisy == ""
        noisy, edits = keyboard_noise("花呗", seed, _only("duplicate"))
        assert {e.op for e in edits} == {"duplicate"} and noisy == "花花呗呗"


def _typed_change(src: str, dst: str) -> tuple[str, str, str] | None:
    """(kind, old letter, new letter) when ``dst`` is ``src`` with one substitution; else the kind only."""
    if len(src) == len(dst):
        diff = [i for i, (a, b) in enumerate(zip(src, dst)) if a != b]
        if len(diff) == 1:
            return ("sub", src[diff[0]], dst[diff[0]])
        if len(diff) == 2 and diff[1] == diff[0] + 1 and src[diff[0]] == dst[diff[1]]:
            return ("swap", "", "")
        return None
    if len(dst) == len(src) + 1:
        return next((("ins", "", "") for i in range(len(dst)) if dst[:i] + dst[i + 1 :] == src), None)
    if len(dst) == len(src) - 1:
        return next((("del", "", "") for i in range(len(src)) if src[:i] + src[i + 1 :] == dst), None)
    return None


@pytest.mark.parametrize(("t9_share", "keys"), [(1.0, "t9"), (0.0, "qwerty")])
def test_typos_are_key_slips_that_resegment_into_valid_pinyin(t9_share, keys):
    from readin.noise import QWERTY_NEIGHBOURS, T9_SAME_KEY

    tab = get_tables()
    near = T9_SAME_KEY if keys == "t9" else QWERTY_NEIGHBOURS
    subs = []
    for seed in range(40):
        noisy, edits = keyboard_noise(TEXT, seed, _only("typo", t9_share=t9_share))
        assert edits and apply_edits(TEXT, edits) == noisy
        for e in edits:
            typed = e.dst_pinyin.split("'")
            assert e.op == "typo" and all(s in tab.syllables for s in typed)  # valid pinyin after the slip
            assert tab.can_read(e.dst, typed, tones=False)  # decoded as the IME would
            change = _typed_change(e.src_pinyin.replace("'", ""), "".join(typed))
            assert change is not None, (e.src_pinyin, e.dst_pinyin)
            if change[0] == "sub":
                subs.append(change[1:])
    # substitutions draw from the configured key map (T9: same key; QWERTY: adjacent keys, else a QWERTY neighbour)
    assert subs and all(b in near.get(a, "") or b in QWERTY_NEIGHBOURS[a] for a, b in subs)
    only_this_map = [
        (a, b) for a, b in subs if b in near[a] and b not in (T9_SAME_KEY if keys == "qwerty" else QWERTY_NEIGHBOURS)[a]
    ]
    assert only_this_map, f"no substitution specific to the {keys} map in {subs}"


def test_speech_tone_slips_and_in_vocabulary_redecoding():
    tab = get_tables()
    tones = in_vocab = 0
    for seed in range(8):
        for profile in PROFILES:
            _, edits = speech_noise(TEXT, seed, SpeechConfig(rate=0.4, profile=profile))
            for e in edits:
                src, dst = e.src_pinyin.split("'"), e.dst_pinyin.split("'")
                if e.op == "tone":
                    tones += 1
                    assert [toneless(s) for s in src] == [toneless(d) for d in dst] and src != dst
                if len(dst) >= 2 and e.dst in tab.words_tone3.get(tuple(dst), []):
                    in_vocab += 1  # re-decoded to a dictionary word with exactly the misheard pinyin
    assert tones > 10 and in_vocab > 10
