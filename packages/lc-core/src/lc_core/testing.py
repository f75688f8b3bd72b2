"""Test utilities that live in the library so every package's tests can import them.

``assert_close`` follows fla: a relative-RMS check that fails loudly on NaN/Inf. torch is imported
lazily so the module imports without it.
"""

from __future__ import annotations

import os
import random
from typing import Any

__all__ = ["seed_everything", "get_err_ratio", "assert_close", "has_cuda", "requires_torch"]


def seed_everything(seed: int = 42) -> None:
    """Seed ``random``, numpy and (if installed) torch."""
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def has_cuda() -> bool:
    """True when torch sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def requires_torch() -> Any:
    """Import torch or raise a clear ImportError pointing at the extra."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover
        raise ImportError("this feature needs torch: pip install 'lc-core[torch]'") from e
    return torch


def get_err_ratio(ref: Any, out: Any) -> float:
    """RMS of ``ref - out`` divided by the RMS of ``ref`` (both tensors)."""
    ref = ref.detach().double()
    out = out.detach().double()
    err = (ref - out).flatten().square().mean().sqrt().item()
    base = ref.flatten().square().mean().sqrt().item()
    return err / (base + 1e-12)


def assert_close(prefix: str, ref: Any, out: Any, ratio: float, atol: float = 0.0) -> None:
    """Assert ``out`` matches ``ref`` to a relative RMS error ``ratio`` (or max abs error ``atol``).

    Fails on any NaN/Inf in ``out`` first, so unwritten or exploded outputs never pass.
    """
    torch = requires_torch()
    if ref.shape != out.shape:
        raise AssertionError(f"{prefix}: shape {tuple(out.shape)} != reference {tuple(ref.shape)}")
    if not torch.isfinite(out).all():
        raise AssertionError(f"{prefix}: output has NaN/Inf")
    if not torch.isfinite(ref).all():
        raise AssertionError(f"{prefix}: reference has NaN/Inf")
    abs_err = (ref.detach().double() - out.detach().double()).abs().max().item() if ref.numel() else 0.0
    if atol and abs_err <= atol:
        return
    err = get_err_ratio(ref, out)
    if err > ratio:
        raise AssertionError(f"{prefix}: relative RMS error {err:.3e} > {ratio:.1e} (max abs {abs_err:.3e})")
