"""The completions protocol evaluation harnesses use (issue #16), against the real hf backend on a tiny Llama.

echo + logprobs, token-id prompts, ``max_tokens: 0`` scoring, chat logprobs, vLLM's tokenizer routes, and a 400
for every field we do not implement. The requests are the ones lm-evaluation-harness's ``local-completions``
sends (``nox -s lm-eval`` runs lm-eval itself).
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from lc_core.inference.base import Backend, GenerationConfig  # noqa: E402
from lc_core.inference.serve import serve  # noqa: E402


class TextOnlyBackend(Backend):
    """A backend without token access (like the openai backend): echoes the prompt."""

    name = "text-only"

    def generate(self, prompts, config):
        return [str(p) for p in prompts]

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


def _call(url: str, method: str, path: str, body: object = None):
    import http.client
    import json
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = json.loads(resp.read())
    conn.close()
    return resp.status, payload


def _direct_logprobs(backend, ids: list[int]) -> list[float]:
    """log p(ids[i] | ids[:i]) for i >= 1 from one plain fp32 forward of the whole sequence."""
    with torch.no_grad():
        logits = backend.model(torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    return [lp[i - 1, ids[i]].item() for i in range(1, len(ids))]


def _lm_eval_parse(choice: dict, ctxlen: int) -> tuple[float, bool]:
    """What lm-eval's ``LocalCompletionsAPI.parse_logprobs`` does with one choice."""
    token_logprobs = choice["logprobs"]["token_logprobs"][ctxlen:-1]
    tops = choice["logprobs"]["top_logprobs"][ctxlen:-1]
    greedy = all(lp == max(top.values()) for lp, top in zip(token_logprobs, tops, strict=True))
    return sum(token_logprobs), greedy


@pytest.mark.parametrize("chunk", [0, 3])
def test_echo_logprobs_equal_a_direct_forward(llama_dir, chunk):
    from lc_core.inference.hf import HFBackend

    backend = HFBackend(str(llama_dir), device="cpu", dtype="float32", prefill_chunk_size=chunk, disable_tqdm=True)
    server, _ = serve(backend, model_name="m")
    try:
        ids = backend.encode("The quick brown fox")
        status, payload = _call(
            server.url,
            "POST",
            "/v1/completions",
            {"prompt": [ids], "max_tokens": 0, "echo": True, "logprobs": 2, "temperature": 0},
        )
        assert status == 200, payload
        lp = payload["choices"][0]["logprobs"]
        assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
        assert lp["token_logprobs"][1:] == pytest.approx(_direct_logprobs(backend, ids), abs=1e-5)
        assert len(lp["tokens"]) == len(ids) and "".join(lp["tokens"]) == payload["choices"][0]["text"]
        assert lp["text_offset"][:2] == [0, len(lp["tokens"][0])]
        assert all(len(t) <= 2 for t in lp["top_logprobs"][1:])
        assert payload["usage"] == {"prompt_tokens": len(ids), "completion_tokens": 0, "total_tokens": len(ids)}
    finally:
        server.close()


def test_lm_eval_loglikelihood_request(served, hf_backend):
    """lm-eval's loglikelihood payload (token ids, echo, logprobs=1, max_tokens=1) scores the continuation."""
    context, continuation = hf_backend.encode("Question: 2+2? Answer:"), hf_backend.encode(" 4")
    body = {
        "model": "tiny-llama",
        "prompt": [context + continuation, context],
        "temperature": 0,
        "max_tokens": 1,
        "logprobs": 1,
        "seed": 1234,
        "echo": True,
    }
    status, payload = _call(served.url, "POST", "/v1/completions", body)
    assert status == 200, payload
    choice = payload["choices"][0]
    # lm-eval drops the one generated token with [ctxlen:-1]
    assert len(choice["logprobs"]["token_logprobs"]) == len(context) + len(continuation) + 1
    total, greedy = _lm_eval_parse(choice, len(context))
    want_total, want_greedy = hf_backend.loglikelihood(context, continuation)
    assert total == pytest.approx(want_total, abs=1e-5) and greedy == want_greedy
    direct = _direct_logprobs(hf_backend, context + continuation)[len(context) - 1 :]
    assert total == pytest.approx(sum(direct), abs=1e-4)
    # is_greedy is real: the context followed by its own greedy continuation is greedy
    greedy_next = hf_backend.generate_tokens([context], GenerationConfig(max_new_tokens=2))[0]
    assert hf_backend.loglikelihood(context, greedy_next)[1] is True


def test_token_id_generation_matches_text_generation(served, hf_backend):
    prompt = "Hello there"
    ids = hf_backend.prompt_ids(prompt)
    _, by_text = _call(served.url, "POST", "/v1/completions", {"prompt": prompt, "max_tokens": 6, "temperature": 0})
    _, by_ids = _call(served.url, "POST", "/v1/completions", {"prompt": ids, "max_tokens": 6, "temperature": 0})
    assert by_ids["choices"][0]["text"] == by_text["choices"][0]["text"]
    _, echoed = _call(
        served.url, "POST", "/v1/completions", {"prompt": prompt, "max_tokens": 6, "temperature": 0, "echo": True}
    )
    assert echoed["choices"][0]["text"] == prompt + by_text["choices"][0]["text"]


def test_generation_logprobs_without_echo(served, hf_backend):
    status, payload = _call(
        served.url, "POST", "/v1/completions", {"prompt": "abc", "max_tokens": 4, "temperature": 0, "logprobs": 1}
    )
    assert status == 200
    choice = payload["choices"][0]
    lp = choice["logprobs"]
    # (token strings of a byte tokenizer need not join to the text: a multi-byte character spans tokens)
    assert len(lp["tokens"]) == len(lp["token_logprobs"]) == payload["usage"]["completion_tokens"] > 0
    assert lp["text_offset"][0] == len("abc")
    # greedy: each generated token is the top-1 alternative
    assert all(lp_ == max(top.values()) for lp_, top in zip(lp["token_logprobs"], lp["top_logprobs"], strict=True))


