"""Demo models shipped in the wheel, registered as ``sparsing-law/demo-relu`` / ``sparsing-law/demo-silu``
through lc-core's ``lc_core.models`` entry-point group (``lc_core.models.builtin.resolve_model_path``)."""

from pathlib import Path

_HERE = Path(__file__).resolve().parent

DEMO_RELU = _HERE / "demo-relu"
DEMO_SILU = _HERE / "demo-silu"

__all__ = ["DEMO_RELU", "DEMO_SILU"]
