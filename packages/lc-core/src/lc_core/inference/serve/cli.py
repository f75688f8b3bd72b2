"""``lc-core serve``: flags and the command."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from lc_core import env
from lc_core.inference.serve.httpd import serve


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
