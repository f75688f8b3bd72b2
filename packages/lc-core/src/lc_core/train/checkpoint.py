"""Crash-safe training checkpoints: safetensors weights, tensors-only optimizer/RNG state, JSON metadata.

Layout of ``<out_dir>/checkpoints/step_00000100/``:

- ``model.safetensors``: full (unsharded) weights with the model's own parameter names, plus the
  model's ``config.json`` when it has one, so ``AutoModelForCausalLM.from_pretrained(folder)`` loads it;
- ``optimizer.pt``: the full optimizer state (a dict of tensors and numbers, read back with
  ``torch.load(weights_only=True)``);
- ``rng_rank{r}.pt``: each rank's torch/CUDA/numpy/python RNG states (tensors and ints only);
- ``trainer_state.json``: step, tokens seen, elapsed time, data position and the run's config.

A checkpoint is written into a hidden ``.tmp-step_…`` folder and renamed into place only when every
file is on disk, so a kill at any moment leaves either the previous checkpoints or the new complete
one; stale temporary folders are removed on the next save. Only the newest ``keep_last`` are kept.
Sharded (FSDP) and replicated (DDP) models are gathered to full state with
``torch.distributed.checkpoint.state_dict``; a single process writes the same format (optimizer state
keyed by parameter name) without importing that module (it pulls in sympy, seconds of start-up), so a
checkpoint resumes under any mode and rank count.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

from lc_core.io import atomic_write_json
from lc_core.logging import get_logger
from lc_core.train.distributed import DistInfo, barrier, unwrap_model

__all__ = [
    "checkpoint_root",
    "list_checkpoints",
    "latest_checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "rng_state",
    "set_rng_state",
    "full_state_dicts",
    "load_full_state_dicts",
]

logger = get_logger(__name__)

_NAME = re.compile(r"^step_(\d{8,})$")
_MODEL_FILE = "model.safetensors"
_OPTIM_FILE = "optimizer.pt"
_STATE_FILE = "trainer_state.json"


def checkpoint_root(out_dir: str | os.PathLike[str]) -> Path:
    """``<out_dir>/checkpoints``."""
    return Path(out_dir) / "checkpoints"


def list_checkpoints(out_dir: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``out_dir`` as ``(step, folder)``, oldest first."""
    root = checkpoint_root(out_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        m = _NAME.match(child.name)
        if m and (child / _STATE_FILE).is_file():
            found.append((int(m.group(1)), child))
    return sorted(found)


def latest_checkpoint(out_dir: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    ckpts = list_checkpoints(out_dir)
    return ckpts[-1][1] if ckpts else None


def rng_state() -> dict[str, Any]:
    """Every RNG this process uses, as tensors, ints and strings only (safe for ``weights_only`` loads)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)), *(float(x) for x in np_state[2:])],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def _param_names(model: nn.Module) -> dict[int, str]:
    # named_parameters lists a tied parameter once, under its first name, as the DCP helpers do
    return {id(p): name for name, p in model.named_parameters()}


def full_state_dicts(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Unsharded model and optimizer state on CPU, optimizer state keyed by parameter name.

    Collective under a process group (every rank must call it; rank 0 gets the tensors). Without one,
    the same format is built from the plain ``state_dict``s.
    """
    if dist.is_initialized():
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        return get_model_state_dict(model, options=options), get_optimizer_state_dict(model, optimizer, options=options)
    module = unwrap_model(model)
    model_sd = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    names = _param_names(module)
    order = [names[id(p)] for g in optimizer.param_groups for p in g["params"]]
    raw = optimizer.state_dict()
    state = {
        order[i]: {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
        for i, s in raw["state"].items()
    }
    groups = [{**g, "params": [order[i] for i in g["params"]]} for g in raw["param_groups"]]
    return model_sd, {"state": state, "param_groups": groups}


def load_full_state_dicts(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    model_sd: dict[str, torch.Tensor],
    optim_sd: dict[str, Any] | None,
) -> None:
    """Inverse of :func:`full_state_dicts` (every rank passes the full state; FSDP keeps its shard)."""
    if dist.is_initialized():
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict

        set_model_state_dict(model, model_sd, options=StateDictOptions(full_state_dict=True, strict=True))
        if optimizer is not None and optim_sd is not None:
            set_optimizer_state_dict(model, optimizer, optim_sd, options=StateDictOptions(full_state_dict=True))
        return
    module = unwrap_model(model)
    module.load_state_dict(model_sd, strict=True)
    if optimizer is None or optim_sd is None:
        return
    names = _param_names(module)
    order = [names[id(p)] for g in optimizer.param_groups for p in g["params"]]
    index = {name: i for i, name in enumerate(order)}
    saved_names = [n for g in optim_sd["param_groups"] for n in g["params"]]
    if sorted(saved_names) != sorted(order):
        raise ValueError("the checkpoint's optimizer covers different parameters than this model")
    state = {index[name]: s for name, s in optim_sd["state"].items()}
    groups = [{**g, "params": [index[n] for n in g["params"]]} for g in optim_sd["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _dedup_shared(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    # safetensors refuses tensors sharing memory (tied embeddings); keep the first name, record the rest
    seen: dict[tuple[int, int, tuple[int, ...]], str] = {}
    out: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    for name, t in state.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if t.numel() and key in seen:
            aliases[name] = seen[key]
            continue
        seen[key] = name
        out[name] = t.contiguous()
    return out, aliases


def save_checkpoint(
    out_dir: str | os.PathLike[str],
    *,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    trainer_state: dict[str, Any],
    info: DistInfo,
    keep_last: int = 2,
) -> Path:
    """Write checkpoint ``step`` atomically; every rank must call it (the state gather is collective).

    Args:
        out_dir: the run folder.
        step: completed optimizer steps.
        model: the (possibly DDP/FSDP-wrapped) model.
        optimizer: its optimizer.
        trainer_state: JSON-ready metadata (step, data position, config, ...).
        info: this process's rank and world size.
        keep_last: newest checkpoints to keep.

    Returns:
        The final checkpoint folder.
    """
    model_sd, optim_sd = full_state_dicts(model, optimizer)
    root = checkpoint_root(out_dir)
    final = root / f"step_{step:08d}"
    tmp = root / f".tmp-step_{step:08d}"
    if info.is_main:
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(".tmp-step_*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp.mkdir()
    barrier()
    rng_path = tmp / f"rng_rank{info.rank}.pt"
    torch.save(rng_state(), rng_path)
    _fsync_file(rng_path)
    if info.is_main:
        tensors, aliases = _dedup_shared(model_sd)
        save_file(tensors, tmp / _MODEL_FILE, metadata={"format": "pt", "lc_aliases": json.dumps(aliases)})
        torch.save(optim_sd, tmp / _OPTIM_FILE)
        config = getattr(unwrap_model(model), "config", None)
        if config is not None and hasattr(config, "to_json_string"):
            (tmp / "config.json").write_text(config.to_json_string(), encoding="utf-8")
        atomic_write_json(tmp / _STATE_FILE, {**trainer_state, "step": step, "world_size": info.world_size})
        for f in tmp.iterdir():
            _fsync_file(f)
    barrier()
    if info.is_main:
        if final.exists():
            # re-saving a step (a resumed run reaching it again): move the old copy aside first
            old = root / f".tmp-old-step_{step:08d}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync_dir(root)
        for _, old_ckpt in list_checkpoints(out_dir)[:-keep_last]:
            shutil.rmtree(old_ckpt, ignore_errors=True)
        logger.info("saved checkpoint %s", final)
    barrier()
    return final


def load_checkpoint(
    path: str | os.PathLike[str], *, model: nn.Module, optimizer: torch.optim.Optimizer | None, info: DistInfo
) -> dict[str, Any]:
    """Load a checkpoint into ``model`` (and ``optimizer``) and restore this rank's RNG.

    Every rank reads the full files and keeps its own shard (FSDP) or copy (DDP).

    Returns:
        The saved ``trainer_state.json``.
    """
    path = Path(path)
    with (path / _STATE_FILE).open(encoding="utf-8") as f:
        state = json.load(f)
    tensors = load_file(path / _MODEL_FILE)
    from safetensors import safe_open

    with safe_open(path / _MODEL_FILE, framework="pt") as f:
        aliases = json.loads((f.metadata() or {}).get("lc_aliases", "{}"))
    for name, target in aliases.items():
        tensors[name] = tensors[target]
    optim_sd = torch.load(path / _OPTIM_FILE, map_location="cpu", weights_only=True) if optimizer is not None else None
    load_full_state_dicts(model, optimizer, tensors, optim_sd)
    rng_file = path / f"rng_rank{info.rank}.pt"
    if rng_file.is_file() and state.get("world_size") == info.world_size:
        set_rng_state(torch.load(rng_file, map_location="cpu", weights_only=True))
    else:
        logger.warning(
            "%s: saved with %s ranks, resuming with %d: RNG streams restart", path, state.get("world_size"), info.world_size
        )
    logger.info("resumed from %s (step %d)", path, state["step"])
    return state
