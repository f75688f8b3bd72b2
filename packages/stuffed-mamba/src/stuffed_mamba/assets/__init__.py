"""Files shipped with stuffed-mamba.

- ``DEMO_MAMBA2_LONG``: folder of ``stuffed-mamba/demo-mamba2-long``, ``lc-core/demo-mamba2`` continued for 29.4 min
  on one CPU core with ``train-long --packing whole --bptt full --fit-schedule`` (card: its README.md).
  Registered in the ``lc_core.models`` entry-point group, so ``--model stuffed-mamba/demo-mamba2-long`` resolves
  offline in every lc-core backend and CLI.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS", "DEMO_MAMBA2_LONG"]

ASSETS = Path(__file__).resolve().parent
DEMO_MAMBA2_LONG = ASSETS / "demo-mamba2-long"
