"""A scripted reader: a deterministic stand-in for an instruction-tuned LLM behind the lc-core backend interface.

It parses EREN's prompts back into (notes, question), answers from a note only when the note states a fact about the
question's subject *and* relation, abstains otherwise, and answers closed-book questions from a fixed table. Fact
checking: a note is about a claim when it names every entity the claim names (capitalised words); then "Yes" if they
say the same (same content words), else "No"; otherwise "It's impossible to say". It has
no language understanding: it exists to test the protocol (abstention, fallback, call counts), the metrics and the
bookkeeping exactly, and to show what a perfect reader would score given the retrieval. Numbers it produces are
*not* model results.

Facts come from :func:`facts_from_dataset` (CounterFact-Hard: subject = ``subject_name``, object = the new answer,
relation keywords = content words of the record's in-scope questions and statement minus subject and object words)
or are given by hand::

    from eren.scripted import Fact, ScriptedReader

    r = ScriptedReader([Fact("Freedonia's president is Firefly", "Freedonia", "Firefly", ("president",))])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eren.notebook import clean_note
from eren.prompts import ABSTAIN_FC, ABSTAIN_QA, TEMPLATE_BOOL_QA, TEMPLATE_QA
from lc_core.inference.base import Backend, GenerationConfig, Prompt

__all__ = ["Fact", "ScriptedReader", "facts_from_dataset", "content_words"]

_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the of in on at to for by with from is are was were be been being do does did what which who "
        "whom whose where when why how that this these those it its as and or but not no yes s has have had "
        "can could will would shall should may might must there their they them he she his her him i you we "
        "our your me my into about than then so such very also other some any each ",
    )
)


def content_words(text: str) -> set[str]:
    """Lower-cased ``\\w+`` words that are not function words."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOP}


@dataclass(frozen=True)
class Fact:
    """What the scripted reader knows a note says: ``subject`` --relation--> ``object``."""

    note: str
    subject: str
    object: str
    relation: tuple[str, ...]


def facts_from_dataset(dataset: Any) -> list[Fact]:
    """Facts for the edited records of a CounterFact-Hard-style :class:`~eren.data.Dataset` (QA records with a
    subject). Records without subject or in-scope answer are skipped (the reader then never answers from them)."""
    facts = []
    for r in dataset.edited:
        if not r.subject or not r.edit_scope:
            continue
        obj = r.edit_scope[0][1]
        drop = content_words(r.subject) | content_words(obj)
        words = set()
        for q, _ in r.edit_scope:
            words |= content_words(q)
        words |= content_words(r.statements[0])
        facts.append(Fact(clean_note(r.statements[0]), r.subject, obj, tuple(sorted(words - drop))))
    return facts


class ScriptedReader(Backend):
    """Answers EREN prompts by rule (see the module docstring).

    Args:
        facts: what each note states (notes not listed are never answered from).
        closed_book: question/claim -> unedited answer; missing ones get ``default_answer(question)``.
        default_answer: closed-book answer for unknown questions (default: ``"unknown"``; fact checking: ``"no"``).

    Attributes:
        calls: prompts seen, in order (tests count them).
    """

    name = "scripted"

    def __init__(
        self,
        facts: Iterable[Fact] = (),
        closed_book: Mapping[str, str] | None = None,
        default_answer: Callable[[str], str] | None = None,
    ) -> None:
        self.facts = {f.note: f for f in facts}
        self.closed = dict(closed_book or {})
        self.default_answer = default_answer
        self.calls: list[str] = []
        self.model_name = "eren/scripted-reader"

    # ---- rules ---------------------------------------------------------------------------------------------

    def _match(self, question: str, note: str) -> Fact | None:
        f = self.facts.get(clean_note(note))
        if f is None:
            return _guess(question, note)
        q = question.lower()
        if f.subject.lower() not in q:
            return None
        if not (content_words(question) - content_words(f.subject)) & set(f.relation):
            return None
        return f

    def _closed(self, query: str, fc: bool) -> str:
        if query in self.closed:
            return self.closed[query]
        if self.default_answer is not None:
            return self.default_answer(query)
        return "no" if fc else "unknown"

    def _answer(self, prompt: str) -> str:
        if prompt.startswith(TEMPLATE_QA.split("{")[0]):
            return self._closed(prompt[len(TEMPLATE_QA.split("{")[0]) :], fc=False)
        head = TEMPLATE_BOOL_QA.split("{")[0]
        if prompt.startswith(head):
            claim = prompt[len(head) :].split("?\n\n", 1)[0]
            return self._closed(claim + ".", fc=True)
        if prompt.startswith("New fact:") or "\n\nNew fact:" in prompt:
            return self._ike(prompt)
        if prompt.startswith("Read this and answer the question."):
            _, context, question = prompt.split("\n\n", 2)
            abstain = "unanswerable" in prompt.split("\n\n", 1)[0]
            notes = context[:-1].split(".\n") if context.endswith(".") else context.split(".\n")
            for n in notes:
                f = self._match(question, n)
                if f is not None:
                    return f.object
            if abstain:
                return ABSTAIN_QA
            # the one-step reader cannot decline: it answers from the best note anyway
            first = self.facts.get(clean_note(notes[0]))
            return first.object if first is not None else notes[0].split()[-1]
        m = re.match(r'(?s)(.*)\n\nCan we conclude that "(.*)"\?\n\nOPTIONS:\n(.*)$', prompt)
        if m:
            context, claim, options = m.groups()
            notes = context[:-1].split(".\n")
            # a note speaks about the claim when it names every entity the claim names (capitalised words)
            about = [n for n in notes if _names(claim) and _names(claim) <= _names(n)]
            if about:
                same = any(content_words(claim) == content_words(n) for n in about)
                return "Yes" if same else "No"
            return ABSTAIN_FC if ABSTAIN_FC in options else "No"
        raise ValueError(f"scripted reader: unrecognised prompt: {prompt[:80]!r}")

    def _ike(self, prompt: str) -> str:
        last = prompt.split("\n\n")[-1]
        notes = [line[len("New fact: ") : -1] for line in last.splitlines() if line.startswith("New fact: ")]
        question = last.split("Question: ", 1)[1].rsplit("\nAnswer:", 1)[0]
        for n in notes:
            f = self._match(question, n)
            if f is not None:
                return f.object
        return self._closed(question, fc=False)

    # ---- Backend -------------------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        self._configs(len(prompts), config)
        out = []
        for p in prompts:
            text = p if isinstance(p, str) else p[-1]["content"]
            self.calls.append(text)
            out.append(self._answer(text))
        return out

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(chr(i) for i in ids)


def _names(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text) if w[0].isupper() or w[0].isdigit()}


def _guess(question: str, note: str) -> Fact | None:
    """A note with no listed fact: it answers when it holds at least 60% (and two) of the question's content words;
    the answer is the run of the note's words after the last shared one ("The president of X is Rufus T. Firefly"
    answers "Who is the president of X?" with "Rufus T. Firefly")."""
    q = content_words(question)
    words = re.findall(r"[\w'.-]+", clean_note(note))
    shared = [i for i, w in enumerate(words) if w.lower().strip(".'") in q]
    if len(q) == 0 or len({words[i].lower() for i in shared}) < min(2, len(q)) or len(shared) < 0.6 * len(q):
        return None
    tail = [w for w in words[shared[-1] + 1 :] if w.lower() not in _STOP or w[0].isupper()]
    if not tail:
        return None
    return Fact(note, "", " ".join(tail), ())
