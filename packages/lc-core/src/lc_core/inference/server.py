"""A small OpenAI-compatible HTTP server in front of any :class:`~lc_core.inference.base.Backend`.

Puts a local model behind the ``openai`` backend (or any OpenAI client)::

    lc-core serve --model path/to/model --port 8000
    # then: get_backend("openai", model="model", base_url="http://127.0.0.1:8000/v1")

Endpoints: ``GET /v1/models``, ``POST /v1/completions``, ``POST /v1/chat/completions`` (non-streaming;
``max_tokens``/``max_completion_tokens``, ``temperature``, ``top_p``, ``top_k``, ``stop``, ``seed``; ``n``
must be 1). Concurrent requests are gathered into batches for the backend. If ``LC_SERVE_API_KEY`` is
set, requests must carry it as ``Authorization: Bearer …``. Stdlib only; importing this module imports
no torch.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hmac
import json
import math
import queue
import signal
import threading
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lc_core import env
from lc_core.inference.base import Backend, GenerationConfig, Prompt, cut_at_stop
from lc_core.logging import get_logger

__all__ = [
    "BackendServer",
    "serve",
    "RequestError",
    "parse_completion_request",
    "parse_chat_request",
    "context_length",
    "ServerBusy",
]

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


class ServerBusy(RequestError):
    """The request queue is full (503); the client should retry later."""


# (kind, payload, config, future): kind "text" -> backend.generate(prompt, config) -> str; "tokens" ->
# backend.generate_tokens(ids, config) -> list[int]; "score" -> backend.score_tokens(ids, top_k=config) -> TokenScores
_Job = tuple[str, Any, Any, "concurrent.futures.Future[Any]"]


class _Batcher:
    """Gathers requests arriving together into ``backend.generate`` calls, run by ``workers`` threads.

    With more than one worker a long batch does not hold up requests that arrive while it runs. The
    worker threads are not daemons: :meth:`close` lets each finish its batch and joins it, so the
    interpreter never exits in the middle of a backend call.
    """

    def __init__(self, backend: Backend, max_batch_size: int, wait_s: float, workers: int = 2, max_queued: int = 256) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.wait_s = wait_s
        self.max_queued = max_queued
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._take = threading.Lock()  # one worker gathers a batch at a time
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"lc-serve-batcher-{i}", daemon=False) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, prompt: Any, config: Any, kind: str = "text") -> concurrent.futures.Future[Any]:
        if self._closed:
            raise ServerBusy("the server is shutting down", status=503)
        if self._queue.qsize() >= self.max_queued:
            raise ServerBusy(f"the server has {self.max_queued} requests queued; retry later", status=503)
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put((kind, prompt, config, fut))
        return fut

    def _gather(self) -> list[_Job] | None:
        with self._take:
            item = self._queue.get()
            if item is None:
                return None
            batch = [item]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch_size:
                try:
                    nxt = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if batch is None:
                return
            groups: dict[Any, list[_Job]] = {}
            for job in batch:
                # score jobs group by top_k (one score_tokens call each)
                groups.setdefault((job[0], job[2]) if job[0] == "score" else job[0], []).append(job)
            for jobs in groups.values():
                self._execute(jobs)

    def _execute(self, jobs: list[_Job]) -> None:
        kind = jobs[0][0]
        try:
            if kind == "text":
                outs = self.backend.generate([j[1] for j in jobs], [j[2] for j in jobs])
            elif kind == "tokens":
                outs = self.backend.generate_tokens([j[1] for j in jobs], [j[2] for j in jobs])
            else:
                outs = self.backend.score_tokens([j[1] for j in jobs], top_k=jobs[0][2])
        except Exception as e:
            logger.exception("backend failed on a batch of %d %s requests", len(jobs), kind)
            for *_, fut in jobs:
                fut.set_exception(e)
            return
        for (*_, fut), out in zip(jobs, outs, strict=True):
            fut.set_result(out)

    def close(self, timeout: float | None = None) -> None:
        """Stop the workers after their current batch and join them; queued requests fail with 503."""
        self._closed = True
        pending = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                pending.append(item)
        for *_, fut in pending:
            fut.set_exception(ServerBusy("the server is shutting down", status=503))
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
            if t.is_alive():
                logger.warning("batch worker %s is still running a backend call", t.name)


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


class BackendServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that serves one backend; see :func:`serve`."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        backend: Backend,
        *,
        model_name: str,
        max_batch_size: int = 8,
        batch_wait_s: float = 0.005,
        default_max_tokens: int = 512,
        api_key: str | None = None,
        max_length: int | None = None,
        max_tokens_limit: int | None = 4096,
        read_timeout_s: float = 30.0,
        workers: int = 2,
        max_queued: int = 256,
    ) -> None:
        super().__init__(address, _Handler)
        self.backend = backend
        self.model_name = model_name
        self.context_length = context_length(backend, max_length)
        self.max_tokens_limit = self.context_length if max_tokens_limit is None else min(max_tokens_limit, self.context_length)
        self.default_max_tokens = min(default_max_tokens, self.max_tokens_limit)
        self.read_timeout_s = read_timeout_s
        self._api_key = api_key
        self.batcher = _Batcher(backend, max_batch_size, batch_wait_s, workers=workers, max_queued=max_queued)

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. ``http://127.0.0.1:8000/v1`` (what ``base_url=`` wants)."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __repr__(self) -> str:
        return f"BackendServer(url={self.url!r}, model={self.model_name!r})"

    def authorized(self, header: str | None) -> bool:
        if self._api_key is None:
            return True
        expected = f"Bearer {self._api_key}"
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())

    def close(self, timeout: float | None = None) -> None:
        """Stop serving, close the socket, let the batch workers finish and join them (the backend stays open)."""
        self.shutdown()
        self.server_close()
        self.batcher.close(timeout)


class _Handler(BaseHTTPRequestHandler):
    server: BackendServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # a read timeout on the socket: a client that stalls mid-request cannot hold a thread forever
        self.timeout = self.server.read_timeout_s
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, param: str | None = None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._send(status, {"error": {"message": message, "type": kind, "param": param, "code": None}})

    def do_GET(self) -> None:
        if not self.server.authorized(self.headers.get("Authorization")):
            self._error(HTTPStatus.UNAUTHORIZED, "invalid or missing API key")
            return
        route = self.path.rstrip("/")
        if route == "/v1/models":
            model = {
                "id": self.server.model_name,
                "object": "model",
                "created": 0,
                "owned_by": "lc",
                "max_model_len": self.server.context_length,
            }
            self._send(HTTPStatus.OK, {"object": "list", "data": [model]})
            return
        if route in ("/tokenizer_info", "/v1/tokenizer_info"):
            try:
                self._send(HTTPStatus.OK, self._tokenizer_info())
            except RequestError as e:
                self._error(e.status, str(e), e.param)
            return
        self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

    def do_POST(self) -> None:
        if not self.server.authorized(self.headers.get("Authorization")):
            self._error(HTTPStatus.UNAUTHORIZED, "invalid or missing API key")
            return
        route = self.path.rstrip("/")
        if route.startswith("/v1/") and route[3:] in ("/tokenize", "/detokenize"):
            route = route[3:]
        handlers = {
            "/v1/completions": self._complete,
            "/v1/chat/completions": self._chat,
            "/tokenize": self._tokenize,
            "/detokenize": self._detokenize,
        }
        if route not in handlers:
            self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
            return
        try:
            body = self._body()
            model = body.get("model")
            if model is not None and model != self.server.model_name:
                raise RequestError(
                    f"the model '{model}' does not exist; this server has '{self.server.model_name}'",
                    param="model",
                    status=404,
                )
            handlers[route](body)
        except RequestError as e:
            self._error(e.status, str(e), e.param)
        except TimeoutError:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_TIMEOUT, f"no request data for {self.server.read_timeout_s:g} s")
        except Exception as e:
            logger.exception("request to %s failed", route)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(e).__name__}: {e}")

    def _body(self) -> dict[str, Any]:
        header = self.headers.get("Content-Length") or "0"
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise RequestError(f"invalid Content-Length header {header!r}")
        if length > _MAX_BODY:
            self.close_connection = True
            raise RequestError(f"request body of {length} bytes exceeds {_MAX_BODY}", status=413)
        raw = self.rfile.read(length)
        if len(raw) < length:
            self.close_connection = True
            raise RequestError(f"the body ended after {len(raw)} of {length} bytes")
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as e:
            raise RequestError(f"invalid JSON body: {e}") from e
        if not isinstance(body, dict):
            raise RequestError("the JSON body must be an object")
        return body

    def _run(self, prompts: list[Prompt], config: GenerationConfig) -> list[tuple[str, int, int, str]]:
        backend = self.server.backend
        limit = self.server.context_length
        counts = []
        for i, p in enumerate(prompts):
            n = backend.count_prompt_tokens(p, config)
            if n + config.max_new_tokens > limit:
                where = f"prompt {i}" if len(prompts) > 1 else "the prompt"
                raise RequestError(
                    f"this model's maximum context length is {limit} tokens; {where} has {n} tokens and "
                    f"max_tokens is {config.max_new_tokens}",
                    param="prompt" if not config.chat else "messages",
                )
            counts.append(n)
        futures = [self.server.batcher.submit(p, config) for p in prompts]
        rows = []
        for n, fut in zip(counts, futures, strict=True):
            text = fut.result()
            completion = backend.count_tokens(text)
            # re-tokenising the text estimates the generated count; at the limit, the cut was by length
            finish = "length" if config.max_new_tokens and completion >= config.max_new_tokens else "stop"
            rows.append((text, n, completion, finish))
        return rows

    def _usage(self, rows: list[tuple[str, int, int, str]]) -> dict[str, int]:
        prompt = sum(r[1] for r in rows)
        completion = sum(r[2] for r in rows)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _complete(self, body: dict[str, Any]) -> None:
        check_fields(body, COMPLETION_FIELDS)
        prompts, config = parse_completion_request(body, max_tokens_limit=self.server.max_tokens_limit)
        echo = _flag(body, "echo")
        k = _count(body, "logprobs")
        if echo or k is not None or any(not isinstance(p, str) for p in prompts):
            choices, usage = self._complete_tokens(prompts, config, echo, k)
        else:
            rows = self._run(list(prompts), config)
            choices = [{"index": i, "text": r[0], "finish_reason": r[3], "logprobs": None} for i, r in enumerate(rows)]
            usage = self._usage(rows)
        self._send(
            HTTPStatus.OK,
            {
                "id": f"cmpl-{uuid.uuid4().hex}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": self.server.model_name,
                "choices": choices,
                "usage": usage,
            },
        )

    # --- the token-level path: echo, logprobs, token-id prompts ----------------------------------------------

    def _token_backend(self, what: str) -> Backend:
        backend = self.server.backend
        if not backend.supports_tokens:
            raise RequestError(f"{what} needs a backend with token access (hf); this server runs '{backend.name}'")
        return backend

    def _check_ids(self, ids: list[int], i: int) -> None:
        vocab = _vocab_size(self.server.backend)
        bad = [t for t in ids if t < 0 or (vocab is not None and t >= vocab)]
        if bad:
            raise RequestError(f"prompt {i} has token id {bad[0]} outside the vocabulary [0, {vocab})", param="prompt")

    def _check_context(self, n: int, config: GenerationConfig, i: int, n_prompts: int) -> None:
        limit = self.server.context_length
        if n + config.max_new_tokens > limit:
            where = f"prompt {i}" if n_prompts > 1 else "the prompt"
            raise RequestError(
                f"this model's maximum context length is {limit} tokens; {where} has {n} tokens and "
                f"max_tokens is {config.max_new_tokens}",
                param="messages" if config.chat else "prompt",
            )

    def _generate_ids(
        self, id_lists: list[list[int]], config: GenerationConfig, top_k: int | None
    ) -> list[tuple[list[int], str, str, Any]]:
        """Per prompt: (new ids, completion text, finish reason, TokenScores of prompt + new ids or None)."""
        backend = self.server.backend
        batcher = self.server.batcher
        if config.max_new_tokens > 0:
            futures = [batcher.submit(ids, config, kind="tokens") for ids in id_lists]
            news = [list(f.result()) for f in futures]
        else:
            news = [[] for _ in id_lists]
        rows = []
        for new in news:
            full = backend.decode(new)
            text = cut_at_stop(full, config.stop)
            finish = "length" if config.max_new_tokens and len(new) >= config.max_new_tokens else "stop"
            if text != full:
                finish = "stop"
                # keep the tokens that make up the text before the stop string
                keep = next((n for n in range(len(new) + 1) if len(backend.decode(new[:n])) >= len(text)), len(new))
                new = new[:keep]
            rows.append((new, text, finish))
        scores: list[Any] = [None] * len(rows)
        if top_k is not None:
            futures = [batcher.submit(ids + r[0], top_k, kind="score") for ids, r in zip(id_lists, rows, strict=True)]
            scores = [f.result() for f in futures]
        return [(*r, sc) for r, sc in zip(rows, scores, strict=True)]

    def _complete_tokens(
        self, prompts: list[Any], config: GenerationConfig, echo: bool, k: int | None
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        what = "'echo'" if echo else "'logprobs'" if k is not None else "a token-id prompt"
        backend = self._token_backend(what)
        id_lists = []
        for i, p in enumerate(prompts):
            ids = backend.prompt_ids(p, config) if isinstance(p, str) else [int(t) for t in p]
            if not isinstance(p, str):
                self._check_ids(ids, i)
            if not ids:
                raise RequestError(f"prompt {i} is empty after tokenization", param="prompt")
            self._check_context(len(ids), config, i, len(prompts))
            id_lists.append(ids)
        results = self._generate_ids(id_lists, config, k)
        choices = []
        for i, (p, ids, (new, text, finish, scores)) in enumerate(zip(prompts, id_lists, results, strict=True)):
            prompt_text = p if isinstance(p, str) else backend.decode(ids)
            logprobs = None
            if scores is not None:
                start = 0 if echo else len(ids)
                seq = ids + new
                pieces = [backend.decode([t]) for t in seq]
                offset = 0 if echo else len(prompt_text)
                offsets = []
                for piece in pieces[start:]:
                    offsets.append(offset)
                    offset += len(piece)
                tops = []
                for pos in range(start, len(seq)):
                    if pos == 0:
                        tops.append(None)
                        continue
                    top: dict[str, float] = {}
                    for tok, lp in scores.top[pos]:
                        top.setdefault(backend.decode([tok]), lp)  # best first: a repeated string keeps its best
                    tops.append(top)
                logprobs = {
                    "tokens": pieces[start:],
                    "token_logprobs": scores.logprobs[start:],
                    "top_logprobs": tops,
                    "text_offset": offsets,
                }
            choices.append(
                {
                    "index": i,
                    "text": (prompt_text if echo else "") + text,
                    "finish_reason": finish,
                    "logprobs": logprobs,
                }
            )
        n_prompt = sum(len(ids) for ids in id_lists)
        n_new = sum(len(r[0]) for r in results)
        return choices, {"prompt_tokens": n_prompt, "completion_tokens": n_new, "total_tokens": n_prompt + n_new}

    def _chat(self, body: dict[str, Any]) -> None:
        check_fields(body, CHAT_FIELDS)
        messages, config = parse_chat_request(body, self.server.default_max_tokens, self.server.max_tokens_limit)
        want = _flag(body, "logprobs")
        top = _count(body, "top_logprobs")
        if top is not None and not want:
            raise RequestError("'top_logprobs' needs 'logprobs': true", param="top_logprobs")
        if want:
            backend = self._token_backend("'logprobs'")
            ids = backend.prompt_ids(messages, config)
            self._check_context(len(ids), config, 0, 1)
            ((new, text, finish, scores),) = self._generate_ids([ids], config, top or 0)
            content = []
            for pos in range(len(ids), len(ids) + len(new)):
                piece = backend.decode([scores.token_ids[pos]])
                alternatives = [
                    {"token": (s := backend.decode([t])), "logprob": lp, "bytes": list(s.encode())}
                    for t, lp in scores.top[pos]
                ]
                content.append(
                    {
                        "token": piece,
                        "logprob": scores.logprobs[pos],
                        "bytes": list(piece.encode()),
                        "top_logprobs": alternatives,
                    }
                )
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
                "logprobs": {"content": content},
            }
            usage = {"prompt_tokens": len(ids), "completion_tokens": len(new), "total_tokens": len(ids) + len(new)}
        else:
            (row,) = self._run([messages], config)
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": row[0]},
                "finish_reason": row[3],
                "logprobs": None,
            }
            usage = self._usage([row])
        self._send(
            HTTPStatus.OK,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.server.model_name,
                "choices": [choice],
                "usage": usage,
            },
        )

    # --- vLLM's tokenizer routes ---------------------------------------------------------------------------------

    def _tokenize(self, body: dict[str, Any]) -> None:
        check_fields(body, {"model", "prompt", "messages", "add_special_tokens", "add_generation_prompt", "return_token_strs"})
        backend = self.server.backend
        if ("prompt" in body) == ("messages" in body):
            raise RequestError("send exactly one of 'prompt' (a string) or 'messages'", param="prompt")
        if "prompt" in body:
            prompt = body["prompt"]
            if not isinstance(prompt, str):
                raise RequestError("'prompt' must be a string", param="prompt")
            special = _flag(body, "add_special_tokens", True)
            ids = backend.prompt_ids(prompt) if special and backend.supports_tokens else backend.encode(prompt)
        else:
            if body.get("add_generation_prompt") is False:
                raise RequestError("'add_generation_prompt': false is not supported", param="add_generation_prompt")
            messages, config = parse_chat_request({"messages": body["messages"]})
            ids = self._token_backend("tokenizing messages").prompt_ids(messages, config)
        strs = [backend.decode([t]) for t in ids] if _flag(body, "return_token_strs") else None
        self._send(
            HTTPStatus.OK,
            {"count": len(ids), "max_model_len": self.server.context_length, "tokens": ids, "token_strs": strs},
        )

    def _detokenize(self, body: dict[str, Any]) -> None:
        check_fields(body, {"model", "tokens"})
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not all(_is_int(t) for t in tokens):
            raise RequestError("'tokens' must be a list of token ids", param="tokens")
        self._check_ids(tokens, 0)
        self._send(HTTPStatus.OK, {"prompt": self.server.backend.decode(tokens)})

    def _tokenizer_info(self) -> dict[str, Any]:
        tok = getattr(self.server.backend, "tokenizer", None)
        if tok is None or not hasattr(tok, "eos_token"):
            raise RequestError(f"the '{self.server.backend.name}' backend exposes no tokenizer", status=404)
        info: dict[str, Any] = {
            "tokenizer_class": type(tok).__name__,
            "model_max_length": self.server.context_length,
            "max_model_len": self.server.context_length,
            "chat_template": getattr(tok, "chat_template", None),
        }
        for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
            value = getattr(tok, name, None)
            info[name] = str(value) if value is not None else None
        return info


def serve(
    backend: Backend,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    model_name: str | None = None,
    max_batch_size: int = 8,
    batch_wait_s: float = 0.005,
    default_max_tokens: int = 512,
    api_key: str | None = None,
    max_length: int | None = None,
    max_tokens_limit: int | None = 4096,
    read_timeout_s: float = 30.0,
    workers: int = 2,
    max_queued: int = 256,
) -> tuple[BackendServer, threading.Thread]:
    """Serve ``backend`` in a background thread.

    Args:
        backend: any backend (an ``HFBackend`` typically).
        host: interface to bind; keep ``127.0.0.1`` unless the machine is private.
        port: TCP port; ``0`` picks a free one (read ``server.url``).
        model_name: the id clients send as ``model`` (default: the backend's ``model_name`` or ``"model"``).
        max_batch_size: requests gathered into one ``generate`` call.
        batch_wait_s: how long the first request of a batch waits for company.
        default_max_tokens: chat completion limit when a request sets none.
        api_key: if given, required as ``Authorization: Bearer <key>``.
        max_length: context limit in tokens (prompt + max_tokens); a longer request is a 400. Default: the
            backend's ``max_length``, else the model config's ``max_position_embeddings`` (or alike), else
            ``FALLBACK_CONTEXT``.
        max_tokens_limit: largest ``max_tokens`` a request may ask for (400 above; None = the context).
        read_timeout_s: socket timeout while reading a request (a stalled client gets 408 and is dropped).
        workers: batches run at the same time (a long request does not block the others).
        max_queued: requests waiting for a worker before new ones get 503.

    Returns:
        The server (``server.url``, ``server.close()``) and the thread running it.
    """
    name = model_name or getattr(backend, "model_name", None) or "model"
    server = BackendServer(
        (host, port),
        backend,
        model_name=str(name),
        max_batch_size=max_batch_size,
        batch_wait_s=batch_wait_s,
        default_max_tokens=default_max_tokens,
        api_key=api_key,
        max_length=max_length,
        max_tokens_limit=max_tokens_limit,
        read_timeout_s=read_timeout_s,
        workers=workers,
        max_queued=max_queued,
    )
    # a short poll interval makes close() return quickly
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="lc-serve", daemon=True)
    thread.start()
    logger.info("serving %r at %s", server.model_name, server.url)
    return server, thread


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``lc-core serve``."""
    p.add_argument("--model", required=True, help="model folder, built-in name (lc-core/demo-mamba2) or hub id")
    p.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the model's)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="backend that runs the model")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1 = this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (0 = any free port)")
    p.add_argument("--served-model-name", default=None, help="model id clients send (default: --model)")
    p.add_argument("--device", default="auto", help="hf: auto, cpu, cuda, cuda:1…")
    p.add_argument("--dtype", default="auto", help="hf: auto, float32, bfloat16, float16")
    p.add_argument("--batch-size", type=int, default=8, help="requests decoded together")
    p.add_argument("--prefill-chunk-size", type=int, default=4096, help="hf: prompt tokens per prefill forward (0 = all)")
    p.add_argument(
        "--max-length",
        type=int,
        default=None,
        help="context limit in tokens (prompt + max_tokens; longer requests get 400); default: the model config's",
    )
    p.add_argument(
        "--chat-template", choices=["auto", "on", "off"], default="auto", help="hf: apply the tokenizer's chat template"
    )
    p.add_argument("--default-max-tokens", type=int, default=512, help="chat completion limit when a request sets none")
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the model folder")
    p.add_argument("--max-tokens-limit", type=int, default=4096, help="largest max_tokens a request may ask for")
    p.add_argument("--workers", type=int, default=2, help="batches decoded at the same time")
    p.add_argument("--read-timeout", type=float, default=30.0, help="seconds a client may stall while sending")


def run_command(args: argparse.Namespace) -> int:
    """``lc-core serve``: build the backend, serve until Ctrl-C."""
    from lc_core.inference.base import get_backend

    if args.backend == "hf":
        template = {"auto": None, "on": True, "off": False}[args.chat_template]
        backend = get_backend(
            "hf",
            model=args.model,
            tokenizer=args.tokenizer,
            device=args.device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            prefill_chunk_size=args.prefill_chunk_size,
            chat_template=template,
            trust_remote_code=args.trust_remote_code,
            max_length=args.max_length,
            disable_tqdm=True,
        )
    else:
        backend = get_backend(
            "vllm",
            model=args.model,
            tokenizer=args.tokenizer,
            max_model_len=args.max_length,
            trust_remote_code=args.trust_remote_code,
        )
    server, thread = serve(
        backend,
        args.host,
        args.port,
        model_name=args.served_model_name or args.model,
        max_batch_size=args.batch_size,
        default_max_tokens=args.default_max_tokens,
        api_key=env.get_secret("LC_SERVE_API_KEY"),
        max_length=args.max_length,
        max_tokens_limit=args.max_tokens_limit,
        read_timeout_s=args.read_timeout,
        workers=args.workers,
    )
    print(f"serving {server.model_name!r} at {server.url} (Ctrl-C to stop)", flush=True)

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGTERM stops as cleanly as Ctrl-C: workers finish their batch and are joined before exit
    signal.signal(signal.SIGTERM, _stop)
    try:
        while thread.is_alive():
            thread.join(timeout=1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        backend.close()
    return 0
