"""Shared fixtures: the official prediction files (skip loudly when absent) and tiny offline backends."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from lc_core.inference.base import Backend, GenerationConfig, Prompt
from lc_core.testing import shared_data_candidates, shared_data_dir
from lc_core.tokenizers import ByteTokenizer

OFFICIAL = "infbench-official-preds"
# <repository root>/../shared/data/infbench-official-preds, or $LC_SHARED_DATA/infbench-official-preds
OFFICIAL_PREDS = shared_data_dir(OFFICIAL, start=Path(__file__).parent)
GOLDEN_MISSING = "GOLDEN DATA MISSING"


@pytest.fixture(scope="session")
def official_preds() -> Path:
    """The folder of the original repo's ``results/<model>/preds_*.jsonl`` files."""
    if OFFICIAL_PREDS is None:
        where = ", ".join(str(p / OFFICIAL) for p in shared_data_candidates(Path(__file__).parent)) or "no checkout found"
        pytest.skip(f"{GOLDEN_MISSING}: {OFFICIAL} not found (looked in {where}; set LC_SHARED_DATA)")
    return OFFICIAL_PREDS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # a skipped golden test must never read as a pass: one loud line under the summary
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if GOLDEN_MISSING in str(r.longrepr)]
    if skipped:
        where = ", ".join(str(p) for p in shared_data_candidates(Path(__file__).parent)) or "no checkout found"
        terminalreporter.write_line(
            f"infbench: {GOLDEN_MISSING}: {len(skipped)} golden-table tests were SKIPPED, not passed "
            f"(no {OFFICIAL} under {where}; set LC_SHARED_DATA)",
            red=True,
            bold=True,
        )


def _text(prompt: Prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)


class OracleBackend(Backend):
    """Answers retrieval prompts from the text it was given: finds the needle like a perfect reader.

    Counts prompts so tests can prove resumed runs never recompute finished examples.
    """

    name = "oracle"

    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs
        self.tok = ByteTokenizer()
        self.calls = 0
        self.prompts: list[Prompt] = []

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        self._configs(len(prompts), config)
        out = []
        for p in prompts:
            self.calls += 1
            self.prompts.append(p)
            text = _text(p)
            needle = re.search(r"The (?:pass key|sequence of digits) is (\d+)\. Remember it", text)
            if needle:
                out.append(needle.group(1))
            elif m := re.search(r'Key: "([0-9a-f-]{36})"', text):
                v = re.search(rf'"{m.group(1)}": "([0-9a-f-]{{36}})"', text)
                out.append(v.group(1) if v else "")
            else:
                out.append("")
        return out

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.tok.decode(ids)


class EchoBackend(OracleBackend):
    """Returns the last characters of each prompt (a model that answers nothing useful)."""

    name = "echo"

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | Sequence[GenerationConfig]) -> list[str]:
        self.calls += len(prompts)
        return [_text(p)[-20:] for p in prompts]


@pytest.fixture
def oracle() -> OracleBackend:
    return OracleBackend()


@pytest.fixture
def echo() -> EchoBackend:
    return EchoBackend()


@pytest.fixture(scope="session")
def bpe_tokenizer_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BPE ``tokenizer.json`` trained offline on haystack-like text (stands in for a model tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = [
        "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.",
        "The pass key is 12345. Remember it. 12345 is the pass key. What is the pass key?",
        '{"3f2a-11": "9b1c-22", "7d-4e": "a1"} [12, 34, 56, 78, 90] 1 + 2 - 3 def func_12(x): return x + 3',
    ] * 20
    tok.train_from_iterator(corpus, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path
