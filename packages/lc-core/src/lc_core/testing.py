"""Test utilities that live in the library so every package's tests can import them.

``assert_close`` follows fla: a relative-RMS check that fails loudly on NaN/Inf. torch is imported
lazily so the module imports without it. :func:`shared_data_dir` finds the third-party data that tests and
benchmarks read by path (never copied into the repository)::

    from lc_core.testing import shared_data_dir

    preds = shared_data_dir("infbench-official-preds")   # None when absent: skip loudly, never pass silently
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "seed_everything",
    "get_err_ratio",
    "assert_close",
    "has_cuda",
    "requires_torch",
    "shared_data_dir",
    "shared_data_candidates",
    "poison_empty_allocations",
]


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


def _repo_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _main_checkout(root: Path) -> Path | None:
    """The main checkout of a linked git worktree (whose ``.git`` is a ``gitdir: …`` file), else None."""
    dot_git = root / ".git"
    if not dot_git.is_file():
        return None
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = (root / text.removeprefix("gitdir:").strip()).resolve()
    try:
        common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except (OSError, UnicodeDecodeError):
        return None
    return common.parent if common.name == ".git" else None


def shared_data_candidates(start: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where :func:`shared_data_dir` looks, in order (for messages that say where data was expected).

    ``LC_SHARED_DATA`` alone when set; else ``<root>/../shared/data`` for the repository root above ``start``
    (default: the current directory), and for a linked git worktree also the main checkout's
    ``<main>/../shared/data``.
    """
    from lc_core import env

    override = env.shared_data()
    if override:
        return [Path(override)]
    root = _repo_root(Path(start if start is not None else Path.cwd()).resolve())
    if root is None:
        return []
    out = [root.parent / "shared" / "data"]
    main = _main_checkout(root)
    if main is not None and main != root:
        out.append(main.parent / "shared" / "data")
    return out


def shared_data_dir(*parts: str, start: str | os.PathLike[str] | None = None) -> Path | None:
    """The shared third-party data folder, or ``parts`` below it, for tests and benchmarks; None when absent.

    Looked up with ``LC_SHARED_DATA`` if set, else as ``../shared/data`` next to the repository root found
    above ``start`` (see :func:`shared_data_candidates`). Callers skip with a clear reason (and say so loudly)
    when this is None, so a missing data set is never mistaken for a pass.
    """
    for base in shared_data_candidates(start):
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return None


def _poisoned(factory: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = factory(*args, **kwargs)
        if out.is_floating_point():
            out.fill_(float("nan"))
        return out

    return wrapper


def poison_empty_allocations(monkeypatch: Any) -> None:
    """Fill every float ``torch.empty``/``torch.empty_like`` allocation with NaN (fla's habit) for one test.

    A kernel that forgets to write part of its output then leaves NaN behind, which ``assert_close`` rejects,
    instead of stale memory that happens to look plausible. ``monkeypatch`` is pytest's fixture (undone after the test).
    """
    import torch

    monkeypatch.setattr(torch, "empty", _poisoned(torch.empty))
    monkeypatch.setattr(torch, "empty_like", _poisoned(torch.empty_like))
