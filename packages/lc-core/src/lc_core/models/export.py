"""Export a :func:`lc_core.train.train` run as a packaged Hugging Face folder (safetensors, tokenizer, card).

The demo models shipped in wheels (``lc-core/demo-mamba2`` and packages' ``lc_core.models`` entry points) are
made the same way: train with :func:`lc_core.train.train`, then::

    from lc_core.models.export import export_run, write_card

    ckpt = export_run("runs/demo", build_model, "src/pkg/assets/demo", generation={"eos_token_id": 1})
    write_card("src/pkg/assets/demo", card_text)

:func:`export_run` loads the newest checkpoint of the run (tied weights restored from the trainer's
``lc_aliases`` metadata), writes ``config.json`` + ``model.safetensors`` via ``save_pretrained``, the byte-level
tokenizer files (``ByT5Tokenizer(extra_ids=0)``: pad 0, eos 1, byte b -> b + 3, the ids of
:class:`lc_core.tokenizers.ByteTokenizer`), ``generation_config.json`` and the run's ``recipe.json`` as
``train_recipe.json``, and makes every file world-readable (atomic writes create owner-only files).
:func:`record_phase` keeps the per-phase recipe of a resumable run in ``<run>/recipe.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lc_core.io import atomic_write_json, atomic_write_text
from lc_core.logging import get_logger

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "load_run_weights",
    "export_model",
    "export_run",
    "make_readable",
    "write_card",
    "previous_phases",
    "record_phase",
    "RECIPE_FILE",
]

logger = get_logger(__name__)

RECIPE_FILE = "recipe.json"
PathLike = str | os.PathLike[str]


def load_run_weights(checkpoint: PathLike) -> dict[str, torch.Tensor]:
    """The full state dict of a trainer checkpoint folder (``model.safetensors``), tied copies restored.

    The trainer stores tensors sharing memory once and names the other copies in the ``lc_aliases`` metadata.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(checkpoint) / "model.safetensors"
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        aliases = json.loads((f.metadata() or {}).get("lc_aliases", "{}"))
    for name, target in aliases.items():
        tensors[name] = tensors[target]
    return tensors


def make_readable(dest: PathLike) -> None:
    """``chmod 644`` every file in ``dest`` (atomic writes create owner-only files; wheels ship them as they are)."""
    for path in Path(dest).iterdir():
        if path.is_file():
            path.chmod(0o644)


def export_model(
    model: nn.Module,
    dest: PathLike,
    *,
    byte_tokenizer: bool = True,
    generation: Mapping[str, Any] | None = None,
    extra_json: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write ``model`` as a ``from_pretrained`` folder.

    Args:
        model: a transformers ``PreTrainedModel`` (lc-core GQA / Mamba-2 or any other).
        dest: the folder (created).
        byte_tokenizer: also write ``ByT5Tokenizer(extra_ids=0)`` files (the ids of ``ByteTokenizer``).
        generation: keyword arguments of a ``GenerationConfig`` written as ``generation_config.json``.
        extra_json: more JSON files, ``{file name: object}`` (e.g. ``train_recipe.json``).

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest, safe_serialization=True)
    if byte_tokenizer:
        from transformers import ByT5Tokenizer

        ByT5Tokenizer(extra_ids=0).save_pretrained(dest)
    if generation is not None:
        from transformers import GenerationConfig

        GenerationConfig(**generation).save_pretrained(dest)
    for name, obj in (extra_json or {}).items():
        atomic_write_json(dest / name, dict(obj))
    make_readable(dest)
    return dest


def export_run(
    run_dir: PathLike,
    build_model: Callable[[], nn.Module],
    dest: PathLike,
    *,
    byte_tokenizer: bool = True,
    generation: Mapping[str, Any] | None = None,
    checkpoint: PathLike | None = None,
) -> Path:
    """Export the newest checkpoint of a training run (or ``checkpoint``) with :func:`export_model`.

    ``build_model`` makes a fresh model of the run's shape; the weights are loaded strictly. The run's
    ``recipe.json`` (if any) is written as ``train_recipe.json`` with the checkpoint's name first.

    Returns:
        The checkpoint folder that was exported.

    Raises:
        FileNotFoundError: the run has no checkpoint.
    """
    from lc_core.train import latest_checkpoint

    run = Path(run_dir)
    ckpt = Path(checkpoint) if checkpoint is not None else latest_checkpoint(run)
    if ckpt is None:
        raise FileNotFoundError(f"no checkpoint under {run}; run the train verb first")
    model = build_model()
    model.load_state_dict(load_run_weights(ckpt), strict=True)
    recipe_path = run / RECIPE_FILE
    recipe = json.loads(recipe_path.read_text(encoding="utf-8")) if recipe_path.exists() else {}
    export_model(
        model,
        dest,
        byte_tokenizer=byte_tokenizer,
        generation=generation,
        extra_json={"train_recipe.json": {"checkpoint": ckpt.name, **recipe}},
    )
    logger.info("exported %s to %s", ckpt, dest)
    return ckpt


def write_card(dest: PathLike, text: str, name: str = "README.md") -> Path:
    """Write the model card ``dest/README.md`` atomically, world-readable."""
    path = Path(dest) / name
    atomic_write_text(path, text)
    path.chmod(0o644)
    return path


def previous_phases(run_dir: PathLike) -> list[dict[str, Any]]:
    """Training phases already recorded in ``<run>/recipe.json`` (a run resumed with a larger ``--max-steps``)."""
    path = Path(run_dir) / RECIPE_FILE
    if not path.exists():
        return []
    recipe = json.loads(path.read_text(encoding="utf-8"))
    return list(recipe.get("phases", [recipe]))


def record_phase(run_dir: PathLike, phase: Mapping[str, Any]) -> dict[str, Any]:
    """Append ``phase`` to ``<run>/recipe.json``: the file holds the newest phase's fields plus ``phases``."""
    record = {**phase, "phases": [*previous_phases(run_dir), dict(phase)]}
    atomic_write_json(Path(run_dir) / RECIPE_FILE, record)
    return record
