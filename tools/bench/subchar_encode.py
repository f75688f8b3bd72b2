"""Benchmark: subchar's encoder, tokenizer and corpus conversion vs the original approach and plain SentencePiece.

1. Transliteration, characters/s: ``Encoder.encode`` (one ``str.translate``) vs a faithful re-implementation of the
   original's per-character ``convert_line`` loop (lowercase, strip, fold 24 full-width characters, table lookup +
   separator, shift ``[0-9a-z]`` by 50000) with the same table. In the original's text handling (``legacy``) both
   must write identical code text, which the script checks before timing.
2. Tokenization, characters/s: ``SubCharTokenizer(texts)`` (the transformers wrapper) vs the same encoder + plain
   ``SentencePieceProcessor.encode`` on the batch (the floor: nothing but the two C calls).
3. Corpus conversion, characters/s: ``convert_corpus`` with 1 and 2 worker processes, for the translate encoder
   and for context-aware pinyin (pypinyin's phrase lookup, a Python path where the workers pay off).

Run (the text: real Chinese from ``tools/subchar_corpus.py``; without it, a synthetic Zipfian corpus)::

    uv run python tools/bench/subchar_encode.py --text /tmp/zh/gpl_eval.txt
    uv run python tools/bench/subchar_encode.py --quick
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lc_core.report import emit, machine_header, markdown_table
from subchar.corpus import ConvertConfig, convert_corpus
from subchar.encoder import EncoderConfig, get_encoder
from subchar.symbols import FULLWIDTH_FOLD, SEP, SHIFT
from subchar.tables import load_table
from subchar.tokenizer import load_tokenizer

ASCII_SHIFTED = "0123456789abcdefghijklmnopqrstuvwxyz"


def original_convert_line(line: str, table: dict[str, str], no_index: bool = False) -> str:
    """The original's per-character loop, written from the spec (§2.1): one Python step per character."""
    out = []
    for ch in line.lower():
        ch = ch.strip()
        if not ch:
            continue
        ch = FULLWIDTH_FOLD.get(ch, ch)
        if ch in table:
            code = table[ch].strip()
            if no_index:
                code = "".join(c for c in code if not c.isdigit())
            out.append(code + SEP)
        elif ch in ASCII_SHIFTED:
            out.append(chr(ord(ch) + SHIFT))
        else:
            out.append(ch)
    return "".join(out)


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def load_lines(path: str | None, quick: bool) -> tuple[list[str], str]:
    if path and Path(path).is_file():
        lines = [x for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
        return (lines[:500] if quick else lines), path
    from subchar.synthetic import zipf_corpus

    n = 50_000 if quick else 300_000
    return zipf_corpus(n, seed=0), f"synthetic Zipf corpus ({n} characters)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", help="UTF-8 text, one paragraph per line (default: synthetic)")
    ap.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats (best is kept)")
    ap.add_argument("--convert-copies", type=int, default=20, help="the text is repeated this often for the conversion")
    ap.add_argument("--out", help="also write results via lc_core.report.emit under this folder")
    args = ap.parse_args(argv)
    lines, source = load_lines(args.text, args.quick)
    n_chars = sum(len(x) for x in lines)
    header = machine_header()
    print(f"text: {source}: {len(lines)} lines, {n_chars} characters")
    print("machine: " + ", ".join(f"{k}={v}" for k, v in header.items()))

    rows: list[dict[str, Any]] = []
    for encoding in ("pinyin", "wubi"):
        table = {ch: codes[0] for ch, codes in load_table(encoding).codes.items()}
        for no_index in (False, True):
            legacy = get_encoder(EncoderConfig.legacy(encoding, index=not no_index))
            ours_out = [legacy.encode(x) for x in lines]
            orig_out = [original_convert_line(x, table, no_index) for x in lines]
            if ours_out != orig_out:
                bad = next(i for i, (a, b) in enumerate(zip(ours_out, orig_out)) if a != b)
                raise SystemExit(f"legacy output differs from the original loop on line {bad}: {lines[bad][:80]!r}")
            t_orig = best_of(lambda t=table, n=no_index: [original_convert_line(x, t, n) for x in lines], args.repeat)
            t_legacy = best_of(lambda e=legacy: [e.encode(x) for x in lines], args.repeat)
            lossless = get_encoder(EncoderConfig(encoding=encoding, index=not no_index))
            t_ours = best_of(lambda e=lossless: [e.encode(x) for x in lines], args.repeat)
            rows.append(
                {
                    "encoding": encoding + ("-noindex" if no_index else ""),
                    "original loop Mchar/s": n_chars / t_orig / 1e6,
                    "ours legacy Mchar/s": n_chars / t_legacy / 1e6,
                    "ours lossless Mchar/s": n_chars / t_ours / 1e6,
                    "ratio (legacy / original)": t_orig / t_legacy,
                    "ratio (lossless / original)": t_orig / t_ours,
                }
            )
    table1 = markdown_table(rows)

    tok_rows = []
    for name in ("subchar/pinyin", "subchar/wubi"):
        tok = load_tokenizer(name)
        enc, sp = tok.encoder, tok.sp_model
        plain = best_of(lambda e=enc, s=sp: s.encode(e.encode_batch(lines)), args.repeat)
        wrapped = best_of(lambda t=tok: t(lines, add_special_tokens=False)["input_ids"], args.repeat)
        same = tok(lines[:50], add_special_tokens=False)["input_ids"] == sp.encode(enc.encode_batch(lines[:50]))
        tok_rows.append(
            {
                "tokenizer": name,
                "plain SentencePiece Mchar/s": n_chars / plain / 1e6,
                "SubCharTokenizer Mchar/s": n_chars / wrapped / 1e6,
                "ratio (wrapper / plain)": plain / wrapped,
                "same ids": same,
            }
        )
    table2 = markdown_table(tok_rows)

    conv_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus.txt"
        copies = 2 if args.quick else args.convert_copies
        src.write_text(("\n".join(lines) + "\n") * copies, encoding="utf-8")
        total = n_chars * copies
        configs = {
            "pinyin": EncoderConfig(encoding="pinyin"),
            "pinyin-context": EncoderConfig(encoding="pinyin", heteronyms=True),
        }
        for label, config in configs.items():
            outs: dict[int, bytes] = {}
            first = None
            for workers in (1, 2):
                out = Path(tmp) / f"{label}-{workers}.txt"
                t0 = time.perf_counter()
                convert_corpus(src, out, config, ConvertConfig(workers=workers, progress=False))
                dt = time.perf_counter() - t0
                outs[workers] = out.read_bytes()
                first = first or dt
                conv_rows.append(
                    {
                        "encoder": label,
                        "workers": workers,
                        "characters": total,
                        "seconds": dt,
                        "Mchar/s": total / dt / 1e6,
                        "speed-up": first / dt,
                        "identical output": outs[workers] == outs[1],
                    }
                )
    table3 = markdown_table(conv_rows)

    text = (
        f"text: {source}: {len(lines)} lines, {n_chars} characters; load {header.get('load_avg_1m')}\n\n"
        "transliteration (best of repeats)\n\n" + table1 + "\ntokenization\n\n" + table2 + "\ncorpus conversion\n\n" + table3
    )
    print(text)
    speedups = [r["ratio (legacy / original)"] for r in rows]
    print(f"median encoder speed-up vs the original loop: {statistics.median(speedups):.1f}x (goal >= 5x)")
    print(f"wrapper / plain SentencePiece: {min(r['ratio (wrapper / plain)'] for r in tok_rows):.2f} (goal >= 0.5)")
    if args.out:
        record = {"machine": header, "text": source, "encode": rows, "tokenize": tok_rows, "convert": conv_rows}
        emit(args.out, "subchar-encode-bench", record, text, packages=["subchar"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
