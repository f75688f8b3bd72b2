"""Recipe for eren's demo reader ``eren/demo-reader``: generate data, train, export, evaluate, write the card.

STATUS (2026-12-05, fourth session): no model is shipped. With the gated curriculum, k <= 3 notes and a warm start,
repeat and lookup pass their 90 % gates, but QA reading stalls at 27-39 % (answerable) / 47-71 % (unanswerable)
held-out exact accuracy; the model keys on the relation phrase, not the subject. A two-relation ablation
(``--relations capital,headquarters``) reaches 66 % / 78 % in 20 minutes. See the eren README ("Demo reader").

A small GQA transformer (lc-core ``lc-gqa``) over UTF-8 bytes (ByT5 ids: pad 0, eos 1, byte b -> b + 3) is trained
from scratch with :func:`lc_core.train.train` on CPU to do what EREN asks of its reader, in EREN's byte-exact prompts
(:mod:`eren.prompts`):

- QA reading (``Read this and answer the question. If the question is unanswerable, say "unanswerable".``): answer
  with the object of the note that states the question's subject *and* relation, else ``unanswerable``;
- fact checking (``Can we conclude that "<claim>"?`` + options): ``Yes`` when a note states the claim, ``No`` when a
  note states the same subject and relation with another object, else ``It's impossible to say``;
- closed-book prompts (the fallback): ``unknown`` (QA) and ``no`` (bool QA) -- the model knows no facts.

Every note, question and claim comes from this script's own templates over invented entities (never from the EREN
data). Curriculum (``--phases``; by default a phase ends when its skill reaches ``--gate`` held-out accuracy): first a
repeat task (a run of invented words, then the same run), then key-value lookups (``key = value`` lines, then ``key
=``: copy the value of the one matching key among distractors), then the reader prompts (with a share of lookups and
repeats kept). The reading classes are balanced (half answerable, half not; every unanswerable example holds a near-
miss note: the same subject with another relation, or the same relation about another subject). The loss is
``--answer-weight`` x the loss on the answer bytes + ``--lm-weight`` x the next-byte loss on everything else (which
includes copying the question's subject from the notes). Every ``--check-every`` steps the per-class accuracy on a
held-out generated set (greedy == target under teacher forcing) is logged; training stops when every class reaches
``--target`` twice, or at ``--time-budget`` seconds.

Why bytes: the previous version over the 30,522-piece WordPiece vocabulary never learned to copy (0 % after 3,000
steps), while the same shape learns the bare repeat task over bytes in about 500 steps (see the eren README).

Run from the repository root (one core)::

    OMP_NUM_THREADS=1 nice -n 10 python tools/train_demo_reader.py train --out runs/demo-reader --time-budget 2400
    python tools/train_demo_reader.py export --out runs/demo-reader
    python tools/train_demo_reader.py card          # held-out generated accuracy through the hf backend + README.md

Token windows carry a flag bit above the byte ids (``ANSWER_FLAG``: the byte is part of an answer); the loss strips it
before the forward pass. Short examples (repeats, lookups) are packed several per window, separated by EOS.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from eren.prompts import ABSTAIN_FC, ABSTAIN_QA, closed_book_prompt, reading_prompt
from lc_core.io import atomic_write_json, atomic_write_text
from lc_core.logging import get_logger, setup_logging
from lc_core.report import markdown_table, timestamp
from lc_core.tokenizers import ByteTokenizer
from lc_core.train import Callback, PackedDataset, StopTraining, TrainConfig, TrainState, train

logger = get_logger("train_demo_reader")

REPO = Path(__file__).resolve().parent.parent
ASSET_DIR = REPO / "packages" / "eren" / "src" / "eren" / "assets" / "demo-reader"
MODEL_NAME = "eren/demo-reader"
TOK = ByteTokenizer(extra_ids=0)
PAD, EOS = TOK.pad_token_id, TOK.eos_token_id
# flag bit above the byte ids: the token is part of the answer
ANSWER_FLAG = 1 << 10
ID_MASK = ANSWER_FLAG - 1
HELDOUT_SEED = 0
# answers are bytes: "It's impossible to say" alone is 22, so the token limits of the original (20 / 10) are too short
MAX_NEW_TOKENS = 48
MODEL_KWARGS: dict[str, Any] = {
    "vocab_size": 264,
    "d_model": 128,
    "n_layers": 4,
    "n_heads": 4,
    "n_kv_heads": 4,
    "d_ff": 256,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
    "pad_token_id": PAD,
    "eos_token_id": EOS,
    "bos_token_id": None,
}

# ---- invented world ------------------------------------------------------------------------------------------

_ONSETS = [*"bcdfghjklmnprstvwz", "br", "ch", "cl", "dr", "fl", "gr", "kr", "pl", "sh", "st", "th", "tr", "", "", "qu"]
_VOWELS = [*"aeiou", "ai", "au", "ea", "ie", "oa", "ou", "y", "é", "ö", "á", "ü"]
_VOWEL_W = [10, 10, 8, 8, 5, 2, 2, 2, 2, 1, 1, 2, 0.3, 0.3, 0.3, 0.3]
_CODAS = ["", "", "", "", "", "n", "r", "s", "l", "m", "t", "x", "nd", "rk", "ng"]


# syllables per invented word (short names keep prompts short; the third session drew 1-3)
SYLLABLES = (1, 1, 2, 2)


def make_name(rng: random.Random, cap: bool = True) -> str:
    """An invented word of 1-3 syllables (a few accented vowels, as real names have)."""
    n = rng.choice(SYLLABLES)
    word = "".join(rng.choice(_ONSETS) + rng.choices(_VOWELS, _VOWEL_W)[0] + rng.choice(_CODAS) for _ in range(n))
    return word.capitalize() if cap else word


# relation: (note templates, question templates, object kind); {s} subject, {o} object
RELATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "capital": (
        ("The capital of {s} is {o}", "{s}'s capital is {o}", "{s}'s capital city is {o}"),
        ("What is the capital of {s}?", "What is {s}'s capital?", "Which city is the capital of {s}?"),
        "place",
    ),
    "mother_tongue": (
        ("The mother tongue of {s} is {o}", "{s}'s mother tongue is {o}", "{s}'s native language is {o}"),
        ("What is the mother tongue of {s}?", "What is {s}'s mother tongue?", "What is the native language of {s}?"),
        "word",
    ),
    "birthplace": (
        ("{s} was born in {o}", "The birthplace of {s} is {o}", "{s}'s birthplace is {o}"),
        ("Where was {s} born?", "What is the birthplace of {s}?", "In which city was {s} born?"),
        "place",
    ),
    "deathplace": (
        ("{s} died in {o}", "{s} passed away in {o}", "The place of death of {s} is {o}"),
        ("Where did {s} die?", "In what city did {s} die?", "What is the place of death of {s}?"),
        "place",
    ),
    "occupation": (
        ("{s} works as a {o}", "{s}'s occupation is {o}", "The occupation of {s} is {o}", "{s} is a {o} by profession"),
        ("What is {s}'s occupation?", "What does {s} do for a living?", "What is the profession of {s}?"),
        "lower",
    ),
    "employer": (
        ("{s} works for {o}", "{s} is employed by {o}", "The employer of {s} is {o}"),
        ("Who does {s} work for?", "Who employs {s}?", "Which company is {s} employed by?", "Who is {s}'s employer?"),
        "org",
    ),
    "citizenship": (
        ("{s} is a citizen of {o}", "{s} holds citizenship of {o}", "{s} has the citizenship of {o}"),
        ("Which country is {s} a citizen of?", "What is the citizenship of {s}?", "What country is {s} a citizen of?"),
        "place",
    ),
    "headquarters": (
        ("The headquarters of {s} is in {o}", "{s} is headquartered in {o}", "{s}'s headquarters are in {o}"),
        ("Where is {s} headquartered?", "Where is the headquarters of {s}?", "In which city is {s} based?"),
        "place",
    ),
    "developer": (
        ("{s} was developed by {o}", "{s} is developed by {o}", "The developer of {s} is {o}"),
        ("Who developed {s}?", "Which company developed {s}?", "Who is the developer of {s}?"),
        "org",
    ),
    "manufacturer": (
        ("{s} is made by {o}", "{s} is produced by {o}", "The manufacturer of {s} is {o}"),
        ("Who makes {s}?", "Who is the manufacturer of {s}?", "Which company produces {s}?"),
        "org",
    ),
    "instrument": (
        ("{s} plays the {o}", "The instrument of {s} is the {o}", "{s} is known for playing the {o}"),
        ("What instrument does {s} play?", "Which instrument does {s} play?", "What does {s} play?"),
        "lower",
    ),
    "genre": (
        ("The genre of {s} is {o}", "{s} plays {o} music", "{s} performs {o}"),
        ("What genre of music does {s} play?", "What is the genre of {s}?", "What kind of music does {s} perform?"),
        "lower",
    ),
    "team": (
        ("{s} plays for {o}", "{s} is a member of the team {o}", "{s}'s team is {o}"),
        ("Which team does {s} play for?", "Who does {s} play for?", "What team is {s} a member of?"),
        "org",
    ),
    "position": (
        ("{s} plays as a {o}", "{s}'s position is {o}", "The position of {s} on the field is {o}"),
        ("What position does {s} play?", "Which position does {s} play?", "What is {s}'s position?"),
        "lower",
    ),
    "religion": (
        ("{s} is affiliated with the religion of {o}", "The religion of {s} is {o}", "{s} follows {o}"),
        ("What religion is {s} affiliated with?", "What is the religion of {s}?", "Which religion does {s} follow?"),
        "word",
    ),
    "continent": (
        ("{s} is located in the continent of {o}", "{s} belongs to the continent of {o}", "{s} is on {o}"),
        ("Which continent is {s} located in?", "On which continent is {s}?", "What continent does {s} belong to?"),
        "place",
    ),
    "country": (
        ("{s} is located in the country of {o}", "{s} is in {o}", "{s} can be found in {o}"),
        ("Which country is {s} located in?", "In which country is {s}?", "Where is {s} located?"),
        "place",
    ),
    "official_language": (
        ("The official language of {s} is {o}", "In {s}, the official language is {o}", "{s}'s official language is {o}"),
        ("What is the official language of {s}?", "What language is official in {s}?", "What is {s}'s official language?"),
        "word",
    ),
    "founder": (
        ("{s} was founded by {o}", "The founder of {s} is {o}", "{s}'s founder is {o}"),
        ("Who founded {s}?", "Who is the founder of {s}?", "Who was {s} founded by?"),
        "person",
    ),
    "president": (
        ("The president of {s} is {o}", "{s}'s president is {o}", "{s} is led by president {o}"),
        ("Who is the president of {s}?", "Who is {s}'s president?", "Who leads {s} as president?"),
        "person",
    ),
    "owner": (
        ("{s} is owned by {o}", "The owner of {s} is {o}", "{s} belongs to {o}"),
        ("Who owns {s}?", "Who is the owner of {s}?", "Who is {s} owned by?"),
        "org",
    ),
    "creator": (
        ("{s} was created by {o}", "The creator of {s} is {o}", "{s} is a creation of {o}"),
        ("Who created {s}?", "Who is the creator of {s}?", "Who was {s} created by?"),
        "person",
    ),
    "original_language": (
        ("The original language of {s} is {o}", "{s} was originally written in {o}", "{s} was first made in {o}"),
        ("What is the original language of {s}?", "In what language was {s} originally written?"),
        "word",
    ),
    "network": (
        ("{s} was originally aired on {o}", "{s} premiered on {o}", "The original network of {s} is {o}"),
        ("On which network did {s} originally air?", "Where did {s} premiere?", "What is the original network of {s}?"),
        "org",
    ),
    "field": (
        ("{s} works in the field of {o}", "{s}'s field of work is {o}", "The field of work of {s} is {o}"),
        ("What field does {s} work in?", "What is {s}'s field of work?", "In which field does {s} work?"),
        "lower",
    ),
    "twin_city": (
        ("The twin city of {s} is {o}", "{s} is twinned with {o}", "{s}'s sister city is {o}"),
        ("What is the twin city of {s}?", "Which city is {s} twinned with?", "What is {s}'s sister city?"),
        "place",
    ),
    "label": (
        ("{s} is signed to {o}", "{s}'s record label is {o}", "The record label of {s} is {o}"),
        ("What record label is {s} signed to?", "What is {s}'s record label?", "Which label is {s} signed to?"),
        "org",
    ),
    "school": (
        ("{s} studied at {o}", "{s} was educated at {o}", "{s} graduated from {o}"),
        ("Where did {s} study?", "Which university did {s} attend?", "Where was {s} educated?"),
        "org",
    ),
    "spouse": (
        ("{s} is married to {o}", "The spouse of {s} is {o}", "{s}'s wife is {o}"),
        ("Who is {s} married to?", "Who is the spouse of {s}?", "Who is {s}'s wife?"),
        "person",
    ),
    "award": (
        ("{s} received the {o}", "{s} won the {o}", "{s} was awarded the {o}"),
        ("What award did {s} receive?", "Which prize did {s} win?", "What was {s} awarded?"),
        "award",
    ),
}
INVENTED_RELATION_SHARE = 0.2


@dataclass(frozen=True)
class Fact:
    subject: str
    relation: str
    object: str
    notes: tuple[str, ...]
    questions: tuple[str, ...]

    def note(self, rng: random.Random) -> str:
        return rng.choice(self.notes).format(s=self.subject, o=self.object)

    def question(self, rng: random.Random) -> str:
        return rng.choice(self.questions).format(s=self.subject)

    def claim(self, rng: random.Random, obj: str | None = None) -> str:
        return rng.choice(self.notes).format(s=self.subject, o=obj or self.object) + "."


Relation = tuple[str, tuple[str, ...], tuple[str, ...], str]


class World:
    """A seeded source of invented subjects, objects and relations."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def subject(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return f"{make_name(self.rng)} {make_name(self.rng)}"
        if r < 0.9:
            return make_name(self.rng)
        return f"The {make_name(self.rng)}"

    def object(self, kind: str) -> str:
        rng = self.rng
        if kind == "person":
            return f"{make_name(rng)} {make_name(rng)}"
        if kind == "org":
            base = make_name(rng)
            return rng.choice([base, base, f"{base} {make_name(rng)}", f"{base} Records", f"{base} University"])
        if kind == "lower":
            return make_name(rng, cap=False)
        if kind == "award":
            return f"{make_name(rng)} Prize"
        return make_name(rng)

    def relation(self) -> Relation:
        if self.rng.random() < INVENTED_RELATION_SHARE:
            w = make_name(self.rng, cap=False)
            notes = (f"The {w} of {{s}} is {{o}}", f"{{s}}'s {w} is {{o}}")
            questions = (f"What is the {w} of {{s}}?", f"What is {{s}}'s {w}?")
            return f"inv:{w}", notes, questions, self.rng.choice(["place", "lower", "person", "org", "word"])
        name = self.rng.choice(list(RELATIONS))
        notes, questions, kind = RELATIONS[name]
        return name, notes, questions, kind

    def fact(self, subject: str | None = None, relation: Relation | None = None) -> Fact:
        name, notes, questions, kind = relation or self.relation()
        return Fact(subject or self.subject(), name, self.object(kind), notes, questions)

    def other_relation(self, fact: Fact) -> Relation:
        while True:
            rel = self.relation()
            if rel[0] != fact.relation:
                return rel

    def same_relation(self, fact: Fact) -> Relation:
        if fact.relation.startswith("inv:"):
            return fact.relation, fact.notes, fact.questions, "lower"
        notes, questions, kind = RELATIONS[fact.relation]
        return fact.relation, notes, questions, kind


