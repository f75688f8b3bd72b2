"""OpenAI and OpenAI-compatible servers (vLLM, SGLang, ``lc-core serve``) as a :class:`Backend`.

Example::

    from lc_core.inference import GenerationConfig, get_backend

    # key from OPENAI_API_KEY, URL from OPENAI_BASE_URL (or pass base_url=/api_key=)
    backend = get_backend("openai", model="gpt-4o-mini", endpoint="chat", concurrency=8)
    backend.generate(["Say hi"], GenerationConfig(max_new_tokens=8))

Requests run in a thread pool (results keep input order). Rate limits (429), timeouts (408), lock
errors (409), server errors (5xx) and dropped connections are retried by the ``openai`` client with
exponential backoff (0.5 s doubling up to 8 s, honouring ``Retry-After``); a request still failing
after ``max_retries`` raises :class:`APIRequestError` naming the model, endpoint and prompt index.
The API key never appears in ``repr``, logs, ``run_manifest`` or results.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lc_core import env
from lc_core.inference.base import Backend, GenerationConfig, Prompt, cut_at_stop
from lc_core.logging import get_logger, warn_once
from lc_core.tokenizers import ByteTokenizer

__all__ = ["OpenAIBackend", "APIRequestError", "load_tokenizer"]

logger = get_logger(__name__)

# a local OpenAI-compatible server usually ignores the key, but the client refuses to start without one
_PLACEHOLDER_KEY = "EMPTY"


class APIRequestError(RuntimeError):
    """A request that still failed after the client's retries."""


class _HFTokenizer:
    """``encode``/``decode`` over a ``tokenizers.Tokenizer`` or a transformers tokenizer."""

    def __init__(self, tok: Any, fast: bool) -> None:
        self._tok = tok
        self._fast = fast

    def encode(self, text: str) -> list[int]:
        if self._fast:
            return list(self._tok.encode(text, add_special_tokens=False).ids)
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=True)


