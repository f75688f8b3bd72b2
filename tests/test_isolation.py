"""Cross-package rules: packages import only lc-core; console scripts start; light installs stay torch-free."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_imports", ROOT / "tools" / "check_imports.py")
check_imports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_imports)

PACKAGES = check_imports.package_modules()


def test_no_sibling_imports():
    assert check_imports.violations() == []


def test_every_package_has_release_files():
    for pkg in PACKAGES:
        d = ROOT / "packages" / pkg
        for name in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE"):
            assert (d / name).is_file(), f"{pkg} lacks {name}"
        assert (d / "src" / PACKAGES[pkg] / "py.typed").is_file(), f"{pkg} lacks py.typed"


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_console_script_help(pkg):
    mod = PACKAGES[pkg]
    res = subprocess.run([sys.executable, "-m", mod, "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "usage:" in res.stdout