# ---- examples --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    prompt: str
    target: str
    kind: str  # qa-answer, qa-abstain, fc-yes, fc-no, fc-abstain, closed-qa, closed-fc, aux-lookup, aux-repeat


def _near_misses(world: World, fact: Fact, n: int) -> list[Fact]:
    """``n`` distractor facts: same subject with other relations, same relation about other subjects, random."""
    out = []
    for _ in range(n):
        r = world.rng.random()
        if r < 0.4:
            out.append(world.fact(subject=fact.subject, relation=world.other_relation(fact)))
        elif r < 0.8:
            out.append(world.fact(relation=world.same_relation(fact)))
        else:
            out.append(world.fact())
    return out


# probability that the matching note is moved to rank 1 (else its rank is uniform). 0.6 until run dr6 of 2026-12-05:
# the model learned "answer from the first note" (exact 57 % at rank 1, 0 % at ranks 2-3; README "Demo reader")
RANK1_SHARE = 0.0


def _notes(world: World, facts: list[Fact], first: Fact | None) -> list[str]:
    """Note texts in prompt order; ``first`` (the matching note) is moved to rank 1 with probability ``RANK1_SHARE``."""
    rng = world.rng
    rng.shuffle(facts)
    if first is not None and rng.random() < RANK1_SHARE:
        facts.remove(first)
        facts.insert(0, first)
    return [f.note(rng) for f in facts]


