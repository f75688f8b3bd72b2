"""Check the package independence rule: no package imports a sibling; lc-core imports none of them.

Run: uv run python tools/check_imports.py   (exit 1 and a list of offending imports on violation)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_modules() -> dict[str, str]:
    """Map each workspace package directory name to its import name."""
    out = {}
    for pkg in sorted((ROOT / "packages").iterdir()):
        src = pkg / "src"
        if src.is_dir():
            mods = [p.name for p in src.iterdir() if (p / "__init__.py").is_file()]
            if len(mods) == 1:
                out[pkg.name] = mods[0]
    return out


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def violations() -> list[str]:
    modules = package_modules()
    bad = []
    for pkg, mod in modules.items():
        allowed = {mod} if pkg == "lc-core" else {mod, "lc_core"}
        forbidden = set(modules.values()) - allowed
        for sub in ("src", "tests"):
            for f in sorted((ROOT / "packages" / pkg / sub).rglob("*.py")):
                for root in imported_roots(f) & forbidden:
                    bad.append(f"{f.relative_to(ROOT)}: imports {root}")
    return bad


def main() -> int:
    bad = violations()
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
