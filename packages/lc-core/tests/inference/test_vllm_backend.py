"""Tests for the vLLM backend (lc_core.inference.vllm_backend); skipped unless vllm and a GPU are present.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/inference/test_vllm_backend.py -q``
"""

from __future__ import annotations

import importlib
import sys

import pytest

from lc_core.inference import GenerationConfig


def test_module_imports_without_vllm():
    module = importlib.import_module("lc_core.inference.vllm_backend")
    assert module.VLLMBackend.name == "vllm"
    if "vllm" not in sys.modules:
        with pytest.raises(ImportError, match="lc-core\\[vllm\\]"):
            module.VLLMBackend("some/model")


def test_sampling_params_per_request():
    pytest.importorskip("vllm")
    from lc_core.inference.vllm_backend import sampling_params

    sp = sampling_params(GenerationConfig(max_new_tokens=5, temperature=0.7, top_k=0, stop=["\n"], seed=3))
    assert (sp.max_tokens, sp.temperature, sp.top_k, sp.stop, sp.seed) == (5, 0.7, -1, ["\n"], 3)


@pytest.mark.gpu
def test_vllm_greedy_matches_hf_backend(llama_dir, hf_backend):
    pytest.importorskip("vllm")
    from lc_core.inference.vllm_backend import VLLMBackend

    backend = VLLMBackend(str(llama_dir), dtype="float32", gpu_memory_utilization=0.2, enforce_eager=True, disable_tqdm=True)
    cfg = GenerationConfig(max_new_tokens=6)
    prompts = ["The quick brown fox", "hi"]
    assert backend.generate(prompts, [cfg, cfg.replace(max_new_tokens=0)]) == [hf_backend.generate(prompts[:1], cfg)[0], ""]
