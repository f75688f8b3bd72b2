"""Spec §14.11 word + SubChar vocabularies."""

from __future__ import annotations

from subchar.cws import CWSTokenizer
from subchar.encoder import EncoderConfig
from subchar.synthetic import zipf_corpus
from subchar.train import SpmConfig


def test_cws_vocabulary_split_and_fallback(tmp_path):
    lines = zipf_corpus(8000, seed=7)
    vocab, ratio = 700, 0.3
    # a pluggable segmenter: fixed two-character chunks
    seg = lambda s: [s[i : i + 2] for i in range(0, len(s), 2)]
    cws = CWSTokenizer.build(
        lines, vocab_size=vocab, ratio=ratio, work_dir=tmp_path, segment=seg, spm_config=SpmConfig(num_threads=1)
    )
    n_words = round(ratio * vocab)
    assert len(cws.words) == n_words and cws.subchar.vocab_size == vocab - n_words and cws.vocab_size == vocab
    word = cws.words[0]
    assert cws.encode(word) == [0]
    oov = "龘龘"
    assert oov not in cws.word_ids
    ids = cws.encode(oov)
    assert ids and all(i >= n_words for i in ids)
    text = word + oov + "Hello 2023"
    assert cws.decode(cws.encode(text)) == text
    cws.save(tmp_path / "saved")
    again = CWSTokenizer.load(tmp_path / "saved", segment=seg)
    assert again.encode(text) == cws.encode(text)


def test_cws_default_segmenter_is_jieba(train_tok):
    from subchar.cws import jieba_segment

    assert jieba_segment("我们一起学习中文") == ["我们", "一起", "学习", "中文"]
    cws = CWSTokenizer(["我们", "学习"], train_tok(EncoderConfig(encoding="wubi")))
    ids = cws.encode("我们一起学习中文")
    assert ids[0] == 0 and 1 in ids and cws.decode(ids) == "我们一起学习中文"
