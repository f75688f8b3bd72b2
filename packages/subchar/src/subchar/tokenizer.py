"""``SubCharTokenizer``: a transformers ``PreTrainedTokenizer`` over the encoder + a SentencePiece model.

    from subchar.tokenizer import SubCharTokenizer
    tok = SubCharTokenizer.from_pretrained("subchar/pinyin")        # a shipped tokenizer, or a folder
    batch = tok(["他是我的朋友"], ["她也是"], max_length=32, truncation=True, padding="max_length")
    tok.decode(tok("Hello 世界")["input_ids"], skip_special_tokens=True)   # 'Hello 世界' (exact)
    tok("花呗怎么了", return_offsets_mapping=True)["offset_mapping"]        # character spans of each token

BERT layout: ``[CLS] a [SEP]`` and ``[CLS] a [SEP] b [SEP]`` with token types 0/1; ids ``[UNK]=0 [PAD]=1 [CLS]=2
[SEP]=3 [MASK]=4`` as in the original. A saved folder holds ``subchar.model`` (SentencePiece), ``subchar_table.tsv``
(the code table) and ``tokenizer_config.json`` (encoding, variant, text handling); nothing is read from the working
directory and nothing is downloaded. The shipped tokenizers omit the table file and use the package's table, checked
against the SHA-256 recorded at training.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizer
from transformers.utils import PaddingStrategy

from subchar.encoder import Encoder, EncoderConfig, get_encoder
from subchar.symbols import SEP
from subchar.tables import Table, load_table, read_table

__all__ = ["SubCharTokenizer", "load_tokenizer", "VOCAB_FILES_NAMES"]

VOCAB_FILES_NAMES = {"vocab_file": "subchar.model", "table_file": "subchar_table.tsv"}
_ENCODER_KEYS = ("encoding", "index", "tone", "heteronyms", "lowercase", "keep_whitespace", "fold_punctuation")
_BYTE_PIECE = re.compile(r"<0x([0-9A-F]{2})>")


def table_sha256(table: Table) -> str:
    return hashlib.sha256(table.dumps().encode("utf-8")).hexdigest()


class SubCharTokenizer(PreTrainedTokenizer):
    """Sub-character tokenizer: text -> code text (:class:`~subchar.encoder.Encoder`) -> SentencePiece pieces.

    Args:
        vocab_file: the SentencePiece ``.model``.
        table_file: the code table file (default: the package's table named by ``encoding``).
        table: a :class:`~subchar.tables.Table` object instead of a file (saved as ``subchar_table.tsv``).
        encoding, index, tone, heteronyms, lowercase, keep_whitespace, fold_punctuation: the
            :class:`~subchar.encoder.EncoderConfig` the model was trained with.
        table_sha256: SHA-256 of the table at training time; loading with a different package table fails.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str,
        table_file: str | None = None,
        *,
        table: Table | None = None,
        encoding: str = "pinyin",
        index: bool = True,
        tone: bool = True,
        heteronyms: bool = False,
        lowercase: bool = False,
        keep_whitespace: bool = True,
        fold_punctuation: bool = False,
        table_sha256: str | None = None,
        unk_token: str = "[UNK]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        mask_token: str = "[MASK]",
        **kwargs: Any,
    ) -> None:
        import sentencepiece as spm

        self.vocab_file = str(vocab_file)
        self.sp_model = spm.SentencePieceProcessor(model_file=self.vocab_file)
        self.encoder_config = EncoderConfig(
            encoding=encoding,
            index=index,
            tone=tone,
            heteronyms=heteronyms,
            lowercase=lowercase,
            keep_whitespace=keep_whitespace,
            fold_punctuation=fold_punctuation,
        )
        if table is None and table_file is not None:
            table = read_table(Path(table_file).read_text(encoding="utf-8"), path=table_file)
        shipped = table is None
        if table is None:
            table = load_table(self.encoder_config.table_name)
        digest = globals()["table_sha256"](table)
        if shipped and table_sha256 is not None and table_sha256 != digest:
            raise ValueError(
                f"this tokenizer was trained with a different {self.encoder_config.table_name} table than the one "
                "installed (SHA-256 mismatch); reinstall the subchar version it came with or save it with its table"
            )
        self.table = table
        self.table_file = table_file
        self.encoder: Encoder = get_encoder(self.encoder_config, table)
        self._vocab_cache: dict[str, int] | None = None
        kwargs.setdefault("clean_up_tokenization_spaces", False)
        # BERT's position limit; the original used 128 and 512
        kwargs.setdefault("model_max_length", 512)
        super().__init__(
            unk_token=unk_token,
            pad_token=pad_token,
            cls_token=cls_token,
            sep_token=sep_token,
            mask_token=mask_token,
            table_sha256=digest,
            **self.encoder_config.to_dict(),
            **kwargs,
        )

    # ---- vocabulary -------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return self.sp_model.get_piece_size()

    def get_vocab(self) -> dict[str, int]:
        if self._vocab_cache is None:
            self._vocab_cache = {self.sp_model.id_to_piece(i): i for i in range(self.vocab_size)}
        vocab = dict(self._vocab_cache)
        vocab.update(self.added_tokens_encoder)
        return vocab

    def _convert_token_to_id(self, token: str) -> int:
        return self.sp_model.piece_to_id(token)

    def _convert_id_to_token(self, index: int) -> str:
        return self.sp_model.id_to_piece(index)

    # ---- tokenize / decode ------------------------------------------------------------------------------------

    def tokenize(self, text: str, **kwargs: Any) -> list[str]:
        """Pieces of ``text``; added tokens written in the text (``[MASK]``) stay whole, as in every HF tokenizer."""
        # transformers splits on added tokens with a character-by-character Python trie: skip it when none occurs
        if kwargs.get("split_special_tokens", self.split_special_tokens) or not any(
            t in text for t in self._added_tokens_encoder
        ):
            text, _ = self.prepare_for_tokenization(text, **kwargs)
            return self._tokenize(text)
        return super().tokenize(text, **kwargs)

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | list[int]:  # type: ignore[override]
        # one SentencePiece call for the whole list; added tokens beyond the model's pieces need the slow path
        if isinstance(tokens, str) or any(i >= self.vocab_size for i in self._added_tokens_encoder.values()):
            return super().convert_tokens_to_ids(tokens)
        return self.sp_model.piece_to_id(list(tokens))

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return self.sp_model.encode(self.encoder.encode(text), out_type=str)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join pieces and decode the code text (exact for indexed encodings; cut codes become U+FFFD)."""
        text = "".join(tokens)
        if "<0x" in text:
            text = _BYTE_PIECE.sub(lambda m: chr(0xF0000 + int(m.group(1), 16)), text)
            text = _join_bytes(text)
        return self.encoder.decode(text, errors="replace")

    def encode_code_text(self, text: str) -> str:
        """The code text the SentencePiece model sees for ``text``."""
        return self.encoder.encode(text)

    def tokenize_chars(self, text: str) -> list[list[str]]:
        """Each character tokenized on its own (the character-aligned input of two-level embeddings)."""
        return [self.sp_model.encode(code, out_type=str) if code else [] for code in self.encoder.encode_chars(text)]

    # ---- offsets ----------------------------------------------------------------------------------------------

    def _pieces_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        encoded, starts = self.encoder.encode_with_spans(text)
        proto = self.sp_model.encode(encoded, out_type="proto")
        ids = [p.id for p in proto.pieces]
        ends = np.cumsum([len(p.surface) for p in proto.pieces], dtype=np.int64)
        begins = ends - np.array([len(p.surface) for p in proto.pieces], dtype=np.int64)
        if len(ids) and ends[-1] != len(encoded):
            raise RuntimeError("SentencePiece pieces do not cover the code text (is the normaliser identity?)")
        # a token covering code positions [b, e) covers the characters whose code overlaps it
        first = np.searchsorted(starts[1:], begins, side="right")
        last = np.searchsorted(starts[:-1], ends, side="left")
        return ids, list(zip(first.tolist(), last.tolist()))

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids of ``text`` (no special tokens) and each token's character span ``(start, end)`` in ``text``.

        A token may start or end inside a character's code (``k`` + ``my0쎯``): both tokens then cover that
        character. Added tokens written in the text (``[MASK]``) stay single tokens, as in ``tokenize``.
        """
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        pos = 0
        segments = [text] if self.split_special_tokens else self.tokens_trie.split(text)
        added = self._added_tokens_encoder
        for seg in segments:
            if seg in added:
                ids.append(added[seg])
                offsets.append((pos, pos + len(seg)))
            elif seg:
                seg_ids, seg_off = self._pieces_with_offsets(seg)
                ids.extend(seg_ids)
                offsets.extend((pos + a, pos + b) for a, b in seg_off)
            pos += len(seg)
        return ids, offsets

    def char_to_token_spans(self, text: str) -> list[tuple[int, int]]:
        """For each character of ``text``, the tokens ``[first, last)`` (no special tokens) holding its code.

        Spans are monotone; a character the encoder deletes (whitespace in legacy mode) gets an empty span at the
        next token.
        """
        _, offsets = self.encode_with_offsets(text)
        starts = np.array([a for a, _ in offsets], dtype=np.int64)
        ends = np.array([b for _, b in offsets], dtype=np.int64)
        idx = np.arange(len(text))
        first = np.searchsorted(ends, idx, side="right")
        last = np.searchsorted(starts, idx, side="right")
        return list(zip(first.tolist(), np.maximum(first, last).tolist()))

    def _encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        if not kwargs.pop("return_offsets_mapping", False):
            fast = self._fast_encode(text, text_pair, kwargs)
            return fast if fast is not None else super()._encode_plus(text, text_pair, **kwargs)
        if isinstance(text, list | tuple):
            return self._batch_with_offsets(text, text_pair, kwargs)
        if not isinstance(text, str) or not (text_pair is None or isinstance(text_pair, str)):
            raise ValueError("return_offsets_mapping needs text (str) inputs, not ids or pre-split words")
        return self._single_with_offsets(text, text_pair, kwargs)

    def _fast_encode(self, text: Any, pair: Any, kw: dict[str, Any]) -> BatchEncoding | None:
        """The common case in one SentencePiece call per batch: plain strings, no truncation, no overflow.

        Everything else (truncation, pre-split words, ids as input, overflowing tokens, lengths) returns None and
        takes transformers' general path.
        """
        batched = isinstance(text, list | tuple)
        texts = list(text) if batched else [text]
        pairs = None if pair is None else (list(pair) if batched else [pair])
        simple = all(isinstance(t, str) for t in texts) and (pairs is None or all(isinstance(t, str) for t in pairs))
        trunc = kw.get("truncation_strategy")
        if (
            not simple
            or (pairs is not None and len(pairs) != len(texts))
            or getattr(trunc, "value", trunc) not in (None, False, "do_not_truncate")
            or kw.get("is_split_into_words")
            or kw.get("return_overflowing_tokens")
            or kw.get("return_length")
            or kw.get("split_special_tokens", self.split_special_tokens)
            or any(t in x for x in texts + (pairs or []) for t in self._added_tokens_encoder)
        ):
            return None
        ids_a = self.sp_model.encode(self.encoder.encode_batch(texts))
        ids_b = self.sp_model.encode(self.encoder.encode_batch(pairs)) if pairs is not None else [None] * len(texts)
        specials = kw.get("add_special_tokens", True)
        out: dict[str, list[Any]] = {"input_ids": []}
        want_types = kw.get("return_token_type_ids")
        want_types = "token_type_ids" in self.model_input_names if want_types is None else want_types
        if want_types:
            out["token_type_ids"] = []
        if kw.get("return_special_tokens_mask"):
            out["special_tokens_mask"] = []
        for a, b in zip(ids_a, ids_b):
            if specials:
                out["input_ids"].append(self.build_inputs_with_special_tokens(a, b))
                types = self.create_token_type_ids_from_sequences(a, b)
                mask = self.get_special_tokens_mask(a, b)
            else:
                out["input_ids"].append(a if b is None else a + b)
                # transformers' own convention without special tokens: one segment id for both
                types = [0] * (len(a) + (0 if b is None else len(b)))
                mask = [0] * len(types)
            if want_types:
                out["token_type_ids"].append(types)
            if "special_tokens_mask" in out:
                out["special_tokens_mask"].append(mask)
        padded = self._pad_like_call(out, kw)
        result = dict(padded)
        tensors = kw.get("return_tensors")
        if not batched:
            result = {k: v[0] for k, v in result.items()}
            return BatchEncoding(result, tensor_type=tensors, prepend_batch_axis=tensors is not None)
        return BatchEncoding(result, tensor_type=tensors)

    def _single_with_offsets(self, text: str, pair: str | None, kw: dict[str, Any]) -> BatchEncoding:
        ids_a, off_a = self.encode_with_offsets(text)
        ids_b, off_b = self.encode_with_offsets(pair) if pair is not None else (None, [])
        want_mask = kw.get("return_special_tokens_mask", False)
        want_types = kw.get("return_token_type_ids")
        padding = kw.get("padding_strategy", PaddingStrategy.DO_NOT_PAD)
        out = self.prepare_for_model(
            ids_a,
            pair_ids=ids_b,
            add_special_tokens=kw.get("add_special_tokens", True),
            padding=getattr(padding, "value", padding),
            truncation=getattr(kw.get("truncation_strategy"), "value", kw.get("truncation_strategy", False)),
            max_length=kw.get("max_length"),
            stride=kw.get("stride", 0),
            pad_to_multiple_of=kw.get("pad_to_multiple_of"),
            padding_side=kw.get("padding_side"),
            return_tensors=None,
            prepend_batch_axis=False,
            return_attention_mask=kw.get("return_attention_mask"),
            return_token_type_ids=True,
            return_special_tokens_mask=True,
            return_length=kw.get("return_length", False),
            verbose=kw.get("verbose", True),
        )
        special = out["special_tokens_mask"]
        types = out["token_type_ids"]
        n_kept = [sum(1 for s, t in zip(special, types) if not s and t == k) for k in (0, 1)]
        kept = []
        for k, offs in enumerate((off_a, off_b)):
            n = n_kept[k]
            kept.append(list(offs[len(offs) - n :] if self.truncation_side == "left" else offs[:n]))
        offsets: list[tuple[int, int]] = []
        for s, t in zip(special, types):
            offsets.append((0, 0) if s else kept[t].pop(0))
        out["offset_mapping"] = offsets
        if not want_mask:
            del out["special_tokens_mask"]
        if want_types is False:
            del out["token_type_ids"]
        return BatchEncoding(
            dict(out), tensor_type=kw.get("return_tensors"), prepend_batch_axis=kw.get("return_tensors") is not None
        )

    def _pad_like_call(self, batch: dict[str, list[Any]], kw: dict[str, Any]) -> Any:
        """``self.pad`` with the padding options of the ``__call__`` that got us here."""
        padding = kw.get("padding_strategy", PaddingStrategy.DO_NOT_PAD)
        return self.pad(
            batch,
            padding=getattr(padding, "value", padding),
            max_length=kw.get("max_length"),
            pad_to_multiple_of=kw.get("pad_to_multiple_of"),
            padding_side=kw.get("padding_side"),
            return_attention_mask=kw.get("return_attention_mask"),
        )

    def _batch_with_offsets(self, texts: Sequence[str], pairs: Sequence[str] | None, kw: dict[str, Any]) -> BatchEncoding:
        single = {**kw, "padding_strategy": PaddingStrategy.DO_NOT_PAD, "return_tensors": None, "pad_to_multiple_of": None}
        single["return_attention_mask"] = False
        single["return_special_tokens_mask"] = True
        items = [self._single_with_offsets(t, None if pairs is None else pairs[i], single) for i, t in enumerate(texts)]
        batch: dict[str, list[Any]] = {k: [it[k] for it in items] for k in items[0]}
        offsets = batch.pop("offset_mapping")
        padded = self._pad_like_call(batch, kw)
        side = kw.get("padding_side") or self.padding_side
        result = dict(padded)
        result["offset_mapping"] = []
        for offs, row in zip(offsets, result["input_ids"]):
            fill = [(0, 0)] * (len(row) - len(offs))
            result["offset_mapping"].append(fill + offs if side == "left" else offs + fill)
        if not kw.get("return_special_tokens_mask", False):
            result.pop("special_tokens_mask", None)
        return BatchEncoding(result, tensor_type=kw.get("return_tensors"))

    # ---- BERT layout ------------------------------------------------------------------------------------------

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        if token_ids_1 is None:
            return [self.cls_token_id, *token_ids_0, self.sep_token_id]
        return [self.cls_token_id, *token_ids_0, self.sep_token_id, *token_ids_1, self.sep_token_id]

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            specials = set(self.all_special_ids)
            return [1 if t in specials else 0 for t in token_ids_0]
        if token_ids_1 is None:
            return [1, *([0] * len(token_ids_0)), 1]
        return [1, *([0] * len(token_ids_0)), 1, *([0] * len(token_ids_1)), 1]

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        first = [0] * (len(token_ids_0) + 2)
        return first if token_ids_1 is None else first + [1] * (len(token_ids_1) + 1)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2

    # ---- saving -----------------------------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        out = Path(save_directory)
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        model_path = out / f"{prefix}{VOCAB_FILES_NAMES['vocab_file']}"
        if Path(self.vocab_file).resolve() != model_path.resolve():
            shutil.copyfile(self.vocab_file, model_path)
        table_path = out / f"{prefix}{VOCAB_FILES_NAMES['table_file']}"
        self.table.write(table_path)
        return str(model_path), str(table_path)

    @property
    def sep_symbol(self) -> str:
        """The separator written after each character's code (U+C3AF)."""
        return SEP


def _join_bytes(text: str) -> str:
    """Turn runs of byte-fallback placeholders (U+F0000+byte) back into UTF-8 text."""
    out: list[str] = []
    buf = bytearray()
    for ch in text:
        o = ord(ch)
        if 0xF0000 <= o <= 0xF00FF:
            buf.append(o - 0xF0000)
            continue
        if buf:
            out.append(buf.decode("utf-8", errors="replace"))
            buf.clear()
        out.append(ch)
    if buf:
        out.append(buf.decode("utf-8", errors="replace"))
    return "".join(out)


def load_tokenizer(name_or_path: str | os.PathLike[str], **kwargs: Any) -> SubCharTokenizer:
    """A shipped tokenizer by name (``subchar/pinyin``, ``subchar/wubi-noindex``…) or a saved folder."""
    from lc_core.models.builtin import resolve_model_path

    path = resolve_model_path(str(name_or_path))
    if not Path(path).is_dir():
        raise FileNotFoundError(f"{name_or_path}: not a shipped tokenizer name nor a tokenizer folder")
    return SubCharTokenizer.from_pretrained(path, **kwargs)
