"""Real Chinese running text for subchar, from Debian's Chinese documentation packages (offline, licences recorded).

Training text (permissive terms, used for the shipped tokenizers):
  debian-faq-zh-cn  the Debian FAQ, SPI's permissive notice (copy and modify under an identical notice)
  kicad-doc-zh      the KiCad manuals, dual licensed GPL-3+ or CC-BY-3.0+ (used under CC-BY)
Evaluation-only text (GPL-2+, read at evaluation time, never shipped, nothing trained on it):
  debian-reference-zh-cn, maint-guide-zh-cn

    cd /tmp/debs && apt-get download debian-faq-zh-cn kicad-doc-zh debian-reference-zh-cn maint-guide-zh-cn
    uv run python tools/subchar_corpus.py --out /tmp/zh --deb /tmp/debs/*.deb
    # or from installed packages (images that keep /usr/share/doc): --root /

Writes ``train.txt`` (90 % of the permissive paragraphs), ``heldout.txt`` (the other 10 %, chosen by a hash of the
paragraph, so the split is stable), ``gpl_eval.txt`` (the GPL documents) and ``SOURCES.json`` (package versions,
licences, files, counts). One paragraph per line; code blocks and tables of commands are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

SOURCES = {
    "debian-faq-zh-cn": {
        "glob": "usr/share/doc/debian/FAQ/zh-cn/*.html",
        "license": "SPI permissive notice (verbatim and modified copies under an identical notice)",
        "use": "train",
    },
    "kicad-doc-zh": {
        "glob": "usr/share/doc/kicad/help/zh/*.html",
        "license": "GPL-3+ or CC-BY-3.0+ (used under CC-BY-3.0: attribution to the KiCad Developers)",
        "use": "train",
    },
    "debian-reference-zh-cn": {
        "glob": "usr/share/debian-reference/*.zh-cn.html",
        "license": "GPL-2+",
        "use": "eval",
    },
    "maint-guide-zh-cn": {"glob": "usr/share/doc/maint-guide-zh-cn/html/*.zh-cn.html", "license": "GPL-2+", "use": "eval"},
}
BLOCKS = {"p", "li", "dd", "dt", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "caption", "title"}
SKIP = {"pre", "code", "script", "style", "kbd", "samp", "screen", "tt"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# a line break inside a paragraph: dropped between two CJK characters, otherwise a single space
BREAK_CJK = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.buf: list[str] = []
        self.depth_block = 0
        self.depth_skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.depth_skip += 1
        elif tag in BLOCKS:
            self._flush()
            self.depth_block += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.depth_skip = max(0, self.depth_skip - 1)
        elif tag in BLOCKS:
            self._flush()
            self.depth_block = max(0, self.depth_block - 1)

    def handle_data(self, data: str) -> None:
        if self.depth_block and not self.depth_skip:
            self.buf.append(data)

    def _flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        text = BREAK_CJK.sub("", html.unescape(text))
        text = re.sub(r"\s+", " ", text).strip()
        if len(CJK.findall(text)) >= 10 and len(CJK.findall(text)) >= 0.3 * len(text):
            self.out.append(text)


def paragraphs(path: Path) -> list[str]:
    p = _Paragraphs()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    p.close()
    return p.out


def _version(package: str) -> str | None:
    try:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return res.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--root", action="append", default=[], help="a filesystem root to look in (repeatable)")
    ap.add_argument("--deb", nargs="+", default=[], help="downloaded .deb files (apt-get download) to read from")
    ap.add_argument("--heldout-percent", type=int, default=10, help="share of permissive paragraphs held out")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    roots = [Path(r) for r in args.root]
    versions: dict[str, str] = {}
    tmp = tempfile.TemporaryDirectory()
    for deb in args.deb:
        name, version = Path(deb).name.split("_")[:2]
        target = Path(tmp.name) / name
        subprocess.run(["dpkg-deb", "-x", deb, str(target)], check=True)
        roots.append(target)
        versions[name] = version
    if not roots:
        roots = [Path("/")]
    seen: set[str] = set()
    split: dict[str, list[str]] = {"train": [], "heldout": [], "eval": []}
    record: dict[str, dict[str, object]] = {}
    for package, spec in SOURCES.items():
        files = sorted({f for r in roots for f in r.glob(str(spec["glob"]))})
        if not files:
            print(f"{package}: not found under {', '.join(map(str, roots))} (apt-get install {package})", file=sys.stderr)
            continue
        count = 0
        for f in files:
            for para in paragraphs(f):
                if para in seen:
                    continue
                seen.add(para)
                count += 1
                if spec["use"] == "eval":
                    split["eval"].append(para)
                    continue
                bucket = int(hashlib.sha256(para.encode("utf-8")).hexdigest(), 16) % 100
                split["heldout" if bucket < args.heldout_percent else "train"].append(para)
        record[package] = {
            "version": versions.get(package) or _version(package),
            "license": spec["license"],
            "use": spec["use"],
            "files": [f.name for f in files],
            "paragraphs": count,
        }
        print(f"{package}: {count} paragraphs from {len(files)} files")
    names = {"train": "train.txt", "heldout": "heldout.txt", "eval": "gpl_eval.txt"}
    for key, lines in split.items():
        (args.out / names[key]).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        chars = sum(len(x) for x in lines)
        cjk = sum(len(CJK.findall(x)) for x in lines)
        record.setdefault("_splits", {})[names[key]] = {"lines": len(lines), "chars": chars, "cjk_chars": cjk}  # type: ignore[index]
        print(f"{names[key]}: {len(lines)} lines, {chars} characters ({cjk} CJK)")
    (args.out / "SOURCES.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
