"""A small OpenAI-compatible HTTP server in front of any :class:`~lc_core.inference.base.Backend`.

Puts a local model behind the ``openai`` backend (or any OpenAI client)::

    lc-core serve --model path/to/model --port 8000
    # then: get_backend("openai", model="model", base_url="http://127.0.0.1:8000/v1")

Endpoints: ``GET /v1/models``, ``POST /v1/completions`` (also ``echo``, ``logprobs``, token-id prompts),
``POST /v1/chat/completions`` (also ``logprobs``/``top_logprobs``), vLLM's ``POST /tokenize``,
``POST /detokenize`` and ``GET /tokenizer_info``; non-streaming, ``n`` must be 1, any other field is a 400.
Concurrent requests are gathered into batches for the backend (``workers`` batches at a time), with a
context limit, a ``max_tokens`` cap and socket read timeouts (docs/inference.md).

Modules: :mod:`~lc_core.inference.serve.protocol` (parsing, validation, limits),
:mod:`~lc_core.inference.serve.batcher` (batch workers), :mod:`~lc_core.inference.serve.httpd` (server,
handler, :func:`serve`), :mod:`~lc_core.inference.serve.cli` (``lc-core serve``). If ``LC_SERVE_API_KEY`` is
set, requests must carry it as ``Authorization: Bearer …``. Stdlib only; importing this module imports
no torch.
"""

from __future__ import annotations

from lc_core.inference.serve.batcher import ServerBusy
from lc_core.inference.serve.httpd import BackendServer, serve
from lc_core.inference.serve.protocol import (
    CHAT_FIELDS,
    COMPLETION_FIELDS,
    FALLBACK_CONTEXT,
    MAX_LOGPROBS,
    RequestError,
    check_fields,
    context_length,
    parse_chat_request,
    parse_completion_request,
)

__all__ = [
    "BackendServer",
    "serve",
    "RequestError",
    "ServerBusy",
    "parse_completion_request",
    "parse_chat_request",
    "check_fields",
    "context_length",
    "FALLBACK_CONTEXT",
    "MAX_LOGPROBS",
    "COMPLETION_FIELDS",
    "CHAT_FIELDS",
]
