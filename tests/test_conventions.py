"""Every console script of the workspace follows the house CLI convention (lc_core.cli).

New packages are checked automatically: each ``packages/<name>/src/<module>/cli.py`` must expose ``app``, an
:class:`lc_core.cli.App`, whose flags are kebab-case, whose ``--help`` imports no heavy library, and whose
``missing_input_example`` (an argv that reads a path) fails with one line naming the path and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_imports", ROOT / "tools" / "check_imports.py")
check_imports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_imports)

PACKAGES = check_imports.package_modules()
# what `--help` must not pull in: each costs from 0.2 s (scipy) to several seconds (torch, transformers)
HEAVY = ["torch", "scipy", "transformers", "matplotlib", "pandas", "sklearn", "datasets", "vllm", "openai", "jieba"]
HEAVY += ["sentence_transformers", "sentencepiece", "triton", "numba", "faiss"]


def _app(module: str):
    from lc_core.cli import App

    cli = importlib.import_module(f"{module}.cli")
    app = getattr(cli, "app", None)
    assert isinstance(app, App), f"{module}.cli must expose `app`, an lc_core.cli.App"
    return app


def _options(parser: argparse.ArgumentParser, where: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, f"{where} {name}".strip())
        else:
            for opt in action.option_strings:
                yield where, opt


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_flags_are_kebab_case(pkg):
    parser = _app(PACKAGES[pkg]).build_parser()
    snake = sorted({f"{verb}: {opt}" for verb, opt in _options(parser) if opt.startswith("--") and "_" in opt})
    assert not snake, f"{pkg} has snake_case flags in --help: {snake}"


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_help_imports_nothing_heavy(pkg):
    module = PACKAGES[pkg]
    code = (
        "import sys, json, contextlib, io\n"
        f"from {module}.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    app.main(['--help'])\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == [], f"`{pkg} --help` imports heavy modules"


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_missing_input_is_one_line_and_rc2(pkg, tmp_path):
    module = PACKAGES[pkg]
    app = _app(module)
    assert app.missing_input_example, f"{module}.cli.app sets no missing_input_example"
    missing = str(tmp_path / "does-not-exist" / "input.json")
    argv = [a.replace("{missing}", missing) for a in app.missing_input_example]
    res = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 2, (argv, res.returncode, res.stderr[-2000:])
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "does-not-exist" in errors[0], res.stderr[-2000:]
