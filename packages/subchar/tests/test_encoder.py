"""Spec §14.2 transliteration rules and the encoder half of §14.3 round-trips."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subchar.encoder import ENCODINGS, DecodeError, Encoder, EncoderConfig, get_encoder
from subchar.symbols import ESC, FULLWIDTH_FOLD, SEP
from subchar.tables import load_table, strip_index

INDEXED = [EncoderConfig(encoding=e) for e in ENCODINGS] + [EncoderConfig(encoding="pinyin", heteronyms=True)]


def test_encode_text_is_code_sep_code_sep():
    enc = get_encoder(EncoderConfig(encoding="pinyin"))
    t = load_table("pinyin")
    assert enc.encode("中国") == t.code("中") + SEP + t.code("国") + SEP


def test_ascii_is_shifted_outside_the_code_alphabet():
    enc = get_encoder(EncoderConfig(encoding="wubi"))
    out = enc.encode("abc XYZ 019")
    assert not re.search(r"[0-9A-Za-z ]", out)
    # the original's shift for digits and lowercase letters
    assert enc.encode("a0") == chr(ord("a") + 50000) + chr(ord("0") + 50000)


def test_legacy_deletes_whitespace_folds_punctuation_lowercases():
    enc = get_encoder(EncoderConfig.legacy("pinyin"))
    assert enc.normalize("Ab c\t中，１") == "abc中,1"
    assert enc.encode(" \t\n\u3000") == ""
    for full, ascii_ in FULLWIDTH_FOLD.items():
        assert enc.normalize(full) == ascii_
    assert len(FULLWIDTH_FOLD) == 24


def test_unmapped_characters_pass_through_without_sep():
    enc = get_encoder(EncoderConfig(encoding="wubi"))
    assert enc.encode("！😀Ω") == "！😀Ω"
    assert SEP not in enc.encode("！😀Ω")


def test_reserved_input_characters_are_escaped():
    enc = get_encoder(EncoderConfig(encoding="pinyin"))
    assert enc.encode(SEP) == ESC + SEP
    assert enc.encode("❁") == ESC + "❁"
    assert enc.decode(enc.encode("❁中" + SEP + ESC)) == "❁中" + SEP + ESC


@pytest.mark.parametrize("config", INDEXED, ids=lambda c: c.variant)
def test_indexed_roundtrip_is_exact(config, mixed_text):
    enc = get_encoder(config)
    assert config.lossless
    assert enc.decode(enc.encode(mixed_text)) == mixed_text


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_legacy_roundtrip_equals_normalize(encoding, mixed_text):
    enc = get_encoder(EncoderConfig.legacy(encoding))
    expected = "".join(ch for ch in mixed_text.lower() if not ch.isspace())
    expected = "".join(FULLWIDTH_FOLD.get(ch, ch) for ch in expected)
    assert enc.decode(enc.encode(mixed_text)) == expected == enc.normalize(mixed_text)


def test_zhuyin_neutral_tone_survives():
    enc = get_encoder(EncoderConfig(encoding="zhuyin"))
    out = enc.encode("的了么")
    assert out.count("˙") == 3
    assert enc.decode(out) == "的了么"


def test_spans_locate_each_character(mixed_text):
    for config in (
        EncoderConfig(encoding="wubi"),
        EncoderConfig.legacy("pinyin"),
        EncoderConfig(encoding="pinyin", heteronyms=True),
    ):
        enc = get_encoder(config)
        encoded, starts = enc.encode_with_spans(mixed_text)
        assert encoded == enc.encode(mixed_text)
        assert len(starts) == len(mixed_text) + 1 and starts[-1] == len(encoded)
        assert (starts[1:] >= starts[:-1]).all()
        pieces = enc.encode_chars(mixed_text)
        assert "".join(pieces) == encoded


def test_noindex_collapses_homophones_and_decodes_to_the_most_frequent():
    enc = get_encoder(EncoderConfig(encoding="pinyin", index=False))
    assert enc.encode("他是我的朋友") == enc.encode("她是我的朋友")
    assert enc.encode("花") != enc.encode("画")
    toneless = get_encoder(EncoderConfig(encoding="pinyin", index=False, tone=False))
    assert toneless.encode("花") == toneless.encode("画")
    # lossy: every homophone decodes to one character, the most frequent
    assert enc.decode(enc.encode("她")) == enc.decode(enc.encode("他"))
    assert not enc.config.lossless


def test_noindex_wubi_same_code_characters_collide():
    wubi = load_table("wubi")
    by_base: dict[str, list[str]] = {}
    for ch, (code,) in wubi.codes.items():
        by_base.setdefault(strip_index(code), []).append(ch)
    a, b = next(v for v in by_base.values() if len(v) > 1)[:2]
    enc = get_encoder(EncoderConfig(encoding="wubi", index=False))
    assert enc.encode(a) == enc.encode(b)


def test_context_aware_heteronyms():
    enc = get_encoder(EncoderConfig(encoding="pinyin", heteronyms=True, index=False))
    # 长 is zhang3 in 行长 and chang2 in 长城 once pypinyin sees the words
    assert enc.encode("行长").endswith("zhang❃" + SEP)
    assert enc.encode("长城").startswith("chang❂" + SEP)


def test_decode_errors():
    enc = get_encoder(EncoderConfig(encoding="pinyin"))
    with pytest.raises(DecodeError, match="without a separator"):
        enc.decode("zhong❁")
    with pytest.raises(DecodeError, match="unknown code"):
        enc.decode("qqq" + SEP)
    assert enc.decode("zhong❁", errors="replace") == "\ufffd"
    assert enc.decode("qqq" + SEP + "中", errors="ignore") == "中"


def test_config_validation():
    with pytest.raises(ValueError, match="index=False"):
        EncoderConfig(encoding="pinyin", tone=False)
    with pytest.raises(ValueError, match="tonal"):
        EncoderConfig(encoding="wubi", index=False, tone=False)
    with pytest.raises(ValueError, match="pinyin"):
        EncoderConfig(encoding="wubi", heteronyms=True)
    with pytest.raises(KeyError, match="unknown encoding"):
        Encoder(EncoderConfig(encoding="klingon"))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_property_no_raw_ascii_outside_codes_and_exact_roundtrip(text):
    for config in (EncoderConfig(encoding="pinyin"), EncoderConfig(encoding="stroke")):
        enc = get_encoder(config)
        out = enc.encode(text)
        assert enc.decode(out) == text
        # strip every code+SEP and every escape: what remains must hold no raw [0-9a-z]
        alph = "".join(re.escape(c) for c in enc.alphabet)
        rest = re.sub(f"{re.escape(ESC)}.|[{alph}]+{re.escape(SEP)}", "", out, flags=re.DOTALL)
        assert not re.search(r"[0-9a-z]", rest)
