"""Tests for the OpenAI-compatible server (lc_core.inference.server) over plain HTTP.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/inference/test_server.py -q``
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import threading
import urllib.parse

import pytest

from lc_core.inference.base import Backend, GenerationConfig
from lc_core.inference.server import RequestError, parse_chat_request, parse_completion_request, serve


class ReverseBackend(Backend):
    """A deterministic character-level backend: the completion is the reversed prompt; records batches."""

    name = "reverse"

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def generate(self, prompts, config):
        configs = self._configs(len(prompts), config)
        with self.lock:
            self.batches.append(len(prompts))
        outs = []
        for p, c in zip(prompts, configs, strict=True):
            text = p if isinstance(p, str) else p[-1]["content"]
            outs.append(text[::-1][: c.max_new_tokens])
        return outs

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


@pytest.fixture
def reverse_server():
    backend = ReverseBackend()
    server, _ = serve(backend, model_name="rev", batch_wait_s=0.2, max_batch_size=8)
    yield server, backend
    server.close()


def _call(url: str, method: str, path: str, body: object = None, raw: bytes | None = None, headers: dict | None = None):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    payload = json.loads(resp.read())
    conn.close()
    return resp.status, payload


def test_models_route(reverse_server):
    server, _ = reverse_server
    status, payload = _call(server.url, "GET", "/v1/models")
    assert status == 200 and [m["id"] for m in payload["data"]] == ["rev"]


def test_completion_and_chat_responses(reverse_server):
    server, _ = reverse_server
    status, payload = _call(
        server.url, "POST", "/v1/completions", {"model": "rev", "prompt": ["abcdef", "xy"], "max_tokens": 4}
    )
    assert status == 200
    assert [c["text"] for c in payload["choices"]] == ["fedc", "yx"]
    assert [c["finish_reason"] for c in payload["choices"]] == ["length", "stop"]
    assert payload["usage"] == {"prompt_tokens": 8, "completion_tokens": 6, "total_tokens": 14}
    status, payload = _call(
        server.url,
        "POST",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "hey"}]}]},
    )
    assert status == 200 and payload["object"] == "chat.completion"
    assert payload["choices"][0]["message"] == {"role": "assistant", "content": "yeh"}


@pytest.mark.parametrize(
    "path,body,status,needle",
    [
        ("/v1/completions", {"prompt": "a", "n": 2}, 400, "n=1"),
        ("/v1/completions", {"prompt": "a", "stream": True}, 400, "streaming"),
        ("/v1/completions", {"prompt": 3}, 400, "'prompt'"),
        ("/v1/completions", {"prompt": "a", "temperature": "hot"}, 400, "'temperature' must be a number"),
        ("/v1/completions", {"prompt": "a", "top_p": 0}, 400, "top_p"),
        ("/v1/completions", {"prompt": "a", "model": "gpt-4"}, 404, "does not exist"),
        ("/v1/chat/completions", {"messages": [{"content": "a"}]}, 400, "messages[0]"),
        ("/v1/embeddings", {"input": "a"}, 404, "no route"),
    ],
    ids=["n2", "stream", "prompt-type", "temperature-type", "top_p-range", "wrong-model", "no-role", "unknown-route"],
)
def test_bad_requests_get_openai_errors(reverse_server, path, body, status, needle):
    server, _ = reverse_server
    got, payload = _call(server.url, "POST", path, body)
    assert got == status
    assert needle in payload["error"]["message"]


def test_invalid_json_body(reverse_server):
    server, _ = reverse_server
    status, payload = _call(server.url, "POST", "/v1/completions", raw=b"{not json")
    assert status == 400 and "invalid JSON" in payload["error"]["message"]


def test_concurrent_requests_are_batched(reverse_server):
    server, backend = reverse_server
    prompts = [f"prompt-{i}" for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda p: _call(server.url, "POST", "/v1/completions", {"prompt": p, "max_tokens": 20}), prompts)
        )
    assert [r[1]["choices"][0]["text"] for r in results] == [p[::-1] for p in prompts]
    assert sum(backend.batches) == 6 and max(backend.batches) > 1


def test_api_key_is_required_when_set():
    server, _ = serve(ReverseBackend(), model_name="rev", api_key="sk-local")
    try:
        assert _call(server.url, "GET", "/v1/models")[0] == 401
        assert _call(server.url, "GET", "/v1/models", headers={"Authorization": "Bearer sk-local"})[0] == 200
    finally:
        server.close()


def test_parsers_build_generation_configs():
    prompts, cfg = parse_completion_request(
        {"prompt": "a", "max_tokens": 3, "temperature": 0, "stop": "x", "seed": 1, "top_k": -1}
    )
    assert prompts == ["a"]
    assert cfg == GenerationConfig(max_new_tokens=3, temperature=0.0, stop=["x"], seed=1, top_k=0)
    messages, cfg = parse_chat_request({"messages": [{"role": "user", "content": "q"}], "max_completion_tokens": 7})
    assert messages == [{"role": "user", "content": "q"}] and cfg.max_new_tokens == 7 and cfg.chat
    with pytest.raises(RequestError, match="seed"):
        parse_completion_request({"prompt": "a", "seed": "1"})


def test_serve_subcommand_is_registered():
    from lc_core.cli import build_parser

    args = build_parser().parse_args(["serve", "--model", "some/folder", "--port", "0", "--chat-template", "off"])
    assert args.command == "serve" and args.model == "some/folder" and args.port == 0 and args.chat_template == "off"


@pytest.mark.slow
def test_serve_command_end_to_end(llama_dir):
    """``python -m lc_core serve`` in a subprocess, queried over HTTP (imports torch in a new process)."""
    import signal
    import subprocess
    import sys
    import tempfile

    err = tempfile.TemporaryFile()  # noqa: SIM115 - read after the process exits
    proc = subprocess.Popen(
        [sys.executable, "-m", "lc_core", "serve", "--model", str(llama_dir), "--port", "0", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "serving" in line, line
        url = line.split(" at ")[1].split()[0]
        status, payload = _call(url, "POST", "/v1/completions", {"prompt": "hi", "max_tokens": 3, "temperature": 0})
        assert status == 200 and payload["model"] == str(llama_dir)
        assert payload["usage"]["prompt_tokens"] == 2
        # a stop while serving (SIGTERM as from a process manager, or Ctrl-C) joins the batch workers: rc 0,
        # and no "terminate called without an active exception" from a thread killed inside torch
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        err.seek(0)
        assert b"terminate called" not in err.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


# --- issue #10: bad input is a 400, limits, read timeouts, concurrency ---------------------------------------


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"prompt": "a", "temperature": float("nan")}, "finite"),
        ({"prompt": "a", "top_p": float("inf")}, "finite"),
        ({"prompt": "a", "seed": 2**70}, "'seed' must be in"),
        ({"prompt": "a", "max_tokens": 10**12}, "'max_tokens' must be <= 64"),
        ({"prompt": "x" * 200, "max_tokens": 8}, "maximum context length is 128 tokens"),
    ],
    ids=["nan-temperature", "inf-top_p", "huge-seed", "huge-max_tokens", "over-context"],
)
def test_invalid_values_are_400(body, needle):
    server, _ = serve(ReverseBackend(), model_name="rev", max_length=128, max_tokens_limit=64)
    try:
        # json.dumps writes NaN/Infinity literals, which Python's json (and so the server) accepts
        status, payload = _call(server.url, "POST", "/v1/completions", body)
        assert status == 400, payload
        assert needle in payload["error"]["message"]
    finally:
        server.close()


def test_chat_default_max_tokens_is_capped():
    server, _ = serve(ReverseBackend(), model_name="rev", max_tokens_limit=5, default_max_tokens=512)
    try:
        status, payload = _call(
            server.url, "POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "abcdefgh"}]}
        )
        assert status == 200 and payload["choices"][0]["message"]["content"] == "hgfed"
    finally:
        server.close()


def test_context_length_defaults_to_the_model_config():
    from types import SimpleNamespace

    from lc_core.inference.server import FALLBACK_CONTEXT, context_length

    backend = ReverseBackend()
    assert context_length(backend) == FALLBACK_CONTEXT
    backend.model = SimpleNamespace(config=SimpleNamespace(max_position_embeddings=2048))
    assert context_length(backend) == 2048
    assert context_length(backend, 100) == 100


def _raw(url: str, data: bytes, timeout: float = 30) -> bytes:
    import socket

    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_non_numeric_content_length_is_400(reverse_server):
    server, _ = reverse_server
    reply = _raw(server.url, b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400") and b"Content-Length" in reply


def test_stalled_client_gets_408_and_others_are_served():
    server, _ = serve(ReverseBackend(), model_name="rev", read_timeout_s=0.5)
    try:
        # announces 100 bytes, sends 2, then stalls: the server times the read out instead of waiting forever
        box: dict[str, bytes] = {}
        stalled = threading.Thread(
            target=lambda: box.update(
                reply=_raw(server.url, b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}")
            )
        )
        stalled.start()
        status, payload = _call(server.url, "POST", "/v1/completions", {"prompt": "ok", "max_tokens": 2})
        assert status == 200 and payload["choices"][0]["text"] == "ko"
        stalled.join(timeout=20)
        assert box["reply"].startswith(b"HTTP/1.1 408")
    finally:
        server.close()


class GateBackend(ReverseBackend):
    """Blocks on prompts starting with 'slow' until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def generate(self, prompts, config):
        if any(isinstance(p, str) and p.startswith("slow") for p in prompts):
            self.started.set()
            assert self.release.wait(timeout=60)
        return super().generate(prompts, config)


