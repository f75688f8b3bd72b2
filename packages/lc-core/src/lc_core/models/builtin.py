"""Models shipped inside wheels, addressable by name without network.

``resolve_model_path("lc-core/demo-mamba2")`` returns the folder of the embedded demo model; any other
string is returned unchanged (a local path or a hub id the user's own transformers install resolves).

Other packages ship models the same way through the ``lc_core.models`` entry-point group: the entry's name is
the model name and its object a folder path (``str`` or ``Path``)::

    [project.entry-points."lc_core.models"]
    "eren/demo-reader" = "eren.assets:DEMO_READER"

so ``--model eren/demo-reader`` works in every lc-core backend and CLI once that package is installed.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

__all__ = ["BUILTIN_MODELS", "resolve_model_path", "is_builtin", "builtin_models"]

ENTRY_POINT_GROUP = "lc_core.models"

_ASSETS = Path(__file__).resolve().parent.parent / "assets"

# name -> folder under lc_core/assets
BUILTIN_MODELS: dict[str, str] = {
    "lc-core/demo-mamba2": "demo-mamba2",
}


def _plugin_entries() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def builtin_models() -> list[str]:
    """Every model name that resolves offline in this install (lc-core's and installed packages')."""
    return sorted({*BUILTIN_MODELS, *_plugin_entries()})


def is_builtin(name: str) -> bool:
    return name in BUILTIN_MODELS or name in _plugin_entries()


def resolve_model_path(name: str) -> str:
    """Map a built-in model name to its packaged folder; other names pass through unchanged.

    Raises:
        FileNotFoundError: a built-in name whose files are missing from this install.
    """
    if name in BUILTIN_MODELS:
        path = _ASSETS / BUILTIN_MODELS[name]
    else:
        ep = _plugin_entries().get(name)
        if ep is None:
            return name
        path = Path(os.fspath(ep.load()))  # type: ignore[attr-defined]
    if not (path / "config.json").is_file() and not (path / "tokenizer_config.json").is_file():
        raise FileNotFoundError(f"built-in model {name!r} is not in this install (expected {path}/config.json)")
    return str(path)
