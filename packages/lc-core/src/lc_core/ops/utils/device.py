"""Device and availability helpers for Triton kernels."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from typing import Any

from lc_core import env

__all__ = ["is_triton_available", "triton_runs_on", "get_device", "device_context", "next_power_of_2"]


@functools.cache
def is_triton_available() -> bool:
    """True when ``triton`` can be imported (it is Linux-only and not a base dependency)."""
    try:
        if importlib.util.find_spec("triton") is None:
            return False
        import triton  # noqa: F401
    except Exception:  # a broken or blocked install must not break the torch fallbacks
        return False
    return True


def triton_runs_on(tensor: Any) -> bool:
    """True when a Triton kernel can take ``tensor``: a CUDA tensor, or any tensor under the interpreter.

    Args:
        tensor: a ``torch.Tensor``.
    """
    if not is_triton_available():
        return False
    if env.triton_interpret():
        return True
    return bool(tensor.is_cuda)


def get_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device_context(tensor: Any) -> contextlib.AbstractContextManager[Any]:
    """``torch.cuda.device(tensor.device)`` for CUDA tensors, a no-op otherwise.

    Kernel launchers must run on the tensor's own GPU; on CPU (interpreter) ``torch.cuda.device`` raises,
    which is why upstream launchers fail there.
    """
    import torch

    if tensor.is_cuda:
        return torch.cuda.device(tensor.device)
    return contextlib.nullcontext()


def next_power_of_2(n: int) -> int:
    """Smallest power of two ``>= n`` (``tl.arange`` needs power-of-two extents)."""
    if n < 1:
        raise ValueError(f"next_power_of_2 needs n >= 1, got {n}")
    return 1 << (n - 1).bit_length()
