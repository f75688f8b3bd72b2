# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Heavier checks than the CI command: per-package isolated tests on every Python, lint, wheels, slow tests.

uv run nox -l                                   # list sessions
uv run nox -s tests                             # every package x Python 3.10-3.13, each env holds one package
uv run nox -s "tests-3.11(package='infbench')"  # one cell
uv run nox -k infbench                          # everything about one package
uv run nox -s lint wheels slow
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).resolve().parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# package -> (import name, extras its own tests need)
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "lc-core": ("lc_core", ["torch", "api", "plot"]),
    "infbench": ("infbench", ["hf", "plot"]),
    "gqa-cost": ("gqa_cost", ["torch", "plot"]),
    "cfdbench": ("cfdbench", ["plot", "neuralop"]),
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
