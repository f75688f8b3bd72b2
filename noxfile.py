# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Heavier checks than the CI command: per-package isolated tests on every Python, lint, wheels, slow tests.

uv run nox -l                                   # list sessions
uv run nox -s tests                             # every package x Python 3.10-3.13, each env holds one package
uv run nox -s "tests-3.11(package='infbench')"  # one cell
uv run nox -k infbench                          # everything about one package
uv run nox -s lint wheels slow
uv run nox -s lm-eval                           # lm-evaluation-harness against `lc-core serve` (installs lm-eval)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
# a cell whose Python is missing is a failure, not a skip: a skipped cell would read as a pass
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def _real_python(exe: str) -> str | None:
    """``exe`` if it runs and is not inside a virtualenv (pyenv shims of unselected versions exit 127)."""
    code = "import sys; sys.exit(sys.prefix != sys.base_prefix)"
    try:
        res = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if res.returncode == 0 else None


def find_interpreter(version: str) -> str | None:
    """An installed CPython ``version`` without touching the network: PATH, pyenv, uv-managed, /usr.

    pyenv puts shims on PATH that fail for every version but the selected one, and uv would try to download the
    others; so look in each place directly and keep the first interpreter that actually runs.
    """
    candidates: list[str] = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and "shims" not in d:
            candidates.append(os.path.join(d, f"python{version}"))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            ["uv", "python", "find", "--no-python-downloads", "--managed-python", version],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        if found:
            candidates.append(found)
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for exe in candidates:
        if os.path.isfile(exe) and _real_python(exe):
            return exe
    return None


def _expose_interpreters() -> None:
    # nox and uv find "python3.X" on PATH: put each real interpreter's folder first, never download one
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    dirs = []
    for v in PYTHONS:
        exe = find_interpreter(v)
        if exe and os.path.dirname(exe) not in dirs:
            dirs.append(os.path.dirname(exe))
    os.environ["PATH"] = os.pathsep.join([*dirs, os.environ.get("PATH", "")])


_expose_interpreters()

# package -> (import name, extras its own tests need)
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "lc-core": ("lc_core", ["torch", "api", "plot"]),
    "infbench": ("infbench", ["hf", "plot"]),
    "gqa-cost": ("gqa_cost", ["torch", "plot"]),
    "sparsing-law": ("sparsing_law", ["torch", "plot"]),
    "cfdbench": ("cfdbench", ["plot", "neuralop"]),
    "subchar": ("subchar", ["train", "tables", "plot"]),
    "eren": ("eren", ["hf", "api", "dense", "ann"]),
    "stuffed-mamba": ("stuffed_mamba", ["plot"]),
    "readin": ("readin", ["hf", "train", "datasets", "plot"]),
}


def _sync(session: nox.Session, package: str, extras: list[str]) -> None:
    """Install one package (plus lc-core) from the lock into the session venv: siblings stay out."""
    args = [
        "uv",
        "sync",
        "--frozen",
        "--no-default-groups",
        "--group=test",
        f"--package={package}",
        f"--python={session.python}",
    ]
    args += [f"--extra={e}" for e in extras]
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location})


@nox.session(python=PYTHONS)
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """A package's unit tests in an environment holding only it and its dependencies."""
    module, extras = PACKAGES[package]
    _sync(session, package, extras)
    others = [m for p, (m, _) in PACKAGES.items() if p not in (package, "lc-core")]
    # the isolation proof: a sibling must not be importable here
    session.run("python", "-c", f"import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in {others!r}))")
    session.run("pytest", f"packages/{package}/tests", *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("package", list(PACKAGES))
def slow(session: nox.Session, package: str) -> None:
    """The slow-marked tests of one package (long solvers, 1M-token streams, distributed runs)."""
    _sync(session, package, PACKAGES[package][1])
    session.run("pytest", f"packages/{package}/tests", "-m", "slow", *session.posargs, success_codes=[0, 5])


@nox.session(name="lm-eval", python="3.11")
def lm_eval(session: nox.Session) -> None:
    """lm-evaluation-harness as a real client of `lc-core serve`; its scores must equal a direct hf run (~2 min).

    Installs lm-eval[api] in this session's venv only (not in the lock, not in the default sessions).
    """
    _sync(session, "lc-core", ["torch"])
    session.install("lm-eval[api]>=0.4.9,<0.5")
    env = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    session.run("python", "packages/lc-core/tests/lm_eval/check.py", env=env)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check + format check, and the package independence rule."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tools/check_imports.py")


@nox.session(python="3.11", venv_backend="none")
@nox.parametrize("package", list(PACKAGES))
def wheels(session: nox.Session, package: str) -> None:
    """Proof of `pip install <pkg>` alone: build wheels without workspace sources, install with plain pip."""
    module, _ = PACKAGES[package]
    dist = ROOT / "dist" / package
    shutil.rmtree(dist, ignore_errors=True)
    session.run("uv", "build", "--package", package, "--no-sources", "--wheel", "-o", str(dist), external=True)
    if package != "lc-core":
        session.run("uv", "build", "--package", "lc-core", "--no-sources", "--wheel", "-o", str(dist), external=True)
    venv = ROOT / ".nox" / f"wheel-{package}"
    shutil.rmtree(venv, ignore_errors=True)
    session.run(sys.executable, "-m", "venv", str(venv), external=True)
    py = str(venv / "bin" / "python")
    wheel = next(dist.glob(f"{module}-*.whl"))
    session.run(py, "-m", "pip", "install", "--quiet", "--find-links", str(dist), str(wheel), external=True)
    session.run(str(venv / "bin" / package), "--help", external=True, silent=True)
    session.run(py, "-c", f"import {module}; print({module}.__name__, {module}.__version__)", external=True)
    if package == "infbench":
        # the light install generates and scores without torch
        work = venv / "work"
        exe = str(venv / "bin" / "infbench")
        session.run(exe, "generate", "--tasks", "passkey", "--lengths", "1k", "--out", str(work / "data"), external=True)
        preds = work / "results" / "demo" / "preds_passkey.jsonl"
        preds.parent.mkdir(parents=True, exist_ok=True)
        preds.write_text(
            '{"id": 0, "prediction": "71432", "ground_truth": "71432"}\n{"id": 1, "prediction": "1", "ground_truth": "2"}\n'
        )
        session.run(exe, "score", str(preds.parent), external=True)
        # and must not drag torch in
        session.run(
            py, "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is not None)", external=True
        )
    if os.environ.get("KEEP_WHEEL_VENVS") != "1":
        shutil.rmtree(venv, ignore_errors=True)
