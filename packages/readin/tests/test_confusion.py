"""pycorrector's bundled confusion sets in the keyboard simulator (skipped, loudly, without the correct extra)."""

import importlib.util

import pytest

from readin import confusion
from readin.noise import KeyboardConfig, apply_edits, keyboard_noise
from readin.simulate import NoiseSettings

HAVE_PYCORRECTOR = importlib.util.find_spec("pycorrector") is not None
needs_pycorrector = pytest.mark.skipif(
    not HAVE_PYCORRECTOR, reason="pycorrector not installed (pip install 'readin[correct]'): confusion-set tests skipped"
)


@needs_pycorrector
def test_sets_parse_from_the_wheel_data():
    sets = confusion.load_pycorrector_confusion()
    assert len(sets.same_tone) > 3000 and len(sets.shape) > 1000
    assert "壹" in sets.same_tone["一"] and "漪" in sets.other_tone["一"]
    assert sets.pinyin("一").startswith(sets.same_tone["一"])
    assert all(ch not in cands for ch, cands in sets.shape.items())


@needs_pycorrector
def test_keyboard_confusion_and_shape_ops():
    sets = confusion.load_pycorrector_confusion()
    cfg = KeyboardConfig(rate=1.0, weights={"confusion": 1.0, "shape": 1.0})
    text = "花呗怎么不能提额了，我想知道原因"
    ops = set()
    for seed in range(20):
        noisy, edits = keyboard_noise(text, seed, cfg)
        assert apply_edits(text, edits) == noisy and edits
        assert (noisy, edits) == keyboard_noise(text, seed, cfg)
        for e in edits:
            ops.add(e.op)
            pool = sets.pinyin(e.src) if e.op == "confusion" else sets.shape[e.src]
            assert len(e.src) == len(e.dst) == 1 and e.dst in pool
    assert ops == {"confusion", "shape"}


@needs_pycorrector
def test_settings_switch_on_the_ops():
    cfg = NoiseSettings(pycorrector=True).config("keyboard", 1)
    assert cfg.weights["confusion"] > 0 and cfg.weights["candidate"] > 0
    assert "confusion" not in NoiseSettings().config("keyboard", 1).weights


def test_missing_pycorrector_is_one_clear_error(monkeypatch, capsys):
    from readin.cli import main

    monkeypatch.setattr(confusion.importlib.util, "find_spec", lambda name: None)
    confusion.load_pycorrector_confusion.cache_clear()
    try:
        with pytest.raises(ImportError, match="pip install 'readin\\[correct\\]'"):
            KeyboardConfig(weights={"candidate": 1.0, "shape": 0.1})
        assert main(["noise", "--sample", "--task", "afqmc", "--pycorrector"]) == 2
        assert "readin[correct]" in capsys.readouterr().err
    finally:
        confusion.load_pycorrector_confusion.cache_clear()