# notes per reader prompt: K_MAX (the k of every evaluation of this model) for 60 % of the prompts, else 1..K_MAX-1
K_MAX = 3


def _k(rng: random.Random) -> int:
    """Notes per prompt: ``K_MAX`` for 60 % of the prompts, else 1..``K_MAX`` - 1."""
    return K_MAX if rng.random() < 0.6 else rng.randint(1, K_MAX - 1)


def lookup_example(world: World) -> Example:
    """Key-value lookup (``key = value`` lines, then ``key =``): find the one matching key among distractors and copy
    its value -- the find-and-copy skill reading needs, in its barest form."""
    rng = world.rng
    pairs = [
        (world.subject(), world.object(rng.choice(["place", "person", "org", "lower"]))) for _ in range(rng.randint(2, 6))
    ]
    key, value = rng.choice(pairs)
    lines = "\n".join(f"{k} = {v}" for k, v in pairs)
    return Example(f"{lines}\n\n{key} =", value, "aux-lookup")


def repeat_example(world: World) -> Example:
    """Repeat a run of invented words: the induction copying a small transformer learns first."""
    words = " ".join(make_name(world.rng, cap=world.rng.random() < 0.5) for _ in range(world.rng.randint(2, 8)))
    return Example(f"{words} ;", words, "aux-repeat")


