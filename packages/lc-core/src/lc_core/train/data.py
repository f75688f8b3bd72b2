"""Packed token streams for LM training: documents -> tokens + EOS -> ``seq_len + 1`` windows.

Documents come from a text file (one document per file), a JSONL file (a configurable field per row),
a saved or in-memory HF ``datasets`` Dataset, a local parquet/CSV file read through ``datasets``, or
any iterable of strings. They are tokenized, each followed by the EOS id, concatenated, and cut into
non-overlapping windows of ``seq_len + 1`` tokens (inputs ``w[:-1]``, targets ``w[1:]``); the
remainder is dropped, as in gqa-cost's data preparation.

:class:`PackedLoader` maps an optimizer step to its batch with no hidden state: the window order is a
seeded permutation per epoch, and step ``s`` reads global samples ``[s * G, (s + 1) * G)``. Its
``position`` (the next step) is all a checkpoint needs to continue with exactly the next batch, on any
number of ranks.

Example::

    ds = PackedDataset.from_source("corpus.jsonl", ByteTokenizer(), seq_len=256, field="text")
    loader = PackedLoader(ds, micro_batch_size=8, global_batch_size=32, seed=0)
    micro_batches = loader.batch(0)  # list of [8, 257] int64 tensors for this rank
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from lc_core.io import DataError, get_field, iter_jsonl
from lc_core.logging import get_logger
from lc_core.tokenizers import ByteTokenizer

__all__ = [
    "ByteTokenizer",
    "load_tokenizer",
    "iter_documents",
    "pack_documents",
    "PackedDataset",
    "PackedLoader",
    "eval_batches",
]

logger = get_logger(__name__)

PathLike = str | os.PathLike[str]


def load_tokenizer(name_or_path: str) -> Any:
    """``"bytes"`` -> :class:`ByteTokenizer`; otherwise a local HF tokenizer folder (never downloads)."""
    if name_or_path == "bytes":
        return ByteTokenizer()
    from transformers import AutoTokenizer

    if not Path(name_or_path).exists():
        raise FileNotFoundError(f"tokenizer {name_or_path!r}: no such local folder (only local tokenizers or 'bytes')")
    return AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)


def _batch_encoder(tokenizer: Any, eos_id: int | None) -> tuple[Callable[[list[str]], list[list[int]]], int]:
    if eos_id is None:
        eos_id = getattr(tokenizer, "eos_token_id", None)
    if eos_id is None:
        raise ValueError("the tokenizer has no eos_token_id; pass eos_id explicitly")
    # an HF tokenizer implies transformers is already imported; never import it (slow) just to check
    hf = sys.modules.get("transformers")
    if hf is not None and isinstance(tokenizer, hf.PreTrainedTokenizerBase):
        # a fast HF tokenizer encodes a list in one call (parallel in Rust); BOS/EOS are added by us
        return lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"], int(eos_id)
    encode = tokenizer.encode if hasattr(tokenizer, "encode") else tokenizer
    if not callable(encode):
        raise TypeError(f"tokenizer must be callable or have .encode, got {type(tokenizer).__name__}")
    return lambda texts: [list(encode(t)) for t in texts], int(eos_id)


def iter_documents(source: Any, *, field: str = "text") -> Iterator[str]:
    """Yield document strings from ``source``.

    Args:
        source: a ``.txt``/``.md`` file (the whole file is one document), a ``.jsonl`` file (``field`` of
            each row), a ``.parquet``/``.csv``/``.json`` file or a ``datasets.save_to_disk`` folder (column
            ``field``, read with ``datasets``, local only), a ``datasets.Dataset``, or an iterable of str.
        field: the text field or column.

    Raises:
        DataError: a row whose field is missing or not a string, naming file, line and field.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            import datasets

            yield from _iter_dataset(datasets.load_from_disk(str(path)), field, str(path))
            return
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file or folder")
        suffix = path.suffix.lower()
        if suffix in {".txt", ".md", ".text"}:
            yield path.read_text(encoding="utf-8")
        elif suffix == ".jsonl":
            for lineno, row in iter_jsonl(path):
                yield get_field(row, field, str, path=path, line=lineno)
        elif suffix in {".parquet", ".csv", ".json"}:
            import datasets

            builder = {".parquet": "parquet", ".csv": "csv", ".json": "json"}[suffix]
            ds = datasets.load_dataset(builder, data_files=str(path), split="train")
            yield from _iter_dataset(ds, field, str(path))
        else:
            raise DataError(
                f"unsupported file type {suffix!r} (use .txt, .jsonl, .json, .parquet, .csv or a dataset folder)", path=path
            )
        return
    if hasattr(source, "column_names") and hasattr(source, "features"):
        yield from _iter_dataset(source, field, "<dataset>")
        return
    for i, doc in enumerate(source):
        if not isinstance(doc, str):
            raise DataError(f"expected str, got {type(doc).__name__}", path="<documents>", line=i + 1)
        yield doc


