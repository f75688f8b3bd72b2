"""Run a Mamba-2 model over an arbitrarily long token stream in bounded memory.

The stream is consumed ``chunk_tokens`` at a time; the cache (conv carry + SSM state) links the chunks, so
the result equals one forward over the whole stream (chunked == one-shot, tested to 1e-10 in fp64). Peak
memory is one chunk of activations plus ``logits_block`` rows of logits plus the state, independent of the
stream length; only the per-token losses (4 bytes a token, optional) grow with it.

Example::

    result = stream(model, token_iter, chunk_tokens=4096, positions=[1_000_000 - 1])
    print(result.mean_loss, result.logits[1_000_000 - 1].argmax())
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lc_core.logging import get_logger
from lc_core.models.mamba2.cache import Mamba2Cache
from lc_core.models.mamba2.hooks import SSMHooks

__all__ = ["StreamResult", "stream"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class StreamResult:
    """What :func:`stream` returns.

    Attributes:
        n_tokens: tokens consumed.
        losses: per-token next-token cross-entropy ``[n_tokens - 1]`` fp32 (entry ``t`` scores token ``t + 1``
            given tokens ``0..t``), or None when ``keep_losses=False``.
        loss_sum: sum of all per-token losses (fp64 accumulation).
        loss_count: number of scored tokens (``n_tokens - 1``).
        logits: position -> logits ``[vocab]`` (fp32) for the requested positions.
        cache: the cache after the last token (final conv and SSM states; continue with it).
        wall_s: seconds spent.
    """

    n_tokens: int
    losses: torch.Tensor | None
    loss_sum: float
    loss_count: int
    logits: dict[int, torch.Tensor] = field(default_factory=dict)
    cache: Mamba2Cache | None = None
    wall_s: float = 0.0

    @property
    def mean_loss(self) -> float:
        """Mean per-token loss (nan when nothing was scored)."""
        return self.loss_sum / self.loss_count if self.loss_count else float("nan")

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.wall_s if self.wall_s > 0 else float("nan")


class _GrowingBuffer:
    """fp32 values appended into one tensor that doubles when full.

    Keeping thousands of small per-block tensors instead pins glibc heap pages between the large per-chunk
    temporaries, and the RSS creeps up by hundreds of bytes per token; one doubling buffer does not.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.data = torch.empty(capacity, dtype=torch.float32)
        self.size = 0

    def extend(self, values: torch.Tensor) -> None:
        n = values.numel()
        if self.size + n > self.data.numel():
            grown = torch.empty(max(2 * self.data.numel(), self.size + n), dtype=torch.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : self.size + n] = values.reshape(-1)
        self.size += n

    def values(self) -> torch.Tensor:
        return self.data[: self.size].clone()


def _chunks(tokens: Iterable[int] | torch.Tensor, size: int) -> Iterator[torch.Tensor]:
    if isinstance(tokens, torch.Tensor):
        flat = tokens.reshape(-1)
        for start in range(0, flat.numel(), size):
            yield flat[start : start + size]
        return
    it = iter(tokens)
    while True:
        block = list(itertools.islice(it, size))
        if not block:
            return
        yield torch.tensor(block, dtype=torch.long)


@torch.inference_mode()
def stream(
    model: torch.nn.Module,
    tokens: Iterable[int] | torch.Tensor,
    *,
    chunk_tokens: int = 4096,
    positions: Sequence[int] = (),
    return_losses: bool = True,
    keep_losses: bool = True,
    logits_block: int = 1024,
    cache: Mamba2Cache | None = None,
    ssm_hooks: SSMHooks | None = None,
    total: int | None = None,
    progress: bool = True,
    legacy_conv_reset: bool = False,
) -> StreamResult:
    """Feed a token stream through ``model`` chunk by chunk.

    Args:
        model: a :class:`~lc_core.models.mamba2.Mamba2ForCausalLM`.
        tokens: token ids (an iterator of ints, a list, or a 1-D tensor); consumed lazily.
        chunk_tokens: tokens per forward call.
        positions: absolute positions whose logits to return.
        return_losses: compute next-token losses (otherwise only the state and the requested logits).
        keep_losses: keep every per-token loss (4 bytes a token); with False only the running sum is kept.
        logits_block: rows of logits materialised at once (bounds memory for large vocabularies).
        cache: continue from this cache (positions and losses are then relative to this call's first token).
        ssm_hooks: hooks for every chunk (observers and interventions).
        total: stream length for the progress bar, if known.
        progress: show a tqdm bar.
        legacy_conv_reset: zero the conv carry before every chunk, as stuffed-mamba's ``eval_per_token.py`` and
            mamba_ssm's ``forward(states=...)`` do (the first ``d_conv - 1`` tokens of each chunk then see zero
            history, so results depend on ``chunk_tokens``). Off by default: the carry makes chunking exact.

    Returns:
        :class:`StreamResult`.
    """
    if chunk_tokens < 1 or logits_block < 1:
        raise ValueError("chunk_tokens and logits_block must be >= 1")
    backbone = model.backbone
    lm_head = model.lm_head
    device = lm_head.weight.device
    wanted = {int(p) for p in positions}
    if cache is None:
        cache = backbone.new_cache(1)
    out_logits: dict[int, torch.Tensor] = {}
    kept = _GrowingBuffer()
    loss_sum = 0.0
    loss_count = 0
    n = 0
    # logits of the previous chunk's last token: they score this chunk's first token
    carry: torch.Tensor | None = None
    start = time.perf_counter()
    bar = tqdm(total=total, unit="tok", unit_scale=True, disable=not progress, desc="stream")
    for chunk in _chunks(tokens, chunk_tokens):
        ids = chunk.to(device)[None]
        if legacy_conv_reset:
            for conv_state in cache.conv_states:
                conv_state.zero_()
        length = ids.shape[1]
        hidden = backbone(input_ids=ids, cache_params=cache, use_cache=True, ssm_hooks=ssm_hooks).last_hidden_state[0]
        if return_losses and carry is not None:
            first = F.cross_entropy(carry[None], ids[0, :1]).double()
            loss_sum += first.item()
            loss_count += 1
            if keep_losses:
                kept.extend(first.float().reshape(1).cpu())
        needed = [p - n for p in wanted if n <= p < n + length]
        for b0 in range(0, length, logits_block):
            b1 = min(length, b0 + logits_block)
            logits = lm_head(hidden[b0:b1].to(lm_head.weight.dtype)).float()
            for p in needed:
                if b0 <= p < b1:
                    out_logits[n + p] = logits[p - b0].clone().cpu()
            if return_losses:
                targets = ids[0, b0 + 1 : b1 + 1]
                per_tok = F.cross_entropy(logits[: targets.numel()], targets, reduction="none")
                loss_sum += per_tok.double().sum().item()
                loss_count += per_tok.numel()
                if keep_losses:
                    kept.extend(per_tok.cpu())
            if b1 == length:
                carry = logits[-1].clone()
        n += length
        bar.update(length)
    bar.close()
    wall = time.perf_counter() - start
    losses = kept.values() if (return_losses and keep_losses) else None
    logger.info("streamed %d tokens in %.1f s (%.0f tok/s)", n, wall, n / wall if wall else float("nan"))
    return StreamResult(
        n_tokens=n,
        losses=losses,
        loss_sum=loss_sum,
        loss_count=loss_count,
        logits=out_logits,
        cache=cache,
        wall_s=wall,
    )
