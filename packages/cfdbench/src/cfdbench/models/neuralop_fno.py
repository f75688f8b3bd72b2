"""neuraloperator's FNO as a cross-check of our reference FNO and as an extra baseline (needs ``cfdbench[neuralop]``).

* :func:`to_neuralop` builds a stock ``neuralop.models.FNO`` (neuraloperator 2.x) laid out like our
  :class:`~cfdbench.models.fno.Fno2d` (spec §3.1) and copies the weights into it; :func:`reference_forward` on it
  computes the same function as ours (to float rounding; the tests hold it to 1e-5 relative RMS, outputs and gradients).
* :class:`NeuralopFno` puts such an FNO behind the autoregressive contract
  ``(inputs [B, 2, H, W], case_params [B, p], mask [B, 1, H, W]) -> [B, 2, H, W]``, so it trains as
  ``cfdbench train --model neuralop_fno``.

How the two parametrisations map (read from neuraloperator 2.0 ``layers/spectral_convolution.py``, ``fno_block.py``):

* Kept modes. Ours multiplies rows ``[:m_x]`` and ``[-m_x:]`` (frequencies ``-m_x .. m_x-1``) and rfft columns
  ``[:m_y]``. neuraloperator fft-shifts every dimension except the rfft one and keeps ``n_modes[0]`` *centred* rows and
  ``n_modes[-1] // 2 + 1`` rfft columns, so ``n_modes = (2 m_x, 2 m_y - 2)`` keeps exactly our set.
* Spectral weights. Its dense weight ``[C_in, C_out, 2 m_x, m_y]`` runs over frequencies ``-m_x .. m_x-1`` in shifted
  order, i.e. ``cat([weights2, weights1], dim=2)`` of ours. The FFT normalisation differs (``forward`` vs ``backward``)
  but the product of forward and inverse scaling is the same.
* Bias. Its ``linear`` skip is a bias-free 1x1 conv and the spectral conv carries the bias; ours is the reverse. The
  sum ``spectral(x) + skip(x)`` is the same, so our bypass bias becomes its spectral bias.
* Lift/projection. ``lifting_channel_ratio=0`` gives a single 1x1 lift; the projection is ``1x1 -> GELU -> 1x1`` with
  ``projection / hidden`` as the ratio. No channel MLP in the blocks, no normalisation, no domain padding.

What stock neuraloperator 2.0 cannot express, and the minimal wrapping we add:

* Activations. ``FNOBlocks`` with ``use_channel_mlp=False`` applies GELU *twice* after every Fourier layer but the last
  (its second activation belongs after the channel MLP; neuraloperator issue #728, fix proposed in PR #729) and none
  after the last, where the reference (as the original) applies one after every layer. :func:`reference_forward` runs
  the FNO's own lifting, ``SpectralConv``, skip and projection modules with the reference placement; the stock
  ``FNO.forward`` stays available (``activations="neuralop"``) as the peer baseline as shipped.
* Inputs. Its ``"grid"`` positional embedding is the periodic ``linspace(0, 1, n + 1)[:-1]`` and goes last; the
  reference grid is ``linspace(0, 1, n)`` placed before the parameter planes. So the FNO gets
  ``positional_embedding=None`` and :func:`fno_input` builds the reference input channels ``(u, v, mask, x, y,
  params)``; the output mask is ours too.
* Shapes. Equivalence holds for even ``H`` with ``H >= 2 m_x`` and ``W // 2 + 1 >= m_y`` (the CFDBench shapes 64x64
  and 66x65). For odd ``H`` neuraloperator 2.0 applies ``fftshift`` again before the inverse FFT (not ``ifftshift``),
  which moves every kept row frequency by one; on grids smaller than the modes the two clamp the mode set differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from cfdbench.models.base import AutoModel, param_planes
from cfdbench.models.fno import Fno2d, FnoConfig

if TYPE_CHECKING:
    from neuralop.models import FNO

__all__ = [
    "NeuralopFnoConfig",
    "NeuralopFno",
    "build_neuralop_fno",
    "to_neuralop",
    "reference_forward",
    "fno_input",
    "neuralop_available",
]

INSTALL_HINT = 'pip install "cfdbench[neuralop]"'

# FNO arguments fixed by the mapping; fno_kwargs may not override them
_MAPPED_KEYS = {
    "n_modes",
    "in_channels",
    "out_channels",
    "hidden_channels",
    "n_layers",
    "lifting_channel_ratio",
    "projection_channel_ratio",
    "positional_embedding",
}
# FNO arguments that only change how the spectral weights are stored, so reference_forward stays valid
_SPECTRAL_KEYS = {"factorization", "rank", "implementation", "fixed_rank_modes", "decomposition_kwargs"}


def neuralop_available() -> bool:
    """True when ``neuralop`` can be found (without importing it: the import takes seconds)."""
    from importlib.util import find_spec

    return find_spec("neuralop") is not None


def _fno_class() -> type[FNO]:
    try:
        from neuralop.models import FNO
    except ImportError as e:
        raise ImportError(f"the neuralop_fno model needs neuraloperator: {INSTALL_HINT}") from e
    return FNO


@dataclass(kw_only=True)
class NeuralopFnoConfig(FnoConfig):
    """The fields and defaults of :class:`~cfdbench.models.fno.FnoConfig` (1,188,706 parameters for p = 5) plus two.

    Attributes:
        n_params: case parameters p.
        hidden: channels of the Fourier layers.
        depth: Fourier layers.
        modes_x: kept row frequencies on each side (``-modes_x .. modes_x-1``).
        modes_y: kept rfft column frequencies (``0 .. modes_y-1``).
        projection: hidden width of the projection.
        out_channels: predicted fields (u, v).
        activations: ``reference`` (one GELU after every Fourier layer, as the reference FNO; see
            :func:`reference_forward`) or ``neuralop`` (the stock ``FNO.forward`` of the installed neuraloperator).
        fno_kwargs: further ``neuralop.models.FNO`` arguments. With ``activations="reference"`` only the spectral-weight
            options ``factorization``, ``rank``, ``implementation``, ``fixed_rank_modes`` and ``decomposition_kwargs``
            (e.g. ``{"factorization": "tucker", "rank": 0.1}`` for a TFNO); with ``activations="neuralop"`` any of
            them (channel MLP, norms, ``domain_padding``, ...). Any of them breaks the equivalence with the reference.
    """

    activations: str = "reference"
    fno_kwargs: dict[str, Any] = field(default_factory=dict)


def build_neuralop_fno(cfg: NeuralopFnoConfig) -> FNO:
    """A freshly initialised ``neuralop.models.FNO`` laid out like the reference FNO of ``cfg``.

    Raises:
        ImportError: neuraloperator is not installed.
        ValueError: an unknown ``activations``; ``fno_kwargs`` overrides a mapped argument or changes the block
            structure under ``activations="reference"``; or the installed neuraloperator lays weights out differently
            from 2.x.
    """
    if cfg.activations not in ("reference", "neuralop"):
        raise ValueError(f"activations must be 'reference' or 'neuralop', got {cfg.activations!r}")
    clash = _MAPPED_KEYS & set(cfg.fno_kwargs)
    if clash:
        raise ValueError(f"fno_kwargs may not set {sorted(clash)}: they follow from the config fields")
    if cfg.activations == "reference":
        bad = set(cfg.fno_kwargs) - _SPECTRAL_KEYS
        if bad:
            raise ValueError(
                f"fno_kwargs {sorted(bad)} change the block structure, which reference_forward does not run; "
                f"use activations='neuralop' (allowed here: {sorted(_SPECTRAL_KEYS)})"
            )
    fno_cls = _fno_class()
    kwargs: dict[str, Any] = {"use_channel_mlp": False, "fno_skip": "linear", "norm": None, **cfg.fno_kwargs}
    fno = fno_cls(
        n_modes=(2 * cfg.modes_x, 2 * cfg.modes_y - 2),
        in_channels=5 + cfg.n_params,
        out_channels=cfg.out_channels,
        hidden_channels=cfg.hidden,
        n_layers=cfg.depth,
        lifting_channel_ratio=0,
        # FNO takes int(ratio * hidden); the half keeps float rounding from landing one below (e.g. 15 / 11 * 11)
        projection_channel_ratio=(cfg.projection + 0.5) / cfg.hidden,
        positional_embedding=None,
        **kwargs,
    )
    if fno.projection_channels != cfg.projection:
        raise ValueError(f"neuraloperator built a projection of width {fno.projection_channels}, not {cfg.projection}")
    if not cfg.fno_kwargs.get("factorization"):
        shape = tuple(fno.fno_blocks.convs[0].weight.shape)
        if shape != (cfg.hidden, cfg.hidden, 2 * cfg.modes_x, cfg.modes_y):
            raise ValueError(f"unexpected spectral weight shape {shape}; the mapping targets neuraloperator 2.x")
    return fno


def reference_forward(fno: FNO, x: torch.Tensor) -> torch.Tensor:
    """Run ``fno``'s own modules with the reference activation placement.

    ``lifting -> [act(SpectralConv(x) + skip(x))] x n_layers -> projection``: one activation after every Fourier layer,
    including the last (stock neuraloperator 2.0 applies two between layers and none after the last).

    Args:
        fno: an FNO built by :func:`build_neuralop_fno` (no channel MLP, no norm, no domain padding).
        x: ``[B, C_in, H, W]`` input channels (:func:`fno_input`).

    Returns:
        ``[B, C_out, H, W]``, unmasked.
    """
    blocks = fno.fno_blocks
    x = fno.lifting(x)
    for conv, skip in zip(blocks.convs, blocks.fno_skips):
        x = blocks.non_linearity(conv(x) + skip(x))
    return fno.projection(x)


def fno_input(inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The reference FNO's input channels.

    Args:
        inputs: ``[B, 2, H, W]`` (u, v).
        case_params: ``[B, p]``.
        mask: ``[B, 1, H, W]``.

    Returns:
        ``[B, 5 + p, H, W]``: ``(u, v, mask, x, y, params)`` with ``x, y = linspace(0, 1)`` along W and H.
    """
    b, _, h, w = inputs.shape
    gy = torch.linspace(0, 1, h, device=inputs.device, dtype=inputs.dtype)[None, None, :, None].expand(b, 1, h, w)
    gx = torch.linspace(0, 1, w, device=inputs.device, dtype=inputs.dtype)[None, None, None, :].expand(b, 1, h, w)
    return torch.cat([inputs, mask, gx, gy, param_planes(case_params, h, w)], dim=1)


