"""Shared fixtures: a mixed round-trip text and small synthetic Chinese corpora (seeded, generated in the test)."""

from __future__ import annotations

import pytest

from subchar.synthetic import zipf_corpus

# Chinese, Latin with case, digits, full-width punctuation and digits, whitespace of every kind, zhuyin neutral-tone
# characters (的 了 么), a character missing from the wubi table, reserved symbols (SEP, ESC, tone marks, bopomofo,
# the SentencePiece space marker) and text in other scripts
MIXED = (
    "Hello世界2023年！他说：「你好，World」\t第１２３号（测试）\n"
    "的了么 吗们呗 ABC xyz 0.5% @#&\u3000全角空格 ▁meta 쎯쎮❁ㄅˊ café Ωμέγα русский 😀\r\n末尾 "
)


@pytest.fixture(scope="session")
def mixed_text() -> str:
    return MIXED


LATIN_LINES = [
    "Hello world, the quick brown fox jumps over the lazy dog 2023.",
    "Python 3.12 and Linux 6.1: 安装 Debian 系统 (GNU/Linux) 很简单。",
]


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> str:
    """~8k characters of Zipfian Chinese plus a few Latin/mixed lines, as a file."""
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    lines = zipf_corpus(8000, seed=1) + LATIN_LINES * 5 + [MIXED.replace("\n", " ")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def train_tok(tmp_path_factory, small_corpus):
    """``train_tok(EncoderConfig, vocab_size=…, **SpmConfig fields)`` -> a trained SubCharTokenizer (cached)."""
    from subchar.corpus import ConvertConfig
    from subchar.tokenizer import SubCharTokenizer
    from subchar.train import SpmConfig, train_tokenizer

    cache: dict = {}
    root = tmp_path_factory.mktemp("toks")

    def make(config, vocab_size: int = 500, corpus: str | None = None, **spm):
        key = (config, vocab_size, corpus, tuple(sorted(spm.items())))
        if key not in cache:
            out = root / f"tok{len(cache)}"
            train_tokenizer(
                corpus or small_corpus,
                out,
                config,
                SpmConfig(vocab_size=vocab_size, num_threads=1, **spm),
                ConvertConfig(progress=False),
            )
            cache[key] = SubCharTokenizer.from_pretrained(out)
        return cache[key]

    return make
