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
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "lc_core", "serve", "--model", str(llama_dir), "--port", "0", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "serving" in line, line
        url = line.split(" at ")[1].split()[0]
        status, payload = _call(url, "POST", "/v1/completions", {"prompt": "hi", "max_tokens": 3, "temperature": 0})
        assert status == 200 and payload["model"] == str(llama_dir)
        assert payload["usage"]["prompt_tokens"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