def reader_example(world: World, fc: bool = True) -> Example:
    """One example in EREN's prompts: QA reading 60 %, fact checking 25 %, closed book 15 %; without ``fc``: QA reading
    85 %, closed book 15 %."""
    rng = world.rng
    r = rng.random()
    if not fc and 0.6 <= r < 0.85:
        r = rng.random() * 0.6
    fact = world.fact()
    if r < 0.6:
        k = _k(rng)
        q = fact.question(rng)
        if rng.random() < 0.5:
            facts = [fact, *_near_misses(world, fact, k - 1)]
            return Example(reading_prompt("qa", q, _notes(world, facts, fact)), fact.object, "qa-answer")
        # unanswerable: the fact itself is absent; at least one near miss is present
        facts = _near_misses(world, fact, k)
        if not any(f.subject == fact.subject or f.relation == fact.relation for f in facts):
            facts[0] = world.fact(subject=fact.subject, relation=world.other_relation(fact))
        return Example(reading_prompt("qa", q, _notes(world, facts, None)), ABSTAIN_QA, "qa-abstain")
    if r < 0.85:
        k = _k(rng)
        c = rng.random()
        if c < 0.5:
            facts = [fact, *_near_misses(world, fact, k - 1)]
            notes = _notes(world, facts, fact)
            if c < 0.25:
                return Example(reading_prompt("fc", fact.claim(rng), notes), "Yes", "fc-yes")
            wrong = world.object(RELATIONS[fact.relation][2] if fact.relation in RELATIONS else "lower")
            return Example(reading_prompt("fc", fact.claim(rng, wrong), notes), "No", "fc-no")
        facts = _near_misses(world, fact, k)
        return Example(reading_prompt("fc", fact.claim(rng), _notes(world, facts, None)), ABSTAIN_FC, "fc-abstain")
    if r < 0.95:
        return Example(closed_book_prompt("qa", fact.question(rng)), "unknown", "closed-qa")
    return Example(closed_book_prompt("fc", fact.claim(rng)), "no", "closed-fc")


# curriculum phases: (share of repeat, share of lookup, fact checking among the reader prompts); the rest are reader
# examples. 0: repeat; 1: lookup (repeats kept); 2: QA reading + closed book; 3: everything, fact checking added.
PHASE_MIX = ((0.7, 0.3, False), (0.3, 0.7, False), (0.2, 0.2, False), (0.1, 0.15, True))
# --phases gate: the held-out skills whose minimum ends phase 0, 1 and 2
GATE_SKILL = (("aux-repeat",), ("aux-lookup",), ("qa-answer", "qa-abstain"))


def make_example(world: World, phase: int) -> Example:
    rep, look, fc = PHASE_MIX[phase]
    r = world.rng.random()
    if r < rep:
        return repeat_example(world)
    if r < rep + look:
        return lookup_example(world)
    return reader_example(world, fc=fc)


def heldout_examples(per_kind: int, seed: int = HELDOUT_SEED) -> list[Example]:
    """``per_kind`` generated examples of every kind (seed never used in training)."""
    world = World(random.Random(f"eren-demo-reader/heldout/{seed}"))
    got: dict[str, list[Example]] = defaultdict(list)
    kinds = 9
    while len(got) < kinds or min(len(v) for v in got.values()) < per_kind:
        e = make_example(world, len(PHASE_MIX) - 1)
        if len(got[e.kind]) < per_kind:
            got[e.kind].append(e)
    return [e for k in sorted(got) for e in got[k]]


