"""Tests for the torch-free inference interface (lc_core.inference.base)."""

import pytest

import lc_core.inference.base
from lc_core.inference import BACKENDS, Backend, GenerationConfig, get_backend, register_backend


class _CharBackend(Backend):
    name = "char"

    def generate(self, prompts, config):
        configs = self._configs(len(prompts), config)
        return [p[::-1][: c.max_new_tokens] for p, c in zip(prompts, configs)]

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


def test_generation_config_validation():
    assert GenerationConfig().greedy
    assert not GenerationConfig(temperature=0.7).greedy
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationConfig(max_new_tokens=-1)
    with pytest.raises(ValueError, match="top_p"):
        GenerationConfig(top_p=0)


def test_per_request_configs_and_length_mismatch():
    b = _CharBackend()
    outs = b.generate(["abc", "defg"], [GenerationConfig(max_new_tokens=1), GenerationConfig(max_new_tokens=3)])
    assert outs == ["c", "gfe"]
    with pytest.raises(ValueError, match="2 generation configs for 1 prompts"):
        b.generate(["a"], [GenerationConfig(), GenerationConfig()])


@pytest.mark.parametrize("n,max_tokens", [(10, 4), (11, 5), (3, 8)], ids=lambda v: str(v))
def test_truncate_middle_keeps_both_ends(n, max_tokens):
    b = _CharBackend()
    text = "".join(chr(97 + i) for i in range(n))
    out = b.truncate_middle(text, max_tokens)
    if n <= max_tokens:
        assert out == text
    else:
        assert len(out) == max_tokens
        assert out.startswith(text[: max_tokens // 2]) and out.endswith(text[n - (max_tokens - max_tokens // 2) :])


def test_registry_errors(monkeypatch):
    with pytest.raises(KeyError, match="unknown backend 'nope'; known: .*hf, openai, vllm"):
        get_backend("nope")
    monkeypatch.setattr("lc_core.inference.base.BACKENDS", dict(BACKENDS))
    register_backend("char", "lc_core.testing:seed_everything")
    assert "char" in lc_core.inference.base.BACKENDS and "char" not in BACKENDS
    with pytest.raises(ValueError):
        register_backend("bad", "no_colon")
