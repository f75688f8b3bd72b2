"""Token-by-token reference of the Mamba-2 SSD recurrence (the ground truth every kernel is tested against).

Per head ``h`` (group ``g = h // (H // G)``)::

    h_t = exp(dt_t * A_h) * h_{t-1} + dt_t * x_t ⊗ B_t        # state [P, N]
    y_t = h_t @ C_t + D_h * x_t                               # [P]

The loop runs in fp64 when ``x`` is fp64 and in fp32 otherwise, and casts ``y`` back to ``x.dtype``.
"""

from __future__ import annotations

import torch

__all__ = ["naive_recurrent_ssd", "naive_ssd_state_update", "compute_dtype", "expand_groups", "segment_ids"]


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """fp64 for fp64 inputs, fp32 for everything else (fp32, bf16, fp16)."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def expand_groups(t: torch.Tensor, nheads: int, dim: int) -> torch.Tensor:
    """Repeat the group axis ``dim`` of ``t`` so that head ``h`` sees group ``h // (nheads // G)``.

    Args:
        t: tensor with ``G`` groups on axis ``dim`` (e.g. ``B_ [B, T, G, N]``).
        nheads: number of heads ``H``; must be a multiple of ``G``.
        dim: the group axis.

    Returns:
        ``t`` with ``H`` entries on axis ``dim``.
    """
    ngroups = t.shape[dim]
    if nheads % ngroups != 0:
        raise ValueError(f"nheads={nheads} is not a multiple of ngroups={ngroups}")
    if ngroups == nheads:
        return t
    return t.repeat_interleave(nheads // ngroups, dim=dim)


def segment_ids(seq_idx: torch.Tensor) -> torch.Tensor:
    """Turn document ids ``[B, T]`` into segment ids that start at 0 and grow by 1 at every change.

    A change of ``seq_idx`` between two neighbouring tokens starts a new segment, so ``0, 1, 0`` is three
    segments (the state resets twice) rather than two interleaved documents.
    """
    change = torch.zeros_like(seq_idx, dtype=torch.long)
    change[:, 1:] = (seq_idx[:, 1:] != seq_idx[:, :-1]).long()
    return change.cumsum(dim=1)


def _check_shapes(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"x must be [B, T, H, P], got shape {tuple(x.shape)}")
    b, t, h, _ = x.shape
    if tuple(dt.shape) != (b, t, h):
        raise ValueError(f"dt must be [B, T, H] = {(b, t, h)}, got {tuple(dt.shape)}")
    if tuple(A.shape) != (h,):
        raise ValueError(f"A must be [H] = ({h},), got {tuple(A.shape)}")
    if B.dim() != 4 or B.shape[:2] != (b, t) or B.shape != C.shape:
        raise ValueError(f"B and C must both be [B, T, G, N] with B={b}, T={t}; got {tuple(B.shape)} and {tuple(C.shape)}")
    if h % B.shape[2] != 0:
        raise ValueError(f"nheads H={h} must be a multiple of ngroups G={B.shape[2]}")


def naive_recurrent_ssd(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    initial_state: torch.Tensor | None = None,
    seq_idx: torch.Tensor | None = None,
    *,
    log_decay_offset: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the SSD recurrence one token at a time.

    Args:
        x: inputs ``[B, T, H, P]``.
        dt: discretised step ``Δ >= 0`` ``[B, T, H]`` (softplus and clamp already applied).
        A: negative decay rates ``[H]``.
        B: input projections ``[B, T, G, N]``.
        C: output projections ``[B, T, G, N]``.
        D: skip weights ``[H]`` or None.
        initial_state: state before the first token ``[B, H, P, N]`` or None (zeros).
        seq_idx: document ids ``[B, T]`` or None; the state resets to zero wherever the id changes.
        log_decay_offset: optional ``[H]`` added to ``dt * A`` (decay ``alpha_t * exp(o_h)``); an lc
            extension used by Stuffed-Mamba's alpha scaling, not part of the shared kernel contract.

    Returns:
        ``(y, final_state)``: ``y [B, T, H, P]`` in ``x.dtype`` and the state after the last token
        ``[B, H, P, N]`` in fp32 (fp64 for fp64 inputs).
    """
    _check_shapes(x, dt, A, B, C)
    bsz, seqlen, nheads, headdim = x.shape
    dstate = B.shape[-1]
    cdt = compute_dtype(x)
    xf, dtf, Af = x.to(cdt), dt.to(cdt), A.to(cdt)
    Bf = expand_groups(B.to(cdt), nheads, dim=2)
    Cf = expand_groups(C.to(cdt), nheads, dim=2)
    if initial_state is None:
        state = x.new_zeros((bsz, nheads, headdim, dstate), dtype=cdt)
    else:
        state = initial_state.to(cdt)
    seg = segment_ids(seq_idx) if seq_idx is not None else None
    ys = []
    for t in range(seqlen):
        if seg is not None and t > 0:
            # a new document starts: drop the state of the previous one
            keep = (seg[:, t] == seg[:, t - 1]).to(cdt)[:, None, None, None]
            state = state * keep
        log_decay = dtf[:, t] * Af
        if log_decay_offset is not None:
            log_decay = log_decay + log_decay_offset.to(cdt)
        decay = torch.exp(log_decay)  # [B, H]
        update = (dtf[:, t, :, None] * xf[:, t])[..., None] * Bf[:, t, :, None, :]  # [B, H, P, N]
        state = decay[:, :, None, None] * state + update
        y = torch.einsum("bhpn,bhn->bhp", state, Cf[:, t])
        if D is not None:
            y = y + D.to(cdt)[None, :, None] * xf[:, t]
        ys.append(y)
    if seqlen:
        y_all = torch.stack(ys, dim=1)
    else:
        y_all = xf.new_zeros((bsz, 0, nheads, headdim))
    return y_all.to(x.dtype), state


def naive_ssd_state_update(
    state: torch.Tensor,
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advance the SSD state by one token (the decode step).

    Args:
        state: state before the token ``[B, H, P, N]``.
        x: input ``[B, H, P]``.
        dt: discretised step ``[B, H]``.
        A: negative decay rates ``[H]``.
        B: input projection ``[B, G, N]``.
        C: output projection ``[B, G, N]``.
        D: skip weights ``[H]`` or None.

    Returns:
        ``(y, new_state)``: ``y [B, H, P]`` in ``x.dtype`` and the new state ``[B, H, P, N]`` in
        ``state.dtype`` (the update itself runs in fp32, or fp64 for fp64 inputs).
    """
    if x.dim() != 3 or state.dim() != 4:
        raise ValueError(f"expected x [B, H, P] and state [B, H, P, N], got {tuple(x.shape)} and {tuple(state.shape)}")
    nheads = x.shape[1]
    cdt = torch.float64 if torch.float64 in (x.dtype, state.dtype) else torch.float32
    Bf = expand_groups(B.to(cdt), nheads, dim=1)
    Cf = expand_groups(C.to(cdt), nheads, dim=1)
    dtf, xf = dt.to(cdt), x.to(cdt)
    decay = torch.exp(dtf * A.to(cdt))
    new_state = decay[:, :, None, None] * state.to(cdt) + (dtf[..., None] * xf)[..., None] * Bf[:, :, None, :]
    y = torch.einsum("bhpn,bhn->bhp", new_state, Cf)
    if D is not None:
        y = y + D.to(cdt)[None, :, None] * xf
    return y.to(x.dtype), new_state.to(state.dtype)
