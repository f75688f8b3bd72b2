"""Load an lc-core Mamba-2 checkpoint (built-in name or folder) with a tokenizer, offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lc_core.logging import get_logger

__all__ = ["LoadedModel", "load_model"]

logger = get_logger(__name__)


@dataclass
class LoadedModel:
    """A model with its tokenizer functions."""

    model: Any
    encode: Callable[[str], list[int]]
    decode: Callable[[Sequence[int]], str]
    name: str
    eos_token_id: int | None = None


def load_model(name: str, *, dtype: torch.dtype | None = None, threads: int | None = None) -> LoadedModel:
    """Load ``name`` (``lc-core/demo-mamba2`` or a folder in lc, HF or state-spaces format) with its tokenizer.

    ByT5-style byte tokenizers use :class:`lc_core.tokenizers.ByteTokenizer`; any other tokenizer is read with
    ``transformers.AutoTokenizer`` from the folder (``local_files_only``: nothing is downloaded).
    """
    from lc_core.models.builtin import resolve_model_path
    from lc_core.models.mamba2 import load_checkpoint

    if threads:
        torch.set_num_threads(threads)
    folder = Path(resolve_model_path(name))
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"model {name!r}: no config.json in {folder}")
    model = load_checkpoint(folder, dtype=dtype)  # lc, HF and state-spaces formats
    tok_cfg = folder / "tokenizer_config.json"
    cls = json.loads(tok_cfg.read_text()).get("tokenizer_class") if tok_cfg.is_file() else None
    if cls == "ByT5Tokenizer":
        from lc_core.tokenizers import ByteTokenizer

        tok = ByteTokenizer(extra_ids=0)
        # the padded vocabulary has ids past the 259 byte ids; an untrained model may emit them: drop them
        return LoadedModel(
            model, tok.encode, lambda ids: tok.decode([i for i in ids if i < tok.vocab_size]), name, tok.eos_token_id
        )
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    return LoadedModel(
        model,
        lambda text: hf(text, add_special_tokens=False)["input_ids"],
        lambda ids: hf.decode(list(ids), skip_special_tokens=True),
        name,
        hf.eos_token_id,
    )