def test_chat_logprobs(served):
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": 2,
    }
    status, payload = _call(served.url, "POST", "/v1/chat/completions", body)
    assert status == 200, payload
    content = payload["choices"][0]["logprobs"]["content"]
    assert len(content) == payload["usage"]["completion_tokens"] > 0
    assert all(len(c["top_logprobs"]) == 2 and c["logprob"] <= 0 for c in content)
    assert all(math.isclose(c["logprob"], c["top_logprobs"][0]["logprob"]) for c in content)


def test_tokenizer_routes(served, hf_backend):
    status, info = _call(served.url, "GET", "/tokenizer_info")
    assert status == 200 and info["eos_token"] == "</s>" and "chat_template" in info
    status, tok = _call(served.url, "POST", "/tokenize", {"prompt": "hey", "add_special_tokens": False})
    assert status == 200 and tok["tokens"] == hf_backend.encode("hey") and tok["count"] == 3
    assert tok["max_model_len"] == 1024
    status, detok = _call(served.url, "POST", "/detokenize", {"tokens": tok["tokens"]})
    assert status == 200 and detok == {"prompt": "hey"}
    status, chat = _call(served.url, "POST", "/tokenize", {"messages": [{"role": "user", "content": "q"}]})
    assert status == 200 and chat["tokens"] == hf_backend.prompt_ids([{"role": "user", "content": "q"}])


@pytest.mark.parametrize(
    "path,body,needle",
    [
        ("/v1/completions", {"prompt": "a", "presence_penalty": 0.5}, "'presence_penalty' is not supported"),
        ("/v1/completions", {"prompt": "a", "logit_bias": {"5": 1}}, "'logit_bias'"),
        ("/v1/completions", {"prompt": "a", "suffix": "z"}, "'suffix'"),
        ("/v1/completions", {"prompt": "a", "logprobs": 99}, "'logprobs' must be in [0, 20]"),
        ("/v1/completions", {"prompt": [[1, 99999]]}, "outside the vocabulary"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "a"}], "tools": [{}]}, "'tools'"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "a"}], "top_logprobs": 2}, "needs"),
        ("/tokenize", {"prompt": "a", "truncate": 3}, "'truncate'"),
    ],
    ids=["presence", "logit_bias", "suffix", "logprobs-range", "vocab", "tools", "top_logprobs-alone", "tokenize"],
)
def test_unsupported_fields_are_400(served, path, body, needle):
    status, payload = _call(served.url, "POST", path, body)
    assert status == 400 and needle in payload["error"]["message"], payload


def test_no_op_values_are_accepted(served):
    body = {"prompt": "a", "max_tokens": 1, "presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {}}
    assert _call(served.url, "POST", "/v1/completions", body)[0] == 200


def test_token_features_need_a_token_backend():
    server, _ = serve(TextOnlyBackend(), model_name="rev")
    try:
        for body in ({"prompt": [1, 2]}, {"prompt": "ab", "echo": True}, {"prompt": "ab", "logprobs": 1}):
            status, payload = _call(server.url, "POST", "/v1/completions", body)
            assert status == 400 and "token access" in payload["error"]["message"]
        assert _call(server.url, "GET", "/tokenizer_info")[0] == 404
    finally:
        server.close()


@pytest.fixture(scope="module")
def demo_mamba():
    """The shipped demo Mamba-2 (offline), chunked prefill of 64 tokens."""
    from lc_core.inference.hf import HFBackend

    return HFBackend("lc-core/demo-mamba2", device="cpu", dtype="float32", prefill_chunk_size=64, disable_tqdm=True)


def test_mamba2_chunked_scores_equal_a_direct_forward(demo_mamba):
    text = "There is an important info hidden inside a lot of irrelevant text. " * 4 + "The pass key is 12345."
    ids = demo_mamba.encode(text)
    assert len(ids) > 3 * 64  # several prefill chunks, continuing the conv and SSM states
    (scores,) = demo_mamba.score_tokens([ids], top_k=1)
    assert scores.logprobs[0] is None
    assert scores.logprobs[1:] == pytest.approx(_direct_logprobs(demo_mamba, ids), abs=1e-5)


def test_eos_is_the_generated_token_of_an_echo(demo_mamba):
    """lm-eval drops the generated token with [ctxlen:-1]: when the model stops on EOS it must still be there."""
    ids = demo_mamba.encode("What is the pass key? The pass key is 12345")
    # the shipped demo model ends this prompt with EOS at once
    assert demo_mamba.generate_tokens([ids], GenerationConfig(max_new_tokens=1)) == [[1]]
    server, _ = serve(demo_mamba, model_name="demo")
    try:
        body = {"prompt": [ids], "max_tokens": 1, "echo": True, "logprobs": 1, "temperature": 0}
        status, payload = _call(server.url, "POST", "/v1/completions", body)
        assert status == 200
        choice = payload["choices"][0]
        assert len(choice["logprobs"]["token_logprobs"]) == len(ids) + 1
        assert choice["text"] == demo_mamba.decode(ids)  # EOS is not text
        want = demo_mamba.loglikelihood(ids[:10], ids[10:])[0]
        assert sum(choice["logprobs"]["token_logprobs"][10:-1]) == pytest.approx(want, abs=1e-5)
    finally:
        server.close()
