"""Train-longer (spec §8 test 21): TBPTT forward equals one long forward, no gradient crosses a segment boundary,
and a tiny lc_core.train run with resume."""

import pytest
import torch
import torch.nn.functional as F

from lc_core.tokenizers import ByteTokenizer
from stuffed_mamba.train_long import passkey_documents, tbptt_loss, train_long


def test_tbptt_forward_equals_one_long_forward(make):
    model = make(seed=1)
    ids = torch.randint(0, 97, (2, 97), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(ids[:, :-1], use_cache=False).logits
        ref = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        got = tbptt_loss(20)(model, ids[:, :-1], ids[:, 1:])
    torch.testing.assert_close(got.double(), ref.double(), rtol=1e-6, atol=1e-6)


def test_no_gradient_crosses_segment_boundaries(make):
    """The loss of the 2nd segment only: its gradient equals that of a run started from the (detached) carried
    state, i.e. nothing flows back into the first segment's computation."""
    model = make(seed=2)
    ids = torch.randint(0, 97, (1, 40), generator=torch.Generator().manual_seed(1))
    seg = 20

    def second_segment_loss(m):
        cache = m.new_cache(1)
        out = m(input_ids=ids[:, :seg], cache_params=cache, use_cache=True)
        cache = out.cache_params.detach()
        out2 = m(input_ids=ids[:, seg:-1], cache_params=cache, use_cache=True)
        return F.cross_entropy(out2.logits[0].float(), ids[0, seg + 1 :])

    model.zero_grad()
    second_segment_loss(model).backward()
    g_tbptt = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    # the same loss from a state computed without autograd at all
    with torch.no_grad():
        cache = model.new_cache(1)
        model(input_ids=ids[:, :seg], cache_params=cache, use_cache=True)
    model.zero_grad()
    out2 = model(input_ids=ids[:, seg:-1], cache_params=cache, use_cache=True)
    F.cross_entropy(out2.logits[0].float(), ids[0, seg + 1 :]).backward()
    for n, p in model.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(g_tbptt[n], p.grad, rtol=1e-10, atol=1e-12)
    # and full BPTT differs (so the test can fail)
    model.zero_grad()
    out = model(input_ids=ids[:, :-1], use_cache=False)
    F.cross_entropy(out.logits[0, seg:].float(), ids[0, seg + 1 :]).backward()
    assert any(not torch.allclose(g_tbptt[n], p.grad) for n, p in model.named_parameters() if n in g_tbptt)


def test_passkey_documents_lengths():
    tok = ByteTokenizer(extra_ids=0)
    docs = list(passkey_documents(20, 300, 2000, tok.encode, seed=0))
    lens = [len(tok.encode(d)) for d in docs]
    assert min(lens) >= 150 and max(lens) <= 2010 and len(set(lens)) > 5
    assert all(d.split()[-1].isdigit() and len(d.split()[-1]) == 5 for d in docs)


def test_tiny_train_run_resumes(make, tmp_path):
    from lc_core.models.mamba2 import Mamba2ForCausalLM
    from lc_core.models.mamba2.presets import tiny_config
    from lc_core.train import TrainConfig

    tok = ByteTokenizer(extra_ids=0)

    def build():
        return Mamba2ForCausalLM(tiny_config(vocab_size=259))

    kw = dict(
        seq_len=128, micro_batch_size=2, global_batch_size=2, lr=3e-3, out_dir=str(tmp_path), save_every=2, progress=False
    )
    run = dict(documents=40, min_len=100, max_len=400, segment_tokens=32, encode=tok.encode, eos_id=1)
    first = train_long(build, TrainConfig(max_steps=2, **kw), **run)
    second = train_long(build, TrainConfig(max_steps=4, **kw), **run)
    assert first.step == 2 and first.resumed_from is None
    assert second.step == 4 and second.resumed_from == 2  # continued from the checkpoint, not restarted
    assert torch.isfinite(torch.tensor(second.final_loss))


def test_answer_weights_mark_the_answer_before_each_eos():
    from stuffed_mamba.train_long import answer_weights

    targets = torch.tensor([[5, 5, 9, 9, 1, 5, 5, 5, 9, 9, 1], [9, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5]])
    w = answer_weights(targets, eos_id=1, answer_tokens=2, weight=10.0)
    assert w[0].tolist() == [1, 1, 10, 10, 10, 1, 1, 1, 10, 10, 10]
    assert w[1].tolist() == [10, 10] + [1] * 9  # an answer cut by the window start keeps its in-window part


def test_answer_weighted_loss_is_the_weighted_mean(make):
    model = make(seed=3)
    ids = torch.randint(2, 97, (1, 60), generator=torch.Generator().manual_seed(2))
    ids[0, 30] = ids[0, 59] = 1
    inp, tgt = ids[:, :-1], ids[:, 1:]
    with torch.no_grad():
        ce = F.cross_entropy(model(inp, use_cache=False).logits[0].float(), tgt[0], reduction="none")
        w = torch.ones_like(ce)
        w[23:30] = 5.0  # the EOS target 29 (ids[30]) and the 6 targets before it
        w[52:59] = 5.0  # the EOS target 58 (ids[59]) and the 6 before it
        ref = (w * ce).sum() / w.sum()
        got = tbptt_loss(16, answer_weight=5.0, eos_id=1)(model, inp, tgt)
        plain = tbptt_loss(16)(model, inp, tgt)
    torch.testing.assert_close(got.double(), ref.double(), rtol=1e-6, atol=1e-6)
    assert abs(float(got) - float(plain)) > 1e-4


def test_time_budget_stops_training(make, tmp_path):
    from lc_core.models.mamba2 import Mamba2ForCausalLM
    from lc_core.models.mamba2.presets import tiny_config
    from lc_core.train import TrainConfig

    tok = ByteTokenizer(extra_ids=0)
    cfg = TrainConfig(
        seq_len=128, micro_batch_size=1, global_batch_size=1, max_steps=50, out_dir=str(tmp_path), progress=False
    )
    res = train_long(
        lambda: Mamba2ForCausalLM(tiny_config(vocab_size=259)), cfg, documents=20, min_len=100, max_len=300,
        segment_tokens=64, encode=tok.encode, eos_id=1, time_budget_s=1e-9,
    )  # fmt: skip
    assert res.step == 1  # stopped after the first step, with a checkpoint to resume from


def test_full_bptt_gradient_equals_one_forward(make):
    """bptt="full": the segmented loss has the value *and* the gradient of one forward over the window."""
    model = make(seed=4)
    ids = torch.randint(2, 97, (2, 61), generator=torch.Generator().manual_seed(3))
    inp, tgt = ids[:, :-1], ids[:, 1:]
    model.zero_grad()
    logits = model(inp, use_cache=False).logits
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt.reshape(-1)).backward()
    ref = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    tbptt_loss(16, bptt="full")(model, inp, tgt).backward()
    for n, p in model.named_parameters():
        if n in ref:
            torch.testing.assert_close(p.grad, ref[n], rtol=1e-4, atol=1e-6)
    model.zero_grad()
    tbptt_loss(16)(model, inp, tgt).backward()  # truncated differs (the test can fail)
    assert any(not torch.allclose(p.grad, ref[n], rtol=1e-4, atol=1e-6) for n, p in model.named_parameters() if n in ref)