@pytest.mark.parametrize("workers,fast_served", [(2, True), (1, False)])
def test_a_long_request_does_not_block_a_short_one(workers, fast_served):
    backend = GateBackend()
    server, _ = serve(backend, model_name="rev", workers=workers, batch_wait_s=0.0)
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        slow = pool.submit(_call, server.url, "POST", "/v1/completions", {"prompt": "slow", "max_tokens": 4})
        assert backend.started.wait(timeout=30)
        fast = pool.submit(_call, server.url, "POST", "/v1/completions", {"prompt": "fast", "max_tokens": 4})
        try:
            status, payload = fast.result(timeout=10)
            served = status == 200 and payload["choices"][0]["text"] == "tsaf"
        except concurrent.futures.TimeoutError:
            served = False
        # with one worker the fast request waits behind the slow one (this checks the test can fail)
        assert served is fast_served
        backend.release.set()
        assert slow.result(timeout=30)[1]["choices"][0]["text"] == "wols"
        assert fast.result(timeout=30)[0] == 200
    finally:
        backend.release.set()
        pool.shutdown()
        server.close()


def test_close_joins_the_batch_workers():
    server, _ = serve(ReverseBackend(), model_name="rev", workers=3)
    threads = list(server.batcher._threads)
    assert all(t.is_alive() and not t.daemon for t in threads)
    server.close(timeout=10)
    assert not any(t.is_alive() for t in threads)


def test_chat_default_max_tokens_fits_the_context():
    server, _ = serve(ReverseBackend(), model_name="rev", max_length=20, default_max_tokens=512)
    try:
        msg = {"messages": [{"role": "user", "content": "abcdefghijklmnop"}]}  # 16 tokens: room for 4
        status, payload = _call(server.url, "POST", "/v1/chat/completions", msg)
        assert status == 200 and payload["choices"][0]["message"]["content"] == "ponm"
        status, payload = _call(server.url, "POST", "/v1/chat/completions", {**msg, "max_tokens": 5})
        assert status == 400 and "maximum context length is 20" in payload["error"]["message"]
    finally:
        server.close()


def test_server_module_is_a_shim_over_serve():
    # the 0.1.0 import path must re-export every public name of the serve package, as the same objects
    import lc_core.inference.serve as serve_pkg
    import lc_core.inference.server as shim
    from lc_core.inference.serve import cli

    assert set(serve_pkg.__all__) <= set(shim.__all__)
    for name in serve_pkg.__all__:
        assert getattr(shim, name) is getattr(serve_pkg, name), name
    assert shim.add_arguments is cli.add_arguments and shim.run_command is cli.run_command