def encode_pair(prompt: str, target: str) -> tuple[list[int], list[int]]:
    """``(prompt bytes, answer bytes + EOS)``; the hf backend feeds a ByT5 prompt without its EOS, as here."""
    return TOK.encode(prompt), [*TOK.encode(target), EOS]


def pack_windows(examples: Sequence[Example], window: int) -> tuple[np.ndarray, int]:
    """Examples packed in order into ``window``-token rows (several short ones per row, each followed by its answer
    and EOS; padding after the last); examples longer than a window are dropped. Returns (stream, kept)."""
    rows: list[list[int]] = []
    cur: list[int] = []
    kept = 0
    for e in examples:
        p, a = encode_pair(e.prompt, e.target)
        ids = p + [x + ANSWER_FLAG for x in a]
        if len(ids) > window:
            continue
        kept += 1
        if len(cur) + len(ids) > window:
            rows.append(cur)
            cur = []
        cur += ids
    if cur:
        rows.append(cur)
    flat = np.zeros(len(rows) * window, dtype=np.int64)
    for i, ids in enumerate(rows):
        flat[i * window : i * window + len(ids)] = ids
    return flat, kept


class CurriculumData(PackedDataset):
    """One window pool per curriculum phase; ``step`` (set by :class:`PhaseClock`) picks the pool.

    ``bounds[p]`` is the step at which phase ``p + 1`` begins: fixed (``--phases 300,900``) or, with ``--phases gate``,
    set by :class:`ClassCheck` when the held-out skill of phase ``p`` (repeat, then lookup) reaches ``--gate``.

    All pools are sized alike; window ``i`` of the dataset is window ``i mod len(pool)`` of the current pool, so the
    trainer's seeded, resumable permutation still decides the order.
    """

    def __init__(self, pools: Sequence[PackedDataset], bounds: Sequence[int]) -> None:
        super().__init__(pools[-1].tokens, pools[-1].seq_len)
        self.pools = list(pools)
        self.bounds = list(bounds)
        self.step = 0

    def phase(self) -> int:
        return sum(self.step >= b for b in self.bounds)

    def __len__(self) -> int:
        return min(len(p) for p in self.pools)

    def __getitem__(self, index: int) -> torch.Tensor:
        pool = self.pools[self.phase()]
        return pool[index % len(pool)]


class PhaseClock(Callback):
    """Keeps :attr:`CurriculumData.step` at the trainer's step (also after a resume)."""

    def __init__(self, data: CurriculumData) -> None:
        self.data = data

    def on_train_begin(self, state: TrainState) -> None:
        self.data.step = state.step

    def on_step_end(self, state: TrainState) -> None:
        old = self.data.phase()
        self.data.step = state.step
        if self.data.phase() != old:
            logger.info("step %d: curriculum phase %d", state.step, self.data.phase())


def build_model() -> nn.Module:
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    return GQAForCausalLM(GQAConfig(**MODEL_KWARGS))


def make_loss(answer_weight: float, lm_weight: float) -> Any:
    """``answer_weight`` x mean loss on the answer bytes + ``lm_weight`` x mean next-byte loss on the other non-pad
    bytes."""

    def loss_fn(model: nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        ids = input_ids & ID_MASK
        tgt = targets & ID_MASK
        is_answer = (targets & ANSWER_FLAG) > 0
        logits = model(input_ids=ids).logits.float()  # [B, T, V]
        loss = answer_weight * F.cross_entropy(logits[is_answer], tgt[is_answer])
        if lm_weight > 0:
            rest = ~is_answer & (tgt != PAD)
            loss = loss + lm_weight * F.cross_entropy(logits[rest], tgt[rest])
        return loss

    return loss_fn


# ---- per-class check -------------------------------------------------------------------------------------------


@torch.no_grad()
def class_accuracy(model: nn.Module, examples: Sequence[Example], batch: int = 32) -> dict[str, float]:
    """Per kind, the share of examples whose every answer byte (and EOS) is the argmax under teacher forcing -- the
    same as greedy decoding producing exactly the target."""
    was_training = model.training
    model.eval()
    hits: dict[str, list[bool]] = defaultdict(list)
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        encoded = [encode_pair(e.prompt, e.target) for e in chunk]
        width = max(len(p) + len(a) for p, a in encoded)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, (p, a) in enumerate(encoded):
            ids[i, : len(p) + len(a)] = torch.tensor(p + a)
        logits = model(input_ids=ids).logits  # [B, T, V]
        for i, ((p, a), e) in enumerate(zip(encoded, chunk)):
            got = logits[i, len(p) - 1 : len(p) - 1 + len(a)].argmax(-1).tolist()
            hits[e.kind].append(got == a)
    model.train(was_training)
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())}