def test_reset_docs_equals_independent_documents(make):
    """reset_docs: every document (after an EOS) starts from a zero state, also when a segment boundary falls on its
    start; padding targets get weight 0. The loss equals that of the documents run one by one."""
    model = make(seed=5)
    g = torch.Generator().manual_seed(4)
    docs = [torch.randint(2, 97, (n,), generator=g) for n in (15, 9, 20)]  # the 2nd starts at 16 = a segment boundary
    for d in docs:
        d[-1] = 1  # EOS
    window = torch.cat([*docs, torch.zeros(7, dtype=torch.long)])  # padded tail (pad id 0)
    inp, tgt = window[None, :-1], window[None, 1:]
    ce_sum, count = 0.0, 0
    with torch.no_grad():
        for i, d in enumerate(docs):
            # a document's tokens are predicted from a fresh state; its EOS position predicts the next document's
            # first token (the last EOS predicts padding, weight 0)
            lg = model(d[None], use_cache=False).logits[0].float()
            nxt = docs[i + 1][:1] if i + 1 < len(docs) else torch.zeros(0, dtype=torch.long)
            ce = F.cross_entropy(lg[: len(d) - 1 + len(nxt)], torch.cat([d[1:], nxt]), reduction="none")
            ce_sum += float(ce.sum())
            count += ce.numel()
        for bptt in ("truncated", "full"):
            got = tbptt_loss(16, eos_id=1, reset_docs=True, pad_id=0, bptt=bptt)(model, inp, tgt)
            assert abs(float(got) - ce_sum / count) < 1e-5
        plain = tbptt_loss(16, eos_id=1, pad_id=0)(model, inp, tgt)
    assert abs(float(plain) - ce_sum / count) > 1e-4  # without the reset the documents see each other


