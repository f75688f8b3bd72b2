"""A byte-level tokenizer with the ids of transformers' ``ByT5Tokenizer``. Torch-free, no files needed.

It is the tokenizer of the embedded demo model (``lc-core/demo-mamba2``) and the offline fallback that
lets token-exact sizing (infbench) and API backends count tokens without downloading anything::

    from lc_core.tokenizers import ByteTokenizer

    tok = ByteTokenizer()
    tok.encode("héllo")          # [107, 198, 172, 111, 111, 114]
    tok.decode(tok.encode("你好"))  # "你好"

Ids: ``pad=0``, ``eos=1``, ``unk=2``, UTF-8 byte ``b`` -> ``b + 3``; ids ``259 ..`` are the ByT5 sentinel
tokens ``<extra_id_0>, <extra_id_1>, ...`` (as transformers 5 numbers them).

One deliberate difference from ``ByT5Tokenizer``: text is always bytes. ByT5 matches the strings ``</s>``,
``<pad>``, ``<unk>`` and ``<extra_id_N>`` inside the text and emits their special ids (``encode("</s>") ==
[1]``), so such text does not round-trip and a document quoting ``</s>`` would end the prompt. Here any
string round-trips losslessly; the ids equal ByT5's ``encode(text, split_special_tokens=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ByteTokenizer"]


class ByteTokenizer:
    """UTF-8 bytes as tokens, id-compatible with ``transformers.ByT5Tokenizer``.

    Args:
        extra_ids: number of sentinel ids after the 259 byte/special ids (ByT5 uses 125, vocab 384).
    """

    pad_token_id = 0
    eos_token_id = 1
    unk_token_id = 2
    offset = 3

    def __init__(self, extra_ids: int = 125) -> None:
        if extra_ids < 0:
            raise ValueError(f"extra_ids must be >= 0, got {extra_ids}")
        self.extra_ids = extra_ids

    @property
    def vocab_size(self) -> int:
        """All ids: 3 specials + 256 bytes + sentinels (384 for ByT5)."""
        return self.offset + 256 + self.extra_ids

    def __repr__(self) -> str:
        return f"ByteTokenizer(extra_ids={self.extra_ids})"

    def encode(self, text: str, *, add_eos: bool = False) -> list[int]:
        """Token ids of ``text``: one per UTF-8 byte.

        Args:
            text: the string to encode.
            add_eos: append ``eos`` (1), as ``ByT5Tokenizer(text).input_ids`` does.
        """
        ids = [b + self.offset for b in text.encode("utf-8")]
        if add_eos:
            ids.append(self.eos_token_id)
        return ids

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = True, errors: str = "ignore") -> str:
        """Text of ``ids``.

        Args:
            ids: token ids.
            skip_special_tokens: drop pad/eos/unk and sentinels; otherwise they render as ``<pad>``,
                ``</s>``, ``<unk>``, ``<extra_id_N>`` the way ByT5 writes them.
            errors: how invalid UTF-8 (a multi-byte character cut in half) is handled; ``"ignore"``
                drops the partial bytes like ``ByT5Tokenizer.decode``.

        Raises:
            ValueError: an id outside ``[0, vocab_size)``.
        """
        out = bytearray()
        parts: list[str] = []
        specials = {0: "<pad>", 1: "</s>", 2: "<unk>"}
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} is outside the byte vocabulary [0, {self.vocab_size})")
            if self.offset <= i < self.offset + 256:
                out.append(i - self.offset)
                continue
            if skip_special_tokens:
                continue
            parts.append(out.decode("utf-8", errors=errors))
            out.clear()
            if i in specials:
                parts.append(specials[i])
            else:
                parts.append(f"<extra_id_{i - self.offset - 256}>")
        parts.append(out.decode("utf-8", errors=errors))
        return "".join(parts)

    def count_tokens(self, text: str) -> int:
        """Number of tokens of ``text`` (its UTF-8 length in bytes)."""
        return len(text.encode("utf-8"))

    def truncate_middle(self, text: str, max_tokens: int) -> str:
        """Keep the first and last ``max_tokens // 2`` tokens (a cut multi-byte character is dropped)."""
        ids = self.encode(text)
        if len(ids) <= max_tokens:
            return text
        half = max_tokens // 2
        return self.decode(ids[:half]) + self.decode(ids[len(ids) - (max_tokens - half) :])

    def __call__(self, text: str) -> list[int]:
        return self.encode(text)
