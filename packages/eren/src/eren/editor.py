"""The editor: notebook + retriever + reader behind one object, and as an lc-core backend (for ``eren serve``).

::

    from lc_core.inference import get_backend
    from eren.editor import Editor

    ed = Editor(get_backend("openai", model="qwen", base_url="http://127.0.0.1:8000/v1"), notebook="edits.db")
    ed.edit(["The president of Freedonia is Rufus T. Firefly."])
    ed.ask(["Who is the president of Freedonia?"])[0].answer
    ed.as_backend()       # an lc-core Backend whose every request reads the notes: serve it, evaluate it

Retrieval always reflects the notebook as it is now: when another process adds notes (``eren add`` while ``eren
serve`` runs), the next request re-syncs the index (only the changed notes are re-indexed). Conflicting notes: notes
sharing a ``key`` are filtered so only the newest is shown to the reader (:mod:`eren.notebook`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from eren.notebook import Note, Notebook
from eren.reader import Answer, Reader, ReaderConfig
from eren.retrieval import Retriever, get_retriever, open_index
from lc_core.inference.base import Backend, GenerationConfig, Prompt
from lc_core.logging import get_logger

__all__ = ["Editor", "EditedBackend"]

logger = get_logger(__name__)


class Editor:
    """Edit a model by reading notes.

    Args:
        backend: the reader model (any lc-core backend).
        notebook: a :class:`Notebook`, a path to one, or None (in memory).
        retriever: ``bm25`` / ``dense`` / ``hybrid`` or a :class:`Retriever`.
        config: the reader's method and settings.
    """

    def __init__(
        self,
        backend: Backend,
        notebook: Notebook | str | os.PathLike[str] | None = None,
        retriever: Retriever | str = "bm25",
        config: ReaderConfig | None = None,
    ) -> None:
        self.backend = backend
        self.notebook = notebook if isinstance(notebook, Notebook) else Notebook(notebook or ":memory:")
        self.retriever = get_retriever(retriever) if isinstance(retriever, str) else retriever
        self.reader = Reader(backend, config)
        self._synced: tuple[str, int] | None = None

    @property
    def config(self) -> ReaderConfig:
        return self.reader.config

    def edit(self, statements: Sequence[str] | str, *, source: str | None = None, keys: Sequence[str | None] | None = None):
        """Add statements as notes; returns their ids."""
        if isinstance(statements, str):
            statements = [statements]
        return self.notebook.add_many(statements, source=source, keys=keys)

    def sync(self) -> Retriever:
        """Bring the index up to date with the notebook (loaded/saved next to a file notebook)."""
        state = (self.notebook.uid, self.notebook.revision)
        if self._synced != state:
            self.retriever = open_index(self.notebook, self.retriever)
            self._synced = state
        return self.retriever

    def retrieve(self, queries: Sequence[str], k: int | None = None) -> list[list[tuple[Note, float]]]:
        """Per query, up to ``k`` live notes with their scores, best first, superseded notes (same key, older) dropped."""
        k = k or self.config.k
        retriever = self.sync()
        extra = k + 5
        hits = retriever.search(list(queries), extra)
        notes = {n.id: n for n in self.notebook.get_many(sorted({h.id for hs in hits for h in hs}))}
        newest = self.notebook.newest_by_key(n.key for n in notes.values() if n.key is not None)
        out = []
        for hs in hits:
            row = []
            for h in hs:
                n = notes.get(h.id)
                if n is None or (n.key is not None and newest.get(n.key) != n.id):
                    continue
                row.append((n, h.score))
            out.append(row[:k])
        return out

    def ask(self, queries: Sequence[str] | str) -> list[Answer]:
        """Answer questions (or judge claims) with the edited model."""
        if isinstance(queries, str):
            queries = [queries]
        queries = list(queries)
        if self.config.method == "unedited":
            return self.reader.answer(queries, [[] for _ in queries])
        found = self.retrieve(queries)
        notes = [[n.text for n, _ in row] for row in found]
        scores = [[s for _, s in row] for row in found]
        return self.reader.answer(queries, notes, scores)

    def as_backend(self) -> EditedBackend:
        """This editor as an lc-core :class:`~lc_core.inference.base.Backend`."""
        return EditedBackend(self)

    def close(self) -> None:
        self.notebook.close()


def _query_of(prompt: Prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m.get("role") == "user"]
    if not users:
        raise ValueError("a chat request needs a user message (the question)")
    return users[-1]


class EditedBackend(Backend):
    """An :class:`Editor` behind the backend interface: each prompt is a question (a chat request's last user
    message), answered by the edited model. Decoding settings come from the editor's reader config (greedy, the
    original's token limits), so a request's ``max_tokens``/``temperature`` are ignored.

    Attributes:
        last: the :class:`~eren.reader.Answer` of each query of the latest ``generate`` call, by query text.
    """

    name = "eren"

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.last: dict[str, Answer] = {}
        self.model_name = f"eren/{getattr(editor.backend, 'model_name', editor.backend.name)}"

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        self._configs(len(prompts), config)
        queries = [_query_of(p) for p in prompts]
        answers = self.editor.ask(queries)
        self.last = {a.query: a for a in answers}
        return [a.answer for a in answers]

    def encode(self, text: str) -> list[int]:
        return self.editor.backend.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.editor.backend.decode(ids)

    def close(self) -> None:
        self.editor.backend.close()


def answer_fields(backend: EditedBackend, query: str) -> dict[str, Any]:
    """Row fields for one evaluated query (abstention, step-1 output, notes shown)."""
    a = backend.last.get(query)
    if a is None:
        return {}
    return {"abstained": a.abstained, "step1": a.step1, "notes": a.notes, "calls": a.calls}