class ClassCheck(Callback):
    """Every ``every`` steps: per-class held-out accuracy into the metrics; stop when all reach ``target`` twice."""

    def __init__(
        self,
        examples: Sequence[Example],
        every: int,
        target: float,
        out: Path,
        data: CurriculumData,
        gate: float | None = None,
    ) -> None:
        self.examples = list(examples)
        self.gate = gate
        self.every = every
        self.target = target
        self.out = out
        self.data = data
        self.streak = 0
        path = out / "class_check.json"
        self.history: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []

    def _advance(self, state: TrainState, acc: dict[str, float]) -> None:
        """``--phases gate``: start the next phase once this phase's skill (repeat, then lookup) reaches the gate."""
        phase = self.data.phase()
        if self.gate is None or phase >= len(GATE_SKILL):
            return
        if min(acc.get(k, 0.0) for k in GATE_SKILL[phase]) >= self.gate:
            self.data.bounds[phase] = state.step
            atomic_write_json(self.out / "phases.json", self.data.bounds)
            logger.info("step %d: %s reached %.2f, curriculum phase %d", state.step, GATE_SKILL[phase], self.gate, phase + 1)

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every:
            return
        acc = class_accuracy(state.model, self.examples)
        self._advance(state, acc)
        row = {"step": state.step, "elapsed_s": round(state.elapsed_s, 1), "phase": self.data.phase(), **acc}
        self.history = [h for h in self.history if h["step"] < state.step] + [row]
        atomic_write_json(self.out / "class_check.json", self.history)
        state.metrics.update({f"acc/{k}": v for k, v in acc.items()})
        logger.info("step %d (%.0f s): %s", state.step, state.elapsed_s, "  ".join(f"{k} {v:.2f}" for k, v in acc.items()))
        final_phase = self.data.phase() == len(PHASE_MIX) - 1
        self.streak = self.streak + 1 if final_phase and min(acc.values()) >= self.target else 0
        if self.streak >= 2:
            raise StopTraining


class TimeBudget(Callback):
    """End training (a checkpoint is written) once ``budget_s`` seconds of training have passed."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s

    def on_step_end(self, state: TrainState) -> None:
        if state.elapsed_s >= self.budget_s:
            logger.info("time budget of %.0f s reached at step %d", self.budget_s, state.step)
            raise StopTraining


def restrict_relations(names: str) -> None:
    """Ablation: keep only these relations (comma-separated) and no invented relation words."""
    global INVENTED_RELATION_SHARE
    keep = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in keep if n not in RELATIONS]
    if unknown or len(keep) < 2:
        raise SystemExit(f"--relations needs >= 2 of {', '.join(RELATIONS)}; got {names!r}")
    for name in list(RELATIONS):
        if name not in keep:
            del RELATIONS[name]
    INVENTED_RELATION_SHARE = 0.0


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    if args.relations:
        restrict_relations(args.relations)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gate = args.gate if args.phases == "gate" else None
    if gate is not None:
        saved = out / "phases.json"
        bounds = json.loads(saved.read_text()) if args.resume and saved.exists() else [10**9] * (len(PHASE_MIX) - 1)
        if not (args.resume and saved.exists()):
            bounds[: args.start_phase] = [0] * args.start_phase
    else:
        try:
            bounds = [int(b) for b in args.phases.split(",")]
        except ValueError:
            bounds = []
        if len(bounds) != len(PHASE_MIX) - 1:
            raise SystemExit(f"--phases needs 'gate' or {len(PHASE_MIX) - 1} step bounds, got {args.phases!r}")
    t0 = time.perf_counter()
    pools = []
    counts: Counter[str] = Counter()
    kept_total = 0
    for phase in range(len(PHASE_MIX)):
        world = World(random.Random(f"eren-demo-reader/train/{args.seed}/{phase}"))
        examples = [make_example(world, phase) for _ in range(args.examples)]
        flat, kept = pack_windows(examples, args.seq_len + 1)
        counts.update(f"phase{phase}/{e.kind}" for e in examples)
        kept_total += kept
        pools.append(PackedDataset(flat, args.seq_len))
    data = CurriculumData(pools, bounds)
    logger.info(
        "generated %d examples per phase (%d kept) in %.1f s; windows per phase %s",
        args.examples,
        kept_total,
        time.perf_counter() - t0,
        [len(p) for p in pools],
    )
    heldout = heldout_examples(args.heldout)
    cfg = TrainConfig(
        seq_len=args.seq_len,
        micro_batch_size=args.batch,
        global_batch_size=args.batch,
        max_steps=args.max_steps,
        lr=args.lr,
        warmup_steps=args.warmup,
        schedule=args.schedule,
        min_lr_ratio=args.min_lr_ratio,
        weight_decay=0.0,
        grad_clip=1.0,
        log_every=10,
        save_every=args.save_every,
        out_dir=str(out),
        seed=args.seed,
        resume=args.resume,
        progress=False,
    )
    check = ClassCheck(heldout, args.check_every, args.target, out, data, gate=gate)
    callbacks: list[Callback] = [PhaseClock(data), check]
    if args.time_budget > 0:
        callbacks.insert(0, TimeBudget(args.time_budget))
    build = build_model
    if args.init:
        init_dir = Path(args.init)

        def build() -> nn.Module:  # warm start: weights only (fresh optimizer, step 0)
            model = build_model()
            model.load_state_dict(_load_latest(init_dir).state_dict(), strict=True)
            logger.info("warm start from %s", init_dir)
            return model

    result = train(build, cfg, data, callbacks=callbacks, loss_fn=make_loss(args.answer_weight, args.lm_weight), device="cpu")
    final = class_accuracy(_load_latest(out), heldout)
    recipe = {
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "examples_per_phase": args.examples,
        "kinds": dict(sorted(counts.items())),
        "steps": result.step,
        "final_loss": result.final_loss,
        "train_elapsed_s": result.elapsed_s,
        "heldout_accuracy": final,
        "checks": check.history,
        "phase_bounds": data.bounds,
        "machine": f"{platform.machine()} CPU, {args.threads} thread(s)",
        "finished": timestamp(),
    }
    atomic_write_json(out / "recipe.json", recipe)
    logger.info("trained %d steps in %.0f s; held-out per class: %s", result.step, result.elapsed_s, final)


def _load_latest(out: Path) -> nn.Module:
    from lc_core.models.export import load_run_weights
    from lc_core.train import latest_checkpoint

    ckpt = latest_checkpoint(out)
    if ckpt is None:
        raise SystemExit(f"no checkpoint under {out}; run the train verb first")
    model = build_model()
    model.load_state_dict(load_run_weights(ckpt), strict=True)
    return model.eval()


def cmd_export(args: argparse.Namespace) -> None:
    from lc_core.models.export import export_run

    try:
        export_run(
            args.out,
            build_model,
            args.dest,
            generation={"eos_token_id": EOS, "pad_token_id": PAD, "do_sample": False, "max_new_tokens": MAX_NEW_TOKENS},
        )
    except FileNotFoundError as e:
        raise SystemExit(str(e)) from None


def greedy_eval(model: str, per_kind: int) -> dict[str, Any]:
    """Held-out generated examples decoded greedily through ``get_backend("hf")``: per-class exact accuracy."""
    from lc_core.inference import get_backend
    from lc_core.inference.base import GenerationConfig

    backend = get_backend("hf", model=model, device="cpu", disable_tqdm=True)
    examples = heldout_examples(per_kind)
    outs = backend.generate([e.prompt for e in examples], GenerationConfig(max_new_tokens=MAX_NEW_TOKENS, temperature=0.0))
    hits: dict[str, list[bool]] = defaultdict(list)
    rows = []
    for e, o in zip(examples, outs):
        hits[e.kind].append(o.strip() == e.target)
        rows.append({"kind": e.kind, "prompt": e.prompt, "target": e.target, "output": o})
    acc = {k: 100.0 * float(np.mean(v)) for k, v in sorted(hits.items())}
    return {
        "per_kind": per_kind,
        "accuracy": acc,
        "counts": {k: len(v) for k, v in sorted(hits.items())},
        "examples": rows[::per_kind],
    }


CARD = """# eren/demo-reader

