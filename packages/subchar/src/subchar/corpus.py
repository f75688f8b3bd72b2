"""Streaming corpus conversion: text file -> code-text file, one line per line, with worker processes.

The corpus is never held in memory: lines are read in chunks, encoded by ``workers`` processes (``imap``, order kept)
and appended to ``<out>.partial``. After every chunk a small ``<out>.progress.json`` records how far the input and
the output got, so a killed run resumes where it stopped with nothing lost or duplicated; the finished file is
renamed to ``<out>`` at the end. Conversion calls :meth:`subchar.encoder.Encoder.encode`, the same function the
tokenizer uses at inference time.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lc_core.io import DataError, atomic_write_json
from lc_core.logging import get_logger
from subchar.encoder import Encoder, EncoderConfig, get_encoder

__all__ = ["ConvertConfig", "ConvertStats", "convert_corpus", "split_long"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class ConvertConfig:
    """How a corpus is converted.

    Args:
        workers: encoding processes (1 = in this process).
        chunk_lines: lines per work item.
        min_chars: drop lines with fewer non-whitespace characters (the original dropped lines of <= 3 characters,
            i.e. min_chars=4).
        max_line_chars: split longer lines into pieces of at most this many characters, so SentencePiece's
            trainer does not skip them.
        progress: show a progress bar.
    """

    workers: int = 1
    chunk_lines: int = 2000
    min_chars: int = 1
    max_line_chars: int = 2000
    progress: bool = True


@dataclass
class ConvertStats:
    """What a conversion did: input lines read, lines written, characters in and code symbols out, seconds."""

    lines_in: int = 0
    lines_out: int = 0
    chars_in: int = 0
    chars_out: int = 0
    seconds: float = 0.0
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def split_long(line: str, max_chars: int) -> list[str]:
    """``line`` cut into pieces of at most ``max_chars`` characters."""
    if max_chars <= 0 or len(line) <= max_chars:
        return [line]
    return [line[i : i + max_chars] for i in range(0, len(line), max_chars)]


_WORKER: dict[str, Any] = {}


def _init_worker(config: dict[str, Any], table_file: str | None) -> None:
    _WORKER["encoder"] = _make_encoder(config, table_file)


def _make_encoder(config: dict[str, Any], table_file: str | None) -> Encoder:
    cfg = EncoderConfig(**config)
    if table_file is None:
        return get_encoder(cfg)
    from subchar.tables import load_user_table

    return Encoder(cfg, load_user_table(table_file))


def _encode_chunk(args: tuple[list[str], int, int]) -> tuple[list[str], int, int]:
    lines, min_chars, max_chars = args
    return _encode_lines(_WORKER["encoder"], lines, min_chars, max_chars)


def _encode_lines(enc: Encoder, lines: list[str], min_chars: int, max_chars: int) -> tuple[list[str], int, int]:
    out: list[str] = []
    chars_in = 0
    for line in lines:
        # whitespace-free length, computed in C (split/join) rather than per character
        if min_chars > 0 and len("".join(line.split())) < min_chars:
            continue
        for part in split_long(line, max_chars):
            code = enc.encode(part)
            if code:
                chars_in += len(part)
                out.append(code)
    return out, chars_in, sum(len(x) for x in out)


def _read_chunks(path: Path, start: int, chunk_lines: int, first_line: int) -> Iterator[tuple[list[str], int, int]]:
    """(lines, byte offset after the chunk, number of the chunk's first line) from byte ``start`` on."""
    with open(path, "rb") as f:
        f.seek(start)
        lineno = first_line
        while True:
            lines: list[str] = []
            first = lineno
            for _ in range(chunk_lines):
                raw = f.readline()
                if not raw:
                    break
                lineno += 1
                try:
                    lines.append(raw.decode("utf-8").rstrip("\r\n"))
                except UnicodeDecodeError as e:
                    raise DataError(f"not UTF-8 ({e.reason} at byte {e.start})", path=path, line=lineno) from None
            if not lines:
                return
            yield lines, f.tell(), first


def _signature(input_path: Path, config: EncoderConfig, cfg: ConvertConfig, table_file: str | None) -> str:
    st = input_path.stat()
    key = {
        "input": str(input_path.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "encoder": config.to_dict(),
        "table_file": table_file,
        "min_chars": cfg.min_chars,
        "max_line_chars": cfg.max_line_chars,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def convert_corpus(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    encoder: EncoderConfig | None = None,
    config: ConvertConfig | None = None,
    *,
    table_file: str | os.PathLike[str] | None = None,
) -> ConvertStats:
    """Encode every line of ``input_path`` into ``output_path`` (resumable, multiprocess, streaming).

    Args:
        input_path: UTF-8 text, one document or sentence per line.
        output_path: the code-text file to write.
        encoder: the encoding (default pinyin, lossless).
        config: workers, chunking, filtering.
        table_file: a user table file (Zhengma, Rime…) instead of a shipped table.

    Returns:
        Counts and time. An existing complete ``output_path`` is left alone (delete it to redo).

    Raises:
        DataError: a line that is not UTF-8 (file and line named).
    """
    encoder = encoder or EncoderConfig()
    cfg = config or ConvertConfig()
    src, out = Path(input_path), Path(output_path)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such corpus file")
    partial = out.with_name(out.name + ".partial")
    progress_path = out.with_name(out.name + ".progress.json")
    tfile = None if table_file is None else str(table_file)
    sig = _signature(src, encoder, cfg, tfile)
    stats = ConvertStats()
    start = 0
    if out.exists() and not partial.exists():
        logger.info("%s exists; not converting again", out)
        return stats
    if partial.exists() and progress_path.exists():
        state = json.loads(progress_path.read_text(encoding="utf-8"))
        if state.get("signature") == sig:
            start = int(state["input_offset"])
            stats = ConvertStats(**{k: state[k] for k in ("lines_in", "lines_out", "chars_in", "chars_out")}, resumed=True)
            with open(partial, "r+b") as f:
                f.truncate(int(state["output_size"]))
            logger.info("resuming %s at input byte %d (%d lines done)", out, start, stats.lines_in)
        else:
            logger.warning("%s: progress file is from another input or config; starting over", progress_path)
            partial.unlink()
    elif partial.exists():
        partial.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    chunks = _read_chunks(src, start, cfg.chunk_lines, stats.lines_in)
    total = src.stat().st_size
    bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=f"encode {src.name}", disable=not cfg.progress)
    pool = None
    try:
        if cfg.workers > 1:
            pool = get_context("spawn").Pool(cfg.workers, initializer=_init_worker, initargs=(encoder.to_dict(), tfile))
            offsets: list[tuple[int, int]] = []

            def feed() -> Iterator[tuple[list[str], int, int]]:
                for lines, end, _first in chunks:
                    offsets.append((end, len(lines)))
                    yield lines, cfg.min_chars, cfg.max_line_chars

            results: Iterator[tuple[list[str], int, int]] = pool.imap(_encode_chunk, feed())
        else:
            enc = _make_encoder(encoder.to_dict(), tfile)
            offsets = []

            def run_local() -> Iterator[tuple[list[str], int, int]]:
                for lines, end, _first in chunks:
                    offsets.append((end, len(lines)))
                    yield _encode_lines(enc, lines, cfg.min_chars, cfg.max_line_chars)

            results = run_local()
        with open(partial, "ab") as f:
            for i, (encoded, chars_in, chars_out) in enumerate(results):
                end, n_lines = offsets[i]
                if encoded:
                    f.write(("\n".join(encoded) + "\n").encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
                stats.lines_in += n_lines
                stats.lines_out += len(encoded)
                stats.chars_in += chars_in
                stats.chars_out += chars_out
                atomic_write_json(
                    progress_path,
                    {"signature": sig, "input_offset": end, "output_size": f.tell(), **stats.to_dict()},
                )
                bar.update(end - bar.n)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    os.replace(partial, out)
    progress_path.unlink(missing_ok=True)
    stats.seconds = time.perf_counter() - t0
    logger.info("wrote %s: %d of %d lines in %.1f s", out, stats.lines_out, stats.lines_in, stats.seconds)
    return stats
