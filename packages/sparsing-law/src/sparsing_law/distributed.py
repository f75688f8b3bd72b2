"""Calibration split over processes (``torchrun``): every statistic the threshold search needs is all-reduced.

Each rank runs the dense pass on its share of the calibration batches; :func:`dist_reducer` sums token statistics and
takes global minima/maxima, so the per-layer thresholds and the PPL ratio equal those of one process on all the
data. Works with ``gloo`` (CPU) and ``nccl`` (tensors are moved to the current CUDA device for the collective)::

    torchrun --nproc-per-node 8 -m sparsing_law measure ...     # or in Python:
    from sparsing_law.distributed import dist_reducer, shard_batches
    res = cett_for_ppl(model, shard_batches(batches), 0.01, reducer=dist_reducer())
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from sparsing_law.metrics import LOCAL, Reducer

__all__ = ["dist_reducer", "shard_batches"]

T = TypeVar("T")


def _collective(op: Any) -> Any:
    def run(x: Any) -> torch.Tensor:
        t = torch.as_tensor(x).clone()
        dtype = t.dtype
        if dist.get_backend() == "nccl":
            t = t.to(torch.device("cuda", torch.cuda.current_device()))
        t = t.double() if t.is_floating_point() else t
        dist.all_reduce(t, op=op)
        return t.to(dtype).cpu()

    return run


def dist_reducer() -> Reducer:
    """The ``torch.distributed`` reducer when a process group is initialised, else the local one."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return LOCAL
    return Reducer(sum=_collective(dist.ReduceOp.SUM), min=_collective(dist.ReduceOp.MIN), max=_collective(dist.ReduceOp.MAX))


def shard_batches(batches: Sequence[T], rank: int | None = None, world: int | None = None) -> list[T]:
    """This rank's share of the batches (every ``world``-th from ``rank``)."""
    if rank is None or world is None:
        initialised = dist.is_available() and dist.is_initialized()
        rank = dist.get_rank() if initialised else 0
        world = dist.get_world_size() if initialised else 1
    return list(batches[rank::world])
