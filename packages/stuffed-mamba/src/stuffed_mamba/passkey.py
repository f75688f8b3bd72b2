"""Passkey retrieval with Stuffed Mamba's protocol (spec §4.1), streamed through Mamba-2 in bounded memory.

Prompt = prefix + haystack blocks (one replaced by the needle) + suffix, with the exact strings of the original
(``template="stuffed"``). Length bookkeeping is in tokens: ``context = length − len(prefix) − len(suffix)``,
``num_blocks = context // len(block)``, the needle replaces block ``int(depth · (num_blocks − 1))``, and sample
``i`` of ``n`` sits at depth ``(i + 0.5) / n``. Keys are 5-digit zero-padded; decoding is greedy; a sample is correct
when the key is a substring of the continuation. ``template="demo"`` is the ∞Bench wording that
``lc-core/demo-mamba2`` was trained on (same protocol, different strings), so the demo can be measured at all.

Examples run through :func:`lc_core.eval.evaluate` (resumable, shardable) with :class:`StreamingBackend`, which
prefills chunk by chunk with the mitigation's hooks attached and decodes with the same hooks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from lc_core.inference.base import Backend, GenerationConfig, Prompt
from lc_core.logging import get_logger

__all__ = [
    "TEMPLATES",
    "PasskeyTemplate",
    "make_examples",
    "build_prompt",
    "prompt_tokens",
    "score",
    "depth_bin",
    "heatmap",
    "StreamingBackend",
]

logger = get_logger(__name__)


@dataclass(frozen=True)
class PasskeyTemplate:
    """The four strings of a passkey prompt (``{passkey}`` in the needle)."""

    prefix: str
    block: str
    needle: str
    suffix: str


TEMPLATES: dict[str, PasskeyTemplate] = {
    "stuffed": PasskeyTemplate(
        prefix="There is an important info hidden inside a lot of irrelevant text. Find it and memorize it.\n\n",
        block="The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n",
        needle="The passkey is {passkey}. Remember it. {passkey} is the passkey.\n",
        suffix="\nWhat is the pass key? The passkey is",
    ),
    "demo": PasskeyTemplate(
        prefix=(
            "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. "
            "I will quiz you about the important information there.\n\n"
        ),
        block="The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n",
        needle="The pass key is {passkey}. Remember it. {passkey} is the pass key.\n",
        suffix="\n\nWhat is the pass key?\n\nThe pass key is",
    ),
}


def make_examples(
    lengths: Sequence[int],
    samples: int,
    *,
    seed: int = 0,
    template: str = "stuffed",
    depth_range: tuple[float, float] = (0.0, 1.0),
) -> list[dict[str, Any]]:
    """``samples`` examples per length: id, length (tokens), depth ``(i + 0.5) / n``, 5-digit key, template name.

    ``depth_range=(lo, hi)`` spreads the depths over ``[lo, hi]`` instead (``lo + (hi − lo)(i + 0.5)/n``), e.g. to
    place every needle inside a Method-3 window at the end of a long prompt; the default is the original protocol.
    """
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {sorted(TEMPLATES)}, got {template!r}")
    lo, hi = depth_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"depth_range must satisfy 0 <= lo <= hi <= 1, got {depth_range}")
    rng = random.Random(seed)
    out = []
    for length in lengths:
        for i in range(samples):
            key = f"{rng.randrange(100000):05d}"
            depth = lo + (hi - lo) * (i + 0.5) / samples
            out.append(
                {"id": f"L{length}-d{i:03d}", "length": int(length), "depth": depth, "answer": key, "template": template}
            )
    return out


def _layout(example: Mapping[str, Any], encode: Callable[[str], list[int]]) -> tuple[PasskeyTemplate, int, int, str]:
    t = TEMPLATES[example.get("template", "stuffed")]
    needle = t.needle.format(passkey=example["answer"])
    context = int(example["length"]) - len(encode(t.prefix)) - len(encode(t.suffix))
    block_len = len(encode(t.block))
    num_blocks = max(context // block_len, 1)
    where = int(float(example["depth"]) * (num_blocks - 1))
    return t, num_blocks, where, needle


def build_prompt(example: Mapping[str, Any], encode: Callable[[str], list[int]]) -> str:
    """The prompt text of one example (``encode`` measures the pieces in tokens)."""
    t, num_blocks, where, needle = _layout(example, encode)
    return t.prefix + t.block * where + needle + t.block * (num_blocks - where - 1) + t.suffix


def prompt_tokens(example: Mapping[str, Any], encode: Callable[[str], list[int]]) -> Iterator[int]:
    """The prompt's token ids, generated lazily block by block (a 1M-token prompt is never held as a list).

    Equal to ``encode(build_prompt(example))`` for tokenizers that encode the pieces independently (byte-level);
    for BPE tokenizers the piece boundaries may differ slightly from encoding the whole text.
    """
    t, num_blocks, where, needle = _layout(example, encode)
    block = encode(t.block)
    yield from encode(t.prefix)
    for _ in range(where):
        yield from block
    yield from encode(needle)
    for _ in range(num_blocks - where - 1):
        yield from block
    yield from encode(t.suffix)


def score(prediction: str, answer: str) -> float:
    """1.0 when the key is a substring of the continuation (the original's rule), else 0.0."""
    return float(str(answer) in prediction)


def depth_bin(depth: float, bins: int = 10) -> int:
    """Row of the depth × length heatmap for a depth in [0, 1)."""
    return min(int(depth * bins), bins - 1)


def heatmap(rows: Sequence[Mapping[str, Any]], bins: int = 10) -> tuple[list[int], list[list[float | None]]]:
    """Accuracy per (depth bin, length): ``(lengths, matrix[bins][len(lengths)])`` with None where empty."""
    lengths = sorted({int(r["length"]) for r in rows})
    acc: dict[tuple[int, int], list[float]] = {}
    for r in rows:
        acc.setdefault((depth_bin(float(r["depth"]), bins), int(r["length"])), []).append(float(r["score"]))
    matrix = [[(sum(v) / len(v)) if (v := acc.get((b, n))) else None for n in lengths] for b in range(bins)]
    return lengths, matrix


class StreamingBackend(Backend):
    """An lc-core :class:`~lc_core.inference.base.Backend` over a Mamba-2 that prefills by streaming.

    Args:
        model: an lc-core ``Mamba2ForCausalLM``.
        encode: text -> ids.
        decode: ids -> text.
        hooks_factory: returns fresh :class:`~lc_core.models.mamba2.SSMHooks` (or None) for each prompt, so
            stateful mitigations (Method 3's anchors) start clean.
        chunk_tokens: tokens per forward call during prefill.
        eos_token_id: stop decoding at this id.
        token_source: optional ``prompt -> iterator of ids`` (lazy prompts); default ``encode``.
    """

    def __init__(
        self,
        model: Any,
        encode: Callable[[str], list[int]],
        decode: Callable[[Sequence[int]], str],
        *,
        hooks_factory: Callable[[], Any] = lambda: None,
        chunk_tokens: int = 4096,
        eos_token_id: int | None = None,
        token_source: Callable[[str], Any] | None = None,
    ) -> None:
        self.model = model
        self._encode = encode
        self._decode = decode
        self.hooks_factory = hooks_factory
        self.chunk_tokens = chunk_tokens
        self.eos_token_id = eos_token_id
        self.token_source = token_source

    def encode(self, text: str) -> list[int]:
        return self._encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._decode(ids)

    @torch.inference_mode()
    def complete_tokens(self, tokens: Any, max_new_tokens: int) -> list[int]:
        """Greedy continuation of a token stream (prefill streamed with the hooks, decode with the same hooks)."""
        from lc_core.models.mamba2 import stream

        hooks = self.hooks_factory()
        ids = tokens if isinstance(tokens, torch.Tensor) else torch.tensor(list(tokens), dtype=torch.long)
        n = ids.numel()
        res = stream(
            self.model, ids, chunk_tokens=self.chunk_tokens, positions=[n - 1], return_losses=False, ssm_hooks=hooks,
            progress=False,
        )  # fmt: skip
        logits = res.logits[n - 1]
        cache = res.cache
        out: list[int] = []
        device = self.model.lm_head.weight.device
        for step in range(max_new_tokens):
            nxt = int(logits.argmax())
            if self.eos_token_id is not None and nxt == self.eos_token_id:
                break
            out.append(nxt)
            if step + 1 == max_new_tokens:
                break
            step_out = self.model(
                input_ids=torch.tensor([[nxt]], device=device), cache_params=cache, use_cache=True, ssm_hooks=hooks
            )
            logits = step_out.logits[0, -1].float()
        return out

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        configs = self._configs(len(prompts), config)
        outs = []
        for prompt, cfg in zip(prompts, configs):
            if not isinstance(prompt, str):
                raise ValueError("StreamingBackend takes text prompts")
            if not cfg.greedy:
                raise ValueError("passkey decoding is greedy (temperature 0), as in the original")
            tokens = self.token_source(prompt) if self.token_source is not None else self._encode(prompt)
            outs.append(self._decode(self.complete_tokens(tokens, cfg.max_new_tokens)))
        return outs