def test_whole_document_windows():
    from stuffed_mamba.train_long import whole_document_windows

    tok = ByteTokenizer(extra_ids=0)
    seq = 3000
    stream = whole_document_windows(6, seq, 300, 2500, tok.encode, eos_id=1, pad_id=0, seed=0)
    assert stream.shape == (6 * (seq + 1),)
    docs = 0
    for w in stream.reshape(6, seq + 1):
        used = int((w != 0).sum())
        assert (w[used:] == 0).all() and w[used - 1] == 1  # whole documents, then padding only
        ends = [i for i, t in enumerate(w[:used].tolist()) if t == 1]
        for a, b in zip([-1, *ends[:-1]], ends):
            doc = tok.decode(w[a + 1 : b].tolist())
            docs += 1
            assert doc.startswith("There is an important info") and "pass key is" in doc
            assert doc[-6] == " " and doc[-5:].isdigit() and doc[-5:] in doc[:-6]  # " key", and the needle holds it
        assert seq + 1 - used < 300 + 8  # the rest is too small for another document
    assert docs >= 8


def test_fitted_schedule_finishes_its_decay_inside_the_budget(monkeypatch):
    """With a simulated clock (1 s/step, then 2 s/step mid-run) the fitted run ends at the budget with lr decayed."""
    import stuffed_mamba.train_long as tl
    from lc_core.train import TrainConfig
    from lc_core.train.callbacks import StopTraining, TrainState
    from lc_core.train.schedule import lr_at

    clock = [0.0]
    monkeypatch.setattr(tl.time, "perf_counter", lambda: clock[0])
    cfg = TrainConfig(max_steps=1000, warmup_steps=5, lr=1e-3, decay_fraction=0.25, min_lr_ratio=0.1, progress=False)
    state = TrainState(config=cfg, model=torch.nn.Linear(1, 1), optimizer=None)  # type: ignore[arg-type]
    cb = tl.TimeBudget(100.0, fit_schedule=True, window=5, margin=0.0)
    cb.on_train_begin(state)
    lrs, stopped = [], False
    while state.step < cfg.max_steps:
        lrs.append(lr_at(cfg, state.step))
        clock[0] += 1.0 if state.step < 40 else 2.0  # the box gets slower mid-run
        state.step += 1
        try:
            cb.on_step_end(state)
        except StopTraining:
            stopped = True
            break
    assert not stopped and clock[0] <= 100.0  # ended by the fitted schedule, not the hard stop
    assert 60 <= state.step <= 75  # 40 steps at 1 s + ~30 at 2 s
    assert lrs[-1] == pytest.approx(1e-4)  # the decay finished: the last step ran at the final rate
    peak = lrs.index(max(lrs))
    assert all(b <= a + 1e-12 for a, b in zip(lrs[peak:], lrs[peak + 1 :]))  # never rises after the peak


def test_unfitted_budget_leaves_the_schedule_alone(monkeypatch):
    import stuffed_mamba.train_long as tl
    from lc_core.train import TrainConfig
    from lc_core.train.callbacks import TrainState

    clock = [0.0]
    monkeypatch.setattr(tl.time, "perf_counter", lambda: clock[0])
    cfg = TrainConfig(max_steps=1000, warmup_steps=5, progress=False)
    state = TrainState(config=cfg, model=torch.nn.Linear(1, 1), optimizer=None)  # type: ignore[arg-type]
    cb = tl.TimeBudget(100.0)
    cb.on_train_begin(state)
    for _ in range(50):
        clock[0] += 1.0
        state.step += 1
        cb.on_step_end(state)
    assert cfg.max_steps == 1000