def _iter_dataset(ds: Any, field: str, where: str) -> Iterator[str]:
    if field not in ds.column_names:
        raise DataError(f"no such column (columns: {', '.join(ds.column_names)})", path=where, field=field)
    for i, text in enumerate(ds[field] if len(ds) < 100_000 else (row[field] for row in ds)):
        if not isinstance(text, str):
            raise DataError(f"expected str, got {type(text).__name__}", path=where, line=i + 1, field=field)
        yield text


def pack_documents(
    docs: Iterable[str], tokenizer: Any, *, eos_id: int | None = None, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """Tokenize documents and concatenate them, each followed by EOS.

    Args:
        docs: document strings.
        tokenizer: an HF tokenizer, an object with ``encode`` and ``eos_token_id``, or a callable
            ``str -> list[int]`` (then ``eos_id`` is required).
        eos_id: overrides the tokenizer's EOS id.
        batch_size: documents per tokenizer call.
        progress: show a tqdm bar.

    Returns:
        A 1-D int32 (or int64 for huge vocabularies) array of token ids.
    """
    encode, eos = _batch_encoder(tokenizer, eos_id)
    chunks: list[np.ndarray] = []
    batch: list[str] = []
    max_id = eos

    def flush() -> None:
        nonlocal max_id
        for ids in encode(batch):
            arr = np.asarray([*ids, eos], dtype=np.int64)
            max_id = max(max_id, int(arr.max()))
            chunks.append(arr)
        batch.clear()

    for doc in tqdm(docs, desc="tokenize", unit="doc", disable=not progress):
        batch.append(doc)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if not chunks:
        return np.zeros(0, dtype=np.int32)
    tokens = np.concatenate(chunks)
    return tokens.astype(np.int32) if max_id < 2**31 else tokens


class PackedDataset:
    """Non-overlapping ``seq_len + 1`` token windows over one packed stream.

    Args:
        tokens: the 1-D token stream (a numpy array, possibly a memmap, or a tensor).
        seq_len: predicted positions per window; a window holds ``seq_len + 1`` tokens.
    """

    def __init__(self, tokens: np.ndarray | torch.Tensor, seq_len: int):
        if isinstance(tokens, torch.Tensor):
            tokens = tokens.cpu().numpy()
        if tokens.ndim != 1:
            raise ValueError(f"tokens must be 1-D, got shape {tuple(tokens.shape)}")
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.tokens = tokens
        self.seq_len = int(seq_len)
        self.window = self.seq_len + 1

    @classmethod
    def from_source(
        cls,
        source: Any,
        tokenizer: Any,
        *,
        seq_len: int,
        field: str = "text",
        eos_id: int | None = None,
        progress: bool = False,
    ) -> PackedDataset:
        """Read documents with :func:`iter_documents` and pack them with :func:`pack_documents`."""
        tokens = pack_documents(iter_documents(source, field=field), tokenizer, eos_id=eos_id, progress=progress)
        ds = cls(tokens, seq_len)
        logger.info("packed %d tokens into %d windows of %d", len(tokens), len(ds), ds.window)
        return ds

    @classmethod
    def from_npy(cls, path: PathLike, *, seq_len: int) -> PackedDataset:
        """Memory-map a token stream saved with :meth:`save_npy` (or any 1-D integer ``.npy``)."""
        arr = np.load(path, mmap_mode="r")
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"expected a 1-D integer array, got {arr.dtype} with shape {arr.shape}", path=path)
        return cls(arr, seq_len)

    def save_npy(self, path: PathLike) -> None:
        """Save the packed stream (atomically) for fast reuse with :meth:`from_npy`."""
        import io

        from lc_core.io import atomic_write_bytes

        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(self.tokens))
        atomic_write_bytes(path, buf.getvalue())

    def __len__(self) -> int:
        return len(self.tokens) // self.window

    def __getitem__(self, index: int) -> torch.Tensor:
        """Window ``index`` as an int64 tensor of shape ``[seq_len + 1]``."""
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range (0..{len(self) - 1})")
        start = index * self.window
        return torch.from_numpy(np.asarray(self.tokens[start : start + self.window], dtype=np.int64))

    def stack(self, indices: Sequence[int]) -> torch.Tensor:
        """Windows ``indices`` as one ``[len(indices), seq_len + 1]`` int64 tensor."""
        return torch.stack([self[int(i)] for i in indices])


