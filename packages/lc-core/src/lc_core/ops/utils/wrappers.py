"""Decorators for ``torch.autograd.Function`` methods that launch kernels (fla conventions)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["contiguous", "input_guard", "autocast_custom_fwd", "autocast_custom_bwd"]

F = TypeVar("F", bound=Callable[..., Any])


def _make_contiguous(value: Any) -> Any:
    if hasattr(value, "is_contiguous") and hasattr(value, "contiguous"):
        return value if value.is_contiguous() else value.contiguous()
    return value


def contiguous(fn: F) -> F:
    """Make every tensor argument (positional or keyword) contiguous before calling ``fn``.

    Kernels compute addresses from shapes, so a strided view would be read wrongly; copying only the
    tensors that need it keeps the common case free.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_make_contiguous(a) for a in args)
        kwargs = {k: _make_contiguous(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def input_guard(fn: F) -> F:
    """``contiguous`` plus running under the device of the first CUDA tensor argument."""
    from lc_core.ops.utils.device import device_context

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_make_contiguous(a) for a in args)
        kwargs = {k: _make_contiguous(v) for k, v in kwargs.items()}
        first = next((a for a in (*args, *kwargs.values()) if hasattr(a, "is_cuda") and a.is_cuda), None)
        if first is None:
            return fn(*args, **kwargs)
        with device_context(first):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def autocast_custom_fwd(fn: F | None = None, *, device_type: str = "cuda", cast_inputs: Any = None) -> Any:
    """``torch.amp.custom_fwd`` bound to ``device_type`` (usable bare or with arguments)."""
    import torch

    decorator = functools.partial(torch.amp.custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    if fn is None:
        return lambda f: decorator(f)
    return decorator(fn)


def autocast_custom_bwd(fn: F | None = None, *, device_type: str = "cuda") -> Any:
    """``torch.amp.custom_bwd`` bound to ``device_type`` (usable bare or with arguments)."""
    import torch

    decorator = functools.partial(torch.amp.custom_bwd, device_type=device_type)
    if fn is None:
        return lambda f: decorator(f)
    return decorator(fn)
