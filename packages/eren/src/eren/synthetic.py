"""Invented facts for benchmarks and demos (never the EREN data): seeded names, a few relations, notes and questions.

::

    from eren.synthetic import make_facts

    facts = make_facts(100_000, seed=0)
    facts[0].note        # "The capital of Varomeq is Tulbastor"
    facts[0].question    # "What is the capital of Varomeq?"
    facts[0].answer      # "Tulbastor"
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["SynthFact", "make_facts", "make_name", "RELATIONS"]

_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "tr", "gl", "th"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
_CODAS = ["", "", "n", "r", "s", "l", "m", "q", "x", "th"]

# relation -> (note template, question templates); {s} subject, {o} object
RELATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "capital": ("The capital of {s} is {o}", ("What is the capital of {s}?", "Which city is the capital of {s}?")),
    "president": ("The president of {s} is {o}", ("Who is the president of {s}?", "Who leads {s} as president?")),
    "language": (
        "The official language of {s} is {o}",
        ("What language is spoken in {s}?", "What is the official language of {s}?"),
    ),
    "founder": ("{s} was founded by {o}", ("Who founded {s}?", "Who is the founder of {s}?")),
    "river": (
        "The longest river of {s} is the {o}",
        ("What is the longest river of {s}?", "Which river is the longest in {s}?"),
    ),
    "currency": ("The currency of {s} is the {o}", ("What is the currency of {s}?", "Which currency is used in {s}?")),
}


def make_name(rng: random.Random, syllables: tuple[int, int] = (2, 4)) -> str:
    """A pronounceable invented name (capitalised)."""
    n = rng.randint(*syllables)
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(n)]
    return "".join(parts).capitalize()


@dataclass(frozen=True)
class SynthFact:
    """One invented fact."""

    subject: str
    relation: str
    object: str
    note: str
    question: str
    paraphrase: str

    @property
    def answer(self) -> str:
        return self.object


def make_facts(n: int, *, seed: int = 0) -> list[SynthFact]:
    """``n`` facts with distinct (subject, relation) pairs, seeded."""
    rng = random.Random(seed)
    rels = list(RELATIONS)
    seen: set[tuple[str, str]] = set()
    out: list[SynthFact] = []
    while len(out) < n:
        s, r = make_name(rng), rng.choice(rels)
        if (s, r) in seen:
            continue
        seen.add((s, r))
        o = make_name(rng, (2, 3))
        if r in ("president", "founder"):
            o = f"{make_name(rng, (1, 2))} {o}"
        note_t, (q1, q2) = RELATIONS[r]
        out.append(SynthFact(s, r, o, note_t.format(s=s, o=o), q1.format(s=s), q2.format(s=s)))
    return out
