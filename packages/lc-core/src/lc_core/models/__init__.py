"""Model code: the GQA transformer (``lc_core.models.gqa``) and Mamba-2 (``lc_core.models.mamba2``).

Importing a model subpackage registers its config and model with transformers' Auto classes
(``model_type`` ``lc-gqa`` / ``lc-mamba2``). :func:`register_all` imports every one that exists, so
``AutoModelForCausalLM.from_pretrained`` can load any lc model; it needs the ``torch`` extra.
"""

from __future__ import annotations

import importlib

__all__ = ["register_all", "MODEL_MODULES"]

MODEL_MODULES = ("lc_core.models.gqa", "lc_core.models.mamba2")


def register_all() -> list[str]:
    """Import every model subpackage (registering its Auto classes); returns the ones loaded."""
    loaded = []
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            # a model subpackage not present in this build is fine; a missing dependency inside one is not
            if e.name == name:
                continue
            raise
        loaded.append(name)
    return loaded
