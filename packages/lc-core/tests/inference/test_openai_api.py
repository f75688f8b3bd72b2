"""Tests for the openai backend against the real ``lc-core serve`` server (no mocked client).

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/inference/test_openai_api.py -q``
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("openai")

from lc_core.inference import GenerationConfig, get_backend  # noqa: E402
from lc_core.inference.openai_api import APIRequestError, OpenAIBackend, load_tokenizer  # noqa: E402
from lc_core.report import run_manifest  # noqa: E402

PROMPTS = ["The quick brown fox jumps", "hi", "abc abc abc", "lorem ipsum"]
SECRET = "sk-test-0123456789abcdef"


def test_completions_endpoint_matches_hf_backend(served, hf_backend):
    cfg = GenerationConfig(max_new_tokens=6)
    api = OpenAIBackend("tiny-llama", base_url=served.url, endpoint="completions", disable_tqdm=True)
    assert api.generate(PROMPTS[:2], cfg) == hf_backend.generate(PROMPTS[:2], cfg)


def test_chat_endpoint_matches_hf_backend(served, hf_backend):
    cfg = GenerationConfig(max_new_tokens=6, stop=["\x00"])
    chats = [[{"role": "user", "content": p}] for p in PROMPTS[:2]]
    api = OpenAIBackend("tiny-llama", base_url=served.url, endpoint="chat", disable_tqdm=True)
    assert api.generate(chats, cfg) == hf_backend.generate(chats, cfg)
    # a string prompt on the chat endpoint is one user message
    assert api.generate([PROMPTS[0]], cfg) == hf_backend.generate([chats[0]], cfg)


def test_concurrent_requests_keep_input_order(served, hf_backend):
    configs = [GenerationConfig(max_new_tokens=n) for n in (2, 5, 3, 6)]
    api = get_backend(
        "openai", model="tiny-llama", base_url=served.url, endpoint="completions", concurrency=4, disable_tqdm=True
    )
    assert api.generate(PROMPTS, configs) == hf_backend.generate(PROMPTS, configs)


def test_seeded_sampling_through_the_server(served):
    cfg = GenerationConfig(max_new_tokens=6, temperature=1.0, top_k=40, seed=5)
    api = OpenAIBackend("tiny-llama", base_url=served.url, endpoint="completions", disable_tqdm=True)
    assert api.generate(PROMPTS[:2], cfg) == api.generate(PROMPTS[:2], cfg)


class _FlakyHandler(BaseHTTPRequestHandler):
    """Answers ``fail_first`` requests with HTTP 500, then a valid completion."""

    fail_first = 1
    seen: list[str] = []
    lock = threading.Lock()

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            type(self).seen.append(self.path)
            n = len(type(self).seen)
        if n <= self.fail_first:
            status, body = 500, {"error": {"message": "overloaded", "type": "server_error"}}
        else:
            body = {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "text": "ok STOP tail", "finish_reason": "stop", "logprobs": None}],
            }
            status = 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def flaky_server():
    def start(fail_first: int) -> str:
        handler = type("Handler", (_FlakyHandler,), {"fail_first": fail_first, "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, handler))
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    servers: list = []
    yield start, servers
    for server, _ in servers:
        server.shutdown()
        server.server_close()


def test_retries_after_server_error(flaky_server):
    start, servers = flaky_server
    url = start(fail_first=1)
    api = OpenAIBackend("m", base_url=url, endpoint="completions", max_retries=2, disable_tqdm=True)
    # the text is cut at the stop string even when the server does not honour `stop`
    assert api.generate(["x"], GenerationConfig(max_new_tokens=4, stop=[" STOP"])) == ["ok"]
    assert len(servers[0][1].seen) == 2


def test_final_error_names_request_and_status(flaky_server):
    start, servers = flaky_server
    url = start(fail_first=100)
    api = OpenAIBackend("m", base_url=url, endpoint="completions", max_retries=1, disable_tqdm=True)
    with pytest.raises(APIRequestError, match=r"prompt 0 to model 'm'.*after 1 retries: HTTP 500: overloaded"):
        api.generate(["x"], GenerationConfig(max_new_tokens=4))
    assert len(servers[0][1].seen) == 2


def test_connection_error_is_clear():
    api = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2, disable_tqdm=True)
    with pytest.raises(APIRequestError, match="after 0 retries: APIConnectionError"):
        api.generate(["x"], GenerationConfig(max_new_tokens=1))


def test_api_key_never_leaks(hf_backend, monkeypatch, caplog):
    from lc_core.inference.server import serve

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server, _ = serve(hf_backend, model_name="tiny-llama", api_key=SECRET)
    try:
        with caplog.at_level(logging.DEBUG):
            api = OpenAIBackend("tiny-llama", base_url=server.url, endpoint="completions", disable_tqdm=True)
            assert api.generate(["hi"], GenerationConfig(max_new_tokens=2)) == hf_backend.generate(
                ["hi"], GenerationConfig(max_new_tokens=2)
            )
        record = json.dumps(run_manifest(api.config_dict(), backend=repr(api)))
        assert SECRET not in record
        assert SECRET not in repr(api)
        assert SECRET not in caplog.text
        assert all(SECRET not in repr(v) for v in vars(api).values() if not hasattr(v, "api_key"))
        # a wrong key is refused by the server, and the error message does not echo either key
        wrong = OpenAIBackend("tiny-llama", base_url=server.url, api_key="sk-wrong", max_retries=0, disable_tqdm=True)
        with pytest.raises(APIRequestError, match="HTTP 401") as err:
            wrong.generate(["hi"], GenerationConfig(max_new_tokens=2))
        assert SECRET not in str(err.value) and "sk-wrong" not in str(err.value)
    finally:
        server.close()


def test_missing_key_without_base_url_is_an_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIBackend("gpt-4o-mini")
    with pytest.raises(ValueError, match="endpoint"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", endpoint="responses")


def test_completions_endpoint_rejects_chat_prompts(served):
    api = OpenAIBackend("tiny-llama", base_url=served.url, endpoint="completions", disable_tqdm=True)
    with pytest.raises(ValueError, match="endpoint='chat'"):
        api.generate([[{"role": "user", "content": "hi"}]], GenerationConfig(max_new_tokens=2))


def test_token_counting_byte_fallback_warns_once(caplog):
    api = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", disable_tqdm=True)
    with caplog.at_level(logging.WARNING):
        assert api.count_tokens("héllo") == 6
        assert api.count_tokens("你") == 3
    assert caplog.text.count("token counts are UTF-8 bytes") == 1
    assert api.truncate_middle("abcdefgh", 4) == "abgh"


def test_token_counting_with_local_tokenizers(tmp_path, llama_dir):
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "!": 3}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    api = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", tokenizer=str(tmp_path), disable_tqdm=True)
    assert api.encode("hello world !") == [1, 2, 3]
    assert api.count_tokens("hello there") == 2
    # a folder without tokenizer.json goes through transformers' AutoTokenizer (here ByT5)
    assert load_tokenizer(llama_dir).encode("ab") == [100, 101]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_tokenizer(tmp_path / "missing")
