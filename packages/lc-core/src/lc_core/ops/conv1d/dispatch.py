"""Backend choice for the causal depthwise conv1d: the ``causal_conv1d`` CUDA package or torch.

``causal_conv1d`` / ``causal_conv1d_update`` use the package when it is installed and the input is on CUDA (and
``LC_FORCE_NAIVE`` is off), otherwise the torch versions in ``torch_conv.py``.
"""

from __future__ import annotations

import importlib.util

import torch

from lc_core import env
from lc_core.ops.conv1d.torch_conv import causal_conv1d_torch, causal_conv1d_update_torch

__all__ = ["causal_conv1d", "causal_conv1d_update", "has_causal_conv1d_package"]


def has_causal_conv1d_package() -> bool:
    """True when the optional ``causal_conv1d`` CUDA package is importable."""
    return importlib.util.find_spec("causal_conv1d") is not None


def _use_package(x: torch.Tensor, backend: str) -> bool:
    if backend == "torch":
        return False
    if backend == "causal_conv1d":
        return True
    if backend != "auto":
        raise ValueError(f"backend must be 'auto', 'torch' or 'causal_conv1d', got {backend!r}")
    return x.is_cuda and not env.force_naive() and has_causal_conv1d_package()


def causal_conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    initial_state: torch.Tensor | None = None,
    activation: str | None = None,
    seq_idx: torch.Tensor | None = None,
    *,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal depthwise conv1d; see :func:`causal_conv1d_torch` for arguments and returns.

    Args:
        backend: ``"auto"`` (package on CUDA, else torch), ``"torch"`` or ``"causal_conv1d"``. Calls with
            ``seq_idx`` always use torch (the package cannot combine document ids with a carried state).
    """
    if seq_idx is not None or not _use_package(x, backend):
        return causal_conv1d_torch(x, weight, bias, initial_state, activation, seq_idx)
    from causal_conv1d import causal_conv1d_fn

    width = weight.shape[-1]
    # the package wants channel-last memory for initial states; [B, T, D] transposed to [B, D, T] is channel-last
    xt = x.transpose(1, 2)
    init = None if initial_state is None else initial_state.transpose(1, 2).contiguous().transpose(1, 2)
    y, final = causal_conv1d_fn(xt, weight, bias, initial_states=init, return_final_states=True, activation=activation)
    if final.shape[-1] != width - 1:
        final = final[..., -(width - 1) :]
    return y.transpose(1, 2), final


def causal_conv1d_update(
    x: torch.Tensor,
    conv_state: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    *,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One decode step; see :func:`causal_conv1d_update_torch`. The CUDA package path updates a copy."""
    if not _use_package(x, backend):
        return causal_conv1d_update_torch(x, conv_state, weight, bias, activation)
    from causal_conv1d import causal_conv1d_update as _update

    # the package keeps K columns and updates them in place; give it a fresh K-column buffer
    state = torch.cat([conv_state, conv_state.new_zeros(conv_state.shape[:2] + (1,))], dim=2)
    state = torch.cat([state[:, :, -1:], state[:, :, :-1]], dim=2)
    y = _update(x, state, weight, bias, activation)
    return y, state[:, :, 1:]
