"""Word + sub-character vocabularies (the original's ``CWSNewTokenizer``, spec §8.2).

Text is segmented into words (jieba by default; any ``str -> list[str]`` function works, e.g. THULAC or pkuseg). A
word in the word list is one token; any other word falls back to SubChar pieces of its code text. Of a total
vocabulary ``V``, a share ``r`` goes to the most frequent words of the corpus (``round(r*V)`` ids, first) and the rest
to a SubChar SentencePiece model (``V - round(r*V)`` ids, offset by the number of words), so the id ranges are
disjoint. Decoding is exact for indexed encodings.

    cws = CWSTokenizer.build(lines, vocab_size=22675, ratio=0.7, work_dir="tok/cws", encoder=EncoderConfig())
    cws.tokenize("我们一起学习中文")   # ['我们', '一起', '学习', '中文'] or code pieces for unknown words
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from lc_core.io import atomic_write_text
from subchar.corpus import ConvertConfig
from subchar.encoder import EncoderConfig
from subchar.tokenizer import SubCharTokenizer
from subchar.train import SpmConfig, train_tokenizer

__all__ = ["CWSTokenizer", "jieba_segment"]

Segmenter = Callable[[str], list[str]]


def jieba_segment(text: str) -> list[str]:
    """jieba's default (accurate mode) segmentation; offline, its dictionary ships with the package."""
    import warnings

    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources and has invalid escapes in its regexes: noise, not our problem
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import jieba

    return jieba.lcut(text, HMM=True)


class CWSTokenizer:
    """Words first, SubChar pieces for the rest.

    Args:
        words: the word vocabulary (ids ``0 … len(words)-1``, in this order).
        subchar: the SubChar tokenizer of the remaining ids (offset by ``len(words)``).
        segment: the word segmenter (default: jieba).
    """

    WORDS_FILE = "cws_words.txt"

    def __init__(self, words: Sequence[str], subchar: SubCharTokenizer, segment: Segmenter | None = None) -> None:
        self.words = list(words)
        self.word_ids = {w: i for i, w in enumerate(self.words)}
        if len(self.word_ids) != len(self.words):
            raise ValueError("the word list has duplicates")
        self.subchar = subchar
        self.segment = segment or jieba_segment
        self.offset = len(self.words)

    @property
    def vocab_size(self) -> int:
        return self.offset + self.subchar.vocab_size

    def _units(self, text: str) -> list[tuple[str, list[int]]]:
        out = []
        for word in self.segment(text):
            if word in self.word_ids:
                out.append((word, [self.word_ids[word]]))
            else:
                ids = self.subchar(word, add_special_tokens=False)["input_ids"]
                out.append((word, [self.offset + i for i in ids]))
        return out

    def encode(self, text: str) -> list[int]:
        """Token ids (no special tokens)."""
        return [i for _, ids in self._units(text) for i in ids]

    def tokenize(self, text: str) -> list[str]:
        return [self.convert_id_to_token(i) for i in self.encode(text)]

    def convert_id_to_token(self, i: int) -> str:
        return self.words[i] if i < self.offset else self.subchar.convert_ids_to_tokens(i - self.offset)

    def decode(self, ids: Iterable[int]) -> str:
        out: list[str] = []
        run: list[int] = []
        for i in ids:
            if i < self.offset:
                if run:
                    out.append(self.subchar.decode(run))
                    run = []
                out.append(self.words[i])
            else:
                run.append(i - self.offset)
        if run:
            out.append(self.subchar.decode(run))
        return "".join(out)

    def save(self, directory: str | os.PathLike[str]) -> None:
        d = Path(directory)
        self.subchar.save_pretrained(d)
        atomic_write_text(d / self.WORDS_FILE, "".join(w + "\n" for w in self.words))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], segment: Segmenter | None = None) -> CWSTokenizer:
        d = Path(directory)
        words = (d / cls.WORDS_FILE).read_text(encoding="utf-8").split("\n")[:-1]
        return cls(words, SubCharTokenizer.from_pretrained(d), segment)

    @classmethod
    def build(
        cls,
        lines: Sequence[str],
        *,
        vocab_size: int,
        ratio: float,
        work_dir: str | os.PathLike[str],
        encoder: EncoderConfig | None = None,
        segment: Segmenter | None = None,
        spm_config: SpmConfig | None = None,
        min_word_chars: int = 2,
    ) -> CWSTokenizer:
        """Pick the ``round(ratio * vocab_size)`` most frequent words of ``lines`` and train SubChar on the rest.

        Args:
            lines: the corpus.
            vocab_size: total ids ``V``.
            ratio: the word share ``r`` (the original shipped 0.7–0.85).
            work_dir: where the SubChar model is trained.
            encoder: the SubChar encoding.
            segment: the word segmenter (default: jieba).
            spm_config: SentencePiece settings (``vocab_size`` is set to ``V - round(r*V)``).
            min_word_chars: shorter words are not word-vocabulary candidates (single characters are left to SubChar).
        """
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"ratio must be in [0, 1), got {ratio}")
        seg = segment or jieba_segment
        n_words = round(ratio * vocab_size)
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(w for w in seg(line) if len(w) >= min_word_chars and not w.isspace())
        words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n_words]]
        if len(words) < n_words:
            raise ValueError(f"the corpus has only {len(words)} candidate words, fewer than round(r*V) = {n_words}")
        work = Path(work_dir)
        work.mkdir(parents=True, exist_ok=True)
        corpus = work / "cws_corpus.txt"
        atomic_write_text(corpus, "".join(line + "\n" for line in lines))
        cfg = spm_config or SpmConfig()
        cfg.vocab_size = vocab_size - n_words
        train_tokenizer(corpus, work / "subchar", encoder, cfg, ConvertConfig(progress=False))
        corpus.unlink()
        return cls(words, SubCharTokenizer.from_pretrained(work / "subchar"), seg)
