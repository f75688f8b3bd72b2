"""Lexicon documents: exact length, recallable mask, per-window documents."""

import numpy as np
import pytest

from lc_core.tokenizers import ByteTokenizer
from stuffed_mamba.lexicon import LexiconSpec, lexicon_text, lexicon_windows


def test_recallable_marks_only_later_letters_of_repeated_words():
    spec = LexiconSpec(lexicon_size=5, word_min=3, word_max=5)
    text, mask = lexicon_text(3000, spec, seed=1)
    assert len(text) == len(mask) == 3000
    words = text.split(" ")[:-1]  # the last one may be cut
    assert len(set(words)) <= 5  # no drift: the lexicon is fixed
    pos, seen = 0, set()
    for w in words:
        expect = [False] + [w in seen] * (len(w) - 1) + [False]
        assert mask[pos : pos + len(w) + 1].tolist() == expect
        seen.add(w)
        pos += len(w) + 1
    assert mask.mean() > 0.4  # most letters are recallable once the five words have been seen


def test_drift_renews_the_lexicon_and_seeds_differ():
    fixed, _ = lexicon_text(20000, LexiconSpec(lexicon_size=8), seed=0)
    drifting, _ = lexicon_text(20000, LexiconSpec(lexicon_size=8, drift=0.05), seed=0)
    assert len(set(fixed.split()[:-1])) <= 8 < len(set(drifting.split()[:-1]))  # the last word may be cut
    assert lexicon_text(500, LexiconSpec(), seed=1)[0] != lexicon_text(500, LexiconSpec(), seed=2)[0]


def test_lexicon_windows_are_fresh_documents():
    tok = ByteTokenizer(extra_ids=0)
    out = lexicon_windows(3, 100, LexiconSpec(lexicon_size=4), tok.encode, seed=0)
    assert out.shape == (303,) and out.dtype == np.int64
    windows = [tok.decode(out[i * 101 : (i + 1) * 101].tolist()) for i in range(3)]
    assert windows[0] != windows[1]
    assert all(len(w) == 101 for w in windows)


def test_bad_spec_is_rejected():
    with pytest.raises(ValueError, match="word_min"):
        LexiconSpec(word_min=5, word_max=3)
    with pytest.raises(ValueError, match="drift"):
        LexiconSpec(drift=1.5)
