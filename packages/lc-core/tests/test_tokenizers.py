"""Tests for the byte tokenizer (lc_core.tokenizers) against transformers' ByT5Tokenizer.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/test_tokenizers.py -q``
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lc_core.tokenizers import ByteTokenizer

TEXTS = {
    "ascii": "The quick brown fox jumps over the lazy dog. 0123456789 !?",
    "chinese": "长上下文语言模型需要很长的提示。",
    "emoji": "long context 🚀🧠 with ZWJ 👩‍💻 and flags 🇫🇷",
    "mixed": "naïve café — 東京 🙂\n\ttabs",
    "empty": "",
}


@pytest.fixture(scope="module")
def byt5():
    transformers = pytest.importorskip("transformers")
    return transformers.ByT5Tokenizer()


@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
def test_ids_equal_byt5(byt5, text):
    tok = ByteTokenizer()
    assert tok.encode(text) == byt5.encode(text, add_special_tokens=False)
    assert tok.encode(text, add_eos=True) == byt5(text).input_ids
    assert tok.decode(tok.encode(text)) == text == byt5.decode(byt5.encode(text, add_special_tokens=False))
    assert tok.count_tokens(text) == len(byt5.encode(text, add_special_tokens=False))


def test_special_ids_and_vocab_equal_byt5(byt5):
    tok = ByteTokenizer()
    assert (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (byt5.pad_token_id, byt5.eos_token_id, byt5.unk_token_id)
    assert tok.vocab_size == len(byt5) == 384
    ids = [107, 1, 0, 2, 259, 383]
    assert tok.decode(ids, skip_special_tokens=False) == byt5.decode(ids, skip_special_tokens=False)
    assert tok.decode(ids) == byt5.decode(ids, skip_special_tokens=True) == "h"


def test_cut_multibyte_character_is_dropped_like_byt5(byt5):
    tok = ByteTokenizer()
    ids = tok.encode("a你b")[:-2]  # 'a' + the first two of the three bytes of 你
    assert tok.decode(ids) == byt5.decode(ids) == "a"


# the strings ByT5Tokenizer turns into special ids when they occur in plain text
SPECIAL_STRINGS = ["</s>", "<pad>", "<unk>", "<extra_id_0>", "<extra_id_124>"]


def _byt5_bytes(byt5, text: str) -> list[int]:
    """ByT5's ids for ``text`` read as plain bytes (no special-token matching inside the text)."""
    return byt5.encode(text, add_special_tokens=False, split_special_tokens=True)


@pytest.mark.parametrize("text", SPECIAL_STRINGS + ["a</s>b<pad>"], ids=lambda t: t.strip("<>/") or "mixed")
def test_special_token_text_is_bytes_not_a_special_id(byt5, text):
    """The one difference from ByT5: ``ByT5Tokenizer.encode("</s>")`` is ``[1]`` (EOS), so the text "</s>"
    decodes back to nothing and a document quoting it would end the prompt. Ours encodes every string as its
    UTF-8 bytes, so any text round-trips losslessly; ByT5 agrees once told not to match special tokens."""
    tok = ByteTokenizer()
    ids = tok.encode(text)
    assert ids == _byt5_bytes(byt5, text) and all(3 <= i < 259 for i in ids)
    assert tok.decode(ids) == text
    assert byt5.encode(text, add_special_tokens=False) != ids  # ByT5's default does differ here


_texts = st.one_of(
    st.text(max_size=40),
    # hypothesis rarely writes "</s>" by chance; mix the special-token strings in on purpose
    st.lists(st.one_of(st.text(max_size=8), st.sampled_from(SPECIAL_STRINGS)), max_size=6).map("".join),
)


@settings(max_examples=40, deadline=None)
@given(text=_texts)
def test_roundtrip_and_byt5_equality_on_random_text(byt5, text):
    tok = ByteTokenizer()
    ids = tok.encode(text)
    assert ids == _byt5_bytes(byt5, text)
    assert all(3 <= i < 259 for i in ids)
    assert tok.decode(ids) == text
    assert len(ids) == len(text.encode("utf-8")) == tok.count_tokens(text)


def test_truncate_middle_and_errors():
    tok = ByteTokenizer()
    assert tok.truncate_middle("abcdefgh", 4) == "abgh"
    assert tok.truncate_middle("abc", 4) == "abc"
    with pytest.raises(ValueError, match="outside the byte vocabulary"):
        tok.decode([384])
    with pytest.raises(ValueError, match="extra_ids"):
        ByteTokenizer(extra_ids=-1)
    assert ByteTokenizer(extra_ids=0).vocab_size == 259


def test_module_is_torch_free():
    import subprocess
    import sys

    code = "import sys, lc_core.tokenizers; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
