"""``lc-core train`` / ``python -m lc_core.train``: train a causal LM from one JSON config file.

The file has three sections::

    {
      "train": {"seq_len": 128, "micro_batch_size": 8, "global_batch_size": 32, "max_steps": 500,
                "lr": 1e-3, "schedule": "wsd", "warmup_steps": 50, "out_dir": "runs/demo"},
      "model": {"config": {"model_type": "llama", "vocab_size": 384, "hidden_size": 64,
                           "intermediate_size": 128, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "num_key_value_heads": 2}},
      "data": {"train": "corpus.jsonl", "eval": "heldout.jsonl", "field": "text", "tokenizer": "bytes"}
    }

``model`` is either ``{"config": {...}}`` (a transformers config built with ``AutoConfig.for_model``,
trained from scratch) or ``{"path": "<local folder or lc-core/demo-mamba2>", "init": "scratch" |
"pretrained"}``. ``data.train``/``data.eval`` are files or dataset folders read by
:func:`lc_core.train.data.iter_documents`, or ``.npy`` token streams; ``tokenizer`` is ``"bytes"`` or a
local HF tokenizer folder. Multi-process: ``torchrun --nproc-per-node 4 -m lc_core.train --config cfg.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_core.io import DataError, check_fields, read_json_object
from lc_core.logging import get_logger

__all__ = ["add_arguments", "run", "main", "load_run_config", "build_model", "build_data"]

logger = get_logger(__name__)

_SECTIONS = ("train", "model", "data")
_EPILOG = """quick start:
  python -m lc_core.train --config cfg.json
  torchrun --nproc-per-node 2 -m lc_core.train --config cfg.json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``lc-core train``."""
    parser.add_argument(
        "--config", required=True, help="JSON file with 'train', 'model' and 'data' sections (see docs/train.md)"
    )
    parser.add_argument("--out-dir", default=None, help="override train.out_dir (where checkpoints and metrics go)")
    parser.add_argument("--max-steps", type=int, default=None, help="override train.max_steps")
    parser.add_argument("--distributed", choices=["none", "ddp", "fsdp"], default=None, help="override train.distributed")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], default=None, help="force a device (default: CUDA when available)"
    )
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="continue from the newest checkpoint (default: train.resume)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bar (log lines only)")


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read and check the three sections of a run config file.

    Raises:
        DataError: bad JSON or a missing/unknown section, naming the file and field.
    """
    from lc_core.train.config import TrainConfig

    p = Path(path)
    raw = read_json_object(p, what="run config")
    check_fields(raw, _SECTIONS, path=p, what="section")
    for key in _SECTIONS:
        if not isinstance(raw.get(key), dict):
            raise DataError("missing section or not an object", path=p, field=key)
    return {"train": TrainConfig.from_dict(raw["train"], path=p), "model": raw["model"], "data": raw["data"], "path": p}


def build_model(spec: Mapping[str, Any], *, where: str | Path = "<config>") -> Any:
    """A transformers causal LM from the ``model`` section (random init unless ``init: pretrained``)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from lc_core.models import register_all
    from lc_core.models.builtin import resolve_model_path

    def ensure_registered(model_type: str | None) -> None:
        # lc's own model types (lc-gqa, lc-mamba2) register with transformers only when imported
        if model_type not in CONFIG_MAPPING:
            register_all()

    if "config" in spec:
        kwargs = dict(spec["config"])
        model_type = kwargs.pop("model_type", None)
        if not model_type:
            raise DataError("model.config needs a model_type (e.g. 'llama')", path=where, field="model.config.model_type")
        ensure_registered(model_type)
        config = AutoConfig.for_model(model_type, **kwargs)
        return AutoModelForCausalLM.from_config(config)
    if "path" in spec:
        path = resolve_model_path(str(spec["path"]))
        if not Path(path).exists():
            raise DataError(f"no such local model folder {path!r}", path=where, field="model.path")
        config_file = Path(path) / "config.json"
        ensure_registered(json.loads(config_file.read_text()).get("model_type") if config_file.is_file() else None)
        init = spec.get("init", "scratch")
        if init == "pretrained":
            return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
        if init == "scratch":
            return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(path, local_files_only=True))
        raise DataError(f"expected 'scratch' or 'pretrained', got {init!r}", path=where, field="model.init")
    raise DataError("needs 'config' or 'path'", path=where, field="model")


def build_data(
    spec: Mapping[str, Any], seq_len: int, *, where: str | Path = "<config>", progress: bool = True
) -> tuple[Any, Any]:
    """``(train, eval or None)`` :class:`~lc_core.train.data.PackedDataset` from the ``data`` section."""
    from lc_core.train.data import PackedDataset, load_tokenizer

    if "train" not in spec:
        raise DataError("missing the training data path", path=where, field="data.train")
    tokenizer = None

    def load(source: str, key: str) -> PackedDataset:
        nonlocal tokenizer
        if str(source).endswith(".npy"):
            return PackedDataset.from_npy(source, seq_len=seq_len)
        if tokenizer is None:
            tokenizer = load_tokenizer(str(spec.get("tokenizer", "bytes")))
        try:
            return PackedDataset.from_source(
                source, tokenizer, seq_len=seq_len, field=str(spec.get("field", "text")), progress=progress
            )
        except FileNotFoundError as e:
            raise DataError(str(e), path=where, field=f"data.{key}") from None

    train_ds = load(spec["train"], "train")
    eval_ds = load(spec["eval"], "eval") if spec.get("eval") else None
    return train_ds, eval_ds


def run(args: argparse.Namespace) -> int:
    """Run ``lc-core train`` with parsed flags (errors follow :mod:`lc_core.cli`'s policy: one line, exit 2)."""
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from lc_core.testing import requires_torch

    requires_torch()
    from lc_core.train.trainer import train

    run_cfg = load_run_config(args.config)
    cfg = run_cfg["train"]
    overrides: dict[str, Any] = {}
    if args.out_dir is not None:
        overrides["out_dir"] = args.out_dir
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    if args.distributed is not None:
        overrides["distributed"] = args.distributed
    if args.resume is not None:
        overrides["resume"] = args.resume
    if args.no_progress:
        overrides["progress"] = False
    cfg = dataclasses.replace(cfg, **overrides)
    train_ds, eval_ds = build_data(run_cfg["data"], cfg.seq_len, where=run_cfg["path"], progress=cfg.progress)

    def model_fn() -> Any:
        model = build_model(run_cfg["model"], where=run_cfg["path"])
        vocab = model.get_input_embeddings().num_embeddings
        top = int(train_ds.tokens.max()) if len(train_ds.tokens) else 0
        if top >= vocab:
            raise DataError(
                f"token id {top} does not fit the model's vocabulary of {vocab}", path=run_cfg["path"], field="model"
            )
        return model

    result = train(model_fn, cfg, train_ds, eval_data=eval_ds, device=args.device)
    logger.info("done: step %d, loss %.4f, results in %s", result.step, result.final_loss, result.out_dir)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lc_core.train``: the same flags as ``lc-core train``."""
    from lc_core.cli import run_single

    return run_single(
        "python -m lc_core.train",
        "Train a causal LM from a JSON run config (works under torchrun).",
        add_arguments,
        run,
        argv,
        epilog=_EPILOG,
    )
