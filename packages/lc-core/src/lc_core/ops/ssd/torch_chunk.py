"""Plain-torch chunked SSD (Mamba-2 "Listing 1" with a sequential inter-chunk pass), exact on CPU.

The sequence is cut into chunks of ``Q`` tokens. Inside a chunk the output is a masked ``Q x Q``
"attention" with decay mask ``exp(s_l - s_s)`` (``s`` = within-chunk cumulative ``dt * A``); the state
entering each chunk is carried by a plain loop over chunks (``O(T / Q)`` steps, never the
``(T / Q)^2`` decay matrix of the minimal reference). Chunks are processed in blocks of about
``BLOCK_TOKENS`` tokens so temporary memory stays bounded for any ``T``; only ``y`` itself is ``O(T)``.
Padding to a multiple of ``Q`` uses ``dt = 0`` (decay 1, no input), so any ``T`` gives the exact state.
Everything is differentiable with autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lc_core.ops.ssd.naive import _check_shapes, compute_dtype, segment_ids

__all__ = ["chunk_ssd_torch", "BLOCK_TOKENS"]

# tokens per block of chunks: the intra-chunk masks of one block are [B, BLOCK_TOKENS / Q, H, Q, Q]
BLOCK_TOKENS = 512


def chunk_ssd_torch(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    chunk_size: int = 64,
    initial_state: torch.Tensor | None = None,
    seq_idx: torch.Tensor | None = None,
    *,
    log_decay_offset: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chunked SSD scan in plain torch.

    Computes, per head ``h`` with group ``g = h // (H // G)``,
    ``h_t = exp(dt_t * A_h + o_h) * h_{t-1} + dt_t * x_t ⊗ B_t`` and ``y_t = h_t @ C_t + D_h * x_t``
    (``o = log_decay_offset``, zero by default).

    Args:
        x: inputs ``[B, T, H, P]``.
        dt: discretised step ``Δ >= 0`` ``[B, T, H]`` (softplus and clamp already applied).
        A: negative decay rates ``[H]``.
        B: input projections ``[B, T, G, N]``.
        C: output projections ``[B, T, G, N]``.
        D: skip weights ``[H]`` or None.
        chunk_size: chunk length ``Q``; any ``T`` works (the tail chunk is padded).
        initial_state: state before the first token ``[B, H, P, N]`` or None (zeros).
        seq_idx: document ids ``[B, T]`` or None; the state resets to zero wherever the id changes.
        log_decay_offset: optional ``[H]`` added to ``dt * A`` at every token, i.e. the decay becomes
            ``alpha_t * exp(o_h)`` (Stuffed-Mamba's alpha scaling with ``o = log(lambda_alpha)``).
            Not part of the shared kernel contract; only the torch and naive paths accept it.

    Returns:
        ``(y, final_state)``: ``y [B, T, H, P]`` in ``x.dtype`` and the state after the last token
        ``[B, H, P, N]`` in fp32 (fp64 for fp64 inputs).
    """
    _check_shapes(x, dt, A, B, C)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    bsz, seqlen, nheads, headdim = x.shape
    ngroups, dstate = B.shape[2], B.shape[3]
    rep = nheads // ngroups
    cdt = compute_dtype(x)
    Q = chunk_size

    if initial_state is None:
        state = x.new_zeros((bsz, nheads, headdim, dstate), dtype=cdt)
    else:
        if tuple(initial_state.shape) != (bsz, nheads, headdim, dstate):
            raise ValueError(
                f"initial_state must be [B, H, P, N] = {(bsz, nheads, headdim, dstate)}, got {tuple(initial_state.shape)}"
            )
        state = initial_state.to(cdt)
    if seqlen == 0:
        return x.new_zeros((bsz, 0, nheads, headdim)), state

    xf, dtf, Bf, Cf = x.to(cdt), dt.to(cdt), B.to(cdt), C.to(cdt)
    a = dtf * A.to(cdt)
    if log_decay_offset is not None:
        a = a + log_decay_offset.to(cdt)
    seg = segment_ids(seq_idx) if seq_idx is not None else None

    pad = (-seqlen) % Q
    if pad:
        # padded tokens: dt = 0 and a = 0, so they neither write to nor decay the state
        xf = F.pad(xf, (0, 0, 0, 0, 0, pad))
        dtf = F.pad(dtf, (0, 0, 0, pad))
        a = F.pad(a, (0, 0, 0, pad))
        Bf = F.pad(Bf, (0, 0, 0, 0, 0, pad))
        Cf = F.pad(Cf, (0, 0, 0, 0, 0, pad))
        if seg is not None:
            seg = torch.cat([seg, seg[:, -1:].expand(bsz, pad)], dim=1)
    nchunks = (seqlen + pad) // Q
    xdt = (xf * dtf[..., None]).view(bsz, nchunks, Q, ngroups, rep, headdim)
    a = a.view(bsz, nchunks, Q, nheads)
    Bc = Bf.view(bsz, nchunks, Q, ngroups, dstate)
    Cc = Cf.view(bsz, nchunks, Q, ngroups, dstate)
    segc = seg.view(bsz, nchunks, Q) if seg is not None else None
    causal = torch.ones(Q, Q, dtype=torch.bool, device=x.device).tril()
    tracked = (x, dt, A, B, C, D, initial_state, log_decay_offset)
    inplace = not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tracked))

    # segment of the token before the current chunk; the initial state belongs to the first token's document
    prev_seg = torch.zeros(bsz, dtype=torch.long, device=x.device)
    per_block = max(1, BLOCK_TOKENS // Q)
    outputs = []
    for c0 in range(0, nchunks, per_block):
        c1 = min(nchunks, c0 + per_block)
        k = c1 - c0
        acs = a[:, c0:c1].cumsum(dim=2)  # [b, k, Q, H]
        xb, Bb, Cb = xdt[:, c0:c1], Bc[:, c0:c1], Cc[:, c0:c1]

        # intra-chunk: y_l = sum_{s<=l} (C_l . B_s) exp(acs_l - acs_s) dt_s x_s
        acs_h = acs.transpose(2, 3)  # [b, k, H, Q]
        diff = acs_h[..., :, None] - acs_h[..., None, :]  # [b, k, H, l, s], a fresh contiguous tensor
        cb = torch.einsum("bklgn,bksgn->bkgls", Cb, Bb)
        same = (segc[:, c0:c1, :, None] == segc[:, c0:c1, None, :])[:, :, None].to(cdt) if segc is not None else None
        if inplace:
            # inference: reuse one [b, k, H, Q, Q] buffer instead of allocating four
            scores = diff.masked_fill_(~causal, float("-inf")).exp_()
            if same is not None:
                scores.mul_(same)
            scores = scores.view(bsz, k, ngroups, rep, Q, Q).mul_(cb[:, :, :, None])
        else:
            decay = torch.exp(diff.masked_fill(~causal, float("-inf")))
            if same is not None:
                decay = decay * same
            scores = decay.view(bsz, k, ngroups, rep, Q, Q) * cb[:, :, :, None]
        y = torch.einsum("bkgrls,bksgrp->bklgrp", scores, xb)

        # chunk states: S_c = sum_s exp(acs_last - acs_s) dt_s x_s ⊗ B_s (tokens of the last segment only)
        to_end = torch.exp(acs[:, :, -1:, :] - acs)  # [b, k, Q, H]
        if segc is not None:
            to_end = to_end * (segc[:, c0:c1] == segc[:, c0:c1, -1:])[..., None].to(cdt)
        weighted = xb * to_end.view(bsz, k, Q, ngroups, rep)[..., None]
        chunk_states = torch.einsum("bkqgn,bkqgrp->bkgrpn", Bb, weighted).reshape(bsz, k, nheads, headdim, dstate)

        # sequential pass over the chunks of this block: O(k) steps, O(state) memory each
        chunk_decay = torch.exp(acs[:, :, -1])  # [b, k, H]
        starts = []
        carry = []
        for j in range(k):
            starts.append(state)
            if segc is not None:
                keep = (segc[:, c0 + j, -1] == prev_seg).to(cdt)
                carry.append(segc[:, c0 + j] == prev_seg[:, None])
                state = state * (chunk_decay[:, j] * keep[:, None])[..., None, None] + chunk_states[:, j]
                prev_seg = segc[:, c0 + j, -1]
            else:
                state = state * chunk_decay[:, j, :, None, None] + chunk_states[:, j]
        start = torch.stack(starts, dim=1).view(bsz, k, ngroups, rep, headdim, dstate)

        # state -> output: y_l += exp(acs_l) C_l . H_prev (only for tokens still in the previous document)
        from_start = torch.exp(acs)
        if segc is not None:
            from_start = from_start * torch.stack(carry, dim=1)[..., None].to(cdt)
        y_off = torch.einsum("bklgn,bkgrpn->bklgrp", Cb, start)
        y = y + y_off * from_start.view(bsz, k, Q, ngroups, rep)[..., None]
        outputs.append(y.reshape(bsz, k * Q, nheads, headdim))

    y_all = torch.cat(outputs, dim=1)[:, :seqlen] if len(outputs) > 1 else outputs[0][:, :seqlen]
    if D is not None:
        y_all = y_all + D.to(cdt)[:, None] * x.to(cdt)
    return y_all.to(x.dtype), state
