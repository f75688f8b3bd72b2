"""The training loop: ``train(model_fn, cfg, data)`` for one process or a torchrun launch.

Each optimizer step accumulates ``cfg.grad_accum_steps(world_size)`` micro-batches per rank (loss
scaled by ``1 / accum``, DDP/FSDP gradient sync only on the last), clips the global gradient norm,
sets the scheduled learning rate and steps AdamW. Every ``log_every`` steps a line
``step | loss | lr | grad-norm | tok/s | elapsed`` is logged and a row appended to
``<out_dir>/metrics.jsonl``; evaluation and checkpoints follow their own cadences. With
``cfg.resume`` a run restarts from its newest checkpoint and reproduces the uninterrupted loss curve
exactly (bitwise on CPU): weights, optimizer moments, RNG states and the data position are restored,
and metric rows written after that checkpoint are dropped so none is duplicated.

Example::

    from transformers import LlamaConfig, LlamaForCausalLM
    from lc_core.train import ByteTokenizer, PackedDataset, TrainConfig, train

    data = PackedDataset.from_source("corpus.jsonl", ByteTokenizer(), seq_len=128)
    cfg = TrainConfig(seq_len=128, micro_batch_size=8, global_batch_size=16, max_steps=200, out_dir="runs/demo")
    result = train(lambda: LlamaForCausalLM(LlamaConfig(vocab_size=384, hidden_size=64, ...)), cfg, data)
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from lc_core.io import ResultsStore, atomic_write_json, atomic_write_text
from lc_core.logging import get_logger, warn_once
from lc_core.report import markdown_table, run_manifest, write_results
from lc_core.testing import seed_everything
from lc_core.train.callbacks import Callback, StopTraining, TrainState
from lc_core.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from lc_core.train.config import TrainConfig
from lc_core.train.data import PackedDataset, PackedLoader, eval_batches
from lc_core.train.distributed import DistInfo, all_reduce_mean, init_distributed, shutdown_distributed, wrap_model
from lc_core.train.optim import build_optimizer
from lc_core.train.schedule import lr_at

__all__ = ["train", "evaluate", "causal_lm_loss", "TrainResult", "LossFn"]

logger = get_logger(__name__)

# loss_fn(model, input_ids [B, T], targets [B, T]) -> scalar mean loss over the batch's tokens
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(kw_only=True)
class TrainResult:
    """Summary of a finished run (the same on every rank)."""

    out_dir: Path
    step: int
    tokens_seen: int
    final_loss: float
    eval_loss: float | None
    elapsed_s: float
    resumed_from: int | None
    checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)


def causal_lm_loss(model: nn.Module, input_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of an HF-style causal LM.

    The model is called as ``model(input_ids=input_ids)``; its output's ``.logits`` (or the output
    itself when it is a tensor) of shape ``[B, T, V]`` is scored in fp32 against ``targets`` ``[B, T]``
    (already shifted: ``targets[:, t]`` follows ``input_ids[:, t]``). Models that only return ``.loss``
    need a custom ``loss_fn``.
    """
    out = model(input_ids=input_ids)
    logits = out if isinstance(out, torch.Tensor) else getattr(out, "logits", None)
    if logits is None:
        raise TypeError(f"{type(model).__name__} returned {type(out).__name__} without .logits; pass a loss_fn to train()")
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _autocast(cfg: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda" and cfg.dtype in {"auto", "bf16"}:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if cfg.dtype == "bf16":
        warn_once(logger, "dtype=bf16 needs CUDA; training in fp32 on CPU")
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches: Sequence[torch.Tensor],
    *,
    cfg: TrainConfig | None = None,
    device: torch.device | str = "cpu",
    loss_fn: LossFn = causal_lm_loss,
    progress: bool = False,
) -> dict[str, float]:
    """Mean loss per token over held-out micro-batches, averaged over ranks.

    Args:
        model: the model (its train/eval mode is restored afterwards).
        batches: this rank's windows, each ``[B, seq_len + 1]`` (see :func:`~lc_core.train.data.eval_batches`).
        cfg: for the autocast choice (fp32 when None).
        device: where to run.
        loss_fn: as in :func:`train`.
        progress: show a tqdm bar.

    Returns:
        ``{"eval_loss", "eval_ppl", "eval_tokens"}`` (tokens over all ranks).
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=device)
    ctx = _autocast(cfg, device) if cfg is not None else contextlib.nullcontext()
    for batch in tqdm(batches, desc="eval", unit="batch", disable=not progress, leave=False):
        batch = batch.to(device)
        with ctx:
            loss = loss_fn(model, batch[:, :-1], batch[:, 1:])
        n = batch[:, 1:].numel()
        total[0] += loss.double() * n
        total[1] += n
    model.train(was_training)
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    total = all_reduce_mean(total) * world
    mean = (total[0] / total[1]).item()
    return {"eval_loss": mean, "eval_ppl": math.exp(min(mean, 50.0)), "eval_tokens": int(total[1].item())}


def _metrics_store(out_dir: Path, resumed_step: int) -> ResultsStore:
    path = out_dir / "metrics.jsonl"
    if path.exists():
        # rows past the checkpoint we resume from were produced by the crashed run; they are redone below
        kept = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and int(row.get("step", 0)) <= resumed_step:
                kept.append(raw + "\n")
        atomic_write_text(path, "".join(kept))
    return ResultsStore(path, key=lambda r: f"{r['kind']}:{r['step']}")


def _micro_steps(model: nn.Module, n: int) -> Iterator[tuple[int, contextlib.AbstractContextManager[Any]]]:
    # gradients are synchronised across ranks only on the last micro-batch of a step
    for i in range(n):
        last = i == n - 1
        if hasattr(model, "no_sync") and not last:
            yield i, model.no_sync()
        else:
            if hasattr(model, "set_requires_gradient_sync"):
                model.set_requires_gradient_sync(last)
            yield i, contextlib.nullcontext()


def train(
    model_fn: Callable[[], nn.Module] | nn.Module,
    cfg: TrainConfig,
    data: PackedDataset,
    *,
    eval_data: PackedDataset | None = None,
    callbacks: Sequence[Callback] = (),
    loss_fn: LossFn = causal_lm_loss,
    shard_units: Callable[[nn.Module], list[nn.Module]] | None = None,
    device: str | None = None,
) -> TrainResult:
    """Train a causal LM on a packed token stream.

    Under torchrun (``WORLD_SIZE > 1``) this joins the process group (gloo on CPU, nccl on CUDA), wraps
    the model per ``cfg.distributed`` and shards the batches; the loss curve matches a single process
    with the same ``global_batch_size``.

    Args:
        model_fn: builds the model (called after seeding with ``cfg.seed``, so every rank and every
            resume builds the same initial weights), or a ready model.
        cfg: the run's settings.
        data: training windows (``seq_len`` must equal ``cfg.seq_len``).
        eval_data: held-out windows scored every ``cfg.eval_every`` steps and at the end.
        callbacks: hooks, see :class:`~lc_core.train.callbacks.Callback`.
        loss_fn: ``(model, input_ids [B, T], targets [B, T]) -> loss``; default :func:`causal_lm_loss`.
        shard_units: FSDP only, which submodules to shard (default: the model's blocks).
        device: ``"cpu"`` or ``"cuda"`` (default: CUDA when available).

    Returns:
        A :class:`TrainResult`; files in ``cfg.out_dir``: ``metrics.jsonl``, ``checkpoints/``,
        ``config.json``, ``results.json`` and ``results.md``.
    """
    if data.seq_len != cfg.seq_len:
        raise ValueError(f"data windows have seq_len {data.seq_len} but cfg.seq_len is {cfg.seq_len}")
    info = init_distributed(device)
    try:
        return _train(model_fn, cfg, data, eval_data, list(callbacks), loss_fn, shard_units, info)
    finally:
        shutdown_distributed(info)


@dataclass(kw_only=True)
class _Run:
    """Everything one training run carries between its phases (built by :func:`_setup`)."""

    cfg: TrainConfig
    info: DistInfo
    out_dir: Path
    accum: int
    model: nn.Module
    forward_model: nn.Module
    optimizer: torch.optim.Optimizer
    loader: PackedLoader
    held_out: list[torch.Tensor] | None
    state: TrainState
    callbacks: list[Callback]
    loss_fn: LossFn
    n_params: int
    store: ResultsStore | None = None
    resumed_from: int | None = None
    last_ckpt: Path | None = None
    eval_loss: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def record(self, row: dict[str, Any]) -> None:
        self.history.append(row)
        if self.store is not None:
            self.store.add(row)


def _setup(
    model_fn: Callable[[], nn.Module] | nn.Module,
    cfg: TrainConfig,
    data: PackedDataset,
    eval_data: PackedDataset | None,
    callbacks: list[Callback],
    loss_fn: LossFn,
    shard_units: Callable[[nn.Module], list[nn.Module]] | None,
    info: DistInfo,
) -> _Run:
    """Seed, build and wrap the model, the optimizer and the loaders; resume from the newest checkpoint."""
    out_dir = Path(cfg.out_dir)
    seed_everything(cfg.seed)
    model = model_fn() if not isinstance(model_fn, nn.Module) else model_fn
    model = model.to(info.device)
    model.train()
    model = wrap_model(model, cfg.distributed, info, shard_units=shard_units)
    optimizer = build_optimizer(model, cfg)
    loader = PackedLoader(
        data,
        micro_batch_size=cfg.micro_batch_size,
        global_batch_size=cfg.global_batch_size,
        seed=cfg.seed,
        rank=info.rank,
        world_size=info.world_size,
    )
    held_out = (
        eval_batches(
            eval_data,
            micro_batch_size=cfg.micro_batch_size,
            rank=info.rank,
            world_size=info.world_size,
            max_batches=cfg.eval_batches,
        )
        if eval_data is not None
        else None
    )
    run = _Run(
        cfg=cfg,
        info=info,
        out_dir=out_dir,
        accum=cfg.grad_accum_steps(info.world_size),
        model=model,
        # the compiled wrapper only runs forward passes; state dicts and checkpoints use the plain module names
        forward_model=torch.compile(model) if cfg.compile else model,
        optimizer=optimizer,
        loader=loader,
        held_out=held_out,
        state=TrainState(config=cfg, model=model, optimizer=optimizer, rank=info.rank, world_size=info.world_size),
        callbacks=callbacks,
        loss_fn=loss_fn,
        n_params=sum(p.numel() for p in model.parameters()),
    )
    ckpt = latest_checkpoint(out_dir) if cfg.resume else None
    if ckpt is not None:
        saved = load_checkpoint(ckpt, model=model, optimizer=optimizer, info=info)
        loader.load_state_dict(saved["data"])
        run.state.step = int(saved["step"])
        run.state.tokens_seen = int(saved["tokens_seen"])
        run.state.elapsed_s = float(saved["elapsed_s"])
        run.state.loss = float(saved.get("loss", float("nan")))
        run.resumed_from = run.state.step
        run.last_ckpt = ckpt
    elif info.is_main and (out_dir / "metrics.jsonl").exists():
        logger.warning("%s: no checkpoint to resume from; starting over and replacing metrics.jsonl", out_dir)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out_dir / "config.json", cfg.to_dict())
        run.store = _metrics_store(out_dir, run.state.step)
    logger.info(
        "training %s (%d params) for %d steps: %d ranks x %d accum x %d seq x %d tokens",
        type(model).__name__,
        run.n_params,
        cfg.max_steps,
        info.world_size,
        run.accum,
        cfg.micro_batch_size,
        cfg.seq_len,
    )
    return run


def _step(run: _Run, params: list[nn.Parameter]) -> tuple[float, float, float]:
    """One optimizer step (``accum`` micro-batches, clip, AdamW); updates ``run.state``.

    Returns:
        ``(loss, lr, seconds)`` of the step.
    """
    cfg, info, state, optimizer, loader = run.cfg, run.info, run.state, run.optimizer, run.loader
    t0 = time.perf_counter()
    lr = lr_at(cfg, state.step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    micro = loader.batch(loader.position)
    loss_sum = torch.zeros((), dtype=torch.float32, device=info.device)
    for i, sync_ctx in _micro_steps(run.model, run.accum):
        batch = micro[i].to(info.device, non_blocking=True)
        with sync_ctx:
            with _autocast(cfg, info.device):
                loss = run.loss_fn(run.forward_model, batch[:, :-1], batch[:, 1:])
            (loss / run.accum).backward()
        loss_sum += loss.detach().float()
    max_norm = cfg.grad_clip if cfg.grad_clip > 0 else float("inf")
    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    if hasattr(grad_norm, "full_tensor"):
        grad_norm = grad_norm.full_tensor()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    loader.position += 1
    step_loss = all_reduce_mean(loss_sum / run.accum).item()
    dt = time.perf_counter() - t0
    state.step += 1
    state.tokens_seen += cfg.tokens_per_step
    state.elapsed_s += dt
    state.loss = step_loss
    state.lr = lr
    state.grad_norm = float(grad_norm.item())
    state.metrics = {}
    if not math.isfinite(step_loss):
        raise FloatingPointError(f"loss is {step_loss} at step {state.step}; lower lr or check the data")
    return step_loss, lr, dt


def _log_step(run: _Run, step_loss: float, lr: float, dt: float) -> None:
    """The ``step | loss | lr | ...`` line and its ``metrics.jsonl`` row."""
    cfg, state = run.cfg, run.state
    tok_s = cfg.tokens_per_step / dt if dt > 0 else float("nan")
    logger.info(
        "step %d/%d | loss %.4f | lr %.3e | grad_norm %.3f | tok/s %.0f | elapsed %.1fs",
        state.step,
        cfg.max_steps,
        step_loss,
        lr,
        state.grad_norm,
        tok_s,
        state.elapsed_s,
    )
    run.record(
        {
            "kind": "train",
            "step": state.step,
            "loss": step_loss,
            "lr": lr,
            "grad_norm": state.grad_norm,
            "tokens": state.tokens_seen,
            "tok_per_s": tok_s,
            "elapsed_s": state.elapsed_s,
            "epoch": run.loader.epoch_of(state.step),
            **state.metrics,
        }
    )


def _evaluate(run: _Run) -> None:
    """Score the held-out batches (if any), record the row and tell the callbacks."""
    if run.held_out is None:
        return
    cfg, info = run.cfg, run.info
    progress = cfg.progress and info.is_main
    metrics = evaluate(run.forward_model, run.held_out, cfg=cfg, device=info.device, loss_fn=run.loss_fn, progress=progress)
    run.eval_loss = metrics["eval_loss"]
    logger.info("step %d | eval_loss %.4f | eval_ppl %.2f", run.state.step, metrics["eval_loss"], metrics["eval_ppl"])
    run.record({"kind": "eval", "step": run.state.step, **metrics})
    for cb in run.callbacks:
        cb.on_eval(run.state, metrics)


def _checkpoint(run: _Run) -> None:
    """Save weights, optimizer, RNG and data position (atomic; keeps ``cfg.keep_last``) and tell the callbacks."""
    state = run.state
    trainer_state = {
        "tokens_seen": state.tokens_seen,
        "elapsed_s": state.elapsed_s,
        "loss": state.loss,
        "data": run.loader.state_dict(),
        "config": run.cfg.to_dict(),
    }
    run.last_ckpt = save_checkpoint(
        run.out_dir,
        step=state.step,
        model=run.model,
        optimizer=run.optimizer,
        trainer_state=trainer_state,
        info=run.info,
        keep_last=run.cfg.keep_last,
    )
    for cb in run.callbacks:
        cb.on_save(state, run.last_ckpt)


def _finish(run: _Run) -> TrainResult:
    """The :class:`TrainResult`, and ``results.{json,md}`` on the main rank."""
    cfg, state = run.cfg, run.state
    result = TrainResult(
        out_dir=run.out_dir,
        step=state.step,
        tokens_seen=state.tokens_seen,
        final_loss=state.loss,
        eval_loss=run.eval_loss,
        elapsed_s=state.elapsed_s,
        resumed_from=run.resumed_from,
        checkpoint=run.last_ckpt,
        history=run.history,
    )
    if run.info.is_main:
        summary = {
            "steps": state.step,
            "tokens": state.tokens_seen,
            "final_loss": state.loss,
            "eval_loss": run.eval_loss,
            "elapsed_s": state.elapsed_s,
            "params": run.n_params,
            "world_size": run.info.world_size,
            "distributed": cfg.distributed,
        }
        record_json = {"manifest": run_manifest(cfg.to_dict()), "summary": summary, "resumed_from": run.resumed_from}
        write_results(run.out_dir / "results", record_json, markdown_table([summary], precision=4))
    return result


def _train(
    model_fn: Callable[[], nn.Module] | nn.Module,
    cfg: TrainConfig,
    data: PackedDataset,
    eval_data: PackedDataset | None,
    callbacks: list[Callback],
    loss_fn: LossFn,
    shard_units: Callable[[nn.Module], list[nn.Module]] | None,
    info: DistInfo,
) -> TrainResult:
    run = _setup(model_fn, cfg, data, eval_data, callbacks, loss_fn, shard_units, info)
    state = run.state
    try:
        for cb in callbacks:
            cb.on_train_begin(state)
        bar = tqdm(
            total=cfg.max_steps, initial=state.step, desc="train", unit="step", disable=not (cfg.progress and info.is_main)
        )
        stop = False
        params = [p for p in run.model.parameters() if p.requires_grad]
        while state.step < cfg.max_steps and not stop:
            step_loss, lr, dt = _step(run, params)
            try:
                for cb in callbacks:
                    cb.on_step_end(state)
            except StopTraining:
                logger.info("a callback stopped training at step %d", state.step)
                stop = True
            last = state.step == cfg.max_steps or stop
            if (cfg.log_every > 0 and state.step % cfg.log_every == 0) or last:
                _log_step(run, step_loss, lr, dt)
            if (cfg.eval_every > 0 and state.step % cfg.eval_every == 0) or (last and run.held_out is not None):
                _evaluate(run)
            if (cfg.save_every > 0 and state.step % cfg.save_every == 0) or last:
                _checkpoint(run)
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}")
        bar.close()
        for cb in callbacks:
            cb.on_train_end(state)
    finally:
        # a crash mid-run still leaves every row written so far flushed and the file closed
        if run.store is not None:
            run.store.close()
    return _finish(run)
