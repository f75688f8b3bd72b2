"""Results as JSON (the record) plus a Markdown table rendered from it, in one layout. Torch-free.

Every console script of the workspace writes its results with :func:`emit`::

    from lc_core.report import emit, markdown_table

    rows = [{"task": "passkey", "acc": 100.0}]
    paths = emit("results", "demo-mamba2", {"scores": rows}, markdown_table(rows), config=cfg, packages=["infbench"])
    # results/demo-mamba2/results_2026-12-04T18-30-00.json (+ .md), with the run manifest inside

Nothing written here carries a secret: fields named like secrets, secret flags in ``argv`` and the values of secret
environment variables are masked (:func:`scrub`).
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
    "emit",
    "Emitted",
    "safe_name",
    "scrub",
    "scrub_argv",
    "timestamp",
]

# Keys whose values must never reach a results file or a log: whole names or ``*_<name>`` suffixes, so
# ``api_key``/``hf_token`` are masked while ``passkey``/``max_new_tokens``/``tokenizer`` are kept.
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:api[_-]?key|secret|secret[_-]key|password|passwd|authorization|token|access[_-]token|auth)$",
    re.IGNORECASE,
)
# environment variables whose values are secrets: any string containing such a value is masked wherever it appears
_SECRET_ENV = re.compile(r"(?:API[_-]?KEY|SECRET|PASSWORD|PASSWD|TOKEN)(?:$|_)", re.IGNORECASE)
MASK = "***"


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


def _env_secrets() -> list[str]:
    # short values (e.g. "1") would mask innocent text; real keys and tokens are long
    return sorted({v for k, v in os.environ.items() if _SECRET_ENV.search(k) and v and len(v) >= 8}, key=len, reverse=True)


def _mask_text(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    return text


def scrub_argv(argv: Sequence[str], secrets: Sequence[str] | None = None) -> list[str]:
    """``argv`` with secret values masked.

    Masks ``--api-key X`` / ``--api-key=X`` (any flag named like a secret), ``KEY=VALUE`` items whose key is
    named like a secret (``--backend-arg api_key=sk-…``, ``-H authorization=…``), and any secret taken from the
    environment that appears verbatim.
    """
    secrets = _env_secrets() if secrets is None else list(secrets)
    out: list[str] = []
    mask_next = False
    for token in argv:
        token = str(token)
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        if token.startswith("-") and len(token) > 1:
            name, eq, _value = token.lstrip("-").partition("=")
            if _SECRET_KEY.search(name.replace("-", "_")):
                if eq:
                    out.append(token.split("=", 1)[0] + "=" + MASK)
                else:
                    out.append(token)
                    mask_next = True
                continue
        else:
            key, eq, _value = token.partition("=")
            if eq and _SECRET_KEY.search(key.strip()):
                out.append(key + "=" + MASK)
                continue
        out.append(_mask_text(token, secrets))
    return out


def scrub(obj: Any, secrets: Sequence[str] | None = None) -> Any:
    """A copy of ``obj`` safe to write: fields named like secrets and environment secret values are masked.

    Dataclasses become dicts; a key is a secret when it is ``api_key``, ``token``, ``password``… or ends in
    ``_<that>`` (``hf_token``), so ``passkey``, ``max_new_tokens`` and ``tokenizer`` are kept. Any string that
    contains the value of a secret environment variable (``OPENAI_API_KEY``…) has it replaced by ``***``, and an
    ``argv`` list is scrubbed with :func:`scrub_argv`.
    """
    secrets = _env_secrets() if secrets is None else list(secrets)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, ""):
                out[k] = MASK
            elif k == "argv" and isinstance(v, list | tuple):
                out[k] = scrub_argv(v, secrets)
            else:
                out[k] = scrub(v, secrets)
        return out
    if isinstance(obj, list | tuple):
        return [scrub(v, secrets) for v in obj]
    if isinstance(obj, str) and secrets:
        return _mask_text(obj, secrets)
    return obj


_scrub = scrub


def run_manifest(config: Any = None, *, packages: Iterable[str] = (), **extra: Any) -> dict[str, Any]:
    """What produced a result: time, argv, host, Python, package versions, git sha, config.

    Fields named like secrets (``api_key``, ``hf_token``, ``password``…) are masked.
    """
    return scrub(
        {
            "created": timestamp(),
            "argv": list(sys.argv),
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
    atomic_write_json(json_path, scrub(dict(record)))
    md_path = None
    if table is not None:
        md_path = prefix.with_name(prefix.name + ".md")
        atomic_write_text(md_path, scrub(table))
    return json_path, md_path


@dataclasses.dataclass(frozen=True)
class Emitted:
    """Where :func:`emit` wrote a run's results."""

    json: Path
    markdown: Path | None
    run_dir: Path


def safe_name(name: str) -> str:
    """A folder name for a model path or id: ``org/name`` -> ``org--name``, a local path -> its last part."""
    text = str(name).rstrip("/")
    if os.sep in text and Path(text).exists():
        text = Path(text).name
    return re.sub(r"[^A-Za-z0-9._-]+", "--", text).strip("-") or "run"


def emit(
    out: str | os.PathLike[str],
    run_name: str,
    record: Mapping[str, Any],
    table: str | None = None,
    *,
    config: Any = None,
    packages: Iterable[str] = (),
    manifest: Mapping[str, Any] | None = None,
    stamp: str | None = None,
) -> Emitted:
    """Write one run's results in the house layout: ``<out>/<run-name>/results_<timestamp>.{json,md}``.

    The JSON is the record: ``{"manifest": …, **record}``, where the manifest (:func:`run_manifest` of ``config``
    with the versions of ``packages``, unless ``manifest`` is given) says what produced it. The Markdown file holds
    ``table`` (rendered from the record by the caller, e.g. with :func:`markdown_table`). Both are written
    atomically and scrubbed of secrets (:func:`scrub`). Every package's console script writes its results here, so
    ``ls <out>/<run-name>/`` lists a run's history, newest last.

    Args:
        out: the results root (``--out``).
        run_name: one folder per model or run (made safe with :func:`safe_name`).
        record: the results (scores, rows, summary…); a ``manifest`` key in it is replaced.
        table: the Markdown text.
        config: the run's configuration (a dataclass or mapping), stored in the manifest.
        packages: distributions whose versions the manifest records (besides lc-core, torch, …).
        manifest: a ready manifest (then ``config``/``packages`` are ignored).
        stamp: the timestamp in the file names (default: now, UTC).

    Returns:
        The paths written.
    """
    run_dir = Path(out) / safe_name(run_name)
    stamp = stamp or timestamp()
    prefix = run_dir / f"results_{stamp}"
    body = dict(record)
    body.pop("manifest", None)
    head = dict(manifest) if manifest is not None else run_manifest(config, packages=packages)
    json_path, md_path = write_results(prefix, {"manifest": head, **body}, table)
    return Emitted(json=json_path, markdown=md_path, run_dir=run_dir)


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
