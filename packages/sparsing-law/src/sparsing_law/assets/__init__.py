"""Files shipped with sparsing-law: the demo models and the built-in demo text.

- ``DEMO_RELU`` / ``DEMO_SILU``: folders of the byte-level lc-core GQA demo models, registered in the
  ``lc_core.models`` entry-point group as ``sparsing-law/demo-relu`` and ``sparsing-law/demo-silu`` (so every
  lc-core backend and ``sparsing-law --model`` resolves them offline). Recipe: ``tools/train_demo_gqa.py``.
- ``DEMO_TEXT``: held-out Python documentation text (never trained on) for ``sparsing-law measure --data demo``;
  licence and provenance in ``DEMO_TEXT_NOTICE``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS", "DEMO_RELU", "DEMO_SILU", "DEMO_TEXT", "DEMO_TEXT_NOTICE", "DEMO_MODELS"]

ASSETS = Path(__file__).resolve().parent
DEMO_RELU = ASSETS / "demo-relu"
DEMO_SILU = ASSETS / "demo-silu"
DEMO_TEXT = ASSETS / "demo_text.txt"
DEMO_TEXT_NOTICE = ASSETS / "DEMO_TEXT_NOTICE.md"
DEMO_MODELS = {"sparsing-law/demo-relu": DEMO_RELU, "sparsing-law/demo-silu": DEMO_SILU}
