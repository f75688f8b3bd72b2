"""Fixtures for the trainer tests: a tiny Llama, a small corpus, single-threaded torch, subprocess helpers."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from lc_core.train import ByteTokenizer, PackedDataset

SRC = Path(__file__).resolve().parents[2] / "src"


def make_docs(n: int = 120, seed: int = 0) -> list[str]:
    """Deterministic short documents with learnable structure."""
    import random

    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
    return [f"doc {i}: " + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for i in range(n)]


@pytest.fixture
def docs() -> list[str]:
    return make_docs()


@pytest.fixture
def corpus_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": d}) + "\n" for i, d in enumerate(make_docs())), encoding="utf-8")
    return path


@pytest.fixture
def packed() -> PackedDataset:
    return PackedDataset.from_source(make_docs(), ByteTokenizer(), seq_len=16)


@pytest.fixture
def tiny_llama() -> Callable[[], torch.nn.Module]:
    """Factory of a ~25K-parameter LlamaForCausalLM over the byte vocabulary (tied embeddings)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=384,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=256,
        pad_token_id=None,
    )
    return lambda: LlamaForCausalLM(config)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Single-threaded torch for every test here.

    Matches the subprocesses (run with ``OMP_NUM_THREADS=1``) for bitwise comparisons, and on a shared,
    oversubscribed CPU a tiny model's step is ~100x faster with one thread than with spinning workers.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for child Python processes: lc_core importable, one thread, no stray torchrun vars."""
    env = {k: v for k, v in os.environ.items() if k not in {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"
    env["LC_LOG_LEVEL"] = "WARNING"
    return env


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def python() -> str:
    return sys.executable
