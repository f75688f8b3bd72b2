"""Benchmark: eren's hybrid retrieval (bm25s + dense, reciprocal-rank fusion) vs the usual hand-rolled peer, one process.

The peer is what a user writes without eren: ``rank_bm25.BM25Okapi`` + ``sentence_transformers.util.semantic_search``
fused by reciprocal rank in Python (same ``rrf_k`` = 60 and candidate depth 50 as eren). Both get the *same* MiniLM
vectors (notes and queries embedded once, up front), so the timings compare the retrieval + fusion machinery, not
the embedding model (which costs both the same).

1. Real data (``shared/data/eren``): CounterFact-Hard in-scope questions vs the 1,024 notes (own note Recall@1/@5)
   and HotpotQA questions vs the 1,024 paragraphs of the seeded edited half (both gold paragraphs / at least one in
   the top 5, spec §8 item 24), for eren BM25, dense, hybrid and the peer hybrid; queries/s of the two hybrids.
2. Scale: ``--n`` invented notes (``eren.synthetic``, hash-384 vectors: timings depend on n x dim, not on the values)
   -- one-query latency p50 of the two hybrids and the ratio.

Run::

    uv run python tools/bench/eren_hybrid.py                     # real files + 100k notes
    uv run python tools/bench/eren_hybrid.py --n 20000 --peer-queries 10
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence

import numpy as np

from eren.data import load_dataset
from eren.notebook import clean_note
from eren.retrieval import BM25Retriever, DenseRetriever, Embedder, HashEmbedder, HybridRetriever, get_embedder
from eren.synthetic import make_facts
from lc_core.report import emit, machine_header, markdown_table
from lc_core.testing import shared_data_dir

RRF_K = 60
DEPTH = 50


class CachedEmbedder(Embedder):
    """Vectors computed once for known texts (both systems then pay no embedding cost)."""

    def __init__(self, name: str, table: dict[str, np.ndarray], dim: int) -> None:
        self.name, self.table, self.dim = name, table, dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class PeerHybrid:
    """rank-bm25 + sentence-transformers semantic_search + reciprocal-rank fusion in Python."""

    def __init__(self, notes: list[str], emb: np.ndarray) -> None:
        import torch
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi([tokens(n) for n in notes])
        self.emb = torch.from_numpy(emb)

    def search(self, queries: list[str], qv: np.ndarray, k: int = 5) -> list[list[int]]:
        import torch
        from sentence_transformers import util

        dense = util.semantic_search(torch.from_numpy(qv), self.emb, top_k=DEPTH)
        out = []
        for q, dh in zip(queries, dense):
            scores = self.bm25.get_scores(tokens(q))
            bh = np.argsort(-scores, kind="stable")[:DEPTH]
            fused: dict[int, float] = {}
            for rank, h in enumerate(dh):
                fused[h["corpus_id"]] = fused.get(h["corpus_id"], 0.0) + 1.0 / (RRF_K + rank + 1)
            for rank, i in enumerate(bh.tolist()):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
            out.append(sorted(fused, key=lambda i: (-fused[i], i))[:k])
        return out


def ours(kind: str, notes: list[str], embedder: Embedder) -> object:
    ids = list(range(len(notes)))
    r = {"bm25": BM25Retriever, "dense": lambda: DenseRetriever(embedder), "hybrid": None}[kind]
    retriever = HybridRetriever(DenseRetriever(embedder), BM25Retriever(), rrf_k=RRF_K, depth=DEPTH) if r is None else r()
    retriever.add(ids, notes)
    return retriever


def real_rows(args: argparse.Namespace, rows: list[dict], record: dict) -> None:
    cfh, hot = shared_data_dir("eren", "cfh_filtered.json"), shared_data_dir("eren", "hotpot.json")
    if cfh is None or hot is None:
        print("real data not found (shared/data/eren): skipping the recall rows")
        return
    minilm = get_embedder("minilm", device="cpu")
    for name, path in (("CFH", cfh), ("HotpotQA", hot)):
        ds = load_dataset(path)
        notes = [clean_note(n) for n in ds.notes]
        qs = [q for q in ds.queries if q.bucket == "edit"]
        texts = [q.text for q in qs]
        t0 = time.perf_counter()
        nv, qv = minilm.encode(notes), minilm.encode(texts)
        record[f"{name}_minilm_embed_s"] = time.perf_counter() - t0
        table = {**dict(zip(notes, nv)), **dict(zip(texts, qv))}
        emb = CachedEmbedder("minilm-cached", table, nv.shape[1])
        owner: list[set[int]] = []
        start = 0
        first: dict[object, int] = {}
        for r in ds.edited:
            first[r.id] = start
            start += len(r.statements)
        size = {r.id: len(r.statements) for r in ds.edited}
        owner = [set(range(first[q.record], first[q.record] + size[q.record])) for q in qs]

        def score(tops: list[list[int]], name: str = name, owner: list[set[int]] = owner) -> dict[str, float]:
            if name == "CFH":
                return {
                    "R@1 / both": float(np.mean([t[0] in g for t, g in zip(tops, owner)])),
                    "R@5 / one": float(np.mean([bool(g & set(t)) for t, g in zip(tops, owner)])),
                }
            return {
                "R@1 / both": float(np.mean([g <= set(t) for t, g in zip(tops, owner)])),
                "R@5 / one": float(np.mean([bool(g & set(t)) for t, g in zip(tops, owner)])),
            }

        for kind in ("bm25", "dense", "hybrid"):
            r = ours(kind, notes, emb)
            t0 = time.perf_counter()
            hits = r.search(texts, 5)  # type: ignore[attr-defined]
            dt = time.perf_counter() - t0
            rows.append(
                {
                    "system": f"eren {kind}",
                    "data": name,
                    **score([[h.id for h in hs] for hs in hits]),
                    "queries/s": len(texts) / dt,
                }
            )
        peer = PeerHybrid(notes, nv)
        t0 = time.perf_counter()
        tops = peer.search(texts, qv)
        dt = time.perf_counter() - t0
        rows.append(
            {
                "system": "peer hybrid (rank-bm25 + ST semantic_search + RRF)",
                "data": name,
                **score(tops),
                "queries/s": len(texts) / dt,
            }
        )
        record[f"{name}_hybrid_speedup"] = rows[-2]["queries/s"] / rows[-1]["queries/s"]


def scale_rows(args: argparse.Namespace, rows: list[dict], record: dict) -> None:
    facts = make_facts(args.n, seed=0)
    notes = [f.note for f in facts]
    picks = np.random.default_rng(0).integers(0, args.n, args.queries)
    qs = [facts[i].paraphrase for i in picks]
    hasher = HashEmbedder(384)
    nv, qv = hasher.encode(notes), hasher.encode(qs)
    emb = CachedEmbedder("hash-cached", {**dict(zip(notes, nv)), **dict(zip(qs, qv))}, 384)
    t0 = time.perf_counter()
    r = ours("hybrid", notes, emb)
    r.search(qs[:1], 5)  # type: ignore[attr-defined]
    t_idx = time.perf_counter() - t0
    lat, hit = [], 0
    for q, i in zip(qs, picks):
        t0 = time.perf_counter()
        hs = r.search([q], 5)[0]  # type: ignore[attr-defined]
        lat.append((time.perf_counter() - t0) * 1000)
        hit += int(i) in {h.id for h in hs}
    rows.append(
        {
            "system": "eren hybrid",
            "data": f"{args.n:,} invented notes",
            "R@1 / both": None,
            "R@5 / one": hit / len(qs),
            "queries/s": 1000 / float(np.median(lat)),
        }
    )
    t0 = time.perf_counter()
    peer = PeerHybrid(notes, nv)
    t_peer_idx = time.perf_counter() - t0
    plat = []
    for j, q in enumerate(qs[: args.peer_queries]):
        t0 = time.perf_counter()
        peer.search([q], qv[j : j + 1])
        plat.append((time.perf_counter() - t0) * 1000)
    rows.append(
        {
            "system": "peer hybrid (rank-bm25 + ST semantic_search + RRF)",
            "data": f"{args.n:,} invented notes",
            "R@1 / both": None,
            "R@5 / one": None,
            "queries/s": 1000 / float(np.median(plat)),
        }
    )
    record.update(
        scale_index_s_eren=t_idx,
        scale_index_s_peer=t_peer_idx,
        scale_p50_ms_eren=float(np.median(lat)),
        scale_p95_ms_eren=float(np.percentile(lat, 95)),
        scale_p50_ms_peer=float(np.median(plat)),
        scale_speedup_query=float(np.median(plat) / np.median(lat)),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="invented notes for the scale rows (0: skip)")
    ap.add_argument("--queries", type=int, default=200, help="timed one-at-a-time queries for eren at scale")
    ap.add_argument("--peer-queries", type=int, default=20, help="timed queries for the peer at scale (slow)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--out", default="results/bench", help="results root (lc_core.report.emit)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    record: dict = {"machine": machine_header(), "rrf_k": RRF_K, "depth": DEPTH}
    real_rows(args, rows, record)
    if args.n:
        scale_rows(args, rows, record)
    table = markdown_table(rows, precision=3)
    print(table)
    for k, v in record.items():
        if k != "machine":
            print(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    record["rows"] = rows
    emit(args.out, "eren_hybrid", record, table, packages=["eren"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
