"""Environment knobs of lc-core, read in one place (see the table in the root README).

Nothing else in the workspace reads ``os.environ`` for ``LC_*`` settings; call the functions here so
that a knob is documented once and parsed the same way everywhere.
"""

from __future__ import annotations

import os

__all__ = [
    "log_level",
    "triton_interpret",
    "force_naive",
    "cache_dir",
    "shared_data",
    "get_secret",
    "world_size",
    "local_rank",
]


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def log_level() -> str:
    """``LC_LOG_LEVEL`` (default ``INFO``): level of the lc loggers configured by ``setup_logging``."""
    return os.environ.get("LC_LOG_LEVEL", "INFO").upper()


def triton_interpret() -> bool:
    """``TRITON_INTERPRET``: Triton kernels run in the CPU interpreter (must be set before kernels import)."""
    return _flag("TRITON_INTERPRET")


def force_naive() -> bool:
    """``LC_FORCE_NAIVE``: dispatchers use the plain-torch references even when a kernel is available."""
    return _flag("LC_FORCE_NAIVE")


def cache_dir() -> str:
    """``LC_CACHE_DIR`` (default ``~/.cache/lc``): where generated data and downloaded-by-user files live."""
    return os.environ.get("LC_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "lc"))


def shared_data() -> str | None:
    """``LC_SHARED_DATA``: the folder of third-party data for tests and benchmarks (default: found from the checkout)."""
    value = os.environ.get("LC_SHARED_DATA")
    return value if value else None


def get_secret(name: str) -> str | None:
    """Read a secret (an API key) from the environment.

    Secrets are never stored on config objects that get serialised; callers keep the value in a
    private attribute and pass it straight to the client.
    """
    value = os.environ.get(name)
    return value if value else None


def world_size() -> int:
    """``WORLD_SIZE`` (set by torchrun; default 1): number of processes in a distributed run."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    """``LOCAL_RANK`` (set by torchrun; default 0): this process's index on its machine (its GPU)."""
    return int(os.environ.get("LOCAL_RANK", "0"))
