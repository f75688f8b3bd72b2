"""Local transformers models (causal LM or seq2seq) behind the :class:`~lc_core.inference.base.Backend` interface.

Causal LMs run through our own decode loop with **chunked prefill**: the prompt is fed through the model
``prefill_chunk_size`` tokens at a time with a transformers ``Cache`` (``past_key_values`` for attention
models, ``cache_params`` for Mamba-style models), so a 100K-token prompt never materialises an n×n mask
or n×vocab logits; then tokens are decoded one at a time. Seq2seq models and causal models whose forward
takes no cache fall back to ``model.generate``.

Example::

    from lc_core.inference import GenerationConfig, get_backend

    backend = get_backend("hf", model="lc-core/demo-mamba2", prefill_chunk_size=2048)
    backend.generate(["Once upon a time"], GenerationConfig(max_new_tokens=16))
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from lc_core.inference.base import Backend, GenerationConfig, Prompt, TokenScores, cut_at_stop
from lc_core.io import DataError
from lc_core.logging import get_logger, warn_once

__all__ = [
    "HFBackend",
    "BrokenCheckpointError",
    "check_loaded_weights",
    "resolve_device",
    "resolve_dtype",
    "render_chat_fallback",
]

logger = get_logger(__name__)

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``"auto"`` is bf16 on a CUDA device that supports it, fp32 otherwise (CPU decoding is fp32)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use 'auto' or one of {', '.join(sorted(_DTYPES))}")
    return _DTYPES[dtype]


class BrokenCheckpointError(DataError):
    """A checkpoint whose weights do not fit its model: missing, unexpected or mis-shaped keys, or non-finite values.

    A user error (one line, exit 2 in the CLIs) naming the checkpoint path and the first offending keys.
    """


def _first(keys: Any, n: int = 3) -> str:
    keys = sorted(str(k) for k in keys)
    more = f" (and {len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def check_loaded_weights(model: Any, loading_info: dict[str, Any] | None, path: str, *, strict: bool = True) -> None:
    """Refuse a model whose checkpoint did not fill it exactly, or whose parameters are not all finite.

    transformers re-initialises a missing tensor at random and drops an unexpected one with only a log line, so
    a truncated or mis-converted checkpoint would otherwise generate plausible garbage (and NaN weights generate
    ``''``).

    Args:
        model: the loaded ``PreTrainedModel``.
        loading_info: ``from_pretrained(..., output_loading_info=True)``'s second value (``missing_keys``,
            ``unexpected_keys``, ``mismatched_keys``, ``error_msgs``); ``None`` skips the key checks.
        path: the checkpoint folder or name, for the message.
        strict: ``False`` downgrades missing/unexpected/mis-shaped keys to a warning (non-finite weights stay
            an error: no output of such a model means anything).

    Raises:
        BrokenCheckpointError: naming ``path`` and the first keys.
    """
    info = loading_info or {}
    problems = []
    for what, keys in (
        ("missing", info.get("missing_keys") or ()),
        ("unexpected", info.get("unexpected_keys") or ()),
        ("mis-shaped", [k[0] if isinstance(k, tuple) else k for k in info.get("mismatched_keys") or ()]),
    ):
        if keys:
            problems.append(f"{len(keys)} {what} key{'s' if len(keys) > 1 else ''}: {_first(keys)}")
    if problems:
        msg = "checkpoint does not match the model: " + "; ".join(problems)
        if strict:
            raise BrokenCheckpointError(msg + " (pass strict=false to load it anyway)", path=path)
        logger.warning("%s: %s; loading anyway (strict=false): those weights are random", path, msg)
    bad = [name for name, p in model.named_parameters() if p.is_floating_point() and not bool(torch.isfinite(p).all())]
    if bad:
        raise BrokenCheckpointError(f"non-finite (NaN/inf) values in {len(bad)} weight tensor(s): {_first(bad)}", path=path)


def render_chat_fallback(messages: Sequence[Any]) -> str:
    """Plain ``role: content`` lines plus ``assistant:``, for tokenizers without a chat template."""
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nassistant:"


class HFBackend(Backend):
    """A local transformers model.

    Args:
        model: a folder with ``config.json`` and weights, a built-in name (``lc-core/demo-mamba2``) or a
            hub id your transformers install can resolve.
        tokenizer: tokenizer folder or name (default: the model's).
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda:1"``…
        dtype: ``"auto"`` (bf16 on CUDA, fp32 on CPU), ``"float32"``, ``"bfloat16"``, ``"float16"``.
        batch_size: prompts decoded together (left-padded; prompts are sorted by length first).
        prefill_chunk_size: prompt tokens per forward pass during prefill; ``0``/``None`` = the whole
            prompt at once.
        chat_template: ``None`` applies the tokenizer's chat template to chat prompts and to
            ``GenerationConfig(chat=True)``; ``True`` applies it to every prompt; ``False`` never (chat
            prompts are rendered as ``role: content`` lines); a string is a Jinja template to use
            instead of the tokenizer's own (then as ``None``).
        trust_remote_code: passed to transformers.
        max_length: the model's context; a longer ``prompt + max_new_tokens`` has its prompt truncated in
            the middle (with a warning). ``None`` = never truncate.
        disable_tqdm: hide the progress bar.
        strict: a checkpoint with missing, unexpected or mis-shaped keys is a :class:`BrokenCheckpointError`;
            ``False`` loads it with a warning (the missing weights are random). Non-finite weights are always
            an error.

    Raises:
        BrokenCheckpointError: the checkpoint does not fill the model exactly, or holds NaN/inf weights.
    """

    name = "hf"

    def __init__(
        self,
        model: str,
        tokenizer: str | None = None,
        *,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype = "auto",
        batch_size: int = 8,
        prefill_chunk_size: int | None = 4096,
        chat_template: bool | str | None = None,
        trust_remote_code: bool = False,
        max_length: int | None = None,
        disable_tqdm: bool = False,
        strict: bool = True,
    ) -> None:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        from lc_core.models import register_all
        from lc_core.models.builtin import resolve_model_path

        register_error: Exception | None = None
        try:
            register_all()
        except Exception as e:
            # a broken lc model package must not stop plain transformers models from loading
            register_error = e
            logger.warning(
                "lc models are not registered (%s: %s); lc-gqa/lc-mamba2 folders will not load", type(e).__name__, e
            )
        path = resolve_model_path(model)
        tok_path = resolve_model_path(tokenizer) if tokenizer else path
        dev = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        try:
            config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
        except (KeyError, ValueError) as e:
            if register_error is None:
                raise
            raise ValueError(
                f"cannot read the config of {path!r} ({e}); lc model registration failed: {register_error}"
            ) from e
        cls = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModelForCausalLM
        logger.info("loading %s from %s (%s, %s)", cls.__name__, path, dev, torch_dtype)
        hf_model, loading_info = cls.from_pretrained(
            path, dtype=torch_dtype, trust_remote_code=trust_remote_code, output_loading_info=True
        )
        check_loaded_weights(hf_model, loading_info, path, strict=strict)
        try:
            tok = AutoTokenizer.from_pretrained(tok_path, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as e:
            raise OSError(f"no tokenizer could be loaded from {tok_path!r}; pass tokenizer=PATH ({e})") from e
        self.model_name = model
        self._setup(
            hf_model.to(dev),
            tok,
            batch_size=batch_size,
            prefill_chunk_size=prefill_chunk_size,
            chat_template=chat_template,
            max_length=max_length,
            disable_tqdm=disable_tqdm,
        )

    @classmethod
    def from_model(
        cls,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 8,
        prefill_chunk_size: int | None = 4096,
        chat_template: bool | str | None = None,
        max_length: int | None = None,
        disable_tqdm: bool = False,
        name: str = "in-memory",
    ) -> HFBackend:
        """Wrap an already loaded model and tokenizer (kept on their current device and dtype).

        Args:
            model: a transformers ``PreTrainedModel`` (causal LM or seq2seq).
            tokenizer: its tokenizer (``PreTrainedTokenizerBase``).
            name: the name shown in ``repr``, logs and as the served model id.

        The other arguments are those of :class:`HFBackend`.
        """
        self = cls.__new__(cls)
        self.model_name = name
        self._setup(
            model,
            tokenizer,
            batch_size=batch_size,
            prefill_chunk_size=prefill_chunk_size,
            chat_template=chat_template,
            max_length=max_length,
            disable_tqdm=disable_tqdm,
        )
        return self

    def _setup(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int,
        prefill_chunk_size: int | None,
        chat_template: bool | str | None,
        max_length: int | None,
        disable_tqdm: bool,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if prefill_chunk_size is not None and prefill_chunk_size < 0:
            raise ValueError(f"prefill_chunk_size must be >= 0, got {prefill_chunk_size}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.prefill_chunk_size = prefill_chunk_size or 0
        self.max_length = max_length
        self.disable_tqdm = disable_tqdm
        if isinstance(chat_template, str):
            tokenizer.chat_template = chat_template
            chat_template = None
        self.chat_template = chat_template
        self.device = next(model.parameters()).device
        self.is_encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
        params = inspect.signature(model.forward).parameters
        # Mamba-style models take their state as ``cache_params``, attention models as ``past_key_values``
        if "cache_params" in params:
            self._cache_arg: str | None = "cache_params"
        elif "past_key_values" in params:
            self._cache_arg = "past_key_values"
        else:
            self._cache_arg = None
        self._takes_position_ids = "position_ids" in params
        self._takes_cache_position = "cache_position" in params
        self._takes_logits_to_keep = "logits_to_keep" in params
        self.uses_decode_loop = not self.is_encoder_decoder and self._cache_arg is not None
        if not self.uses_decode_loop:
            logger.info("%s has no chunkable cache: generating with model.generate", type(model).__name__)
        self.pad_token_id = self._pad_id()
        self.eos_token_ids = self._eos_ids()
        self._prefix_ids = self._special_prefix()

    def __repr__(self) -> str:
        return f"HFBackend(model={self.model_name!r}, device={str(self.device)!r}, batch_size={self.batch_size})"

    def _pad_id(self) -> int:
        for cand in (
            self.tokenizer.pad_token_id,
            self.tokenizer.eos_token_id,
            getattr(self.model.config, "pad_token_id", None),
        ):
            if isinstance(cand, int):
                return cand
        return 0

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        gen_cfg = getattr(self.model, "generation_config", None)
        for cand in (self.tokenizer.eos_token_id, getattr(gen_cfg, "eos_token_id", None)):
            if isinstance(cand, int):
                ids.add(cand)
            elif isinstance(cand, list | tuple):
                ids.update(int(c) for c in cand)
        return ids

    def _special_prefix(self) -> list[int]:
        # Keep the tokens a tokenizer puts *before* the text (a BOS) but not those after it (ByT5 and T5
        # append EOS, which would tell a causal LM the prompt is over).
        probe = "a"
        plain = self.tokenizer.encode(probe, add_special_tokens=False)
        full = self.tokenizer.encode(probe, add_special_tokens=True)
        for start in range(len(full) - len(plain) + 1):
            if full[start : start + len(plain)] == plain:
                return list(full[:start])
        # the text tokenised differently with specials around it: keep just a leading BOS if there is one
        bos = self.tokenizer.bos_token_id
        return [bos] if full and bos is not None and full[0] == bos else []

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def _has_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def prompt_ids(self, prompt: Prompt, config: GenerationConfig | None = None) -> list[int]:
        """The token ids the model is fed for ``prompt`` (chat template and BOS applied, no truncation)."""
        chat = config.chat if config is not None else False
        is_messages = not isinstance(prompt, str)
        messages = list(prompt) if is_messages else [{"role": "user", "content": prompt}]
        want_template = self.chat_template is True or (self.chat_template is None and (is_messages or chat))
        if want_template and self._has_template():
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return list(self.tokenizer.encode(text, add_special_tokens=False))
        if self.chat_template is True:
            raise ValueError(f"chat_template=True but the tokenizer of {self.model_name!r} has no chat template")
        if is_messages:
            if want_template:
                warn_once(
                    logger, f"tokenizer of {self.model_name!r} has no chat template: chat prompts become 'role: content' lines"
                )
            text = render_chat_fallback(messages)
        else:
            if want_template:
                warn_once(
                    logger, f"tokenizer of {self.model_name!r} has no chat template: chat=True prompts are used as plain text"
                )
            text = prompt  # type: ignore[assignment]
        return self._prefix_ids + self.encode(text)

    def count_prompt_tokens(self, prompt: Prompt, config: GenerationConfig | None = None) -> int:
        return len(self.prompt_ids(prompt, config))

    def _fit(self, ids: list[int], config: GenerationConfig) -> list[int]:
        if self.max_length is None:
            return ids
        budget = self.max_length - config.max_new_tokens
        if budget <= 0:
            raise ValueError(
                f"max_new_tokens={config.max_new_tokens} leaves no room for a prompt in max_length={self.max_length}"
            )
        if len(ids) <= budget:
            return ids
        warn_once(logger, f"prompts longer than {budget} tokens are truncated in the middle (max_length={self.max_length})")
        half = budget // 2
        return ids[:half] + ids[len(ids) - (budget - half) :]

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        """Complete each prompt; returns the completions in input order (prompt excluded, stop strings cut)."""
        configs = self._configs(len(prompts), config)
        token_lists = [self._fit(self.prompt_ids(p, c), c) for p, c in zip(prompts, configs, strict=True)]
        for i, ids in enumerate(token_lists):
            if not ids:
                raise ValueError(f"prompt {i} is empty after tokenization (the tokenizer adds no BOS); give it some text")
        # longest first: similar lengths share a batch (little padding) and an OOM shows up at once
        order = sorted(range(len(prompts)), key=lambda i: -len(token_lists[i]))
        outputs: list[str] = [""] * len(prompts)
        with tqdm(total=len(prompts), desc="generate", disable=self.disable_tqdm, leave=False) as bar:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch_ids = [token_lists[i] for i in idx]
                batch_cfgs = [configs[i] for i in idx]
                if self.uses_decode_loop:
                    new_tokens = self._decode_loop(batch_ids, batch_cfgs)
                else:
                    new_tokens = self._generate_fallback(batch_ids, batch_cfgs)
                for i, toks, cfg in zip(idx, new_tokens, batch_cfgs, strict=True):
                    outputs[i] = cut_at_stop(self.decode(toks), cfg.stop)
                bar.update(len(idx))
        return outputs

    def _left_pad(self, batch_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(max(len(x) for x in batch_ids), 1)
        input_ids = torch.full((len(batch_ids), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for row, ids in enumerate(batch_ids):
            if ids:
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                mask[row, width - len(ids) :] = 1
        return input_ids.to(self.device), mask.to(self.device)

    def _forward(self, input_ids: torch.Tensor, mask: torch.Tensor, cache: Any, past: int) -> tuple[torch.Tensor, Any]:
        """One forward over ``input_ids`` ``[B, t]`` continuing ``cache`` after ``past`` positions.

        ``mask`` is the 2D padding mask over all ``past + t`` positions. Returns last-position logits
        ``[B, V]`` (fp32) and the cache.
        """
        kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask, "use_cache": True}
        if cache is not None:
            kwargs[self._cache_arg] = cache  # type: ignore[index]
        t = input_ids.shape[1]
        if self._takes_position_ids:
            # positions count real tokens only, as model.generate does with left padding
            pos = (mask.cumsum(-1) - 1).clamp_min(0)
            kwargs["position_ids"] = pos[:, past : past + t]
        if self._takes_cache_position:
            kwargs["cache_position"] = torch.arange(past, past + t, device=input_ids.device)
        if self._takes_logits_to_keep:
            kwargs["logits_to_keep"] = 1
        out = self.model(**kwargs)
        new_cache = getattr(out, "past_key_values", None)
        if new_cache is None:
            new_cache = getattr(out, "cache_params", None)
        if new_cache is None:
            raise RuntimeError(f"{type(self.model).__name__} returned no cache with use_cache=True")
        return out.logits[:, -1, :].float(), new_cache

    @torch.inference_mode()
    def prefill(self, input_ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Run the prompt through the model in chunks of ``prefill_chunk_size``.

        Args:
            input_ids: left-padded prompts ``[B, T]``.
            mask: padding mask ``[B, T]`` (1 = token, 0 = padding).

        Returns:
            Last-position logits ``[B, V]`` and the filled cache.
        """
        total = input_ids.shape[1]
        chunk = self.prefill_chunk_size or total
        cache = None
        logits = None
        for start in range(0, total, chunk):
            end = min(start + chunk, total)
            logits, cache = self._forward(input_ids[:, start:end], mask[:, :end], cache, start)
        assert logits is not None
        return logits, cache

    def _select(
        self, logits: torch.Tensor, configs: list[GenerationConfig], gens: list[torch.Generator | None]
    ) -> torch.Tensor:
        """Next token per row of ``logits`` ``[B, V]``: argmax, or a sample under the row's own generator."""
        from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        tokens = logits.argmax(-1)
        empty = torch.empty((1, 0), dtype=torch.long, device=logits.device)
        for row, cfg in enumerate(configs):
            if cfg.greedy:
                continue
            scores = logits[row : row + 1]
            scores = TemperatureLogitsWarper(cfg.temperature)(empty, scores)
            if cfg.top_k > 0:
                scores = TopKLogitsWarper(cfg.top_k)(empty, scores)
            if cfg.top_p < 1.0:
                scores = TopPLogitsWarper(cfg.top_p)(empty, scores)
            probs = torch.softmax(scores, dim=-1)
            tokens[row] = torch.multinomial(probs, 1, generator=gens[row])[0, 0]
        return tokens

    def _generators(self, configs: list[GenerationConfig]) -> list[torch.Generator | None]:
        gens: list[torch.Generator | None] = []
        for cfg in configs:
            if cfg.greedy or cfg.seed is None:
                gens.append(None)
            else:
                g = torch.Generator(device=self.device)
                g.manual_seed(cfg.seed)
                gens.append(g)
        return gens

    @torch.inference_mode()
    def _decode_loop(self, batch_ids: list[list[int]], configs: list[GenerationConfig]) -> list[list[int]]:
        input_ids, mask = self._left_pad(batch_ids)
        logits, cache = self.prefill(input_ids, mask)
        past = input_ids.shape[1]
        gens = self._generators(configs)
        out: list[list[int]] = [[] for _ in configs]
        done = [cfg.max_new_tokens == 0 for cfg in configs]
        ones = torch.ones((len(configs), 1), dtype=mask.dtype, device=mask.device)
        for _ in range(max(cfg.max_new_tokens for cfg in configs)):
            if all(done):
                break
            tokens = self._select(logits, configs, gens)
            for row, tok in enumerate(tokens.tolist()):
                if done[row]:
                    continue
                if tok in self.eos_token_ids:
                    done[row] = True
                    continue
                out[row].append(tok)
                cfg = configs[row]
                if len(out[row]) >= cfg.max_new_tokens or self._hit_stop(out[row], cfg.stop):
                    done[row] = True
            if all(done):
                break
            mask = torch.cat([mask, ones], dim=1)
            logits, cache = self._forward(tokens[:, None], mask, cache, past)
            past += 1
        return out

    def _hit_stop(self, ids: list[int], stop: Sequence[str]) -> bool:
        if not stop:
            return False
        # a stop string can only have appeared in the last few tokens (byte tokenizers need up to 4 per char)
        window = 4 * max(len(s) for s in stop) + 8
        tail = self.decode(ids[-window:])
        return any(s in tail for s in stop)

    @torch.inference_mode()
    def _generate_fallback(self, batch_ids: list[list[int]], configs: list[GenerationConfig]) -> list[list[int]]:
        results: list[list[int]] = [[] for _ in configs]
        greedy_rows = [r for r, c in enumerate(configs) if c.greedy]
        if greedy_rows:
            # greedy decoding of a longer budget starts with the shorter one, so one call serves all rows
            new = self._hf_generate(
                [batch_ids[r] for r in greedy_rows], max(configs[r].max_new_tokens for r in greedy_rows), None
            )
            for r, toks in zip(greedy_rows, new, strict=True):
                results[r] = toks
        for r, cfg in enumerate(configs):
            if not cfg.greedy:
                results[r] = self._hf_generate([batch_ids[r]], cfg.max_new_tokens, cfg)[0]
        for r, cfg in enumerate(configs):
            toks = results[r][: cfg.max_new_tokens]
            for k, t in enumerate(toks):
                if t in self.eos_token_ids:
                    toks = toks[:k]
                    break
            results[r] = toks
        return results

    def _hf_generate(
        self, batch_ids: list[list[int]], max_new_tokens: int, sample: GenerationConfig | None
    ) -> list[list[int]]:
        if max_new_tokens == 0:
            return [[] for _ in batch_ids]
        input_ids, mask = self._left_pad(batch_ids)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "pad_token_id": self.pad_token_id,
            "do_sample": sample is not None,
        }
        if sample is not None:
            kwargs.update(temperature=sample.temperature, top_p=sample.top_p, top_k=sample.top_k)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            if sample is not None and sample.seed is not None:
                torch.manual_seed(sample.seed)
            seqs = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        # decoder-only outputs repeat the prompt; encoder-decoder outputs start with the decoder start token
        skip = 1 if self.is_encoder_decoder else input_ids.shape[1]
        return [row[skip:].tolist() for row in seqs]

    # --- token-level protocol (used by ``lc-core serve`` for echo, logprobs and token-id prompts) ---------

    def generate_tokens(
        self, prompts: Sequence[Sequence[int]], config: GenerationConfig | Sequence[GenerationConfig]
    ) -> list[list[int]]:
        """Complete token-id prompts (fed as given: no BOS added, no truncation); returns the new ids of each.

        A row the model ended by emitting EOS ends with that EOS id (as in vLLM's output ids, so an echoed
        prompt is followed by the token that was generated); stop strings end decoding but are not cut.
        """
        configs = self._configs(len(prompts), config)
        token_lists = [list(p) for p in prompts]
        for i, ids in enumerate(token_lists):
            if not ids:
                raise ValueError(f"prompt {i} has no tokens")
        order = sorted(range(len(token_lists)), key=lambda i: -len(token_lists[i]))
        outputs: list[list[int]] = [[] for _ in token_lists]
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch_ids = [token_lists[i] for i in idx]
            batch_cfgs = [configs[i] for i in idx]
            if self.uses_decode_loop:
                new_tokens = self._decode_loop(batch_ids, batch_cfgs)
            else:
                new_tokens = self._generate_fallback(batch_ids, batch_cfgs)
            for i, toks, cfg in zip(idx, new_tokens, batch_cfgs, strict=True):
                toks = list(toks)
                if self.eos_token_ids and len(toks) < cfg.max_new_tokens and not self._hit_stop(toks, cfg.stop):
                    toks.append(self._eos_for_output())
                outputs[i] = toks
        return outputs

    def _eos_for_output(self) -> int:
        eos = self.tokenizer.eos_token_id
        return eos if eos in self.eos_token_ids else min(self.eos_token_ids)

    @torch.inference_mode()
    def score_tokens(self, sequences: Sequence[Sequence[int]], top_k: int = 0) -> list[TokenScores]:
        """Teacher-forced log-probabilities of each sequence (fp32 log-softmax), one sequence at a time.

        Causal LMs with a cache run in chunks of ``prefill_chunk_size`` tokens continuing the cache (as the
        prefill does), so a long sequence never materialises ``[T, V]`` logits at once.
        """
        if self.is_encoder_decoder:
            raise NotImplementedError("scoring is implemented for causal LMs only")
        results = []
        for n, seq in enumerate(sequences):
            ids = [int(t) for t in seq]
            if not ids:
                raise ValueError(f"sequence {n} has no tokens")
            logprobs: list[float | None] = [None]
            top: list[list[tuple[int, float]]] = [[]]
            if len(ids) > 1:
                inputs = torch.tensor([ids[:-1]], dtype=torch.long, device=self.device)
                targets = torch.tensor(ids[1:], dtype=torch.long, device=self.device)
                total = inputs.shape[1]
                chunk = (self.prefill_chunk_size or total) if self._cache_arg is not None else total
                cache = None
                for start in range(0, total, chunk):
                    end = min(start + chunk, total)
                    logits, cache = self._chunk_logits(inputs[:, start:end], cache, start)
                    lp = torch.log_softmax(logits.float(), dim=-1)  # [t, V]
                    logprobs.extend(lp.gather(1, targets[start:end, None])[:, 0].tolist())
                    if top_k > 0:
                        values, indices = lp.topk(min(top_k, lp.shape[-1]), dim=-1)
                        top.extend(
                            list(zip(i_row, v_row, strict=True))
                            for i_row, v_row in zip(indices.tolist(), values.tolist(), strict=True)
                        )
                    else:
                        top.extend([] for _ in range(end - start))
            results.append(TokenScores(token_ids=ids, logprobs=logprobs, top=top))
        return results

    def _chunk_logits(self, input_ids: torch.Tensor, cache: Any, past: int) -> tuple[torch.Tensor, Any]:
        """All-position logits ``[t, V]`` of one unpadded row ``input_ids`` ``[1, t]`` after ``past`` tokens."""
        t = input_ids.shape[1]
        kwargs: dict[str, Any] = {"input_ids": input_ids}
        if self._cache_arg is not None:
            kwargs["use_cache"] = True
            kwargs["attention_mask"] = torch.ones((1, past + t), dtype=torch.long, device=input_ids.device)
            if cache is not None:
                kwargs[self._cache_arg] = cache
            if self._takes_position_ids:
                kwargs["position_ids"] = torch.arange(past, past + t, device=input_ids.device)[None]
            if self._takes_cache_position:
                kwargs["cache_position"] = torch.arange(past, past + t, device=input_ids.device)
        out = self.model(**kwargs)
        new_cache = getattr(out, "past_key_values", None)
        if new_cache is None:
            new_cache = getattr(out, "cache_params", None)
        return out.logits[0], new_cache

    def close(self) -> None:
        """Drop the model so its memory can be freed."""
        self.model = None  # type: ignore[assignment]
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
