"""The one text-generation interface used by infbench, eren and readin. Torch-free.

A backend turns prompts into completions::

    from lc_core.inference import GenerationConfig, get_backend

    backend = get_backend("hf", model="path/to/model")          # or "openai", "vllm"
    outs = backend.generate(["The capital of France is"], GenerationConfig(max_new_tokens=8))

Backends are registered by name and imported lazily (``"name": "module:Class"``), so importing this
module imports neither torch nor vllm nor openai.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatMessage",
    "Prompt",
    "GenerationConfig",
    "Backend",
    "register_backend",
    "get_backend",
    "available_backends",
    "BACKENDS",
    "cut_at_stop",
    "TokenScores",
]

# A chat prompt is a list of {"role": "system"|"user"|"assistant", "content": str}.
ChatMessage = Mapping[str, str]
Prompt = str | Sequence[ChatMessage]


@dataclass(kw_only=True)
class GenerationConfig:
    """How to decode one request. Greedy unless ``temperature > 0``.

    Args:
        max_new_tokens: tokens to generate at most.
        temperature: 0 means greedy (argmax); > 0 samples.
        top_p: nucleus sampling mass (1.0 = off).
        top_k: top-k sampling (0 = off).
        stop: strings that end the completion (not included in the output).
        seed: sampling seed (per request), for reproducible sampling.
        chat: treat string prompts as a single user message of a chat model (apply the chat template).
    """

    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    chat: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def replace(self, **changes: Any) -> GenerationConfig:
        return dataclasses.replace(self, **changes)


@dataclass
class TokenScores:
    """Log-probabilities of a token sequence under the model (teacher forcing).

    Args:
        token_ids: the ``T`` scored tokens.
        logprobs: ``T`` values; ``logprobs[i] = log p(token_ids[i] | token_ids[:i])``, ``None`` for the
            first token (nothing conditions it).
        top: ``T`` lists of the ``k`` most likely ``(token_id, logprob)`` at each position, best first
            (empty for the first token, or when ``k = 0``).
    """

    token_ids: list[int]
    logprobs: list[float | None]
    top: list[list[tuple[int, float]]]


class Backend(abc.ABC):
    """A text-generation backend.

    Subclasses implement :meth:`generate` and the tokenizer helpers. ``generate`` takes either one
    config for all prompts or one config per prompt (per-request ``max_new_tokens``), returns one
    string per prompt in the same order, and never includes the prompt in the output.
    """

    name: str = "base"

    @abc.abstractmethod
    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        """Complete each prompt."""

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` under the backend's tokenizer (no special tokens)."""

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids."""

    def count_tokens(self, text: str) -> int:
        """Number of tokens in ``text``."""
        return len(self.encode(text))

    def count_prompt_tokens(self, prompt: Prompt, config: GenerationConfig | None = None) -> int:
        """Tokens of ``prompt`` as the model sees it; the default counts the text (chat: the message contents)."""
        if isinstance(prompt, str):
            return self.count_tokens(prompt)
        return sum(self.count_tokens(m["content"]) for m in prompt)

    def truncate_middle(self, text: str, max_tokens: int) -> str:
        """Keep the first and last ``max_tokens // 2`` tokens of ``text`` (∞Bench-style middle truncation)."""
        ids = self.encode(text)
        if len(ids) <= max_tokens:
            return text
        half = max_tokens // 2
        return self.decode(ids[:half]) + self.decode(ids[len(ids) - (max_tokens - half) :])

    @staticmethod
    def _configs(n: int, config: GenerationConfig | Sequence[GenerationConfig]) -> list[GenerationConfig]:
        if isinstance(config, GenerationConfig):
            return [config] * n
        configs = list(config)
        if len(configs) != n:
            raise ValueError(f"got {len(configs)} generation configs for {n} prompts")
        return configs

    # --- token-level protocol (echo, logprobs, token-id prompts); optional -------------------------------

    @property
    def supports_tokens(self) -> bool:
        """Whether :meth:`prompt_ids`, :meth:`generate_tokens` and :meth:`score_tokens` are implemented."""
        cls = type(self)
        return cls.generate_tokens is not Backend.generate_tokens and cls.score_tokens is not Backend.score_tokens

    def prompt_ids(self, prompt: Prompt, config: GenerationConfig | None = None) -> list[int]:
        """Token ids the model is fed for ``prompt``; the default encodes a string prompt as is."""
        if not isinstance(prompt, str):
            raise NotImplementedError(f"{type(self).__name__} cannot tokenize chat prompts")
        return self.encode(prompt)

    def generate_tokens(
        self, prompts: Sequence[Sequence[int]], config: GenerationConfig | Sequence[GenerationConfig]
    ) -> list[list[int]]:
        """Complete token-id prompts; returns the new token ids of each (no EOS, stop strings not cut)."""
        raise NotImplementedError(f"{type(self).__name__} does not generate from token ids")

    def score_tokens(self, sequences: Sequence[Sequence[int]], top_k: int = 0) -> list[TokenScores]:
        """Log-probability of every token of each sequence given the tokens before it."""
        raise NotImplementedError(f"{type(self).__name__} does not score tokens")

    def loglikelihood(self, context: Sequence[int], continuation: Sequence[int]) -> tuple[float, bool]:
        """``log p(continuation | context)`` and whether greedy decoding would produce the continuation."""
        (scores,) = self.score_tokens([list(context) + list(continuation)], top_k=1)
        n = len(context)
        if n == 0:
            raise ValueError("loglikelihood needs a non-empty context")
        total = sum(lp for lp in scores.logprobs[n:] if lp is not None)
        greedy = all(top and top[0][0] == t for t, top in zip(scores.token_ids[n:], scores.top[n:], strict=True))
        return float(total), greedy

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, GPU memory)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the earliest occurrence of any of the ``stop`` strings."""
    cut = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                cut = min(cut, pos)
    return text[:cut]


# name -> "module:Class"; modules are imported only when the backend is asked for.
BACKENDS: dict[str, str] = {
    "hf": "lc_core.inference.hf:HFBackend",
    "openai": "lc_core.inference.openai_api:OpenAIBackend",
    "vllm": "lc_core.inference.vllm_backend:VLLMBackend",
}


def register_backend(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name`` (third-party backends)."""
    if ":" not in target:
        raise ValueError(f"backend target must look like 'module:Class', got {target!r}")
    BACKENDS[name] = target


def available_backends() -> list[str]:
    return sorted(BACKENDS)


def get_backend(name: str, **kwargs: Any) -> Backend:
    """Build the backend registered as ``name`` with ``kwargs``.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ImportError: the backend's extra is not installed (the message names it).
    """
    if name not in BACKENDS:
        raise KeyError(f"unknown backend {name!r}; known: {', '.join(available_backends())}")
    module_name, cls_name = BACKENDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        extra = {"hf": "torch", "openai": "api", "vllm": "vllm"}.get(name, name)
        raise ImportError(f"backend {name!r} needs extra dependencies: pip install 'lc-core[{extra}]' ({e})") from e
    cls = getattr(module, cls_name)
    return cls(**kwargs)
