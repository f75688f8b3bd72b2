"""The nine CFDBench baselines plus the identity baseline, built by name with the reference configs.

Example::

    from cfdbench.models import build_model

    model = build_model("fno", n_params=5, height=64, width=64)   # 1,188,706 parameters

``MODELS`` is the paper's set; ``EXTRA_MODELS`` adds baselines from optional extras when they are installed
(``neuralop_fno``: neuraloperator's FNO, ``pip install "cfdbench[neuralop]"``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from cfdbench.config import NONAUTO_MODELS
from cfdbench.models.auto_deeponet import AutoDeepONet, AutoDeepONetConfig, AutoEDeepONet, AutoEDeepONetConfig
from cfdbench.models.auto_deeponet_cnn import AutoDeepONetCnn, AutoDeepONetCnnConfig
from cfdbench.models.auto_ffn import AutoFfn, AutoFfnConfig
from cfdbench.models.base import AutoModel, NonAutoModel, count_params
from cfdbench.models.deeponet import DeepONet, DeepONetConfig
from cfdbench.models.ffn import FfnConfig, FfnModel
from cfdbench.models.fno import Fno2d, FnoConfig
from cfdbench.models.identity import Identity, IdentityConfig
from cfdbench.models.neuralop_fno import INSTALL_HINT, NeuralopFno, NeuralopFnoConfig, neuralop_available
from cfdbench.models.resnet import ResNet, ResNetConfig
from cfdbench.models.unet import UNet, UNetConfig
from lc_core.io import check_fields

__all__ = [
    "MODELS",
    "EXTRA_MODELS",
    "AUTO_MODELS",
    "NONAUTO_MODELS",
    "build_model",
    "model_config",
    "AutoModel",
    "NonAutoModel",
    "count_params",
]

# name -> (model class, config class)
MODELS: dict[str, tuple[type[nn.Module], type]] = {
    "ffn": (FfnModel, FfnConfig),
    "deeponet": (DeepONet, DeepONetConfig),
    "auto_ffn": (AutoFfn, AutoFfnConfig),
    "auto_deeponet": (AutoDeepONet, AutoDeepONetConfig),
    "auto_edeeponet": (AutoEDeepONet, AutoEDeepONetConfig),
    "auto_deeponet_cnn": (AutoDeepONetCnn, AutoDeepONetCnnConfig),
    "resnet": (ResNet, ResNetConfig),
    "unet": (UNet, UNetConfig),
    "fno": (Fno2d, FnoConfig),
    "identity": (Identity, IdentityConfig),
}
AUTO_MODELS = tuple(m for m in MODELS if m not in NONAUTO_MODELS)

# baselines beyond the paper's nine, present only when their optional dependency is installed (found without importing
# it, which takes seconds); autoregressive, and kept out of MODELS so the paper's tables and sweeps are unchanged
EXTRA_MODELS: dict[str, tuple[type[nn.Module], type]] = {}
if neuralop_available():
    EXTRA_MODELS["neuralop_fno"] = (NeuralopFno, NeuralopFnoConfig)
_EXTRA_INSTALL = {"neuralop_fno": INSTALL_HINT}


def _registry(name: str) -> tuple[type[nn.Module], type]:
    if name in MODELS:
        return MODELS[name]
    if name in EXTRA_MODELS:
        return EXTRA_MODELS[name]
    if name in _EXTRA_INSTALL:
        raise ImportError(f"model {name!r} needs an optional dependency: {_EXTRA_INSTALL[name]}")
    raise ValueError(f"unknown model {name!r}; expected one of {sorted({*MODELS, *EXTRA_MODELS})}")


def model_config(name: str, *, n_params: int = 5, height: int = 64, width: int = 64, **overrides: Any) -> Any:
    """The reference config of ``name`` for a given input shape, with ``overrides`` applied.

    Raises:
        DataError: an override that is not a field of the model's config (naming it and the closest field).
    """
    cfg_cls = _registry(name)[1]
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    kw: dict[str, Any] = {"n_params": n_params}
    if "height" in fields:
        kw.update(height=height, width=width)
    check_fields(overrides, fields, what=f"{name} config field")
    kw.update(overrides)
    return cfg_cls(**kw)


def build_model(name: str, *, n_params: int = 5, height: int = 64, width: int = 64, **overrides: Any) -> nn.Module:
    """Instantiate a baseline by its original CLI name (``fno``, ``unet``, ``auto_deeponet``, ...)."""
    cfg = model_config(name, n_params=n_params, height=height, width=width, **overrides)
    return _registry(name)[0](cfg)
