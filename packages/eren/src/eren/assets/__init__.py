"""Models shipped inside the eren wheel, registered by name through the ``lc_core.models`` entry-point group.

``eren/demo-reader`` (:data:`DEMO_READER`): the place of a small byte-level GQA transformer that
``tools/train_demo_reader.py`` trains on invented notes to read EREN's prompts (answer from a matching note, otherwise
abstain). **Not shipped yet** (the recipe does not learn the reading decision; see the eren README, "Demo reader"), so
the folder is absent and the name is not registered; ``eren ask --backend demo`` then answers with a one-line error.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_READER", "DEMO_READER_NAME"]

DEMO_READER_NAME = "eren/demo-reader"
DEMO_READER = Path(__file__).resolve().parent / "demo-reader"
