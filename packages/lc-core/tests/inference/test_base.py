"""Tests for the helpers added to lc_core.inference.base (stop-string cutting, prompt token counts).

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/inference/test_base.py -q``
"""

from __future__ import annotations

import pytest

from lc_core.inference.base import Backend, cut_at_stop
from lc_core.tokenizers import ByteTokenizer


@pytest.mark.parametrize(
    "text,stop,expected",
    [
        ("answer: 42\nQuestion", ["\n"], "answer: 42"),
        ("abcXYdefXY", ["XY", "c"], "ab"),
        ("no stop here", ["###"], "no stop here"),
        ("keep", [], "keep"),
        ("empty stop ignored", [""], "empty stop ignored"),
    ],
    ids=["newline", "earliest-wins", "absent", "none", "empty-string"],
)
def test_cut_at_stop(text, stop, expected):
    assert cut_at_stop(text, stop) == expected


class _Bytes(Backend):
    def __init__(self) -> None:
        self.tok = ByteTokenizer()

    def generate(self, prompts, config):
        return ["" for _ in prompts]

    def encode(self, text):
        return self.tok.encode(text)

    def decode(self, ids):
        return self.tok.decode(ids)


def test_count_prompt_tokens_default():
    b = _Bytes()
    assert b.count_prompt_tokens("héllo") == 6
    assert b.count_prompt_tokens([{"role": "system", "content": "ab"}, {"role": "user", "content": "你"}]) == 5
