"""Spec §14.7 noise generator parity."""

from __future__ import annotations

import pytest

from subchar.encoder import EncoderConfig, get_encoder
from subchar.noise import make_noise, noise_groups

TEXT = "他是我的朋友，我们一起学习中文。今天天气很好，我们去公园散步吧！" * 40


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
def test_homophone_noise_rate_and_noindex_invariance(ratio):
    res = make_noise(TEXT, ratio, seed=2021)
    assert res.eligible > 1000
    assert abs(res.rate - ratio) <= 0.05
    noindex = get_encoder(EncoderConfig(encoding="pinyin", index=False))
    assert noindex.encode(res.text) == noindex.encode(TEXT)
    for a, b in zip(TEXT, res.text):
        if a != b:
            assert b in noise_groups("pinyin")[a]
    if ratio > 0:
        indexed = get_encoder(EncoderConfig(encoding="pinyin"))
        assert indexed.encode(res.text) != indexed.encode(TEXT)


def test_glyph_noise_keeps_the_wubi_noindex_code():
    res = make_noise(TEXT, 0.5, kind="wubi", seed=1)
    assert res.replaced > 0
    noindex = get_encoder(EncoderConfig(encoding="wubi", index=False))
    assert noindex.encode(res.text) == noindex.encode(TEXT)


def test_noise_is_seeded():
    assert make_noise(TEXT, 0.3, seed=5).text == make_noise(TEXT, 0.3, seed=5).text
    assert make_noise(TEXT, 0.3, seed=5).text != make_noise(TEXT, 0.3, seed=6).text
    with pytest.raises(ValueError, match="ratio"):
        make_noise(TEXT, 1.5)
