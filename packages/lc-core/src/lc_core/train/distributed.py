"""Process-group setup and model wrapping for ``torchrun`` launches (DDP or FSDP2).

``init_distributed`` starts a process group only when ``WORLD_SIZE > 1`` (gloo on CPU, nccl on
CUDA), so the same code runs as a single process or under ``torchrun --nproc-per-node N``.
FSDP uses the FSDP2 API (``torch.distributed.fsdp.fully_shard``), which also runs on CPU with gloo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from lc_core import env
from lc_core.logging import get_logger

__all__ = ["DistInfo", "init_distributed", "shutdown_distributed", "wrap_model", "unwrap_model", "all_reduce_mean", "barrier"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class DistInfo:
    """Where this process sits in the run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device
    # True when ``init_distributed`` created the process group (and so must destroy it)
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | None = None) -> DistInfo:
    """Join the torchrun process group if there is one, and pick this rank's device.

    Args:
        device: force ``"cpu"`` or ``"cuda"``; default: CUDA when available.

    Returns:
        The rank, world size, local rank and device of this process.
    """
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    world = env.world_size()
    local_rank = env.local_rank()
    dev = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    owns = False
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(backend=backend)
        owns = True
        logger.info("joined a %d-process %s group as rank %d", world, backend, dist.get_rank())
    if dist.is_initialized():
        return DistInfo(
            rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank, device=dev, owns_group=owns
        )
    return DistInfo(device=dev)


def shutdown_distributed(info: DistInfo) -> None:
    """Destroy the process group if :func:`init_distributed` created it."""
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """``dist.barrier()`` when a process group exists; a no-op otherwise."""
    if dist.is_initialized():
        dist.barrier()


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """Mean of ``value`` over ranks (returned as a new tensor; the input is unchanged)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return value.clone()
    out = value.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / dist.get_world_size()


def _default_shard_units(model: nn.Module) -> list[nn.Module]:
    # the blocks of a transformer/SSM live in its longest ModuleList (``model.layers``, ``backbone.layers``)
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList)]
    if not lists:
        return []
    return list(max(lists, key=len))


def wrap_model(
    model: nn.Module,
    mode: str,
    info: DistInfo,
    *,
    shard_units: Callable[[nn.Module], list[nn.Module]] | None = None,
) -> nn.Module:
    """Wrap ``model`` for data-parallel training.

    Args:
        model: the model, already on ``info.device``.
        mode: ``"none"``, ``"ddp"`` or ``"fsdp"``. With one process every mode returns ``model`` as is.
        info: from :func:`init_distributed`.
        shard_units: FSDP only: the submodules to shard one by one (default: every block of the model's
            longest ``nn.ModuleList``); the root is sharded last.

    Returns:
        The wrapped module (DDP) or ``model`` itself, sharded in place (FSDP2).
    """
    if mode == "none" or not info.distributed:
        if mode != "none" and not info.distributed:
            logger.info("distributed=%s with one process: training unwrapped", mode)
        return model
    if mode == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[info.local_rank] if info.device.type == "cuda" else None)
    if mode == "fsdp":
        from torch.distributed.fsdp import fully_shard

        units = (shard_units or _default_shard_units)(model)
        for unit in units:
            fully_shard(unit)
        fully_shard(model)
        return model
    raise ValueError(f"distributed must be 'none', 'ddp' or 'fsdp', got {mode!r}")


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (FSDP2 shards in place, so it is returned unchanged)."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model
