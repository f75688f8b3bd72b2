"""A tiny BERT masked-LM step through transformers Trainer (spec §3: the tokenizer plugs in)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")


@pytest.mark.timeout(600)
def test_tiny_mlm_trains_and_saves(train_tok, tmp_path):

    from subchar.encoder import EncoderConfig
    from subchar.mlm import train_tiny_mlm
    from subchar.synthetic import zipf_corpus
    from subchar.tokenizer import SubCharTokenizer

    tok = train_tok(EncoderConfig(encoding="pinyin"))
    losses = train_tiny_mlm(tok, zipf_corpus(4000, seed=4), tmp_path / "mlm", steps=4, hidden=32, batch_size=8)
    assert len(losses) == 4 and all(math.isfinite(x) for x in losses)
    # an untrained MLM over V pieces starts near ln(V)
    assert abs(losses[0] - math.log(tok.vocab_size)) < 1.5
    again = SubCharTokenizer.from_pretrained(tmp_path / "mlm")
    assert again("他是我的朋友")["input_ids"] == tok("他是我的朋友")["input_ids"]
    assert (tmp_path / "mlm" / "config.json").is_file()
