"""Benchmark: eren's notebook + dense index at 100k notes vs the original's approach, in one process.

Measured (invented notes from ``eren.synthetic``; the EREN data has only 1,024 notes):

1. Embedding throughput (notes/s): the packaged all-MiniLM-L6-v2 on ``--embed-sample`` notes, and the embedder the
   index is built with (``--embedder``: MiniLM by default; ``hash-384`` builds 100k notes in seconds -- search and
   add latencies do not depend on the embedding values, only on n x dim, but agreement and recall do).
2. Top-5 query latency p50/p95 at ``--n`` notes, one query at a time: search only, and search + MiniLM query
   embedding (what a real request pays); for eren's exact search (numpy matmul + partial sort), the faiss HNSW
   option (with its top-5 agreement with exact search) and the original's approach (a torch tensor cache,
   ``q @ cache.T`` + ``torch.topk``).
3. Adding one note to an n-note notebook: eren = SQLite insert + incremental index catch-up (embed one note, write one
   row); the original = re-embed every note and rebuild the tensor cache (measured with the index's embedder,
   extrapolated for MiniLM from its throughput).
4. Memory of each index.

Run::

    uv run python tools/bench/eren_scale.py                 # 100k notes embedded with MiniLM (~7 min on 2 cores)
    uv run python tools/bench/eren_scale.py --n 100000 --embedder hash-384   # index mechanics only, ~1 min
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from eren.editor import Editor
from eren.notebook import Notebook
from eren.retrieval import DenseRetriever, HashEmbedder, get_embedder
from eren.synthetic import make_facts
from lc_core.report import emit, machine_header, markdown_table


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="notes in the notebook")
    ap.add_argument("--queries", type=int, default=200, help="timed queries")
    ap.add_argument("--embedder", default="minilm", help="index embedder: minilm (default) or hash-384 (fast, lexical)")
    ap.add_argument("--embed-sample", type=int, default=512, help="notes embedded with MiniLM for its throughput")
    ap.add_argument("--ef-search", type=int, default=256, help="HNSW efSearch")
    ap.add_argument("--cache-emb", default=None, help="an .npy file: reuse the index embeddings (written on first run)")
    ap.add_argument("--rebuild-sample", type=int, default=2000, help="notes re-embedded to time the original's rebuild")
    ap.add_argument("--threads", type=int, default=2, help="torch and faiss threads (1 on a shared box)")
    ap.add_argument("--no-faiss", action="store_true", help="skip the faiss HNSW rows")
    ap.add_argument("--out", default="results/bench", help="results root (lc_core.report.emit)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    facts = make_facts(args.n, seed=0)
    notes = [f.note for f in facts]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, args.n, args.queries)
    queries = [facts[i].paraphrase for i in picks]
    rows = []
    record: dict = {"n": args.n, "queries": args.queries, "embedder": args.embedder, "machine": machine_header()}

    # 1. embedding throughput
    minilm = None
    try:
        minilm = get_embedder("minilm", device="cpu")
        minilm.encode(notes[:16])
        _, dt = timed(minilm.encode, notes[: args.embed_sample])
        record["minilm_notes_per_s"] = args.embed_sample / dt
        q_lat = []
        for q in queries[:50]:
            _, t = timed(minilm.encode, [q])
            q_lat.append(t * 1000)
        record["minilm_query_embed_ms_p50"] = pct(q_lat, 50)
    except ImportError as e:
        print(f"MiniLM not installed ({e}); skipping its rows")
    if args.embedder == "minilm" and minilm is not None:
        emb = minilm
    else:
        name = args.embedder
        emb = HashEmbedder(int(name.split("-")[1])) if name.startswith("hash") else get_embedder(name)

    # build the notebook + index the way a user does (one batch), timed
    tmp = Path(tempfile.mkdtemp(prefix="eren-bench-"))
    nb = Notebook(tmp / "notes.db")
    _, t_insert = timed(nb.add_many, notes)
    retriever = DenseRetriever(emb, ef_search=args.ef_search)
    cache_file = Path(args.cache_emb) if args.cache_emb else None
    cached_run = cache_file is not None and cache_file.is_file()
    if cached_run:
        # reuse embeddings of an earlier run: index build time is then not measured
        cached = np.load(cache_file)
        retriever.sync([])
        retriever.emb = cached
        retriever.ids = np.arange(len(cached), dtype=np.int64)
        from eren.retrieval import text_hash

        retriever.hashes = [text_hash(t) for t in notes]
        retriever.revision, retriever.notebook_uid = nb.revision, nb.uid
    ed = Editor(None, nb, retriever)  # type: ignore[arg-type]
    _, t_index = timed(ed.sync)
    if cache_file is not None and not cached_run:
        np.save(cache_file, ed.retriever.emb)
    retr: DenseRetriever = ed.retriever  # type: ignore[assignment]
    record["sqlite_insert_s"] = t_insert
    if cache_file is None or not cached_run:
        record["index_build_s"] = t_index
        record["index_embed_notes_per_s"] = args.n / t_index
    qv = emb.encode(queries)  # [Q, d]
    qembed_ms = record.get("minilm_query_embed_ms_p50", 0.0)

    # 2a. eren exact search
    lat = []
    exact_hits = []
    exact_scores = []
    for i in range(len(queries)):
        hits, t = timed(retr.search_vectors, qv[i : i + 1], 5)
        lat.append(t * 1000)
        exact_hits.append([h.id for h in hits[0]])
        exact_scores.append(np.array([h.score for h in hits[0]]))

    def same_top5(i: int, scores) -> bool:
        # ties make id sets ambiguous: an approximate top-5 is right when its scores are the exact top-5 scores
        return bool(np.allclose(np.sort(np.asarray(scores, dtype=np.float64))[::-1], exact_scores[i], atol=1e-4))

    recall = np.mean([facts_id in h for facts_id, h in zip(picks.tolist(), exact_hits)])
    mem = retr.emb.nbytes
    rows.append(
        {
            "method": "eren exact (numpy)",
            "p50 ms": pct(lat, 50),
            "p95 ms": pct(lat, 95),
            "p50 + MiniLM query ms": pct(lat, 50) + qembed_ms,
            "top-5 agree": 1.0,
            "memory MiB": mem / 2**20,
            "recall@5 own note": float(recall),
        }
    )

    # 2b. faiss HNSW
    if not args.no_faiss:
        try:
            import faiss

            faiss.omp_set_num_threads(args.threads)
            _, t_build = timed(retr._ann)
            lat, agree = [], []
            for i in range(len(queries)):
                hits, t = timed(retr.search_vectors, qv[i : i + 1], 5, approximate=True)
                lat.append(t * 1000)
                agree.append(same_top5(i, [h.score for h in hits[0]]))
            size = len(faiss.serialize_index(retr._ann_index))
            rows.append(
                {
                    "method": f"eren faiss HNSW (M=32, ef={args.ef_search})",
                    "p50 ms": pct(lat, 50),
                    "p95 ms": pct(lat, 95),
                    "p50 + MiniLM query ms": pct(lat, 50) + qembed_ms,
                    "top-5 agree": float(np.mean(agree)),
                    "memory MiB": size / 2**20,
                    "recall@5 own note": None,
                }
            )
            record["faiss_build_s"] = t_build
        except ImportError:
            print("faiss not installed; skipping its row (pip install 'eren[ann]')")

    # 2c. the original: torch tensor cache, matmul + topk
    cache = torch.from_numpy(retr.emb.copy())
    qt = torch.from_numpy(qv)
    lat = []
    agree = []
    for i in range(len(queries)):
        t0 = time.perf_counter()
        scores = qt[i : i + 1] @ cache.T
        top = torch.topk(scores, k=5, dim=1)
        lat.append((time.perf_counter() - t0) * 1000)
        agree.append(same_top5(i, top.values[0].tolist()))
    rows.append(
        {
            "method": "original (torch matmul + topk)",
            "p50 ms": pct(lat, 50),
            "p95 ms": pct(lat, 95),
            "p50 + MiniLM query ms": pct(lat, 50) + qembed_ms,
            "top-5 agree": float(np.mean(agree)),
            "memory MiB": cache.numel() * 4 / 2**20,
            "recall@5 own note": None,
        }
    )

    # 3. add one note
    add_ms = []
    for j in range(5):
        t0 = time.perf_counter()
        nb.add(f"The capital of Benchland{j} is Newtown{j}")
        ed.sync()
        add_ms.append((time.perf_counter() - t0) * 1000)
    assert len(ed.retriever) == args.n + 5
    record["eren_add_one_ms_p50"] = statistics.median(add_ms)
    # the original: re-embed everything and rebuild the cache (timed on --rebuild-sample notes, scaled to n + 1)
    sample = notes[: min(args.rebuild_sample, args.n)]
    t0 = time.perf_counter()
    rebuilt = torch.from_numpy(emb.encode(sample))
    t_rebuild = (time.perf_counter() - t0) * (args.n + 1) / len(sample)
    del rebuilt
    record["original_add_one_s_index_embedder"] = t_rebuild
    if "minilm_notes_per_s" in record:
        record["original_add_one_s_minilm_extrapolated"] = (args.n + 1) / record["minilm_notes_per_s"]

    table = markdown_table(rows, precision=3)
    print(f"n = {args.n} notes, {args.queries} queries, index embedder {emb.name}, torch threads {torch.get_num_threads()}")
    print(table)
    for k, v in record.items():
        if k != "machine":
            print(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    record["rows"] = rows
    emit(args.out, "eren_scale", record, table, packages=["eren"])
    nb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