def load_tokenizer(path: str | os.PathLike[str]) -> Any:
    """A local tokenizer with ``encode(text) -> ids`` and ``decode(ids)``, for counting tokens offline.

    Uses ``tokenizer.json`` through the ``tokenizers`` library when present (no torch), else
    transformers' ``AutoTokenizer`` on the folder.

    Raises:
        FileNotFoundError: ``path`` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"tokenizer folder {folder} does not exist")
    if (folder / "tokenizer.json").is_file():
        try:
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ImportError(
                f"reading {folder / 'tokenizer.json'} needs the tokenizers library: pip install tokenizers"
            ) from e
        return _HFTokenizer(Tokenizer.from_file(str(folder / "tokenizer.json")), fast=True)
    try:
        from transformers import AutoTokenizer
    except ImportError as e:
        raise ImportError(f"{folder} has no tokenizer.json; loading it needs transformers: pip install transformers") from e

    return _HFTokenizer(AutoTokenizer.from_pretrained(str(folder)), fast=False)


class OpenAIBackend(Backend):
    """Generation through the OpenAI Python client.

    Args:
        model: the model name the server knows (``gpt-4o-mini``, the served name of a vLLM model…).
        base_url: API root such as ``http://127.0.0.1:8000/v1``; default ``OPENAI_BASE_URL``, else OpenAI.
        api_key: default ``OPENAI_API_KEY``; a placeholder is used for a custom ``base_url`` without one.
        endpoint: ``"chat"`` (``/chat/completions``) or ``"completions"`` (``/completions``, raw text).
        concurrency: requests in flight at once.
        max_retries: retries per request inside the client (exponential backoff).
        timeout: seconds per request attempt.
        tokenizer: a local tokenizer folder for ``count_tokens``/``truncate_middle``; without it a byte
            tokenizer is used (with a warning: counts are UTF-8 bytes, not the server's tokens).
        max_tokens_field: name of the length limit in chat requests; OpenAI's reasoning models want
            ``"max_completion_tokens"``, compatible servers ``"max_tokens"``.
        disable_tqdm: hide the progress bar.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoint: str = "chat",
        concurrency: int = 4,
        max_retries: int = 3,
        timeout: float = 600,
        tokenizer: str | None = None,
        *,
        max_tokens_field: str = "max_tokens",
        disable_tqdm: bool = False,
    ) -> None:
        try:
            import openai
        except ImportError as e:
            raise ImportError("the openai backend needs the openai client: pip install 'lc-core[api]'") from e
        if endpoint not in ("chat", "completions"):
            raise ValueError(f"endpoint must be 'chat' or 'completions', got {endpoint!r}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.model = model
        self.base_url = base_url or env.get_secret("OPENAI_BASE_URL")
        self.endpoint = endpoint
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.max_tokens_field = max_tokens_field
        self.disable_tqdm = disable_tqdm
        key = api_key or env.get_secret("OPENAI_API_KEY")
        if key is None:
            if self.base_url is None:
                raise ValueError("no API key: set OPENAI_API_KEY or pass api_key= (or base_url= for a local server)")
            key = _PLACEHOLDER_KEY
        # the key lives only inside the client; this object keeps no attribute holding it
        self._client = openai.OpenAI(api_key=key, base_url=self.base_url, max_retries=max_retries, timeout=timeout)
        self._openai = openai
        if tokenizer is not None:
            self.tokenizer: Any = load_tokenizer(tokenizer)
        else:
            self.tokenizer = ByteTokenizer()
        self._has_tokenizer = tokenizer is not None

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r}, endpoint={self.endpoint!r})"

    def config_dict(self) -> dict[str, Any]:
        """The settings worth recording in a run manifest (no key)."""
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "endpoint": self.endpoint,
            "concurrency": self.concurrency,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
        }

    def _warn_bytes(self) -> None:
        if not self._has_tokenizer:
            warn_once(logger, f"no tokenizer= for {self.model!r}: token counts are UTF-8 bytes, not the server's tokens")

    def encode(self, text: str) -> list[int]:
        self._warn_bytes()
        return self.tokenizer.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(ids)

    def _request(self, prompt: Prompt, config: GenerationConfig) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "temperature": config.temperature, "top_p": config.top_p}
        if config.stop:
            params["stop"] = list(config.stop)
        if config.seed is not None:
            params["seed"] = config.seed
        if config.top_k > 0:
            # not an OpenAI parameter; vLLM, SGLang and lc-core serve read it from the body
            params["extra_body"] = {"top_k": config.top_k}
        if self.endpoint == "chat":
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [dict(m) for m in prompt]
            params["messages"] = messages
            params[self.max_tokens_field] = config.max_new_tokens
        else:
            if not isinstance(prompt, str):
                raise ValueError("the completions endpoint takes text prompts; use endpoint='chat' for chat messages")
            params["prompt"] = prompt
            params["max_tokens"] = config.max_new_tokens
        return params

    def complete(self, prompt: Prompt, config: GenerationConfig) -> str:
        """One request (retried by the client); the text with stop strings cut."""
        if config.max_new_tokens == 0:
            return ""
        params = self._request(prompt, config)
        if self.endpoint == "chat":
            resp = self._client.chat.completions.create(**params)
            text = resp.choices[0].message.content or ""
        else:
            resp = self._client.completions.create(**params)
            text = resp.choices[0].text or ""
        # servers that ignore `stop` (or return the stop string) are handled the same way
        return cut_at_stop(text, config.stop)

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        """Complete each prompt with up to ``concurrency`` requests in flight; results in input order.

        Raises:
            APIRequestError: a request failed after all retries (names the prompt index and the cause).
        """
        configs = self._configs(len(prompts), config)
        results: list[str] = [""] * len(prompts)
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self.complete, p, c): i for i, (p, c) in enumerate(zip(prompts, configs, strict=True))}
            with tqdm(total=len(prompts), desc=f"{self.model}", disable=self.disable_tqdm, leave=False) as bar:
                try:
                    for fut in concurrent.futures.as_completed(futures):
                        i = futures[fut]
                        results[i] = self._result(fut, i)
                        bar.update(1)
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
        return results

    def _result(self, fut: concurrent.futures.Future[str], index: int) -> str:
        openai = self._openai
        where = f"{self.endpoint} request for prompt {index} to model {self.model!r} at {self.base_url or 'api.openai.com'}"
        try:
            return fut.result()
        except openai.APIStatusError as e:
            retried = f" after {self.max_retries} retries" if _retryable(e.status_code) else ""
            raise APIRequestError(f"{where} failed{retried}: HTTP {e.status_code}: {_message(e)}") from e
        except openai.APIConnectionError as e:
            raise APIRequestError(f"{where} failed after {self.max_retries} retries: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        self._client.close()


def _retryable(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def _message(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and "message" in err:
            return str(err["message"])
    return str(getattr(e, "message", e))
