"""Method 4, train longer: truncated-BPTT continuation of a Mamba-2 on longer contexts through ``lc_core.train``.

Each training window of ``seq_len`` tokens is cut into segments of ``segment_tokens``; the recurrent state (SSM and
conv carry) flows from one segment into the next, but the gradient is cut at every boundary (``cache.detach()``),
as in the paper's runs (state carried, gradient detached). :func:`tbptt_loss` is an ``lc_core.train`` ``loss_fn``,
so the run gets lc-core's optimizer, schedule, exact resume, checkpoints and torchrun (DDP) for free.

Memory note: the trainer calls ``backward`` once per micro-batch, so all segments' graphs of one window are alive
at once; the gradient is truncated, the activation memory is that of the whole window.

Data for the demo model: :func:`passkey_documents` writes passkey prompts (the demo's template) with the answer and
EOS, at lengths drawn log-uniformly from a range, packed into windows (the state is *not* reset between documents,
so the model also learns to forget the previous document).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

from lc_core.logging import get_logger

__all__ = ["tbptt_loss", "passkey_documents", "train_long"]

logger = get_logger(__name__)


def tbptt_loss(segment_tokens: int) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """An ``lc_core.train`` loss: mean next-token CE over the window, state carried and detached per segment.

    Args:
        segment_tokens: segment length ``S`` (the gradient never crosses a multiple of ``S``).

    Returns:
        ``loss_fn(model, input_ids [B, T], targets [B, T]) -> scalar``; its value equals the plain loss of one
        forward over the window (the state is carried exactly).
    """
    if segment_tokens < 1:
        raise ValueError(f"segment_tokens must be >= 1, got {segment_tokens}")

    def loss_fn(model: torch.nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        inner = getattr(model, "module", model)  # DDP wraps the model
        cache = inner.new_cache(input_ids.shape[0])
        total = input_ids.new_zeros((), dtype=torch.float32)
        n = input_ids.shape[1]
        for start in range(0, n, segment_tokens):
            ids = input_ids[:, start : start + segment_tokens]
            out = model(input_ids=ids, cache_params=cache, use_cache=True)
            tgt = targets[:, start : start + segment_tokens]
            total = total + F.cross_entropy(
                out.logits.float().reshape(-1, out.logits.shape[-1]), tgt.reshape(-1), reduction="sum"
            )
            cache = out.cache_params.detach()
        return total / targets.numel()

    return loss_fn


def passkey_documents(
    n: int, min_len: int, max_len: int, encode: Callable[[str], list[int]], *, seed: int = 0
) -> Iterator[str]:
    """``n`` passkey documents (demo template, random depth) of log-uniform token length in ``[min_len, max_len]``,
    each followed by the answer: ``prompt + " " + key``."""
    from stuffed_mamba.passkey import build_prompt

    rng = random.Random(seed)
    for _ in range(n):
        length = int(math.exp(rng.uniform(math.log(min_len), math.log(max_len))))
        ex = {"length": length, "depth": rng.random(), "answer": f"{rng.randrange(100000):05d}", "template": "demo"}
        yield build_prompt(ex, encode) + " " + ex["answer"]


def train_long(
    model: Any,
    cfg: Any,
    *,
    documents: int,
    min_len: int,
    max_len: int,
    segment_tokens: int,
    encode: Callable[[str], list[int]],
    eos_id: int,
    seed: int = 0,
) -> Any:
    """Continue training ``model`` with :func:`tbptt_loss` on passkey documents packed into ``cfg.seq_len`` windows.

    Args:
        model: an lc-core ``Mamba2ForCausalLM`` (e.g. the demo) or a ``() -> model`` builder.
        cfg: an ``lc_core.train.TrainConfig`` (``out_dir``, steps, lr, resume, ...).
        documents: passkey documents to generate.
        min_len: shortest document in tokens.
        max_len: longest document in tokens.
        segment_tokens: TBPTT segment length.
        encode: text -> ids.
        eos_id: appended after every document.
        seed: data seed.

    Returns:
        ``lc_core.train.TrainResult``.
    """
    from lc_core.train import PackedDataset, pack_documents, train

    docs = passkey_documents(documents, min_len, max_len, encode, seed=seed)
    tokens = pack_documents(docs, encode, eos_id=eos_id)
    data = PackedDataset(tokens, cfg.seq_len)
    if len(tokens) < cfg.seq_len + 1:
        raise ValueError(f"{documents} documents give {len(tokens)} tokens, fewer than one window of {cfg.seq_len + 1}")
    model.train() if isinstance(model, torch.nn.Module) else None
    return train(model, cfg, data, loss_fn=tbptt_loss(segment_tokens), device="cpu")
