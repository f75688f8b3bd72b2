"""Results as JSON (the record) plus a Markdown table rendered from it. Torch-free.

Example::

    from lc_core.report import markdown_table, run_manifest, write_results

    table = markdown_table([{"task": "passkey", "acc": 100.0}], columns=["task", "acc"])
    write_results("out/demo", {"manifest": run_manifest(config), "scores": {...}}, table)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_core.io import atomic_write_json, atomic_write_text

__all__ = [
    "machine_header",
    "markdown_table",
    "format_value",
    "run_manifest",
    "package_versions",
    "git_sha",
    "write_results",
    "timestamp",
]

# Keys whose values must never reach a results file or a log: whole names or ``*_<name>`` suffixes, so
# ``api_key``/``hf_token`` are masked while ``passkey``/``max_new_tokens``/``tokenizer`` are kept.
_SECRET_KEY = re.compile(r"(?:^|[_-])(?:api[_-]?key|secret|secret[_-]key|password|passwd|authorization|token)$", re.IGNORECASE)


def timestamp() -> str:
    """UTC time as ``YYYY-MM-DDTHH-MM-SS`` (safe in file names)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")


def format_value(value: Any, precision: int = 2) -> str:
    """Render one cell: floats with ``precision`` decimals, ``None`` as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{precision}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    precision: int = 2,
    align: Mapping[str, str] | None = None,
) -> str:
    """Render ``rows`` as a GitHub Markdown table.

    Args:
        rows: one mapping per row.
        columns: the keys to show, in order (default: keys of the first row, then new keys as seen).
        headers: display names per key.
        precision: decimals for floats.
        align: ``"l"``/``"r"``/``"c"`` per key (numbers default to right-aligned).
    """
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    headers = dict(headers or {})
    align = dict(align or {})
    head = "| " + " | ".join(headers.get(c, c) for c in columns) + " |"
    seps = []
    for c in columns:
        a = align.get(c)
        if a is None:
            numeric = rows and all(isinstance(r.get(c), int | float) or r.get(c) is None for r in rows)
            a = "r" if numeric else "l"
        seps.append({"l": ":---", "r": "---:", "c": ":---:"}[a])
    lines = [head, "| " + " | ".join(seps) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(format_value(r.get(c), precision) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def package_versions(names: Iterable[str] = ()) -> dict[str, str | None]:
    """Installed versions of lc packages and the usual suspects (torch, transformers, …)."""
    wanted = ["lc-core", "torch", "transformers", "triton", "numpy", *names]
    out: dict[str, str | None] = {}
    for n in wanted:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    return out


def git_sha(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The current git commit of ``cwd`` (None outside a checkout)."""
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def _scrub(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, ""):
                out[k] = "***"
            else:
                out[k] = _scrub(v)
        return out
    if isinstance(obj, list | tuple):
        return [_scrub(v) for v in obj]
    return obj


def run_manifest(config: Any = None, *, packages: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """What produced a result: time, argv, host, Python, package versions, git sha, config.

    Fields named like secrets (``api_key``, ``hf_token``, ``password``…) are masked.
    """
    return _scrub(
        {
            "created": timestamp(),
            "argv": sys.argv,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "versions": package_versions(packages),
            "git_sha": git_sha(),
            "config": config,
            **extra,
        }
    )


def write_results(
    out_prefix: str | os.PathLike[str], record: Mapping[str, Any], table: str | None = None
) -> tuple[Path, Path | None]:
    """Write ``<prefix>.json`` (the record) and ``<prefix>.md`` (the table) atomically."""
    prefix = Path(out_prefix)
    json_path = prefix.with_name(prefix.name + ".json")
    atomic_write_json(json_path, _scrub(dict(record)))
    md_path = None
    if table is not None:
        md_path = prefix.with_name(prefix.name + ".md")
        atomic_write_text(md_path, table)
    return json_path, md_path


def machine_header() -> dict[str, Any]:
    """What a benchmark ran on: CPU model, logical CPUs, 1-minute load, Python, torch/transformers and threads."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    header: dict[str, Any] = {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
    }
    versions = package_versions()
    header["torch"] = versions.get("torch")
    header["transformers"] = versions.get("transformers")
    try:
        import torch

        header["torch_threads"] = torch.get_num_threads()
        header["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return header
