"""The reader's prompts, byte-exact with the original (FLAN-style instructions Flan-T5 was tuned on).

Two-step QA (read, may abstain)::

    Read this and answer the question. If the question is unanswerable, say "unanswerable".

    <note 1>.
    <note 2>.

    <question>

Fallback / unedited QA: ``Please answer this question: <question>``.

Fact checking (FEVER) reads ``<notes>\\n\\nCan we conclude that "<claim>"?\\n\\nOPTIONS:\\n- Yes\\n- It's impossible to
say\\n- No``; "It's impossible to say" is the abstention; the fallback is the unedited bool-QA prompt
``Is it true that <claim without its final period>?\\n\\nOPTIONS:\\n- yes\\n- no``. The one-step variants omit the
abstain option (QA: no "unanswerable" sentence; FC: options Yes/No only).

Deviation: the original cuts the claim's last character unconditionally for the bool-QA prompt; we cut it only when it
is a period (the EREN files always end claims with one, so prompts are identical on them).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "TEMPLATE_QA",
    "TEMPLATE_MRC",
    "TEMPLATE_MRC_ONE_STEP",
    "TEMPLATE_NLI",
    "TEMPLATE_BOOL_QA",
    "NLI_OPTIONS",
    "NLI_OPTIONS_ONE_STEP",
    "BOOL_OPTIONS",
    "ABSTAIN_QA",
    "ABSTAIN_FC",
    "build_context",
    "options_block",
    "reading_prompt",
    "closed_book_prompt",
    "is_abstention",
    "max_new_tokens",
]

TEMPLATE_QA = "Please answer this question: {question}"
TEMPLATE_MRC = (
    'Read this and answer the question. If the question is unanswerable, say "unanswerable".\n\n{context}\n\n{question}'
)
TEMPLATE_MRC_ONE_STEP = "Read this and answer the question.\n\n{context}\n\n{question}"
TEMPLATE_NLI = '{context}\n\nCan we conclude that "{hypothesis}"?\n\n{options}'
TEMPLATE_BOOL_QA = "Is it true that {statement}?\n\n{options}"

ABSTAIN_QA = "unanswerable"
ABSTAIN_FC = "It's impossible to say"
NLI_OPTIONS = ("Yes", ABSTAIN_FC, "No")
NLI_OPTIONS_ONE_STEP = ("Yes", "No")
BOOL_OPTIONS = ("yes", "no")

# free-form answers vs answers chosen from options (the original's max_length)
MAX_NEW_TOKENS_FREE = 20
MAX_NEW_TOKENS_OPTIONS = 10


def options_block(options: Sequence[str]) -> str:
    """``OPTIONS:`` followed by one ``- option`` line each."""
    return "OPTIONS:\n- " + "\n- ".join(options)


def build_context(notes: Sequence[str]) -> str:
    """Notes in the given (retrieval-score) order, one per line, each ending with a period."""
    return ".\n".join(notes) + "."


def reading_prompt(task: str, query: str, notes: Sequence[str], *, one_step: bool = False) -> str:
    """The step-1 prompt: read ``notes`` and answer ``query`` (QA) or judge the claim ``query`` (``fc``).

    Args:
        task: ``qa`` or ``fc``.
        one_step: the baseline without the abstain option.
    """
    context = build_context(notes)
    if task == "qa":
        template = TEMPLATE_MRC_ONE_STEP if one_step else TEMPLATE_MRC
        return template.format(context=context, question=query)
    if task == "fc":
        options = options_block(NLI_OPTIONS_ONE_STEP if one_step else NLI_OPTIONS)
        return TEMPLATE_NLI.format(context=context, hypothesis=query, options=options)
    raise ValueError(f"unknown task {task!r}; use 'qa' or 'fc'")


def closed_book_prompt(task: str, query: str) -> str:
    """The unedited model's prompt (also EREN's fallback): plain QA, or bool-QA with yes/no options."""
    if task == "qa":
        return TEMPLATE_QA.format(question=query)
    if task == "fc":
        statement = query[:-1] if query.endswith(".") else query
        return TEMPLATE_BOOL_QA.format(statement=statement, options=options_block(BOOL_OPTIONS))
    raise ValueError(f"unknown task {task!r}; use 'qa' or 'fc'")


def max_new_tokens(task: str) -> int:
    """20 tokens for free-form answers, 10 when options are given (the original's limits)."""
    return MAX_NEW_TOKENS_FREE if task == "qa" else MAX_NEW_TOKENS_OPTIONS


_STRIP = " \t\r\n\"'`.,!?;:*()[]<>\u201c\u201d\u2018\u2019"
_ABSTAIN_FORMS = {
    "unanswerable",
    "the question is unanswerable",
    "its impossible to say",
    "it is impossible to say",
    "impossible to say",
}


def is_abstention(text: str | None, extra: Sequence[str] = ()) -> bool:
    """Whether a step-1 output is an abstention, tolerant of chat-model formatting.

    Flan-T5 answers exactly ``unanswerable`` / ``It's impossible to say``; chat models add case, quotes, a period, a
    leading ``Answer:``, or ``- `` from the options list. Those are accepted; an answer that merely *contains* the
    word among other content is not. ``extra`` adds accepted forms (compared after the same clean-up).
    """
    if text is None:
        return False
    t = text.strip().lower()
    for prefix in ("answer:", "a:", "- "):
        if t.startswith(prefix):
            t = t[len(prefix) :]
    t = t.strip(_STRIP).replace("\u2019", "'")
    t = t.replace("'", "")
    t = " ".join(t.split())
    forms = _ABSTAIN_FORMS | {" ".join(e.lower().replace("'", "").split()).strip(_STRIP) for e in extra}
    return t in forms
