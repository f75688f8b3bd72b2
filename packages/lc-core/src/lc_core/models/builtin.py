"""Models shipped inside the lc-core wheel, addressable by name without network.

``resolve_model_path("lc-core/demo-mamba2")`` returns the folder of the embedded demo model; any other
string is returned unchanged (a local path or a hub id the user's own transformers install resolves).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_MODELS", "resolve_model_path", "is_builtin"]

_ASSETS = Path(__file__).resolve().parent.parent / "assets"

# name -> folder under lc_core/assets
BUILTIN_MODELS: dict[str, str] = {
    "lc-core/demo-mamba2": "demo-mamba2",
}


def is_builtin(name: str) -> bool:
    return name in BUILTIN_MODELS


def resolve_model_path(name: str) -> str:
    """Map a built-in model name to its packaged folder; other names pass through unchanged.

    Raises:
        FileNotFoundError: a built-in name whose files are missing from this install.
    """
    if name not in BUILTIN_MODELS:
        return name
    path = _ASSETS / BUILTIN_MODELS[name]
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"built-in model {name!r} is not in this install (expected {path}/config.json)")
    return str(path)
