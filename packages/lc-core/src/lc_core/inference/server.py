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
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lc_core import env
from lc_core.inference.base import Backend, GenerationConfig, Prompt
from lc_core.logging import get_logger

__all__ = ["BackendServer", "serve", "RequestError", "parse_completion_request", "parse_chat_request"]

logger = get_logger(__name__)

_MAX_BODY = 64 * 1024 * 1024


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


def parse_completion_request(body: Mapping[str, Any], default_max_tokens: int = 16) -> tuple[list[str], GenerationConfig]:
    """Prompts and config of a ``/v1/completions`` body (``prompt`` may be a string or a list of strings)."""
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise RequestError("'prompt' must be a string or a non-empty list of strings", param="prompt")
    max_tokens = _number(body, "max_tokens", default_max_tokens, int)
    if max_tokens < 0:
        raise RequestError(f"'max_tokens' must be >= 0, got {max_tokens}", param="max_tokens")
    return prompts, _config(body, max_tokens, chat=False)


def parse_chat_request(
    body: Mapping[str, Any], default_max_tokens: int = 512
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
    if max_tokens < 0:
        raise RequestError(f"'max_tokens' must be >= 0, got {max_tokens}", param="max_tokens")
    return out, _config(body, max_tokens, chat=True)


class _Batcher:
    """Gathers requests arriving together into one ``backend.generate`` call (one at a time)."""

    def __init__(self, backend: Backend, max_batch_size: int, wait_s: float) -> None:
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.wait_s = wait_s
        self._queue: queue.Queue[tuple[Prompt, GenerationConfig, concurrent.futures.Future[str]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lc-serve-batcher", daemon=True)
        self._thread.start()

    def submit(self, prompt: Prompt, config: GenerationConfig) -> concurrent.futures.Future[str]:
        fut: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._queue.put((prompt, config, fut))
        return fut

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
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
            try:
                outs = self.backend.generate([b[0] for b in batch], [b[1] for b in batch])
            except Exception as e:
                logger.exception("backend failed on a batch of %d requests", len(batch))
                for _, _, fut in batch:
                    fut.set_exception(e)
                continue
            for (_, _, fut), out in zip(batch, outs, strict=True):
                fut.set_result(out)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)


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
    ) -> None:
        super().__init__(address, _Handler)
        self.backend = backend
        self.model_name = model_name
        self.default_max_tokens = default_max_tokens
        self._api_key = api_key
        self.batcher = _Batcher(backend, max_batch_size, batch_wait_s)

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

    def close(self) -> None:
        """Stop serving, close the socket and the batcher (the backend stays open)."""
        self.shutdown()
        self.server_close()
        self.batcher.close()


class _Handler(BaseHTTPRequestHandler):
    server: BackendServer
    protocol_version = "HTTP/1.1"

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
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": self.server.model_name, "object": "model", "created": 0, "owned_by": "lc"}
            self._send(HTTPStatus.OK, {"object": "list", "data": [model]})
            return
        self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

    def do_POST(self) -> None:
        if not self.server.authorized(self.headers.get("Authorization")):
            self._error(HTTPStatus.UNAUTHORIZED, "invalid or missing API key")
            return
        route = self.path.rstrip("/")
        if route not in ("/v1/completions", "/v1/chat/completions"):
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
            if route == "/v1/completions":
                self._complete(body)
            else:
                self._chat(body)
        except RequestError as e:
            self._error(e.status, str(e), e.param)
        except Exception as e:
            logger.exception("request to %s failed", route)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(e).__name__}: {e}")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise RequestError(f"request body of {length} bytes exceeds {_MAX_BODY}", status=413)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as e:
            raise RequestError(f"invalid JSON body: {e}") from e
        if not isinstance(body, dict):
            raise RequestError("the JSON body must be an object")
        return body

    def _run(self, prompts: list[Prompt], config: GenerationConfig) -> list[tuple[str, int, int, str]]:
        backend = self.server.backend
        futures = [self.server.batcher.submit(p, config) for p in prompts]
        rows = []
        for p, fut in zip(prompts, futures, strict=True):
            text = fut.result()
            completion = backend.count_tokens(text)
            # re-tokenising the text estimates the generated count; at the limit, the cut was by length
            finish = "length" if config.max_new_tokens and completion >= config.max_new_tokens else "stop"
            rows.append((text, backend.count_prompt_tokens(p, config), completion, finish))
        return rows

    def _usage(self, rows: list[tuple[str, int, int, str]]) -> dict[str, int]:
        prompt = sum(r[1] for r in rows)
        completion = sum(r[2] for r in rows)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _complete(self, body: dict[str, Any]) -> None:
        prompts, config = parse_completion_request(body)
        rows = self._run(list(prompts), config)
        choices = [{"index": i, "text": r[0], "finish_reason": r[3], "logprobs": None} for i, r in enumerate(rows)]
        self._send(
            HTTPStatus.OK,
            {
                "id": f"cmpl-{uuid.uuid4().hex}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": self.server.model_name,
                "choices": choices,
                "usage": self._usage(rows),
            },
        )

    def _chat(self, body: dict[str, Any]) -> None:
        messages, config = parse_chat_request(body, self.server.default_max_tokens)
        rows = self._run([messages], config)
        choices = [
            {"index": 0, "message": {"role": "assistant", "content": r[0]}, "finish_reason": r[3], "logprobs": None}
            for r in rows
        ]
        self._send(
            HTTPStatus.OK,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.server.model_name,
                "choices": choices,
                "usage": self._usage(rows),
            },
        )


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
    p.add_argument("--max-length", type=int, default=None, help="context limit; longer prompts are cut in the middle")
    p.add_argument(
        "--chat-template", choices=["auto", "on", "off"], default="auto", help="hf: apply the tokenizer's chat template"
    )
    p.add_argument("--default-max-tokens", type=int, default=512, help="chat completion limit when a request sets none")
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the model folder")


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
    )
    print(f"serving {server.model_name!r} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while thread.is_alive():
            thread.join(timeout=1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        backend.close()
    return 0