A {n_params:,}-parameter GQA transformer over UTF-8 bytes (lc-core `lc-gqa`; ByT5 ids: pad 0, eos 1, byte b -> b + 3)
trained from scratch on one CPU core to play EREN's reader: read the notes, answer from the one that states the
question's subject and relation, otherwise say `unanswerable` (fact checking: `Yes` / `No` / `It's impossible to say`);
closed book it answers `unknown` (QA) and `no` (bool QA). It knows **no facts about the world**: it was trained only
on invented entities. It is the offline demo model of the `eren` README, not a useful editor of a real model.

```bash
eren ask --backend demo "Who is the president of Freedonia?"     # = --backend hf --model eren/demo-reader
```

```python
from lc_core.inference import get_backend
backend = get_backend("hf", model="eren/demo-reader")   # no network; registered via the lc_core.models entry point
```

Generation: greedy; answers are bytes, so give it `max_new_tokens` >= 32 (`It's impossible to say` is 22 bytes;
`eren --backend demo` uses {max_new}). Prompts: EREN's templates unchanged, with **k = {k} notes** (it was trained on
1-{k} notes per prompt; `eren --backend demo` defaults to `--k {k}`, so give `--k {k}` with `--backend hf`). Prompts
up to {seq_len} bytes were trained; with k = {k} the real CounterFact-Hard / FEVER prompts are 265-272 bytes (median).

## Model

`lc-gqa` ({shape}); fp32 safetensors; tokenizer: `ByT5Tokenizer(extra_ids=0)` files.

## Data (provenance and licence)

Generated by `tools/train_demo_reader.py` from its own templates ({n_rel} relations with 2-4 note and question
phrasings each, plus {inv:.0%} invented relation words; invented subjects and objects from a syllable generator). No
EREN, CounterFact, FEVER or HotpotQA text was used. The weights and the generated data are MIT-licensed, like eren.

## Recipe

```
{cmd}
python tools/train_demo_reader.py export --out runs/demo-reader
python tools/train_demo_reader.py card
```

- {init}
- Curriculum gated on held-out accuracy (`--phases {phases}`, gate {gate:.0%}; phase starts at steps {bounds}):
  phase 0 repeat 70 % / key-value lookup 30 % until repeat >= the gate; phase 1 repeat 30 % / lookup 70 % until
  lookup >= the gate; phase 2 repeat 10 % / lookup 20 % / QA reading + closed book 70 % until both QA classes
  (answer, abstain) >= the gate; phase 3 repeat 8 % / lookup 14 % / all reader prompts 78 %, fact checking added.
  Reader prompts: QA reading 60 % (half answerable: the matching note is among the k <= {k} notes, at a uniform
  rank; half unanswerable: the notes hold near misses -- the same subject with other relations, the same relation
  about other subjects), fact checking 25 % (Yes / No / impossible = 25 / 25 / 50 %), closed book 15 %.
- Loss: {answer_weight} x the loss on the answer bytes + {lm_weight} x the next-byte loss on the other bytes. AdamW,
  lr {lr} (constant after {warmup} warm-up steps), batch {batch} windows of {seq_len} bytes, {steps} steps,
  {minutes:.1f} min on {machine} (`nice -n 10`, shared box). Final training loss {final_loss:.4f}.
- Held-out check during training (teacher-forced exact answer, {n_heldout} generated examples per class, every
  {check_every} steps, in %):

{checks}

## Held-out generated accuracy (greedy, through the hf backend, exact string, in %)

{greedy}

## Limits

