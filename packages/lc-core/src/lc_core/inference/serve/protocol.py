"""Request validation of ``lc-core serve``: OpenAI-style errors, request parsing, field and limit checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lc_core.inference.base import Backend, GenerationConfig
from lc_core.logging import get_logger

logger = get_logger(__name__)

_MAX_BODY = 64 * 1024 * 1024
# torch.Generator.manual_seed accepts exactly this range
_SEED_MIN, _SEED_MAX = -(2**63), 2**64 - 1
# context limit when neither --max-length nor the model config gives one (Mamba-2 has no position limit)
FALLBACK_CONTEXT = 32768


class RequestError(ValueError):
    """A bad request; becomes an OpenAI-style error body with ``status``."""

    def __init__(self, message: str, *, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.status = status


def _number(body: Mapping[str, Any], name: str, default: float, kind: type = float) -> Any:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise RequestError(f"'{name}' must be {'an integer' if kind is int else 'a number'}, got {value!r}", param=name)
    if isinstance(value, float) and not math.isfinite(value):
        raise RequestError(f"'{name}' must be a finite number, got {value!r}", param=name)
    return kind(value)


def _config(body: Mapping[str, Any], max_tokens: int, chat: bool) -> GenerationConfig:
    if body.get("stream"):
        raise RequestError("streaming is not supported by this server; send 'stream': false", param="stream")
    n = _number(body, "n", 1, int)
    if n != 1:
        raise RequestError(f"only n=1 is supported, got {n}", param="n")
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise RequestError("'stop' must be a string or a list of strings", param="stop")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RequestError(f"'seed' must be an integer, got {seed!r}", param="seed")
    if seed is not None and not _SEED_MIN <= seed <= _SEED_MAX:
        raise RequestError(f"'seed' must be in [-2**63, 2**64 - 1], got {seed}", param="seed")
    top_k = _number(body, "top_k", 0, int)
    try:
        return GenerationConfig(
            max_new_tokens=max_tokens,
            temperature=_number(body, "temperature", 1.0),
            top_p=_number(body, "top_p", 1.0),
            # vLLM uses -1 for "off"
            top_k=max(top_k, 0),
            stop=stop,
            seed=seed,
            chat=chat,
        )
    except ValueError as e:
        raise RequestError(str(e)) from e


# Fields each route implements; any other field is a 400 unless it carries its no-op value (so clients that
# always send e.g. ``presence_penalty: 0`` keep working). A field we do not implement is never silently ignored.
_COMMON_FIELDS = {"model", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed", "n", "stream", "user"}
COMPLETION_FIELDS = _COMMON_FIELDS | {"prompt", "echo", "logprobs"}
CHAT_FIELDS = _COMMON_FIELDS | {"messages", "max_completion_tokens", "logprobs", "top_logprobs"}
_NO_OP_VALUES: dict[str, tuple[Any, ...]] = {
    "presence_penalty": (0, 0.0),
    "frequency_penalty": (0, 0.0),
    "repetition_penalty": (1, 1.0),
    "logit_bias": ({},),
    "best_of": (1,),
    "suffix": ("",),
    "stream_options": (),
    "min_tokens": (0,),
    "parallel_tool_calls": (),
    "tools": ([],),
}
MAX_LOGPROBS = 20


def check_fields(body: Mapping[str, Any], allowed: set[str]) -> None:
    """400 naming the first field of ``body`` this route does not implement (``None``/no-op values pass)."""
    for name, value in body.items():
        if name in allowed or value is None or value in _NO_OP_VALUES.get(name, ()):
            continue
        raise RequestError(f"the field '{name}' is not supported by this server", param=name)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _flag(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestError(f"'{name}' must be true or false, got {value!r}", param=name)
    return value


def _count(body: Mapping[str, Any], name: str) -> int | None:
    """An optional integer in ``[0, MAX_LOGPROBS]`` (``logprobs``/``top_logprobs``)."""
    if body.get(name) is None:
        return None
    value = _number(body, name, 0, int)
    if not 0 <= value <= MAX_LOGPROBS:
        raise RequestError(f"'{name}' must be in [0, {MAX_LOGPROBS}], got {value}", param=name)
    return value


def _vocab_size(backend: Backend) -> int | None:
    """Number of token ids the model embeds (its config's ``vocab_size``, else the tokenizer's length)."""
    config = getattr(getattr(backend, "model", None), "config", None)
    size = getattr(config, "vocab_size", None)
    if isinstance(size, int) and size > 0:
        return size
    tok = getattr(backend, "tokenizer", None)
    return len(tok) if tok is not None and hasattr(tok, "__len__") else None


def _check_max_tokens(max_tokens: int, limit: int | None) -> None:
    if max_tokens < 0:
        raise RequestError(f"'max_tokens' must be >= 0, got {max_tokens}", param="max_tokens")
    if limit is not None and max_tokens > limit:
        raise RequestError(f"'max_tokens' must be <= {limit} on this server, got {max_tokens}", param="max_tokens")


def parse_completion_request(
    body: Mapping[str, Any], default_max_tokens: int = 16, max_tokens_limit: int | None = None
) -> tuple[list[str], GenerationConfig]:
    """Prompts and config of a ``/v1/completions`` body.

    ``prompt`` may be a string, a list of strings, a list of token ids or a list of lists of token ids (as in
    OpenAI's and vLLM's API); token-id prompts come back as lists of ints.
    """
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts: list[Any] = [prompt]
    elif isinstance(prompt, list) and prompt and all(_is_int(t) for t in prompt):
        prompts = [prompt]
    else:
        prompts = prompt
    ok = isinstance(prompts, list) and prompts
    ok = ok and all(isinstance(p, str) or (isinstance(p, list) and p and all(_is_int(t) for t in p)) for p in prompts)
    if not ok:
        raise RequestError(
            "'prompt' must be a string, a list of strings, a list of token ids or a list of lists of token ids",
            param="prompt",
        )
    max_tokens = _number(body, "max_tokens", default_max_tokens, int)
    _check_max_tokens(max_tokens, max_tokens_limit)
    return prompts, _config(body, max_tokens, chat=False)


def parse_chat_request(
    body: Mapping[str, Any], default_max_tokens: int = 512, max_tokens_limit: int | None = None
) -> tuple[list[dict[str, str]], GenerationConfig]:
    """Messages and config of a ``/v1/chat/completions`` body (text content parts are joined)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list", param="messages")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise RequestError(f"messages[{i}] must be an object with a 'role'", param=f"messages[{i}]")
        content = m.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                    raise RequestError(f"messages[{i}].content: only text parts are supported", param=f"messages[{i}].content")
                parts.append(part["text"])
            content = "".join(parts)
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise RequestError(
                f"messages[{i}].content must be a string or a list of text parts", param=f"messages[{i}].content"
            )
        out.append({"role": m["role"], "content": content})
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    max_tokens = default_max_tokens if limit is None else _number({"max_tokens": limit}, "max_tokens", 0, int)
    if limit is None and max_tokens_limit is not None:
        max_tokens = min(max_tokens, max_tokens_limit)
    _check_max_tokens(max_tokens, max_tokens_limit)
    return out, _config(body, max_tokens, chat=True)


def context_length(backend: Backend, max_length: int | None = None) -> int:
    """Context limit the server enforces: ``max_length``, else the model config's, else ``FALLBACK_CONTEXT``."""
    if max_length:
        return int(max_length)
    own = getattr(backend, "max_length", None)
    if own:
        return int(own)
    config = getattr(getattr(backend, "model", None), "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return FALLBACK_CONTEXT
