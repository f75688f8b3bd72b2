"""Sweep runner: train a grid of GQA models (sizes × head configurations × context lengths) and write the
runs file that ``gqa-cost fit`` reads.

The grid and its bookkeeping are torch-free; training goes through a ``RunTrainer`` callable, by default
:func:`lc_core_trainer` (lc-core's ``GQAForCausalLM`` + ``lc_core.train.train``, torchrun-capable). Every
finished run is appended to ``<out>/runs.jsonl`` through :class:`lc_core.io.ResultsStore`, so a crashed
sweep resumes where it stopped, and a run interrupted mid-training resumes from its own checkpoints.

A sweep config is JSON::

    {"sizes": [[4, 256], [6, 512]], "heads": [[4, 1], [4, 4]], "contexts": [8192],
     "data": "corpus.jsonl", "tokenizer": "path/to/gpt2-tokenizer", "tokens_per_param": 20,
     "train": {"micro_batch_size": 8, "global_batch_size": 64, "lr": 1e-3}}

Run it with ``gqa-cost sweep sweep.json --out runs/`` or ``torchrun --nproc-per-node 8 -m gqa_cost sweep …``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from gqa_cost.config import PAPER_HEAD_DIM, ArchConfig
from gqa_cost.costs import param_count
from lc_core.io import DataError, ResultsStore, config_from_dict, iter_jsonl, read_json_object
from lc_core.logging import get_logger, rank

__all__ = ["SweepConfig", "RunSpec", "RunTrainer", "grid", "run_sweep", "lc_core_trainer", "load_sweep_config"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class SweepConfig:
    """A grid of training runs.

    Attributes:
        sizes: (L, d) shapes; every head configuration is trained at every shape.
        heads: (n_h, n_kv) pairs.
        contexts: training context lengths T.
        data: training text (anything ``lc_core.train.iter_documents`` reads).
        eval_data: held-out text (default: none; the runs file then gets the final training loss).
        tokenizer: ``"bytes"`` or a local HF tokenizer folder.
        text_field: field of JSONL/parquet rows holding the text.
        head_dim: d_h (decoupled from d, 64 in the paper).
        ffn_type: ``"gated"`` (SwiGLU, d_ff = int(8d/3)) or ``"plain"``.
        vocab_size: model vocabulary (default: the tokenizer's size rounded up to a multiple of 64).
        tied: tie input and output embeddings.
        tokens_per_param: training tokens per non-embedding parameter (20 = Chinchilla, the paper's choice);
            ignored when ``max_steps`` is set.
        max_steps: fixed optimizer steps for every run (smoke tests).
        lr_by_size: per-shape learning rate keyed ``"L,d"`` (the paper's Table 9 column); falls back to ``train.lr``.
        train: extra ``lc_core.train.TrainConfig`` fields (batch sizes, lr, schedule, dtype, distributed...).
    """

    sizes: list[tuple[int, int]]
    heads: list[tuple[int, int]]
    contexts: list[int]
    data: str
    eval_data: str | None = None
    tokenizer: str = "bytes"
    text_field: str = "text"
    head_dim: int = PAPER_HEAD_DIM
    ffn_type: str = "gated"
    vocab_size: int | None = None
    tied: bool = True
    tokens_per_param: float = 20.0
    max_steps: int | None = None
    lr_by_size: dict[str, float] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sizes = [tuple(int(v) for v in s) for s in self.sizes]  # type: ignore[misc]
        self.heads = [tuple(int(v) for v in h) for h in self.heads]  # type: ignore[misc]
        self.contexts = [int(t) for t in self.contexts]
        for name in ("sizes", "heads", "contexts"):
            if not getattr(self, name):
                raise ValueError(f"sweep {name} must not be empty")
        for L, d in self.sizes:
            if L <= 0 or d <= 0:
                raise ValueError(f"sweep size (L={L}, d={d}) must be positive")
        for n_h, n_kv in self.heads:
            if n_h <= 0 or n_kv <= 0 or n_h % n_kv:
                raise ValueError(f"sweep head configuration ({n_h}, {n_kv}): n_kv_heads must divide n_heads")
        if any(t <= 0 for t in self.contexts):
            raise ValueError(f"sweep contexts must be positive, got {self.contexts}")
        if self.ffn_type not in ("gated", "plain"):
            raise ValueError(f"ffn_type must be 'gated' or 'plain', got {self.ffn_type!r}")
        if self.tokens_per_param <= 0:
            raise ValueError(f"tokens_per_param must be positive, got {self.tokens_per_param}")


@dataclass(kw_only=True, frozen=True)
class RunSpec:
    """One cell of the grid."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    context: int

    @property
    def run_id(self) -> str:
        return f"L{self.n_layers}-d{self.d_model}-h{self.n_heads}-kv{self.n_kv_heads}-T{self.context}"

    def arch(self, sweep: SweepConfig, vocab_size: int) -> ArchConfig:
        return ArchConfig(
            n_layers=self.n_layers,
            d_model=self.d_model,
            n_heads=self.n_heads,
            n_kv_heads=self.n_kv_heads,
            head_dim=sweep.head_dim,
            d_ff=None if sweep.ffn_type == "gated" else 4 * self.d_model,
            ffn_matrices=3 if sweep.ffn_type == "gated" else 2,
            vocab_size=vocab_size,
            tied=sweep.tied,
            name=self.run_id,
        )


# (run, sweep, run_dir) -> {"loss": float, "tokens": int, ...}; may raise to mark the run failed
RunTrainer = Callable[[RunSpec, SweepConfig, Path], Mapping[str, Any]]


def grid(sweep: SweepConfig) -> list[RunSpec]:
    """Every (size, head configuration, context) cell, smallest models first."""
    return [
        RunSpec(n_layers=L, d_model=d, n_heads=h, n_kv_heads=kv, context=t)
        for L, d in sorted(sweep.sizes, key=lambda s: s[0] * s[1] * s[1])
        for h, kv in sweep.heads
        for t in sweep.contexts
    ]


def load_sweep_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read a sweep JSON file; unknown keys and bad values raise :class:`DataError` naming the file and key."""
    p = Path(path)
    raw = read_json_object(p, what="sweep config")
    for key in ("sizes", "heads", "contexts", "data"):
        if key not in raw:
            raise DataError("missing required field", path=p, field=key)
    cfg = config_from_dict(SweepConfig, raw, path=p, what="sweep field")
    # relative data paths are relative to the config file
    for name in ("data", "eval_data", "tokenizer"):
        value = getattr(cfg, name)
        if isinstance(value, str) and value != "bytes" and not os.path.isabs(value) and (p.parent / value).exists():
            setattr(cfg, name, str(p.parent / value))
    return cfg


def run_sweep(
    sweep: SweepConfig, out_dir: str | os.PathLike[str], *, trainer: RunTrainer | None = None, progress: bool = True
) -> list[dict[str, Any]]:
    """Train every grid cell not already in ``<out_dir>/runs.jsonl`` and append its row.

    Args:
        sweep: the grid.
        out_dir: where ``runs.jsonl`` and one folder per run (``runs/<run_id>/``) go.
        trainer: trains one run (default :func:`lc_core_trainer`).
        progress: tqdm bar over runs.

    Returns:
        All rows of the runs file (old and new), in grid order.
    """
    trainer = trainer or lc_core_trainer
    out = Path(out_dir)
    is_main = rank() == 0
    runs = grid(sweep)
    runs_file = out / "runs.jsonl"
    # rank 0 owns the runs file; the other ranks only read which runs are done so all ranks agree
    store = ResultsStore(runs_file, key="run_id") if is_main else None
    if store is not None:
        done = store.done_ids
    else:
        done = {row.get("run_id") for _, row in iter_jsonl(runs_file, on_error="skip")} if runs_file.exists() else set()
    todo = [r for r in runs if r.run_id not in done]
    logger.info("sweep: %d runs in the grid, %d already done, %d to train", len(runs), len(runs) - len(todo), len(todo))
    try:
        for run in tqdm(todo, desc="sweep", disable=not (progress and is_main)):
            row = dict(trainer(run, sweep, out / "runs" / run.run_id))
            if "loss" not in row or not math.isfinite(float(row["loss"])):
                raise RuntimeError(f"run {run.run_id} returned no finite loss: {row}")
            record = {
                "run_id": run.run_id,
                "n_heads": run.n_heads,
                "n_kv_heads": run.n_kv_heads,
                "n_layers": run.n_layers,
                "d_model": run.d_model,
                "context": run.context,
                **row,
            }
            if store is not None:
                store.add(record)
        rows = {r["run_id"]: r for r in store} if store is not None else {}
    finally:
        if store is not None:
            store.close()
    return [rows[r.run_id] for r in runs if r.run_id in rows]


def _vocab_for(tokenizer: Any) -> int:
    size = len(tokenizer) if hasattr(tokenizer, "__len__") else int(tokenizer.vocab_size)
    # pad to a multiple of 64 as the paper does (50,257 -> 50,304)
    return int(math.ceil(size / 64) * 64)


def lc_core_trainer(run: RunSpec, sweep: SweepConfig, run_dir: Path) -> dict[str, Any]:
    """Train one run with lc-core's GQA model and trainer; returns the runs-file fields.

    Steps: ``max_steps`` if set, else ``ceil(tokens_per_param · N / (global_batch · T))``. The trainer
    resumes from ``run_dir/checkpoints`` when a previous attempt was interrupted.
    """
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM
    from lc_core.train import PackedDataset, TrainConfig, load_tokenizer, train

    tokenizer = load_tokenizer(sweep.tokenizer)
    vocab = sweep.vocab_size or _vocab_for(tokenizer)
    eos = getattr(tokenizer, "eos_token_id", None)
    arch = run.arch(sweep, vocab)
    n_params = param_count(arch).non_embedding
    tcfg_fields: dict[str, Any] = dict(sweep.train)
    global_batch = int(tcfg_fields.get("global_batch_size", 8))
    steps = sweep.max_steps or max(1, math.ceil(sweep.tokens_per_param * n_params / (global_batch * run.context)))
    lr = sweep.lr_by_size.get(f"{run.n_layers},{run.d_model}", tcfg_fields.get("lr", 1e-3))
    tcfg_fields.update(
        seq_len=run.context,
        max_steps=steps,
        lr=lr,
        out_dir=str(run_dir),
        resume=True,
        warmup_steps=int(tcfg_fields.get("warmup_steps", round(0.1 * steps))),
    )
    tcfg_fields.setdefault("progress", False)
    tcfg = TrainConfig.from_dict(tcfg_fields)
    data = PackedDataset.from_source(sweep.data, tokenizer, seq_len=run.context, field=sweep.text_field, eos_id=eos)
    eval_data = (
        PackedDataset.from_source(sweep.eval_data, tokenizer, seq_len=run.context, field=sweep.text_field, eos_id=eos)
        if sweep.eval_data
        else None
    )
    gqa = GQAConfig(
        vocab_size=vocab,
        d_model=run.d_model,
        n_layers=run.n_layers,
        n_heads=run.n_heads,
        n_kv_heads=run.n_kv_heads,
        head_dim=sweep.head_dim,
        d_ff=int(arch.ffn_dim),
        ffn_type=sweep.ffn_type,
        tie_word_embeddings=sweep.tied,
        rope_theta=500000.0,
        max_position_embeddings=max(run.context, 2048),
    )
    result = train(lambda: GQAForCausalLM(gqa), tcfg, data, eval_data=eval_data)
    loss = result.eval_loss if result.eval_loss is not None else result.final_loss
    return {
        "n_params": n_params,
        "loss": float(loss),
        "loss_kind": "eval" if result.eval_loss is not None else "train",
        "tokens": int(result.tokens_seen),
        "steps": int(result.step),
        "lr": float(lr),
    }
