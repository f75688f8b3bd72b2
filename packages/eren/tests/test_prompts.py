"""Prompt assembly, byte-exact (spec §8 10-11), and tolerant abstention parsing."""

from __future__ import annotations

import pytest

from eren.prompts import closed_book_prompt, is_abstention, max_new_tokens, reading_prompt

GOLDEN_QA = (
    'Read this and answer the question. If the question is unanswerable, say "unanswerable".\n\n'
    "Danielle Darrieux's mother tongue is English.\nParis is in Italy.\n\n"
    "What is Danielle Darrieux's mother tongue?"
)
GOLDEN_FC = (
    "Fox 2000 Pictures refused to release the film Soul Food.\n\n"
    'Can we conclude that "Fox 2000 Pictures released the movie Soul Food."?\n\n'
    "OPTIONS:\n- Yes\n- It's impossible to say\n- No"
)


def test_qa_prompts_byte_exact():
    notes = ["Danielle Darrieux's mother tongue is English", "Paris is in Italy"]
    q = "What is Danielle Darrieux's mother tongue?"
    assert reading_prompt("qa", q, notes) == GOLDEN_QA
    one = reading_prompt("qa", q, notes, one_step=True)
    assert one == GOLDEN_QA.replace(' If the question is unanswerable, say "unanswerable".', "")
    assert closed_book_prompt("qa", q) == "Please answer this question: " + q


def test_fc_prompts_byte_exact():
    notes = ["Fox 2000 Pictures refused to release the film Soul Food"]
    claim = "Fox 2000 Pictures released the movie Soul Food."
    assert reading_prompt("fc", claim, notes) == GOLDEN_FC
    assert reading_prompt("fc", claim, notes, one_step=True).endswith("OPTIONS:\n- Yes\n- No")
    assert closed_book_prompt("fc", claim) == (
        "Is it true that Fox 2000 Pictures released the movie Soul Food?\n\nOPTIONS:\n- yes\n- no"
    )
    assert max_new_tokens("qa") == 20 and max_new_tokens("fc") == 10
    with pytest.raises(ValueError):
        reading_prompt("mc", claim, notes)


@pytest.mark.parametrize(
    "text",
    [
        "unanswerable",
        " Unanswerable. ",
        '"unanswerable"',
        "Answer: unanswerable",
        "It's impossible to say",
        "- It\u2019s impossible to say.",
    ],
)
def test_abstention_tolerant(text):
    assert is_abstention(text)


@pytest.mark.parametrize("text", ["English", "unanswerable question about English", "", None, "Yes"])
def test_not_abstention(text):
    assert not is_abstention(text)
    assert is_abstention("I don't know", extra=["I don't know"])
