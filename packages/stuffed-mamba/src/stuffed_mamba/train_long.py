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
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

from lc_core.logging import get_logger
from lc_core.train.callbacks import Callback, StopTraining, TrainState

__all__ = ["tbptt_loss", "answer_weights", "TimeBudget", "passkey_documents", "train_long"]

logger = get_logger(__name__)


def answer_weights(targets: torch.Tensor, eos_id: int, answer_tokens: int, weight: float) -> torch.Tensor:
    """Per-target loss weights ``[B, T]``: ``weight`` on every EOS target and the ``answer_tokens`` targets before
    it (a passkey document ends ``... " " + key + EOS``), 1 elsewhere.

    An answer cut by the start of the window keeps only its in-window part weighted."""
    w = torch.ones(targets.shape, dtype=torch.float32, device=targets.device)
    b, t = torch.nonzero(targets == eos_id, as_tuple=True)
    for k in range(answer_tokens + 1):
        keep = t - k >= 0
        w[b[keep], t[keep] - k] = weight
    return w


def tbptt_loss(
    segment_tokens: int, *, answer_weight: float = 1.0, eos_id: int | None = None, answer_tokens: int = 6
) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """An ``lc_core.train`` loss: next-token CE over the window, state carried and detached per segment.

    Args:
        segment_tokens: segment length ``S`` (the gradient never crosses a multiple of ``S``).
        answer_weight: weight of the answer targets (see :func:`answer_weights`); 1 is the plain mean CE. A
            passkey answer is ~6 of thousands of tokens, so its signal is lost in the haystack without it (the
            demo itself was trained with weight 4 on 128-400-byte documents).
        eos_id: end-of-document id marking the answers (required when ``answer_weight != 1``).
        answer_tokens: targets before each EOS that form the answer (" " + 5 digits for byte tokenizers).

    Returns:
        ``loss_fn(model, input_ids [B, T], targets [B, T]) -> scalar``: ``Σ w·CE / Σ w``; with weight 1 its value
        equals the plain loss of one forward over the window (the state is carried exactly).
    """
    if segment_tokens < 1:
        raise ValueError(f"segment_tokens must be >= 1, got {segment_tokens}")
    if answer_weight != 1.0 and eos_id is None:
        raise ValueError("answer_weight needs eos_id (the answers are the targets before each EOS)")

    def loss_fn(model: torch.nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        inner = getattr(model, "module", model)  # DDP wraps the model
        cache = inner.new_cache(input_ids.shape[0])
        total = input_ids.new_zeros((), dtype=torch.float32)
        weights = None if answer_weight == 1.0 else answer_weights(targets, int(eos_id), answer_tokens, answer_weight)  # type: ignore[arg-type]
        n = input_ids.shape[1]
        for start in range(0, n, segment_tokens):
            ids = input_ids[:, start : start + segment_tokens]
            out = model(input_ids=ids, cache_params=cache, use_cache=True)
            tgt = targets[:, start : start + segment_tokens]
            ce = F.cross_entropy(out.logits.float().reshape(-1, out.logits.shape[-1]), tgt.reshape(-1), reduction="none")
            if weights is not None:
                ce = ce * weights[:, start : start + segment_tokens].reshape(-1)
            total = total + ce.sum()
            cache = out.cache_params.detach()
        return total / (targets.numel() if weights is None else weights.sum())

    return loss_fn


class TimeBudget(Callback):
    """Stop training after the first step that ends past ``seconds`` of wall time since this process began training."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._t0 = time.perf_counter()

    def on_train_begin(self, state: TrainState) -> None:
        self._t0 = time.perf_counter()

    def on_step_end(self, state: TrainState) -> None:
        if time.perf_counter() - self._t0 > self.seconds:
            logger.info("time budget of %.0f s reached at step %d", self.seconds, state.step)
            raise StopTraining


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
    answer_weight: float = 1.0,
    time_budget_s: float | None = None,
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
        answer_weight: loss weight of the answer tokens (:func:`tbptt_loss`).
        time_budget_s: stop (with a checkpoint) after the first step past this many seconds of this process's
            training; the schedule is that of ``cfg.max_steps``, so a stopped run has not finished its decay.

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
    callbacks = [TimeBudget(time_budget_s)] if time_budget_s else []
    loss_fn = tbptt_loss(segment_tokens, answer_weight=answer_weight, eos_id=eos_id)
    return train(model, cfg, data, loss_fn=loss_fn, device="cpu", callbacks=callbacks)
