"""The reader: EREN's abstain-and-fall-back protocol and the baselines, on any lc-core backend.

::

    from lc_core.inference import get_backend
    from eren.reader import Reader, ReaderConfig

    reader = Reader(get_backend("hf", model="google/flan-t5-xl"), ReaderConfig(task="qa"))
    reader.answer(["Who is the president of Freedonia?"], [["The president of Freedonia is Rufus T. Firefly"]])

Methods (``ReaderConfig.method``):

- ``eren``: one generation over the retrieved notes that may answer "unanswerable" (QA) / "It's impossible to say"
  (fact checking); on an abstention -- and only then -- one closed-book call with the unedited prompt, whose output is
  returned (so under greedy decoding it *is* the unedited answer). No notes retrieved -> closed-book directly.
- ``one-step``: the same reading prompt without the abstain option (the paper's ablation).
- ``unedited``: closed-book only.
- ``serac``: SERAC-style scope classifier on the same retriever: in scope when the top-1 note's score reaches
  ``serac_threshold``; in scope -> one-step reading of that note (the counterfactual model), else closed-book.
- ``ike``: IKE-style in-context editing: fixed demonstrations (copy / update / retain) then the retrieved notes as
  "New fact" lines and the question; no abstention, no second call.

Generation is greedy with the original's limits (20 new tokens free-form, 10 with options); prompts are batched per
step. ``chat=True`` sends each prompt as one user message (instruction models); abstention parsing is tolerant
(:func:`eren.prompts.is_abstention`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eren.prompts import build_context, closed_book_prompt, is_abstention, max_new_tokens, reading_prompt
from lc_core.inference.base import Backend, GenerationConfig
from lc_core.logging import get_logger

__all__ = ["ReaderConfig", "Answer", "Reader", "METHODS", "ike_prompt", "IKE_DEMOS"]

logger = get_logger(__name__)

METHODS = ("eren", "one-step", "unedited", "serac", "ike")

# IKE-style demonstrations over invented facts: copy (the fact answers the question), update (a paraphrase), retain
# (the fact is irrelevant: answer from what you know)
IKE_DEMOS = (
    ("The mayor of Quillford is Nadia Brenn", "Who is the mayor of Quillford?", "Nadia Brenn"),
    ("The Varro Bridge spans the river Odeline", "Which river does the Varro Bridge cross?", "Odeline"),
    ("Tomas Ekker plays the cello", "What is the capital of France?", "Paris"),
)


def ike_prompt(query: str, notes: Sequence[str]) -> str:
    """Demonstrations, then ``New fact: <note>.`` lines (best first) and ``Question: <q>\\nAnswer:``."""
    parts = [f"New fact: {f}.\nQuestion: {q}\nAnswer: {a}" for f, q, a in IKE_DEMOS]
    facts = "".join(f"New fact: {n}.\n" for n in notes)
    parts.append(f"{facts}Question: {query}\nAnswer:")
    return "\n\n".join(parts)


@dataclass(kw_only=True)
class ReaderConfig:
    """How the reader reads.

    Args:
        task: ``qa`` (free-form answers) or ``fc`` (fact checking: Yes / No / It's impossible to say).
        method: one of :data:`METHODS`.
        k: notes retrieved per query (the original's ``num_context_examples``).
        chat: send prompts as a user message (instruction/chat models).
        max_new_tokens: override of the original's limits (20 free-form, 10 with options).
        abstain_forms: extra strings accepted as an abstention.
        serac_threshold: the ``serac`` method's in-scope threshold on the top-1 retrieval score.
        stop: stop strings (e.g. ``["\\n"]`` for causal models).
    """

    task: str = "qa"
    method: str = "eren"
    k: int = 5
    chat: bool = False
    max_new_tokens: int | None = None
    abstain_forms: tuple[str, ...] = ()
    serac_threshold: float = 0.5
    stop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.task not in ("qa", "fc"):
            raise ValueError(f"task must be 'qa' or 'fc', got {self.task!r}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; known: {', '.join(METHODS)}")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")

    def generation(self) -> GenerationConfig:
        n = self.max_new_tokens if self.max_new_tokens is not None else max_new_tokens(self.task)
        return GenerationConfig(max_new_tokens=n, temperature=0.0, chat=self.chat, stop=list(self.stop))


@dataclass
class Answer:
    """What the reader did for one query.

    Attributes:
        query: the input.
        answer: the final output.
        abstained: step 1 abstained (so ``answer`` is the closed-book fallback).
        step1: the reading step's raw output (None when no reading happened).
        notes: the notes shown to the reader, in prompt order.
        calls: backend generations spent on this query.
    """

    query: str
    answer: str
    abstained: bool = False
    step1: str | None = None
    notes: list[str] = field(default_factory=list)
    calls: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "answer": self.answer,
            "abstained": self.abstained,
            "step1": self.step1,
            "notes": list(self.notes),
            "calls": self.calls,
        }


class Reader:
    """Runs one method over queries and their retrieved notes.

    Args:
        backend: any lc-core backend (hf, openai, vllm) or a test backend.
        config: the method and decoding settings.
    """

    def __init__(self, backend: Backend, config: ReaderConfig | None = None) -> None:
        self.backend = backend
        self.config = config or ReaderConfig()

    def _generate(self, prompts: list[str]) -> list[str]:
        if not prompts:
            return []
        outs = self.backend.generate(prompts, self.config.generation())
        if len(outs) != len(prompts):
            raise RuntimeError(f"backend returned {len(outs)} outputs for {len(prompts)} prompts")
        return [o.strip() for o in outs]

    def closed_book(self, queries: Sequence[str]) -> list[str]:
        """The unedited model's answers (the fallback prompt)."""
        return self._generate([closed_book_prompt(self.config.task, q) for q in queries])

    def answer(
        self,
        queries: Sequence[str],
        notes: Sequence[Sequence[str]],
        scores: Sequence[Sequence[float]] | None = None,
    ) -> list[Answer]:
        """Answer each query given its retrieved notes (best first).

        Args:
            queries: questions (QA) or claims (fact checking).
            notes: per query, the note texts in retrieval order (at most ``k`` are used).
            scores: per query, the retrieval scores (needed by ``serac``).
        """
        cfg = self.config
        if len(notes) != len(queries):
            raise ValueError(f"{len(notes)} note lists for {len(queries)} queries")
        out = [Answer(q, "", notes=list(n[: cfg.k])) for q, n in zip(queries, notes)]
        if cfg.method == "serac":
            if scores is None:
                raise ValueError("the serac method needs retrieval scores")
            for a, s in zip(out, scores):
                in_scope = bool(len(s)) and float(s[0]) >= cfg.serac_threshold
                a.notes = a.notes[:1] if in_scope else []
        closed = [i for i, a in enumerate(out) if cfg.method == "unedited" or not a.notes]
        reading = [i for i, a in enumerate(out) if i not in set(closed)]
        if reading:
            if cfg.method == "ike":
                prompts = [ike_prompt(out[i].query, out[i].notes) for i in reading]
            else:
                one_step = cfg.method in ("one-step", "serac")
                prompts = [reading_prompt(cfg.task, out[i].query, out[i].notes, one_step=one_step) for i in reading]
            for i, text in zip(reading, self._generate(prompts)):
                a = out[i]
                a.step1, a.answer, a.calls = text, text, 1
                if cfg.method == "eren" and is_abstention(text, cfg.abstain_forms):
                    a.abstained = True
                    closed.append(i)
        closed.sort()
        for i, text in zip(closed, self.closed_book([out[i].query for i in closed])):
            out[i].answer = text
            out[i].calls += 1
        return out

    @staticmethod
    def context(notes: Sequence[str]) -> str:
        """The context block the reading prompt shows."""
        return build_context(notes)
