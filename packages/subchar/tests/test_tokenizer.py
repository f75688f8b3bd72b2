"""Spec §14.3-6, 9, 10 through the transformers tokenizer."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from subchar.encoder import ENCODINGS, EncoderConfig
from subchar.symbols import ESC, SEP
from subchar.tokenizer import SubCharTokenizer


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_roundtrip_exact_through_the_tokenizer(train_tok, mixed_text, encoding):
    tok = train_tok(EncoderConfig(encoding=encoding))
    ids = tok(mixed_text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == mixed_text
    assert tok.decode(tok(mixed_text)["input_ids"], skip_special_tokens=True) == mixed_text


def test_legacy_roundtrip_is_normalize(train_tok, mixed_text):
    tok = train_tok(EncoderConfig.legacy("pinyin"))
    ids = tok(mixed_text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == tok.encoder.normalize(mixed_text)


def test_zhuyin_neutral_tone_regression_and_the_nfkc_bug(train_tok):
    text = "的了么，"
    tok = train_tok(EncoderConfig(encoding="zhuyin"))
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    # the original's normaliser: ˙ decomposes under NFKC and the round-trip breaks
    nfkc = train_tok(EncoderConfig(encoding="zhuyin"), normalization="nmt_nfkc")
    assert nfkc.decode(nfkc(text, add_special_tokens=False)["input_ids"]) != text


def test_no_unk_for_latin_and_digits(train_tok):
    tok = train_tok(EncoderConfig(encoding="pinyin"))
    ids = tok("Hello世界2023年", add_special_tokens=False)["input_ids"]
    assert 0 not in ids


def test_byte_fallback_has_no_unk_on_arbitrary_unicode(train_tok):
    tok = train_tok(EncoderConfig(encoding="wubi"), byte_fallback=True)
    text = "𠀀 ᚠᛇᚻ 🜁 ꙮ 漢字 ñ"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert 0 not in ids
    assert tok.decode(ids) == text


def test_special_token_layout_and_trainer_settings(train_tok):
    from sentencepiece import sentencepiece_model_pb2 as pb

    tok = train_tok(EncoderConfig(encoding="pinyin"), vocab_size=500)
    assert tok.vocab_size == 500
    assert tok.convert_ids_to_tokens(list(range(5))) == ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]
    assert (tok.unk_token_id, tok.pad_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == (0, 1, 2, 3, 4)
    assert len(tok) == 500
    proto = pb.ModelProto()
    proto.ParseFromString(Path(tok.vocab_file).read_bytes())
    t, n = proto.trainer_spec, proto.normalizer_spec
    assert t.model_type == pb.TrainerSpec.UNIGRAM
    assert t.character_coverage == 1.0 and not t.split_by_unicode_script
    assert not n.add_dummy_prefix and n.name == "identity" and not n.remove_extra_whitespaces
    bpe = train_tok(EncoderConfig(encoding="pinyin"), vocab_size=500, model_type="bpe")
    proto.ParseFromString(Path(bpe.vocab_file).read_bytes())
    assert proto.trainer_spec.model_type == pb.TrainerSpec.BPE
    assert bpe.decode(bpe("他是我的朋友")["input_ids"], skip_special_tokens=True) == "他是我的朋友"


def test_noindex_homophones_give_identical_ids(train_tok):
    tok = train_tok(EncoderConfig(encoding="pinyin", index=False))
    assert tok("他是我的朋友")["input_ids"] == tok("她是我的朋友")["input_ids"]
    with_index = train_tok(EncoderConfig(encoding="pinyin"))
    assert with_index("他是我的朋友")["input_ids"] != with_index("她是我的朋友")["input_ids"]
    toneless = train_tok(EncoderConfig(encoding="pinyin", index=False, tone=False))
    assert tok("花")["input_ids"] != tok("画")["input_ids"]
    assert toneless("花")["input_ids"] == toneless("画")["input_ids"]


def test_bert_pair_layout_truncation_padding(train_tok):
    tok = train_tok(EncoderConfig(encoding="wubi"))
    a, b = "他是我的朋友，我们一起学习中文。", "Hello世界"
    enc = tok(a, b, max_length=16, truncation=True, padding="max_length")
    ids, types, mask = enc["input_ids"], enc["token_type_ids"], enc["attention_mask"]
    assert len(ids) == len(types) == len(mask) == 16
    assert ids[0] == tok.cls_token_id and ids.count(tok.sep_token_id) == 2
    first_sep = ids.index(tok.sep_token_id)
    assert set(types[: first_sep + 1]) == {0} and set(types[first_sep + 1 : sum(mask)]) == {1}
    n = sum(mask)
    assert ids[n - 1] == tok.sep_token_id and set(ids[n:]) <= {tok.pad_token_id}
    batch = tok([a, b], padding=True, return_tensors="pt")
    assert tuple(batch["input_ids"].shape) == (2, max(len(tok(a)["input_ids"]), len(tok(b)["input_ids"])))


def test_ids_and_tokens_are_inverse(train_tok):
    tok = train_tok(EncoderConfig(encoding="pinyin"))
    ids = list(range(tok.vocab_size))
    assert tok.convert_tokens_to_ids(tok.convert_ids_to_tokens(ids)) == ids


def test_save_and_load_give_identical_outputs(train_tok, tmp_path, mixed_text, monkeypatch):
    tok = train_tok(EncoderConfig(encoding="cangjie"))
    tok.save_pretrained(tmp_path / "saved")
    files = set(os.listdir(tmp_path / "saved"))
    assert {"subchar.model", "subchar_table.tsv", "tokenizer_config.json"} <= files
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    again = SubCharTokenizer.from_pretrained(tmp_path / "saved")
    assert again.encoder_config == tok.encoder_config
    assert again(mixed_text, "对")["input_ids"] == tok(mixed_text, "对")["input_ids"]
    assert again.decode(again(mixed_text)["input_ids"], skip_special_tokens=True) == mixed_text


def test_char_alignment(train_tok, mixed_text):
    tok = train_tok(EncoderConfig(encoding="wubi"))
    spans = tok.char_to_token_spans(mixed_text)
    assert len(spans) == len(mixed_text)
    assert all(b > a for a, b in spans)
    assert all(s1[0] <= s2[0] and s1[1] <= s2[1] for s1, s2 in zip(spans, spans[1:]))
    per_char = tok.tokenize_chars(mixed_text)
    mapped = sum(1 for c in mixed_text if c in tok.encoder.table.codes)
    # an escaped SEP in the input (ESC + SEP) is text, not a separator
    assert sum(len(re.findall(f"(?<!{ESC}){SEP}", "".join(p))) for p in per_char) == mapped


def test_offsets_mapping_through_call(train_tok):
    tok = train_tok(EncoderConfig(encoding="pinyin"))
    text = "花呗怎么不能提额了"
    enc = tok(text, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    assert offs[0] == (0, 0) and offs[-1] == (0, 0)
    covered = set()
    for a, b in offs[1:-1]:
        covered.update(range(a, b))
    assert covered == set(range(len(text)))
    pair = tok(
        [text, "他"], ["Hello", "world 2023"], return_offsets_mapping=True, padding=True, truncation=True, max_length=12
    )
    assert all(len(o) == len(i) for o, i in zip(pair["offset_mapping"], pair["input_ids"]))


@pytest.mark.parametrize("padding", [False, True, "max_length"])
def test_fast_batch_path_equals_the_general_path(train_tok, padding):
    tok = train_tok(EncoderConfig(encoding="pinyin"))
    texts, pairs = ["他是我的朋友", "Hello 世界", ""], ["对", "2023年", "空"]
    for kwargs in ({}, {"return_special_tokens_mask": True}, {"add_special_tokens": False}, {"return_token_type_ids": False}):
        # truncation with a huge limit forces transformers' own path, which must agree
        limit = {"max_length": 40} if padding == "max_length" else {}
        fast = tok(texts, pairs, padding=padding, **limit, **kwargs)
        slow = tok(texts, pairs, padding=padding, max_length=40, truncation=True, **kwargs)
        assert dict(fast) == dict(slow), kwargs
        assert dict(tok(texts[0], **kwargs)) == dict(tok(texts[0], truncation=True, max_length=40, **kwargs))
