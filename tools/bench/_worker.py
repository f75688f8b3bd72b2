"""Shared helper of the benchmark scripts: run one measurement in a fresh Python process.

Each script re-invokes itself with ``--worker SPEC.json`` so that peak memory is measured per model in a
clean process; the worker prints its result as JSON on its last stdout line.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def run_child(script: str, spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``spec`` to ``spec_path``, run ``script --worker spec_path`` and return its JSON result."""
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, script, "--worker", str(spec_path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {spec_path.name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (``VmHWM``, ``VmRSS``), or None where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset the resident-set high-water mark (``VmHWM``); False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_kb(reset_ok: bool) -> int:
    """Peak RSS in KiB since :func:`reset_peak` (whole-process ``ru_maxrss`` if the reset failed)."""
    if reset_ok:
        value = status_kb("VmHWM")
        if value is not None:
            return value
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def malloc_release_to_os() -> None:
    """Make freed memory leave the RSS, so the high-water mark tracks live tensors.

    glibc raises its mmap threshold dynamically (up to 32 MiB) and keeps freed heap blocks resident; pinning the
    threshold at 64 KiB and trimming the heap makes every tensor-sized block an mmap that is unmapped on free.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        # M_MMAP_THRESHOLD = -3 in <malloc.h>
        libc.mallopt(-3, 64 * 1024)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        logger.warning("glibc malloc controls unavailable; peak memory may under-count reused heap blocks")
