"""The AFQMC Trainer runner on a random tiny BERT (slow: imports torch + transformers and trains a few steps)."""

import pytest

from readin.augment import ada_augment
from readin.metrics import afqmc_scores
from readin.sample import AFQMC
from readin.simulate import NoiseSettings, noise_rows


@pytest.mark.slow
def test_train_and_predict_tiny_bert(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("datasets")
    from readin.train import TrainConfig, predict_afqmc, tiny_bert, train_afqmc

    rows = [dict(r, label=int(r["label"])) for r in AFQMC]
    train = ada_augment(rows * 4, "afqmc", seed=0)
    model = tiny_bert([r["sentence1"] + r["sentence2"] for r in train], tmp_path / "tiny")
    metrics = train_afqmc(model, train, rows, TrainConfig(out=str(tmp_path / "ft"), epochs=2, batch_size=8, max_length=48))
    assert "eval_loss" in metrics and (tmp_path / "ft" / "config.json").is_file()
    clean = predict_afqmc(tmp_path / "ft", rows)
    versions = [predict_afqmc(tmp_path / "ft", noise_rows(rows, "afqmc", "asr", v, NoiseSettings())[0]) for v in (1, 2, 3)]
    scores = afqmc_scores([r["label"] for r in rows], clean, versions)
    assert set(clean) <= {0, 1} and all(v is not None for v in scores.values())


def test_char_tokenizer_knows_every_character(tmp_path):
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from readin.sample import CMRC
    from readin.train import char_tokenizer

    tok = char_tokenizer([r["context"] for r in CMRC], tmp_path)
    tok.save_pretrained(tmp_path)
    for t in (tok, AutoTokenizer.from_pretrained(tmp_path)):
        ids = t(CMRC[0]["context"])["input_ids"]
        assert t.unk_token_id not in ids and len(ids) == len(CMRC[0]["context"]) + 2


def test_cmrc_windows_carry_the_answer_span(tmp_path):
    pytest.importorskip("transformers")
    from readin.sample import CMRC
    from readin.train import TrainConfig, _cmrc_features, char_tokenizer

    tok = char_tokenizer([r["context"] + r["question"] for r in CMRC], tmp_path)
    # short windows: every context is cut into several overlapping windows
    cfg = TrainConfig(out="", max_length=20, doc_stride=4)
    enc = _cmrc_features(tok, CMRC, cfg, labels=True)
    assert len(enc["input_ids"]) > len(CMRC) and all(len(ids) == 20 for ids in enc["input_ids"])
    found = set()
    for f, ex in enumerate(enc["example"]):
        s, e = enc["start_positions"][f], enc["end_positions"][f]
        if s == 0:
            assert e == 0
            continue
        offsets = enc["offset_mapping"][f]
        answer = CMRC[ex]["answers"][0]
        assert CMRC[ex]["context"][offsets[s][0] : offsets[e][1]] == answer["text"]
        assert offsets[s][0] == answer["answer_start"]
        found.add(ex)
    assert found == set(range(len(CMRC)))  # each answer lies inside at least one window


@pytest.mark.slow
def test_train_and_predict_cmrc_tiny_bert(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("datasets")
    from readin.metrics import cmrc_scores
    from readin.sample import CMRC
    from readin.train import TrainConfig, predict_cmrc, tiny_bert, train_cmrc

    model = tiny_bert([r["context"] + r["question"] for r in CMRC], tmp_path / "tiny", head="qa")
    cfg = TrainConfig(out=str(tmp_path / "ft"), epochs=2, batch_size=8, max_length=64, doc_stride=16, lr=1e-3)
    metrics = train_cmrc(model, CMRC * 4, CMRC, cfg)
    assert metrics["eval_loss"] > 0 and (tmp_path / "ft" / "config.json").is_file()
    preds = predict_cmrc(tmp_path / "ft", CMRC, max_length=64, doc_stride=16, max_answer_length=8)
    assert len(preds) == len(CMRC)
    for p, r in zip(preds, CMRC, strict=True):
        assert p in r["context"] and 0 < len(p) <= 8 * 4  # a span of the context (<= 8 tokens of <= 4 chars)
    golds = [[a["text"] for a in r["answers"]] for r in CMRC]
    scores = cmrc_scores(golds, preds, [preds, preds, preds])
    assert scores["em_avg"] == scores["em_clean"] and scores["em_worst"] == scores["em_clean"]


@pytest.mark.slow
def test_train_and_predict_wmt_tiny_seq2seq(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("datasets")
    from readin.sample import WMT
    from readin.train import TrainConfig, predict_wmt, tiny_seq2seq, train_wmt

    model = tiny_seq2seq([r["zh"] + r["en"] for r in WMT], tmp_path / "tiny")
    cfg = TrainConfig(out=str(tmp_path / "ft"), epochs=2, batch_size=8, max_length=64, max_target_length=64, lr=1e-3)
    metrics = train_wmt(model, WMT * 4, WMT, cfg)
    assert metrics["eval_loss"] > 0 and (tmp_path / "ft" / "config.json").is_file()
    hyps = predict_wmt(tmp_path / "ft", WMT, max_new_tokens=12)
    assert len(hyps) == len(WMT) and all(isinstance(h, str) and len(h) <= 12 for h in hyps)


@pytest.mark.slow
def test_cli_train_tiny_then_predict_and_score(task_dir, tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("datasets")
    from readin.cli import main

    root = task_dir("afqmc")
    train = root / "test_clean" / "test.json"
    out = tmp_path / "ft"
    args = ["train", "--task", "afqmc", "--model", "tiny", "--train", str(train), "--dev", str(train), "--out", str(out)]
    assert main([*args, "--epochs", "1", "--ada", "--predict", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "trained afqmc on" in printed and "| Noise |" in printed
    for split in ("clean", "keyboard_1", "asr_3"):
        assert (out / "preds" / f"{split}.jsonl").is_file()
    assert (
        main(["train", "--task", "cspider", "--model", "tiny", "--train", str(train), "--dev", str(train), "--out", str(out)])
        == 2
    )
