"""Benchmark: eren's BM25 (bm25s, sparse matrices) vs rank-bm25 (the peer: pure Python/numpy), in one process.

1. Real data (``shared/data/eren/cfh_filtered.json`` when present): Recall@1/@5 of each in-scope question's own edit
   note among the 1,024 notes, index time, queries/s -- same ``\\w+`` lower-case tokens for both.
2. Scale: ``--n`` invented notes (``eren.synthetic``): index time and one-query latency p50 for both, and the ratio.

Run::

    uv run python tools/bench/eren_retrieval.py                 # 100k notes
    uv run python tools/bench/eren_retrieval.py --n 20000 --peer-queries 10
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np

from eren.data import load_dataset
from eren.retrieval import BM25Retriever
from eren.synthetic import make_facts
from lc_core.report import emit, machine_header, markdown_table
from lc_core.testing import shared_data_dir


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def peer_index(notes: list[str]):
    from rank_bm25 import BM25Okapi

    return BM25Okapi([tokens(n) for n in notes])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="invented notes for the scale rows")
    ap.add_argument("--queries", type=int, default=200, help="timed queries for eren")
    ap.add_argument("--peer-queries", type=int, default=20, help="timed queries for rank-bm25 (slow at 100k)")
    ap.add_argument("--out", default="results/bench", help="results root (lc_core.report.emit)")
    args = ap.parse_args()
    rows = []
    record: dict = {"machine": machine_header()}

    cfh = shared_data_dir("eren", "cfh_filtered.json")
    if cfh is not None:
        ds = load_dataset(cfh)
        notes = ds.notes
        own = {r.id: i for i, r in enumerate(ds.edited)}
        qs = [q for q in ds.queries if q.bucket == "edit"]
        texts = [q.text for q in qs]
        gold = np.array([own[q.record] for q in qs])
        ours = BM25Retriever()
        t0 = time.perf_counter()
        ours.add(list(range(len(notes))), notes)
        ours.search(texts[:1], 5)
        t_idx = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits = ours.search(texts, 5)
        t_q = time.perf_counter() - t0
        top = np.array([[h.id for h in hs] for hs in hits])
        rows.append(
            {
                "system": "eren BM25 (bm25s)",
                "data": "CFH 1,024 notes",
                "R@1": float(np.mean(top[:, 0] == gold)),
                "R@5": float(np.mean((top == gold[:, None]).any(1))),
                "index s": t_idx,
                "queries/s": len(texts) / t_q,
            }
        )
        t0 = time.perf_counter()
        peer = peer_index(notes)
        t_idx = time.perf_counter() - t0
        t0 = time.perf_counter()
        ptop = np.array([np.argsort(-peer.get_scores(tokens(q)), kind="stable")[:5] for q in texts])
        t_q = time.perf_counter() - t0
        rows.append(
            {
                "system": "rank-bm25 BM25Okapi",
                "data": "CFH 1,024 notes",
                "R@1": float(np.mean(ptop[:, 0] == gold)),
                "R@5": float(np.mean((ptop == gold[:, None]).any(1))),
                "index s": t_idx,
                "queries/s": len(texts) / t_q,
            }
        )
        record["cfh_speedup_queries"] = rows[-2]["queries/s"] / rows[-1]["queries/s"]
    else:
        print("real CFH data not found (shared/data/eren/cfh_filtered.json): skipping the recall rows")

    facts = make_facts(args.n, seed=0)
    notes = [f.note for f in facts]
    picks = np.random.default_rng(0).integers(0, args.n, args.queries)
    qs = [facts[i].paraphrase for i in picks]
    ours = BM25Retriever()
    t0 = time.perf_counter()
    ours.add(list(range(len(notes))), notes)
    ours.search(qs[:1], 5)
    t_idx = time.perf_counter() - t0
    lat = []
    hit = 0
    for q, i in zip(qs, picks):
        t0 = time.perf_counter()
        hs = ours.search([q], 5)[0]
        lat.append((time.perf_counter() - t0) * 1000)
        hit += int(i) in {h.id for h in hs}
    rows.append(
        {
            "system": "eren BM25 (bm25s)",
            "data": f"{args.n:,} invented notes",
            "R@1": None,
            "R@5": hit / len(qs),
            "index s": t_idx,
            "queries/s": 1000 / float(np.median(lat)),
        }
    )
    t0 = time.perf_counter()
    peer = peer_index(notes)
    t_idx = time.perf_counter() - t0
    plat = []
    for q in qs[: args.peer_queries]:
        t0 = time.perf_counter()
        np.argsort(-peer.get_scores(tokens(q)))[:5]
        plat.append((time.perf_counter() - t0) * 1000)
    rows.append(
        {
            "system": "rank-bm25 BM25Okapi",
            "data": f"{args.n:,} invented notes",
            "R@1": None,
            "R@5": None,
            "index s": t_idx,
            "queries/s": 1000 / float(np.median(plat)),
        }
    )
    record["scale_p50_ms_eren"] = float(np.median(lat))
    record["scale_p50_ms_peer"] = float(np.median(plat))
    record["scale_speedup_query"] = float(np.median(plat) / np.median(lat))
    table = markdown_table(rows, precision=3)
    print(table)
    for k, v in record.items():
        if k != "machine":
            print(f"{k}: {v:.4g}")
    record["rows"] = rows
    emit(args.out, "eren_retrieval", record, table, packages=["eren"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
