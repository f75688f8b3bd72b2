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
