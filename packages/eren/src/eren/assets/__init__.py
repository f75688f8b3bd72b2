"""Models shipped inside the eren wheel, registered by name through the ``lc_core.models`` entry-point group.

``eren/demo-reader`` (:data:`DEMO_READER`): a small WordPiece GQA transformer trained from scratch by
``tools/train_demo_reader.py`` on invented notes to read EREN's prompts (answer from a matching note, otherwise
abstain); see the card ``demo-reader/README.md``. Load it with ``get_backend("hf", model="eren/demo-reader")`` or
``eren ask --backend demo``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_READER", "DEMO_READER_NAME"]

DEMO_READER_NAME = "eren/demo-reader"
DEMO_READER = Path(__file__).resolve().parent / "demo-reader"