@torch.no_grad()
def _copy_reference_weights(fno: FNO, model: Fno2d) -> None:
    fno.lifting.fcs[0].weight.copy_(model.lift.weight[..., 0])
    fno.lifting.fcs[0].bias.copy_(model.lift.bias)
    for conv, skip, spec, byp in zip(fno.fno_blocks.convs, fno.fno_blocks.fno_skips, model.spectral, model.bypass):
        # fft-shifted row order: negative frequencies (our second corner block) first
        conv.weight.tensor.copy_(torch.cat([spec.weights2, spec.weights1], dim=2))
        conv.bias.copy_(byp.bias[:, None, None])
        skip.conv.weight.copy_(byp.weight[..., 0])
    fno.projection.fcs[0].weight.copy_(model.proj1.weight[..., 0])
    fno.projection.fcs[0].bias.copy_(model.proj1.bias)
    fno.projection.fcs[1].weight.copy_(model.proj2.weight[..., 0])
    fno.projection.fcs[1].bias.copy_(model.proj2.bias)


def _reference_config(model: Fno2d) -> NeuralopFnoConfig:
    c = model.cfg
    return NeuralopFnoConfig(
        n_params=c.n_params,
        hidden=c.hidden,
        depth=c.depth,
        modes_x=c.modes_x,
        modes_y=c.modes_y,
        projection=c.projection,
        out_channels=c.out_channels,
    )


