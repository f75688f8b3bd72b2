"""Capture of the FFN intermediate and sparse-forward patching on gated MLPs.

Works on any module tree whose MLPs have ``up_proj`` and ``down_proj`` linears (and ``gate_proj`` when gated): HF
Llama / Mistral / Qwen2 / MiniCPM-style MLPs and lc-core GQA models (gated or plain). The intermediate
``a = σ(W_gate x) ⊙ (W_in x)`` (or ``σ(W_in x)`` when plain) is the input of ``down_proj``, read and replaced by a
forward pre-hook on it; the gate output ``s = σ(W_gate x)`` used by Top-k / FAT / zero is read by a forward hook on
``mlp.act_fn`` (an ``nn.Module`` in both families). Hooks run on whatever device the layer sits on, so CPU, CUDA
and ``device_map="auto"`` models work alike; statistics are stored in float32 on ``store_device``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["MLPSite", "find_mlps", "Capture", "capture", "sparse_forward", "SparseState"]


@dataclass
class MLPSite:
    """One FFN: its qualified name, module, ``down_proj`` and (when hookable) ``act_fn``."""

    name: str
    mlp: nn.Module
    down_proj: nn.Linear
    act_fn: nn.Module | None
    gated: bool


def find_mlps(model: nn.Module) -> list[MLPSite]:
    """Every gated or plain MLP (``up_proj`` + ``down_proj`` linears) in module order.

    Raises:
        ValueError: the model has none (not a Llama-style or lc-core GQA model).
    """
    sites = []
    for name, mod in model.named_modules():
        down, up = getattr(mod, "down_proj", None), getattr(mod, "up_proj", None)
        if isinstance(down, nn.Linear) and isinstance(up, nn.Linear):
            act = getattr(mod, "act_fn", None)
            gated = isinstance(getattr(mod, "gate_proj", None), nn.Linear)
            sites.append(MLPSite(name, mod, down, act if isinstance(act, nn.Module) else None, gated))
    if not sites:
        raise ValueError(f"{type(model).__name__} has no MLP with up_proj/down_proj linears (Llama-style or lc-core GQA)")
    return sites


def _flat_valid(x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """``[B, T, d]`` -> ``[m, d]`` keeping positions where ``valid`` (``[B, T]``) is true."""
    if valid is None:
        return x.reshape(-1, x.shape[-1])
    return x[valid.to(x.device).bool()]


@dataclass
class Capture:
    """Dense statistics of one forward: per layer the valid-token intermediate ``a`` and gate output ``s``."""

    intermediate: list[list[torch.Tensor]] = field(default_factory=list)
    gate: list[list[torch.Tensor]] = field(default_factory=list)

    def layer_intermediate(self, i: int) -> torch.Tensor:
        """``[m, d_f]`` of layer ``i`` over every captured forward."""
        return torch.cat(self.intermediate[i])


@contextlib.contextmanager
def capture(
    model: nn.Module,
    valid: torch.Tensor | None = None,
    *,
    gate: bool = False,
    store_device: str | torch.device = "cpu",
    sites: list[MLPSite] | None = None,
) -> Iterator[Capture]:
    """Record the FFN intermediate of every layer during the forwards run inside the block.

    Args:
        model: the model.
        valid: ``[B, T]`` attention mask of the batch that will be run (padding excluded); ``None`` keeps all.
            A callable returning the mask is also accepted (for several batches).
        gate: also record ``σ(W_gate x)``.
        store_device: where the float32 copies go.
        sites: precomputed :func:`find_mlps` result.
    """
    sites = sites if sites is not None else find_mlps(model)
    cap = Capture([[] for _ in sites], [[] for _ in sites])
    handles = []

    def mask() -> torch.Tensor | None:
        return valid() if callable(valid) else valid

    for i, site in enumerate(sites):

        def pre(_mod: nn.Module, args: tuple[Any, ...], i: int = i) -> None:
            cap.intermediate[i].append(_flat_valid(args[0].detach(), mask()).float().to(store_device))

        handles.append(site.down_proj.register_forward_pre_hook(pre))
        if gate:
            if site.act_fn is None:
                raise ValueError(f"{site.name} has no act_fn module to read the gate output from")

            def post(_mod: nn.Module, _args: tuple[Any, ...], out: torch.Tensor, i: int = i) -> None:
                cap.gate[i].append(_flat_valid(out.detach(), mask()).float().to(store_device))

            handles.append(site.act_fn.register_forward_hook(post))
    try:
        yield cap
    finally:
        for h in handles:
            h.remove()


@dataclass
class SparseState:
    """What :func:`sparse_forward` recorded: per layer the ``[B, T]`` fraction of neurons kept, per forward."""

    activation: list[list[torch.Tensor]] = field(default_factory=list)

    def per_layer(self, forward: int = -1) -> torch.Tensor:
        """``[L, B, T]`` activation ratios of one forward (default: the last)."""
        return torch.stack([layer[forward] for layer in self.activation])


# a keep-mask rule: (layer index, intermediate a [B, T, d_f], gate output s [B, T, d_f] or None) -> bool [B, T, d_f]
MaskFn = Callable[[int, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


@contextlib.contextmanager
def sparse_forward(
    model: nn.Module, mask_fn: MaskFn, *, needs_gate: bool = False, sites: list[MLPSite] | None = None
) -> Iterator[SparseState]:
    """Patch every MLP so that ``down_proj`` sees ``a · keep`` with ``keep = mask_fn(layer, a, s)``.

    The per-token fraction of kept neurons is recorded per layer (``SparseState``). Hooks are removed on exit.
    """
    sites = sites if sites is not None else find_mlps(model)
    state = SparseState([[] for _ in sites])
    gates: dict[int, torch.Tensor] = {}
    handles = []
    for i, site in enumerate(sites):
        if needs_gate:
            if site.act_fn is None:
                raise ValueError(f"{site.name} has no act_fn module to read the gate output from")

            def post(_mod: nn.Module, _args: tuple[Any, ...], out: torch.Tensor, i: int = i) -> None:
                gates[i] = out.detach()

            handles.append(site.act_fn.register_forward_hook(post))

        def pre(_mod: nn.Module, args: tuple[Any, ...], i: int = i) -> tuple[torch.Tensor, ...]:
            a = args[0]
            keep = mask_fn(i, a, gates.pop(i, None))
            state.activation[i].append(keep.float().mean(dim=-1).cpu())
            return (a * keep.to(a.dtype), *args[1:])

        handles.append(site.down_proj.register_forward_pre_hook(pre))
    try:
        yield state
    finally:
        for h in handles:
            h.remove()
