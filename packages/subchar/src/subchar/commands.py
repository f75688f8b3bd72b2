"""The verbs of the ``subchar`` console script: ``add_<verb>_arguments(parser)`` and ``<verb>(args) -> int``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from lc_core.cli import UserError, add_config_arguments, config_from_args
from lc_core.logging import get_logger
from lc_core.report import emit, markdown_table
from subchar.encoder import ENCODINGS, Encoder, EncoderConfig, get_encoder

logger = get_logger(__name__)

SHIPPED_NAMES = ("subchar/pinyin", "subchar/pinyin-noindex", "subchar/wubi", "subchar/wubi-noindex")


def _add_encoder_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("encoding")
    add_config_arguments(
        g,
        EncoderConfig,
        help={"encoding": f"code table: {', '.join(ENCODINGS)} (or a name with --table)"},
    )
    g.add_argument(
        "--legacy", action="store_true", help="the original's text handling: lowercase, no whitespace, folded punctuation"
    )
    g.add_argument("--table", help="a user table file (Zhengma, a Rime *.dict.yaml, char<TAB>code) instead of a shipped one")


def _encoder(args: argparse.Namespace) -> Encoder:
    overrides: dict[str, Any] = {}
    if args.legacy:
        overrides = {"lowercase": True, "keep_whitespace": False, "fold_punctuation": True}
    config = config_from_args(EncoderConfig, args, **overrides)
    if args.table:
        from subchar.tables import load_user_table

        return Encoder(config, load_user_table(args.table))
    return get_encoder(config)


def _texts(args: argparse.Namespace) -> list[str]:
    if args.file:
        return Path(args.file).read_text(encoding="utf-8").splitlines()
    if args.text:
        return list(args.text)
    return sys.stdin.read().splitlines()


def _add_text_arguments(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("text", nargs="*", help=f"{what} (default: lines of standard input)")
    p.add_argument("--file", help=f"read {what} lines from this UTF-8 file")


# ---- encode / decode -------------------------------------------------------------------------------------------


def add_encode_arguments(p: argparse.ArgumentParser) -> None:
    _add_text_arguments(p, "text")
    _add_encoder_arguments(p)


def encode(args: argparse.Namespace) -> int:
    enc = _encoder(args)
    for line in _texts(args):
        print(enc.encode(line))
    return 0


def add_decode_arguments(p: argparse.ArgumentParser) -> None:
    _add_text_arguments(p, "code text")
    _add_encoder_arguments(p)
    p.add_argument("--errors", choices=("strict", "replace", "ignore"), default="strict", help="what to do with a bad code")


def decode(args: argparse.Namespace) -> int:
    enc = _encoder(args)
    for line in _texts(args):
        print(enc.decode(line, errors=args.errors))
    return 0


# ---- tokenize --------------------------------------------------------------------------------------------------


def add_tokenize_arguments(p: argparse.ArgumentParser) -> None:
    _add_text_arguments(p, "text")
    p.add_argument(
        "--tokenizer",
        action="append",
        help="shipped name (subchar/pinyin, subchar/pinyin-noindex, subchar/wubi, subchar/wubi-noindex) or a "
        "saved folder; repeatable (default: every shipped tokenizer)",
    )
    p.add_argument("--ids", action="store_true", help="also print the token ids")


def _roundtrip_label(exact: bool, lossless: bool, unk: int) -> str:
    if exact:
        return "exact"
    if not lossless:
        return "lossy (NoIndex)"
    return "lossy ([UNK]: characters the vocabulary lacks)" if unk else "FAILED"


def tokenize(args: argparse.Namespace) -> int:
    from subchar.tokenizer import load_tokenizer

    names = args.tokenizer or list(SHIPPED_NAMES)
    toks = {n: load_tokenizer(n) for n in names}
    texts = _texts(args) if (args.text or args.file) else ["他是我的朋友，Hello 2023！"]
    ok = True
    for text in texts:
        print(f"text ({len(text)} characters): {text}")
        rows = []
        for name, tok in toks.items():
            ids = tok(text, add_special_tokens=False)["input_ids"]
            back = tok.decode(ids)
            exact = back == text
            unk = ids.count(tok.unk_token_id)
            # a lossless encoding that still fails without [UNK] pieces would be a bug
            ok &= exact or not tok.encoder_config.lossless or unk > 0
            print(f"\n[{name}] codes: {tok.encode_code_text(text)}")
            print(f"[{name}] pieces: {' | '.join(tok.convert_ids_to_tokens(ids))}")
            if args.ids:
                print(f"[{name}] ids: {ids}")
            print(f"[{name}] decoded: {back}")
            rows.append(
                {
                    "tokenizer": name,
                    "tokens": len(ids),
                    "tokens/char": len(ids) / max(1, len(text)),
                    "[UNK]": unk,
                    "round-trip": _roundtrip_label(exact, tok.encoder_config.lossless, unk),
                }
            )
        print("\n" + markdown_table(rows))
    return 0 if ok else 1


# ---- train -----------------------------------------------------------------------------------------------------


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from subchar.corpus import ConvertConfig
    from subchar.train import SpmConfig

    p.add_argument("--corpus", required=True, help="UTF-8 text, one document or sentence per line")
    p.add_argument("--out", required=True, help="tokenizer folder to write (SubCharTokenizer.from_pretrained loads it)")
    p.add_argument("--keep-encoded", action="store_true", help="keep the code-text corpus in OUT/work")
    _add_encoder_arguments(p)
    add_config_arguments(p.add_argument_group("SentencePiece"), SpmConfig)
    add_config_arguments(p.add_argument_group("corpus conversion"), ConvertConfig)


def train(args: argparse.Namespace) -> int:
    from subchar.corpus import ConvertConfig
    from subchar.train import SpmConfig, train_tokenizer

    overrides: dict[str, Any] = {}
    if args.legacy:
        overrides = {"lowercase": True, "keep_whitespace": False, "fold_punctuation": True}
    enc = config_from_args(EncoderConfig, args, **overrides)
    spm_cfg = config_from_args(SpmConfig, args)
    conv = config_from_args(ConvertConfig, args)
    res = train_tokenizer(args.corpus, args.out, enc, spm_cfg, conv, table_file=args.table, keep_encoded=args.keep_encoded)
    row = {
        "tokenizer": str(res.out_dir),
        "variant": enc.variant,
        "vocab": res.vocab_size,
        "lines": res.convert.lines_out,
        "characters": res.convert.chars_in,
        "code symbols": res.convert.chars_out,
        "train s": res.train_seconds,
    }
    print(markdown_table([row]))
    return 0


# ---- stats -----------------------------------------------------------------------------------------------------


def add_stats_arguments(p: argparse.ArgumentParser) -> None:
    from subchar.evaluate import StatsConfig

    p.add_argument("--text", required=True, help="held-apart UTF-8 text, one paragraph per line")
    p.add_argument("--tokenizer", action="append", help="shipped name or folder; repeatable (default: every shipped one)")
    p.add_argument(
        "--baseline-corpus",
        help="train the same-size unigram sub-word baseline on this raw text (the tokenizers' training text)",
    )
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput rows")
    p.add_argument("--plot", help="write a bar chart of the lengths here (PNG/PDF; needs the plot extra)")
    p.add_argument("--out", help="results root: OUT/<run-name>/results_<time>.{json,md}")
    p.add_argument("--run-name", default="stats", help="results folder name")
    add_config_arguments(p.add_argument_group("robustness"), StatsConfig)


def stats(args: argparse.Namespace) -> int:
    from subchar.evaluate import StatsConfig, length_rows, robustness_rows, throughput_rows, train_raw_baseline
    from subchar.tokenizer import load_tokenizer

    cfg = config_from_args(StatsConfig, args)
    lines = [x for x in Path(args.text).read_text(encoding="utf-8").splitlines() if x.strip()]
    if cfg.max_lines:
        lines = lines[: cfg.max_lines]
    if not lines:
        raise UserError(f"{args.text}: no text lines")
    toks = {
        Path(n).name if Path(n).is_dir() else n.removeprefix("subchar/"): load_tokenizer(n)
        for n in args.tokenizer or SHIPPED_NAMES
    }
    raw = None
    if args.baseline_corpus:
        sizes = {t.vocab_size for t in toks.values()}
        if len(sizes) != 1:
            raise UserError(f"the tokenizers have different vocabulary sizes {sorted(sizes)}: one baseline cannot match them")
        with tempfile.TemporaryDirectory() as work:
            raw = train_raw_baseline(args.baseline_corpus, sizes.pop(), work)
    lengths = length_rows(lines, toks, raw)
    robust = robustness_rows(lines, toks, cfg)
    speed = [] if args.no_throughput else throughput_rows(lines, toks)
    table = f"{len(lines)} lines of {args.text}\n\n" + markdown_table(lengths) + "\n" + markdown_table(robust)
    if speed:
        table += "\n" + markdown_table(speed)
    print(table, end="")
    if args.plot:
        from subchar.evaluate import plot_lengths

        logger.info("wrote %s", plot_lengths(lengths, args.plot, title=f"{len(lines)} lines of {Path(args.text).name}"))
    if args.out:
        record = {"text": args.text, "lines": len(lines), "lengths": lengths, "robustness": robust, "throughput": speed}
        paths = emit(args.out, args.run_name, record, table, config=cfg, packages=["subchar"])
        logger.info("wrote %s", paths.json)
    return 0


# ---- noise -----------------------------------------------------------------------------------------------------


def add_noise_arguments(p: argparse.ArgumentParser) -> None:
    _add_text_arguments(p, "text")
    p.add_argument("--ratio", type=float, default=0.1, help="replacement probability per eligible character")
    p.add_argument("--kind", default="pinyin", help="pinyin (same syllable and tone) or wubi (same Wubi code)")
    p.add_argument("--seed", type=int, default=2021, help="RNG seed")


def noise(args: argparse.Namespace) -> int:
    from subchar.noise import make_noise

    for i, line in enumerate(_texts(args)):
        print(make_noise(line, args.ratio, kind=args.kind, seed=args.seed + i).text)
    return 0


# ---- tables ----------------------------------------------------------------------------------------------------


def add_tables_arguments(p: argparse.ArgumentParser) -> None:
    from subchar.tables import SHIPPED_TABLES

    p.add_argument("--tables", nargs="+", default=list(SHIPPED_TABLES), help="which tables")
    p.add_argument("--write", help="write the rebuilt <name>.tsv files into this folder")
    p.add_argument("--unihan", help="Unihan_DictionaryLikeData.txt[.bz2] or Unihan.zip (default: Debian's unicode-data)")
    p.add_argument("--stroke", help="pycorrector's stroke.txt or a pycorrector wheel (default: the installed one)")
    p.add_argument("--strict", action="store_true", help="fail when a source is missing (default: report and skip)")
    p.add_argument("--out", help="results root: OUT/tables/results_<time>.{json,md}")


def tables(args: argparse.Namespace) -> int:
    import hashlib

    from subchar.sources import SourceMissing, SourceSet, build_tables
    from subchar.tables import table_path

    built = build_tables(args.tables, args.write, SourceSet(unihan=args.unihan, stroke=args.stroke))
    rows, bad = [], 0
    for name, t in built.items():
        shipped = table_path(name).read_bytes()
        if isinstance(t, SourceMissing):
            rows.append({"table": name, "characters": None, "identical": None, "note": f"source missing: {t}"})
            bad += args.strict
            continue
        new = t.dumps().encode("utf-8")
        same = new == shipped
        bad += not same
        rows.append(
            {
                "table": name,
                "characters": len(t),
                "identical": same,
                "note": t.meta.get("source", "") if same else f"differs (sha256 {hashlib.sha256(new).hexdigest()[:12]})",
            }
        )
    table = markdown_table(rows)
    print(table, end="")
    if args.out:
        emit(args.out, "tables", {"tables": rows}, table, config=vars(args) | {"_lc_command": None}, packages=["subchar"])
    return 1 if bad else 0
