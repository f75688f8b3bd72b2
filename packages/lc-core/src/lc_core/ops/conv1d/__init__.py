"""Causal depthwise conv1d with an explicit carry state (Mamba-2's short convolution).

This module only re-exports (fla style): the plain reference is ``naive.py``, the torch version
``torch_conv.py`` and the backend choice (``causal_conv1d``, ``causal_conv1d_update``: the ``causal_conv1d``
CUDA package on CUDA when installed, else torch) ``dispatch.py``.
Layout: ``x [B, T, D]``, ``weight [D, K]``, state ``[B, D, K - 1]`` (the last ``K - 1`` inputs, oldest first).
"""

from lc_core.ops.conv1d.dispatch import causal_conv1d, causal_conv1d_update, has_causal_conv1d_package
from lc_core.ops.conv1d.naive import naive_causal_conv1d
from lc_core.ops.conv1d.torch_conv import causal_conv1d_torch, causal_conv1d_update_torch

__all__ = [
    "causal_conv1d",
    "causal_conv1d_update",
    "causal_conv1d_torch",
    "causal_conv1d_update_torch",
    "naive_causal_conv1d",
    "has_causal_conv1d_package",
]
