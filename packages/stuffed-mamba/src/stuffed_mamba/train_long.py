"""Method 4, train longer: truncated-BPTT continuation of a Mamba-2 on longer contexts through ``lc_core.train``.

Each training window of ``seq_len`` tokens is cut into segments of ``segment_tokens``; the recurrent state (SSM and
conv carry) flows from one segment into the next, but the gradient is cut at every boundary (``cache.detach()``),
as in the paper's runs (state carried, gradient detached). :func:`tbptt_loss` is an ``lc_core.train`` ``loss_fn``,
so the run gets lc-core's optimizer, schedule, exact resume, checkpoints and torchrun (DDP) for free.

Memory note: the trainer calls ``backward`` once per micro-batch, so all segments' graphs of one window are alive
at once; the gradient is truncated, the activation memory is that of the whole window. ``bptt="full"`` keeps the
gradient across segment boundaries (the segments then only bound the size of one forward call): for the same
memory it trains retention over the whole document, not just the last segment.

Data for the demo model: :func:`passkey_documents` writes passkey prompts (the demo's template) with the answer and
EOS, at lengths drawn log-uniformly from a range. Two packings:

- ``stream`` (legacy, the first session's runs): documents concatenated and cut into windows; the state is *not*
  reset between documents, and a document cut by a window boundary may lose its needle to the previous window (its
  answer is then unlearnable noise);
- ``whole`` (:func:`whole_document_windows`): every window holds whole documents only (the tail padded, padding
  weighted 0), and the loss resets the state at every document start (``seq_idx``), as at evaluation time.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from lc_core.logging import get_logger
from lc_core.train.callbacks import Callback, StopTraining, TrainState

__all__ = [
    "tbptt_loss",
    "answer_weights",
    "document_starts",
    "TimeBudget",
    "passkey_documents",
    "whole_document_windows",
    "train_long",
]

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


def document_starts(input_ids: torch.Tensor, eos_id: int) -> torch.Tensor:
    """``[B, T]`` bool: True where a document starts (position 0 and every token after an EOS)."""
    start = torch.zeros(input_ids.shape, dtype=torch.bool, device=input_ids.device)
    start[:, 0] = True
    start[:, 1:] = input_ids[:, :-1] == eos_id
    return start


def tbptt_loss(
    segment_tokens: int,
    *,
    answer_weight: float = 1.0,
    eos_id: int | None = None,
    answer_tokens: int = 6,
    bptt: Literal["truncated", "full"] = "truncated",
    reset_docs: bool = False,
    pad_id: int | None = None,
) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """An ``lc_core.train`` loss: next-token CE over the window, state carried and detached per segment.

    Args:
        segment_tokens: segment length ``S`` (the gradient never crosses a multiple of ``S``).
        answer_weight: weight of the answer targets (see :func:`answer_weights`); 1 is the plain mean CE. A
            passkey answer is ~6 of thousands of tokens, so its signal is lost in the haystack without it (the
            demo itself was trained with weight 4 on 128-400-byte documents).
        eos_id: end-of-document id marking the answers (required when ``answer_weight != 1``).
        answer_tokens: targets before each EOS that form the answer (" " + 5 digits for byte tokenizers).
        bptt: ``"truncated"`` detaches the carried state at every segment boundary; ``"full"`` keeps the gradient
            across segments (the loss value is the same; the gradient is that of one forward over the window).
        reset_docs: reset the state (SSM and conv) at every document start, i.e. after each EOS (needs ``eos_id``).
        pad_id: targets equal to this id get weight 0 (the padded tail of :func:`whole_document_windows`).

    Returns:
        ``loss_fn(model, input_ids [B, T], targets [B, T]) -> scalar``: ``Σ w·CE / Σ w``; with weight 1 its value
        equals the plain loss of one forward over the window (the state is carried exactly).
    """
    if segment_tokens < 1:
        raise ValueError(f"segment_tokens must be >= 1, got {segment_tokens}")
    if bptt not in ("truncated", "full"):
        raise ValueError(f"bptt must be 'truncated' or 'full', got {bptt!r}")
    if (answer_weight != 1.0 or reset_docs) and eos_id is None:
        raise ValueError("answer_weight and reset_docs need eos_id (answers precede, documents follow each EOS)")

    def loss_fn(model: torch.nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        inner = getattr(model, "module", model)  # DDP wraps the model
        cache = inner.new_cache(input_ids.shape[0])
        total = input_ids.new_zeros((), dtype=torch.float32)
        weights = None if answer_weight == 1.0 else answer_weights(targets, int(eos_id), answer_tokens, answer_weight)  # type: ignore[arg-type]
        if pad_id is not None:
            weights = (torch.ones(targets.shape, dtype=torch.float32) if weights is None else weights) * (targets != pad_id)
        starts = document_starts(input_ids, int(eos_id)) if reset_docs else None  # type: ignore[arg-type]
        doc_ids = torch.cumsum(starts.to(torch.int32), dim=1) if starts is not None else None
        n = input_ids.shape[1]
        for start in range(0, n, segment_tokens):
            sl = slice(start, start + segment_tokens)
            ids = input_ids[:, sl]
            seq_idx = None
            if doc_ids is not None and starts is not None:
                fresh = starts[:, start]
                if start > 0 and bool(fresh.any()):  # a row whose segment opens a new document starts from zeros
                    keep = (~fresh).to(torch.float32)
                    cache.conv_states = [t * keep.to(t.dtype)[:, None, None] for t in cache.conv_states]
                    cache.ssm_states = [t * keep.to(t.dtype)[:, None, None, None] for t in cache.ssm_states]
                seq_idx = (doc_ids[:, sl] - doc_ids[:, sl][:, :1]).to(torch.int32)
            out = model(input_ids=ids, cache_params=cache, use_cache=True, seq_idx=seq_idx)
            tgt = targets[:, sl]
            ce = F.cross_entropy(out.logits.float().reshape(-1, out.logits.shape[-1]), tgt.reshape(-1), reduction="none")
            if weights is not None:
                ce = ce * weights[:, sl].reshape(-1)
            total = total + ce.sum()
            cache = out.cache_params.detach() if bptt == "truncated" else out.cache_params
            if starts is not None and start + segment_tokens < n:
                _clear_conv_before_last_start(cache, starts[:, sl])
        return total / (targets.numel() if weights is None else weights.sum())

    return loss_fn


def _clear_conv_before_last_start(cache: Any, starts: torch.Tensor) -> None:
    """Zero the carried conv columns that precede the last document start of a segment.

    The conv state holds the segment's last ``d_conv - 1`` inputs whatever their document; when a document began
    among them, the earlier columns belong to the previous document and must not reach the next segment.
    """
    width = cache.conv_states[0].shape[-1]
    seg = starts.shape[1]
    tail = starts[:, -width:] if seg >= width else starts
    if not bool(tail.any()):
        return
    # column j of the conv state is token seg - width + j; keep columns at or after the row's last start
    pos = torch.arange(seg - width, seg, device=starts.device)
    last = torch.where(starts, torch.arange(seg, device=starts.device), -1).amax(dim=1)  # [B]
    keep = (pos[None, :] >= last[:, None]).to(torch.float32)  # [B, width]
    cache.conv_states = [t * keep.to(t.dtype)[:, None, :] for t in cache.conv_states]


class TimeBudget(Callback):
    """Stop training after the first step that ends past ``seconds`` of wall time since this process began training.

    With ``fit_schedule=True`` the run's schedule is also fitted to the budget, so that a WSD decay *finishes*
    inside it on a box of unknown speed: after every step (once ``min_steps`` steps and 5 % of the budget have
    passed) the steps that still fit are estimated from the mean time of the last ``window`` steps, and
    ``config.max_steps`` (which the trainer's ``lr_at`` and loop read) is set to ``step + that`` — never above the
    configured maximum, and only lowered once the decay phase has begun (so the learning rate never rises again).
    ``margin`` (a fraction of the budget) is kept free for the final checkpoint. The hard stop stays as a backstop.
    """

    def __init__(
        self, seconds: float, *, fit_schedule: bool = False, window: int = 20, min_steps: int = 10, margin: float = 0.01
    ) -> None:
        self.seconds = float(seconds)
        self.fit_schedule = fit_schedule
        self.window = window
        self.min_steps = min_steps
        self.margin = margin
        self._t0 = time.perf_counter()
        self._ends: list[float] = []
        self._cap: int | None = None

    def on_train_begin(self, state: TrainState) -> None:
        self._t0 = time.perf_counter()
        self._ends = [self._t0]
        self._cap = state.config.max_steps

    def on_step_end(self, state: TrainState) -> None:
        now = time.perf_counter()
        if now - self._t0 > self.seconds:
            logger.info("time budget of %.0f s reached at step %d", self.seconds, state.step)
            raise StopTraining
        if not self.fit_schedule or state.step >= state.config.max_steps:
            return
        self._ends.append(now)
        done = len(self._ends) - 1
        if done < self.min_steps or now - self._t0 < 0.05 * self.seconds:
            return
        recent = self._ends[-(self.window + 1) :]
        per_step = (recent[-1] - recent[0]) / (len(recent) - 1)
        left = self.seconds * (1.0 - self.margin) - (now - self._t0)
        target = state.step + max(0, int(left / per_step))  # 0: nothing fits any more, end at this step
        cfg = state.config
        from lc_core.train.schedule import decay_steps

        in_decay = state.step >= cfg.max_steps - decay_steps(cfg.max_steps, cfg.decay_fraction)
        cap = self._cap if self._cap is not None else cfg.max_steps
        new = min(cap, target) if not in_decay else min(cfg.max_steps, target)
        new = max(new, state.step, cfg.warmup_steps)
        if new != cfg.max_steps:
            logger.debug("schedule fitted to the budget: max_steps %d -> %d (%.2f s/step)", cfg.max_steps, new, per_step)
            cfg.max_steps = new
            state.metrics["fitted_max_steps"] = new


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


def whole_document_windows(
    windows: int,
    seq_len: int,
    min_len: int,
    max_len: int,
    encode: Callable[[str], list[int]],
    *,
    eos_id: int,
    pad_id: int,
    seed: int = 0,
) -> np.ndarray:
    """A token stream of ``windows`` windows of ``seq_len + 1`` tokens, each holding whole passkey documents only.

    Document prompt lengths are log-uniform in ``[min_len, max_len]`` (capped at what fits), needle depth uniform in
    [0, 1); each document is ``prompt + " " + key + EOS``. When the next drawn document does not fit, the window's
    rest is filled by one document of the remaining length (if at least ``min_len``) and then ``pad_id``.

    Returns:
        int64 array of shape ``[windows · (seq_len + 1)]`` (for :class:`lc_core.train.PackedDataset`).
    """
    from stuffed_mamba.passkey import build_prompt

    if max_len + 8 > seq_len + 1:
        raise ValueError(f"max_len {max_len} + answer does not fit a window of {seq_len + 1} tokens")
    if not 0 < min_len <= max_len:
        raise ValueError(f"need 0 < min_len <= max_len, got {min_len}, {max_len}")
    rng = random.Random(seed)
    width = seq_len + 1
    out = np.full(windows * width, pad_id, dtype=np.int64)
    for w in range(windows):
        pos = 0
        while True:
            room = width - pos - 8  # " " + 5 digits + EOS after a prompt of at most ``length`` tokens
            length = int(math.exp(rng.uniform(math.log(min_len), math.log(max_len))))
            if length > room:
                if room < min_len:
                    break
                length = room
            key = f"{rng.randrange(100000):05d}"
            ex = {"length": length, "depth": rng.random(), "answer": key, "template": "demo"}
            ids = [*encode(build_prompt(ex, encode) + " " + key), eos_id]
            if len(ids) > width - pos:
                break
            out[w * width + pos : w * width + pos + len(ids)] = ids
            pos += len(ids)
    return out


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
    packing: Literal["stream", "whole"] = "stream",
    bptt: Literal["truncated", "full"] = "truncated",
    pad_id: int = 0,
    fit_schedule: bool = False,
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
            training; the schedule is that of ``cfg.max_steps``, so a stopped run has not finished its decay, unless
            ``fit_schedule``.
        packing: ``"stream"`` (legacy: documents cut at window boundaries, no state reset) or ``"whole"``
            (:func:`whole_document_windows`, ``documents`` is then ignored: one window per sample of every step, state
            reset at each document start, padding weighted 0).
        bptt: ``"truncated"`` or ``"full"`` (see :func:`tbptt_loss`).
        pad_id: padding id of ``packing="whole"``.
        fit_schedule: fit ``cfg.max_steps`` (an upper bound) to ``time_budget_s`` as the run goes, so the WSD
            decay completes inside the budget (:class:`TimeBudget`).

    Returns:
        ``lc_core.train.TrainResult``.
    """
    from lc_core.train import PackedDataset, pack_documents, train

    if packing == "whole":
        windows = cfg.max_steps * cfg.global_batch_size
        tokens = whole_document_windows(
            windows, cfg.seq_len, min_len, max_len, encode, eos_id=eos_id, pad_id=pad_id, seed=seed
        )
    elif packing == "stream":
        docs = passkey_documents(documents, min_len, max_len, encode, seed=seed)
        tokens = pack_documents(docs, encode, eos_id=eos_id)
    else:
        raise ValueError(f"packing must be 'stream' or 'whole', got {packing!r}")
    data = PackedDataset(tokens, cfg.seq_len)
    if len(tokens) < cfg.seq_len + 1:
        raise ValueError(f"{documents} documents give {len(tokens)} tokens, fewer than one window of {cfg.seq_len + 1}")
    model.train() if isinstance(model, torch.nn.Module) else None
    callbacks = [TimeBudget(time_budget_s, fit_schedule=fit_schedule)] if time_budget_s else []
    whole = packing == "whole"
    loss_fn = tbptt_loss(
        segment_tokens, answer_weight=answer_weight, eos_id=eos_id, bptt=bptt, reset_docs=whole,
        pad_id=pad_id if whole else None,
    )  # fmt: skip
    return train(model, cfg, data, loss_fn=loss_fn, device="cpu", callbacks=callbacks)
