"""Rebuild subchar's shipped code tables from their permissive sources (pypinyin, pywubi, Unihan, pycorrector).

    uv run python tools/subchar_build_tables.py                 # writes packages/subchar/src/subchar/data/tables/
    uv run python tools/subchar_build_tables.py --out /tmp/t    # elsewhere (compare with `subchar tables`)

Needs the ``tables`` extra (pywubi, pycorrector) and Debian's ``unicode-data`` (Unihan kCangjie) or ``--unihan``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from subchar.sources import SourceSet, build_tables
from subchar.tables import SHIPPED_TABLES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "packages" / "subchar" / "src" / "subchar" / "data" / "tables"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the <name>.tsv files")
    p.add_argument("--tables", nargs="+", default=list(SHIPPED_TABLES), help="which tables")
    p.add_argument("--unihan", help="Unihan_DictionaryLikeData.txt[.bz2] or Unihan.zip (default: Debian's)")
    p.add_argument("--stroke", help="pycorrector's stroke.txt or a pycorrector wheel (default: the installed one)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    built = build_tables(args.tables, args.out, SourceSet(unihan=args.unihan, stroke=args.stroke))
    missing = 0
    for name, t in built.items():
        if isinstance(t, Exception):
            print(f"{name}: MISSING SOURCE: {t}")
            missing += 1
        else:
            print(f"{name}: {len(t)} characters -> {args.out / (name + '.tsv')}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
