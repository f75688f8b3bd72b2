"""Editor: edits, newest-wins conflicts, notes added while serving, the edited model on lc-core's server."""

from __future__ import annotations

import pytest

from eren.editor import Editor
from eren.reader import ReaderConfig
from eren.retrieval import BM25Retriever, DenseRetriever, HashEmbedder
from eren.scripted import ScriptedReader


def test_edit_and_ask_with_fallback():
    ed = Editor(ScriptedReader(closed_book={"Where was Marx born?": "Trier"}))
    assert ed.ask("Who is the president of Freedonia?")[0].answer == "unknown"  # empty notebook: closed book
    assert ed.edit(["The president of Freedonia is Rufus T. Firefly.", "The capital of Sylvania is Trentino."]) == [0, 1]
    a, b = ed.ask(["Who is the president of Freedonia?", "Where was Marx born?"])
    assert a.answer == "Rufus T. Firefly" and not a.abstained
    assert b.answer == "Trier" and b.abstained and b.calls == 2


def test_newest_note_wins_for_the_same_fact():
    ed = Editor(ScriptedReader(), retriever=BM25Retriever(), config=ReaderConfig(k=5))
    ed.edit("The president of Freedonia is Rufus T. Firefly", keys=["freedonia|president"])
    ed.edit("The capital of Freedonia is Fredville")
    ed.edit("The president of Freedonia is Chicolini", keys=["freedonia|president"])
    (row,) = ed.retrieve(["Who is the president of Freedonia?"])
    texts = [n.text for n, _ in row]
    assert "The president of Freedonia is Chicolini" in texts
    assert "The president of Freedonia is Rufus T. Firefly" not in texts
    assert ed.ask("Who is the president of Freedonia?")[0].answer == "Chicolini"
    # updating the old note makes it the newest
    ed.notebook.update(0, "The president of Freedonia is Pinky")
    assert ed.ask("Who is the president of Freedonia?")[0].answer == "Pinky"


def test_notes_added_by_another_process_are_seen(tmp_path):
    from eren.notebook import Notebook

    path = tmp_path / "n.db"
    ed = Editor(ScriptedReader(), path, DenseRetriever(HashEmbedder(64)))
    ed.edit("The president of Freedonia is Rufus T. Firefly")
    assert ed.ask("Who is the president of Freedonia?")[0].answer == "Rufus T. Firefly"
    with Notebook(path) as other:  # e.g. `eren add` while `eren serve` runs
        other.update(0, "The president of Freedonia is Chicolini")
    assert ed.ask("Who is the president of Freedonia?")[0].answer == "Chicolini"


def test_served_edited_model_applies_notes_to_every_request():
    pytest.importorskip("openai")
    from lc_core.inference import GenerationConfig, get_backend
    from lc_core.inference.server import serve

    ed = Editor(ScriptedReader(closed_book={"Where was Marx born?": "Trier"}))
    ed.edit("The president of Freedonia is Rufus T. Firefly")
    server, _ = serve(ed.as_backend(), "127.0.0.1", 0, model_name="edited")
    try:
        client = get_backend("openai", model="edited", base_url=server.url, api_key="x")
        outs = client.generate(
            [[{"role": "user", "content": "Who is the president of Freedonia?"}], "Where was Marx born?"],
            GenerationConfig(max_new_tokens=20),
        )
        assert outs == ["Rufus T. Firefly", "Trier"]
        ed.edit("The president of Freedonia is Chicolini", keys=None)
        ed.notebook.delete(0)
        assert client.generate(["Who is the president of Freedonia?"], GenerationConfig())[0] == "Chicolini"
    finally:
        server.close()