class PackedLoader:
    """Deterministic, resumable, rank-sharded batches of a :class:`PackedDataset`.

    A step consumes ``global_batch_size`` windows. Rank ``r`` gets ``accum`` micro-batches of
    ``micro_batch_size`` windows: micro-batch ``a`` is the slot ``a * world_size + r`` of the step's
    global batch, so every rank count sees the same global batch at the same step.

    Args:
        dataset: the windows.
        micro_batch_size: windows per forward pass.
        global_batch_size: windows per optimizer step over all ranks.
        seed: seeds the per-epoch permutation (epoch ``e`` uses ``seed + e``).
        rank: this process's rank.
        world_size: number of ranks.
        shuffle: permute windows each epoch (off: windows in stream order).
    """

    def __init__(
        self,
        dataset: PackedDataset,
        *,
        micro_batch_size: int,
        global_batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
    ):
        per_step = micro_batch_size * world_size
        if global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {global_batch_size} is not divisible by micro_batch_size x world_size = {per_step}"
            )
        if len(dataset) < global_batch_size:
            raise ValueError(
                f"the data holds {len(dataset)} windows of {dataset.window} tokens, fewer than one global batch "
                f"({global_batch_size}); add data or lower seq_len/global_batch_size"
            )
        self.dataset = dataset
        self.micro_batch_size = micro_batch_size
        self.global_batch_size = global_batch_size
        self.accum_steps = global_batch_size // per_step
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.position = 0
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            n = len(self.dataset)
            if self.shuffle:
                gen = torch.Generator().manual_seed(self.seed + epoch)
                perm = torch.randperm(n, generator=gen).numpy()
            else:
                perm = np.arange(n)
            if len(self._perms) >= 2:
                self._perms.pop(min(self._perms))
            self._perms[epoch] = perm
        return self._perms[epoch]

    def sample_indices(self, step: int) -> list[int]:
        """Window indices of this rank's samples at ``step``, micro-batch by micro-batch."""
        n = len(self.dataset)
        out = []
        for a in range(self.accum_steps):
            slot = a * self.world_size + self.rank
            first = step * self.global_batch_size + slot * self.micro_batch_size
            for g in range(first, first + self.micro_batch_size):
                out.append(int(self._perm(g // n)[g % n]))
        return out

    def batch(self, step: int) -> list[torch.Tensor]:
        """This rank's micro-batches at ``step``: ``accum_steps`` tensors of shape ``[micro, seq_len + 1]``."""
        idx = self.sample_indices(step)
        m = self.micro_batch_size
        return [self.dataset.stack(idx[i : i + m]) for i in range(0, len(idx), m)]

    def epoch_of(self, step: int) -> float:
        """Epochs consumed after ``step`` steps (fractional)."""
        return step * self.global_batch_size / len(self.dataset)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        while True:
            # advance before yielding so ``position`` always counts the batches handed out
            batch = self.batch(self.position)
            self.position += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        """The data position plus what must match on resume."""
        return {
            "position": self.position,
            "seed": self.seed,
            "num_windows": len(self.dataset),
            "window": self.dataset.window,
            "global_batch_size": self.global_batch_size,
            "shuffle": self.shuffle,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue at ``state["position"]``; raises ``ValueError`` if the data or batch layout changed."""
        for key in ("seed", "num_windows", "window", "global_batch_size", "shuffle"):
            if key in state and state[key] != self.state_dict()[key]:
                raise ValueError(
                    f"cannot resume: data {key} was {state[key]!r} in the checkpoint but is {self.state_dict()[key]!r} now"
                )
        self.position = int(state["position"])


def eval_batches(
    dataset: PackedDataset, *, micro_batch_size: int, rank: int = 0, world_size: int = 1, max_batches: int = 0
) -> list[torch.Tensor]:
    """This rank's held-out micro-batches, in stream order, the same count on every rank.

    Micro-batch ``k`` of rank ``r`` holds windows ``[(k * world_size + r) * micro, ... + micro)``; a tail
    that cannot give every rank a full micro-batch is dropped.

    Args:
        dataset: held-out windows.
        micro_batch_size: windows per forward pass.
        rank: this rank.
        world_size: number of ranks.
        max_batches: cap per rank (0: all).

    Returns:
        Tensors of shape ``[micro_batch_size, seq_len + 1]``.
    """
    per_round = micro_batch_size * world_size
    rounds = len(dataset) // per_round
    if rounds == 0:
        raise ValueError(f"the eval data holds {len(dataset)} windows, fewer than micro_batch_size x world_size = {per_round}")
    if max_batches > 0:
        rounds = min(rounds, max_batches)
    out = []
    for k in range(rounds):
        start = (k * world_size + rank) * micro_batch_size
        out.append(dataset.stack(range(start, start + micro_batch_size)))
    return out
