"""vLLM offline engine (``vllm.LLM``) behind the :class:`~lc_core.inference.base.Backend` interface.

Needs the ``vllm`` extra and a GPU; vllm is imported when the backend is built, never at module import::

    from lc_core.inference import GenerationConfig, get_backend

    backend = get_backend("vllm", model="path/to/model", tensor_parallel_size=2, max_model_len=131072)
    backend.generate(["Once upon a time"], GenerationConfig(max_new_tokens=32))

Each request gets its own ``SamplingParams`` (length, temperature, top-p/k, stop, seed). Chat prompts and
``GenerationConfig(chat=True)`` go through ``LLM.chat`` (the model's chat template); text prompts through
``LLM.generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lc_core.inference.base import Backend, GenerationConfig, Prompt, cut_at_stop
from lc_core.logging import get_logger

__all__ = ["VLLMBackend", "sampling_params"]

logger = get_logger(__name__)


def sampling_params(config: GenerationConfig) -> Any:
    """The ``vllm.SamplingParams`` of one request (``top_k=0`` becomes vLLM's ``-1`` = off)."""
    from vllm import SamplingParams

    return SamplingParams(
        n=1,
        max_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k if config.top_k > 0 else -1,
        stop=list(config.stop) or None,
        seed=config.seed,
    )


class VLLMBackend(Backend):
    """Generation with vLLM's offline ``LLM`` engine.

    Args:
        model: model folder or name (built-in names such as ``lc-core/demo-mamba2`` are resolved).
        tokenizer: tokenizer folder (default: the model's).
        tensor_parallel_size: GPUs to shard the model over.
        max_model_len: context length the engine reserves KV cache for (default: the model's).
        disable_tqdm: hide vLLM's progress bar.
        **engine_kwargs: passed to ``vllm.LLM`` (``gpu_memory_utilization``, ``dtype``, ``enforce_eager``…).
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        tokenizer: str | None = None,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        *,
        disable_tqdm: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError("the vllm backend needs vLLM: pip install 'lc-core[vllm]' (Linux + CUDA)") from e
        from lc_core.models.builtin import resolve_model_path

        self.model_name = model
        path = resolve_model_path(model)
        kwargs: dict[str, Any] = {"model": path, "tensor_parallel_size": tensor_parallel_size, **engine_kwargs}
        if tokenizer is not None:
            kwargs["tokenizer"] = resolve_model_path(tokenizer)
        if max_model_len is not None:
            kwargs["max_model_len"] = max_model_len
        logger.info("starting vLLM on %s (tensor_parallel_size=%d)", path, tensor_parallel_size)
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.disable_tqdm = disable_tqdm

    def __repr__(self) -> str:
        return f"VLLMBackend(model={self.model_name!r})"

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        """Complete each prompt; text and chat prompts are sent as two engine calls, results in input order."""
        configs = self._configs(len(prompts), config)
        outputs = [""] * len(prompts)
        text_idx: list[int] = []
        chat_idx: list[int] = []
        for i, (p, c) in enumerate(zip(prompts, configs, strict=True)):
            # vLLM rejects max_tokens=0; an empty completion needs no engine call
            if c.max_new_tokens == 0:
                continue
            (chat_idx if (not isinstance(p, str) or c.chat) else text_idx).append(i)
        use_tqdm = not self.disable_tqdm
        if text_idx:
            results = self.llm.generate(
                [prompts[i] for i in text_idx], [sampling_params(configs[i]) for i in text_idx], use_tqdm=use_tqdm
            )
            for i, res in zip(text_idx, results, strict=True):
                outputs[i] = cut_at_stop(res.outputs[0].text, configs[i].stop)
        if chat_idx:
            conversations = []
            for i in chat_idx:
                p = prompts[i]
                conversations.append([{"role": "user", "content": p}] if isinstance(p, str) else [dict(m) for m in p])
            results = self.llm.chat(conversations, [sampling_params(configs[i]) for i in chat_idx], use_tqdm=use_tqdm)
            for i, res in zip(chat_idx, results, strict=True):
                outputs[i] = cut_at_stop(res.outputs[0].text, configs[i].stop)
        return outputs

    def close(self) -> None:
        """Drop the engine (frees GPU memory once garbage-collected)."""
        self.llm = None