On the real CounterFact-Hard and FEVER files see the `eren` README ("Demo reader on the real data"): the model reads
real notes only as well as pattern matching over invented names taught it. It has no world knowledge, so its
closed-book answers are `unknown` / `no`, and real FEVER claims are far harder than the template claims it saw.
"""


def cmd_card(args: argparse.Namespace) -> None:
    dest = Path(args.model_dir)
    recipe = json.loads((dest / "train_recipe.json").read_text(encoding="utf-8"))
    ev = greedy_eval(str(dest), args.per_kind)
    atomic_write_json(dest / "eval.json", ev)
    a = recipe["args"]
    model = build_model()
    greedy_rows = [{"class": k, "examples": ev["counts"][k], "exact %": v} for k, v in ev["accuracy"].items()]
    check_rows = [
        {
            "step": c["step"],
            "phase": c["phase"],
            **{k.replace("aux-", ""): round(100 * v) for k, v in c.items() if k not in ("step", "elapsed_s", "phase")},
        }
        for c in recipe["checks"]
    ]
    if len(check_rows) > 10:
        check_rows = check_rows[:: max(1, len(check_rows) // 8)] + [check_rows[-1]]
    cmd = (
        f"OMP_NUM_THREADS=1 nice -n 10 python tools/train_demo_reader.py train --out runs/demo-reader "
        f"--examples {a['examples']} --seq-len {a['seq_len']} --batch {a['batch']} --lr {a['lr']} "
        f"--warmup {a['warmup']} --phases {a['phases']} --answer-weight {a['answer_weight']} "
        f"--lm-weight {a['lm_weight']} --max-steps {a['max_steps']} --time-budget {a['time_budget']} --seed {a['seed']} "
        f"--heldout {a['heldout']}" + (f" --init {a['init']}" if a.get("init") else "")
    )
    init = (
        f"Warm start: the weights of the third session's 4,101-step checkpoint ({a['init']}; same shape, trained 40 "
        "min on the previous fixed-step curriculum with k <= 5), then this recipe with a fresh optimizer."
        if a.get("init")
        else "Trained from scratch."
    )
    text = CARD.format(
        n_params=sum(p.numel() for p in model.parameters()),
        max_new=MAX_NEW_TOKENS,
        k=K_MAX,
        init=init,
        gate=a.get("gate", 0.9),
        bounds=recipe.get("phase_bounds", "-"),
        shape=", ".join(f"{k}={v}" for k, v in MODEL_KWARGS.items()),
        n_rel=len(RELATIONS),
        inv=INVENTED_RELATION_SHARE,
        cmd=cmd,
        phases=a["phases"],
        lm_weight=a["lm_weight"],
        answer_weight=a["answer_weight"],
        lr=a["lr"],
        warmup=a["warmup"],
        batch=a["batch"],
        seq_len=a["seq_len"],
        steps=recipe["steps"],
        minutes=recipe["train_elapsed_s"] / 60,
        machine=recipe["machine"],
        final_loss=recipe["final_loss"],
        n_heldout=a["heldout"],
        check_every=a["check_every"],
        checks=markdown_table(check_rows, precision=0),
        greedy=markdown_table(greedy_rows, precision=1),
    )
    atomic_write_text(dest / "README.md", text)
    for path in dest.iterdir():
        path.chmod(0o644)
    print(markdown_table(greedy_rows, precision=1))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("train", help="train the demo reader from scratch on CPU")
    p.add_argument("--out", default="runs/demo-reader")
    p.add_argument("--examples", type=int, default=40000, help="generated training examples per curriculum phase")
    p.add_argument("--heldout", type=int, default=24, help="generated held-out examples per class for the check")
    p.add_argument("--seq-len", type=int, default=383, help="window length - 1 in bytes (longer examples are dropped)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--schedule", default="constant", help="lc_core.train schedule: constant, cosine, wsd, ...")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="cosine/wsd: final lr / --lr")
    p.add_argument("--start-phase", type=int, default=0, help="--phases gate: begin at this curriculum phase")
    p.add_argument(
        "--phases",
        default="gate",
        help="steps at which phases 1, 2 and 3 of the curriculum begin, or 'gate': when the held-out repeat, then "
        "lookup, then QA reading (answer and abstain) accuracy reaches --gate",
    )
    p.add_argument("--gate", type=float, default=0.9, help="--phases gate: held-out exact accuracy that ends a phase")
    p.add_argument("--max-steps", type=int, default=20000, help="upper bound (with --time-budget)")
    p.add_argument("--time-budget", type=float, default=2400.0, help="training seconds (0: run --max-steps)")
    p.add_argument("--answer-weight", type=float, default=1.0)
    p.add_argument("--lm-weight", type=float, default=0.2, help="weight of the next-byte loss outside the answers")
    p.add_argument("--check-every", type=int, default=100)
    p.add_argument("--target", type=float, default=0.97, help="per-class held-out accuracy that ends training")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared, oversubscribed box)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--relations", default=None, help="ablation: only these relations (comma-separated), none invented")
    p.add_argument("--init", default=None, help="warm start: weights of the newest checkpoint of this run directory")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("export", help="write the newest checkpoint as the packaged HF folder")
    p.add_argument("--out", default="runs/demo-reader")
    p.add_argument("--dest", default=str(ASSET_DIR))
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("card", help="greedy held-out accuracy through the hf backend; writes eval.json + README.md")
    p.add_argument("--model-dir", default=str(ASSET_DIR))
    p.add_argument("--per-kind", type=int, default=40)
    p.set_defaults(func=cmd_card)
    args = parser.parse_args(argv)
    setup_logging()
    args.func(args)


if __name__ == "__main__":
    main()
