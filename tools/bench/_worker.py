"""Shared helper of the benchmark scripts: run one measurement in a fresh Python process.

Each script re-invokes itself with ``--worker SPEC.json`` so that peak memory is measured per model in a
clean process; the worker prints its result as JSON on its last stdout line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_child(script: str, spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``spec`` to ``spec_path``, run ``script --worker spec_path`` and return its JSON result."""
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, script, "--worker", str(spec_path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {spec_path.name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
