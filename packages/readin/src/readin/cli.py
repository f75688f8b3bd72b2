"""The ``readin`` console script (lazy verbs on :mod:`lc_core.cli`; each verb lives in :mod:`readin.commands`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from lc_core.cli import App, Command

__all__ = ["main", "app"]

EPILOG = """quick start:
  readin noise --sample                                            # noise the shipped sample (4 tasks), print edits
  readin noise data/cmrc/test_clean.json --task cmrc --out bench/cmrc --processes 2
  readin check data/realtypo/afqmc_balanced --task afqmc          # load and align the 7 splits, print their sizes
  readin eval data/realtypo/cmrc --task cmrc --backend openai --model qwen --backend-arg base_url=http://localhost:8000/v1
  readin score data/realtypo/afqmc_balanced --task afqmc --preds preds/ --out results
  readin consistency data/realtypo/cmrc --task cmrc --tokenizer char jieba pinyin /models/chinese-roberta-wwm-ext
  readin train --task cmrc --model /models/chinese-roberta-wwm-ext --train train.json --dev dev.json --out ft/cmrc \\
      --predict data/realtypo/cmrc                                  # fine-tune, predict all 7 splits, score
"""


def _cmd(name: str, help: str) -> Command:
    return Command(f"readin.commands:{name}", f"readin.commands:add_{name}_arguments", help)


def _version() -> str:
    from readin import __version__

    return __version__


app = App(
    prog="readin",
    description="READIN: Chinese input-noise robustness benchmark (keyboard/speech noise, clean/average/worst metrics).",
    commands={
        "check": _cmd("check", "load a task's clean and noisy splits, check their alignment, print sizes"),
        "noise": _cmd("noise", "turn a clean test set (or the shipped sample) into 3 keyboard + 3 speech versions"),
        "augment": _cmd("augment", "READIN's ADA: clean training rows + 2 copies with same-syllable-same-tone swaps"),
        "eval": _cmd("eval", "run a model (hf / OpenAI-compatible / vLLM) on clean + noisy splits, then score"),
        "score": _cmd("score", "score prediction files: clean / average / worst per channel"),
        "consistency": _cmd("consistency", "share of noisy inputs a tokenizer cuts exactly as the clean ones (READIN §7.7)"),
        "train": _cmd("train", "fine-tune on AFQMC / CMRC2018 / WMT (transformers Trainer, READIN's recipe), then predict"),
        "report": _cmd("report", "tables (README layout) and clean/avg/worst curves from results files"),
    },
    epilog=EPILOG,
    version=_version(),
    missing_input_example=("check", "{missing}", "--task", "afqmc"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``readin`` console script."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