def to_neuralop(model: Fno2d) -> FNO:
    """A stock ``neuralop.models.FNO`` laid out like ``model``, with ``model``'s weights copied in.

    ``reference_forward(fno, fno_input(inputs, case_params, mask)) * mask`` equals ``model(inputs, case_params, mask)``
    (:meth:`NeuralopFno.from_reference` does exactly that); ``fno(...)`` itself runs neuraloperator's own activation
    placement (see the module docstring).

    Args:
        model: our reference FNO.

    Returns:
        An FNO on ``model``'s device, in its training mode, with independent (copied) parameters.
    """
    fno = build_neuralop_fno(_reference_config(model)).to(model.lift.weight.device)
    _copy_reference_weights(fno, model)
    return fno.train(model.training)


class NeuralopFno(AutoModel):
    """neuraloperator's FNO behind the CFDBench autoregressive contract: reference input channels in, masked output out.

    With the default config it has the reference FNO's 1,188,706 parameters (p = 5) and, with copied weights
    (:meth:`from_reference`), the same outputs and gradients; trained from scratch it starts from neuraloperator's own
    initialisation (normal, std ``sqrt(2 / (C_in + C_out))``) rather than the reference's uniform one.
    """

    def __init__(self, cfg: NeuralopFnoConfig):
        super().__init__()
        self.cfg = cfg
        self.out_channels = cfg.out_channels
        self.fno = build_neuralop_fno(cfg)

    @classmethod
    def from_reference(cls, model: Fno2d) -> NeuralopFno:
        """The wrapper around :func:`to_neuralop` of ``model``: it predicts what ``model`` predicts."""
        out = cls(_reference_config(model)).to(model.lift.weight.device)
        _copy_reference_weights(out.fno, model)
        return out.train(model.training)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Tensors only, so checkpoints load with ``torch.load(weights_only=True)``.

        neuraloperator's ``BaseModel.state_dict`` adds a ``_metadata`` entry holding the init arguments (functions such
        as ``F.gelu`` among them), which the weights-only unpickler rejects and ``load_state_dict`` would not expect.
        """
        state = super().state_dict(*args, **kwargs)
        state.pop("_metadata", None)
        return state

    def forward(self, inputs: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: inputs ``[B, 2, H, W]``, case_params ``[B, p]``, mask ``[B, 1, H, W]``. Returns ``[B, C_out, H, W]``."""
        x = fno_input(inputs, case_params, mask)
        out = reference_forward(self.fno, x) if self.cfg.activations == "reference" else self.fno(x)
        return out * mask
