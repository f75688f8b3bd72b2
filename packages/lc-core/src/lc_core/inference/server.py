"""Compatibility module: ``lc-core serve`` lives in :mod:`lc_core.inference.serve` (protocol, batcher, httpd, cli)."""

from lc_core.inference.serve import (
    CHAT_FIELDS,
    COMPLETION_FIELDS,
    FALLBACK_CONTEXT,
    MAX_LOGPROBS,
    BackendServer,
    RequestError,
    ServerBusy,
    check_fields,
    context_length,
    parse_chat_request,
    parse_completion_request,
    serve,
)
from lc_core.inference.serve.cli import add_arguments, run_command

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
    "add_arguments",
    "run_command",
]
