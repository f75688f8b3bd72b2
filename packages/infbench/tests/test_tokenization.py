"""Middle truncation (spec §9.4) and tokenizer resolution.

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_tokenization.py -q``
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infbench.tokenization import FastTokenizer, get_tokenizer, truncate_middle, truncate_text


def test_truncate_middle_spec_examples():
    assert truncate_middle(list(range(10)), 4) == [0, 1, 8, 9]
    assert truncate_middle(list(range(10)), 7) == [0, 1, 2, 6, 7, 8, 9]
    assert truncate_middle(list(range(10)), 7, variant="runner") == [0, 1, 2, 7, 8, 9]
    assert truncate_middle([1, 2, 3], 5) == [1, 2, 3]


@given(st.lists(st.integers(), max_size=60), st.integers(0, 70), st.sampled_from(["legacy", "runner"]))
@settings(max_examples=200, deadline=None)
def test_truncate_middle_properties(tokens, length, variant):
    out = truncate_middle(tokens, length, variant=variant)
    assert len(out) <= length or out == tokens
    if len(tokens) <= length:
        assert out == tokens
    else:
        head = length // 2
        assert out[:head] == tokens[:head]
        tail = len(out) - head
        assert out[head:] == tokens[len(tokens) - tail :]
        assert len(out) == (length if variant == "legacy" else 2 * (length // 2))


def test_truncate_text_keeps_instruction_and_question():
    tok = get_tokenizer("byte")
    text = "INSTRUCTION\n" + "noise " * 500 + "\nQUESTION?"
    out, n, cut = truncate_text(text, tok, 64)
    assert cut and n == len(text.encode())
    assert out.startswith("INSTRUCTION") and out.endswith("QUESTION?") and len(out.encode()) == 64
    assert truncate_text("short", tok, 64) == ("short", 5, False)


def test_truncate_text_multibyte_boundary_is_dropped_not_garbled():
    tok = get_tokenizer("byte")
    out, _, cut = truncate_text("你好" * 50, tok, 7)
    assert cut and "\ufffd" not in out


def test_get_tokenizer_resolution(tmp_path, bpe_tokenizer_json):
    assert get_tokenizer("byte").encode("ab") == [100, 101]
    fast = get_tokenizer(str(bpe_tokenizer_json))
    assert isinstance(fast, FastTokenizer)
    text = "The grass is green. The pass key is 12345."
    assert fast.decode(fast.encode(text)) == text
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer.json").write_text(bpe_tokenizer_json.read_text())
    assert isinstance(get_tokenizer(str(folder)), FastTokenizer)
    byte_model = tmp_path / "byte-model"
    byte_model.mkdir()
    (byte_model / "config.json").write_text("{}")
    assert get_tokenizer(str(byte_model)).encode("a") == [100]
    with pytest.raises(TypeError):
        get_tokenizer(3)  # type: ignore[arg-type]
