"""Interpret-aware ``triton.autotune``.

``@triton.autotune`` with more than one config times every candidate through the GPU driver; under the
CPU interpreter (``TRITON_INTERPRET=1``) there is no driver and the first launch fails with
``0 active drivers``. The wrapper here keeps one config in that case, so the same kernel source runs on
a GPU (fully autotuned) and in CPU tests (one config).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lc_core import env
from lc_core.logging import get_logger

__all__ = ["autotune", "interpret_configs"]

logger = get_logger(__name__)


def interpret_configs(configs: Sequence[Any], index: int = 0) -> list[Any]:
    """Return the configs to autotune over: all of them, or only ``configs[index]`` when interpreting.

    Args:
        configs: candidate ``triton.Config`` objects (at least one).
        index: which config to keep under ``TRITON_INTERPRET=1``.

    Returns:
        A new list: ``list(configs)`` on a GPU, ``[configs[index]]`` in the interpreter.

    Raises:
        ValueError: if ``configs`` is empty or ``index`` is out of range.
    """
    configs = list(configs)
    if not configs:
        raise ValueError("autotune needs at least one triton.Config")
    if not -len(configs) <= index < len(configs):
        raise ValueError(f"interpret index {index} out of range for {len(configs)} configs")
    if env.triton_interpret():
        return [configs[index]]
    return configs


def autotune(configs: Sequence[Any], key: Sequence[str], *, interpret_index: int = 0, **kwargs: Any) -> Callable[[Any], Any]:
    """Drop-in for ``triton.autotune`` that keeps a single config under the interpreter.

    The decision is made when the decorator runs (module import), which is also when ``@triton.jit``
    decides whether to interpret, so ``TRITON_INTERPRET`` must be set before importing the kernels.

    Args:
        configs: candidate ``triton.Config`` objects.
        key: argument names whose values trigger re-tuning (as in ``triton.autotune``).
        interpret_index: which config to keep when ``TRITON_INTERPRET=1``.
        **kwargs: forwarded to ``triton.autotune`` (``prune_configs_by``, ``reset_to_zero``, ...).

    Returns:
        The ``triton.autotune`` decorator.
    """
    import triton

    kept = interpret_configs(configs, interpret_index)
    if len(kept) < len(configs):
        logger.debug("TRITON_INTERPRET=1: autotune keeps config %d of %d", interpret_index, len(configs))
    return triton.autotune(configs=kept, key=list(key), **kwargs)
