"""The HTTP side of ``lc-core serve``: the server, the request handler and :func:`serve`."""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lc_core.inference.base import Backend, GenerationConfig, Prompt, cut_at_stop
from lc_core.inference.serve.batcher import _Batcher
from lc_core.inference.serve.protocol import (
    _MAX_BODY,
    CHAT_FIELDS,
    COMPLETION_FIELDS,
    RequestError,
    _count,
    _flag,
    _is_int,
    _vocab_size,
    check_fields,
    context_length,
    parse_chat_request,
    parse_completion_request,
)
from lc_core.logging import get_logger

logger = get_logger(__name__)


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
        if body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
            # no limit asked for: the default shrinks to the room the prompt leaves (as vLLM does)
            room = self.server.context_length - self.server.backend.count_prompt_tokens(messages, config)
            if 0 < room < config.max_new_tokens:
                config = config.replace(max_new_tokens=room)
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
