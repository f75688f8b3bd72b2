"""Tiny offline models for the inference tests: a random Llama and a ByT5 byte tokenizer saved to disk.

Nothing is downloaded: configs are built in code and the tokenizer needs no vocabulary file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import torch
except ImportError:  # torch-free install: the server tests still run, model fixtures skip
    torch = None


@pytest.fixture(autouse=True)
def _one_cpu_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared CPU two threads can be 100x slower."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# a minimal Jinja chat template (``role: content`` turns, then the assistant cue)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _tiny_llama():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=384,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=None,
        eos_token_id=1,
        pad_token_id=0,
        # a wide init gives peaked logits, so argmax is far from ties and batched/unbatched runs agree
        initializer_range=0.5,
    )
    return transformers.LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with a tiny random ``LlamaForCausalLM`` and a ``ByT5Tokenizer`` carrying a chat template."""
    transformers = pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("tiny-llama")
    _tiny_llama().save_pretrained(path)
    tok = transformers.ByT5Tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def hf_backend(llama_dir: Path):
    """The hf backend over :func:`llama_dir` on CPU (fp32), shared by the hf, server and openai tests."""
    from lc_core.inference.hf import HFBackend

    return HFBackend(str(llama_dir), device="cpu", dtype="float32", batch_size=4, prefill_chunk_size=0, disable_tqdm=True)


@pytest.fixture(scope="session")
def served(hf_backend):
    """The real OpenAI-compatible server on 127.0.0.1 (free port) in front of :func:`hf_backend`."""
    from lc_core.inference.server import serve

    server, _thread = serve(hf_backend, model_name="tiny-llama", max_batch_size=4)
    yield server
    server.close()
