"""Recurrent inference cache of the Mamba-2 model: per layer a conv carry and an SSM state.

* ``conv_states[i]``: the last ``d_conv - 1`` conv inputs (x, B, C channels) ``[B, conv_dim, d_conv - 1]``,
  oldest first, in the model dtype;
* ``ssm_states[i]``: ``[B, H, P, N]`` in ``config.ssm_state_dtype`` (fp32 by default, also for bf16 weights);
* ``seqlen_offset``: tokens already consumed (the absolute position of the next token).

Passing the cache to ``forward`` continues from it with any number of new tokens (chunked prefill, decode
steps); the result equals one forward over the concatenation.
"""

from __future__ import annotations

import torch

from lc_core.models.mamba2.configuration import Mamba2Config

__all__ = ["Mamba2Cache"]


class Mamba2Cache:
    """Conv and SSM states of every layer; allocated zero-filled.

    Args:
        config: the model config.
        batch_size: batch size ``B``.
        dtype: dtype of the conv states (the model's activation dtype).
        device: device of the states.
        ssm_state_dtype: dtype of the SSM states; default ``config.ssm_state_dtype``.
    """

    # read by transformers' generate(); this cache holds no static shapes worth compiling for
    is_compileable = False

    def __init__(
        self,
        config: Mamba2Config,
        batch_size: int,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        ssm_state_dtype: torch.dtype | None = None,
    ) -> None:
        if ssm_state_dtype is None:
            ssm_state_dtype = getattr(torch, config.ssm_state_dtype)
        self.config = config
        self.batch_size = batch_size
        self.seqlen_offset = 0
        self.conv_states = [
            torch.zeros(batch_size, config.conv_dim, config.d_conv - 1, dtype=dtype, device=device)
            for _ in range(config.n_layers)
        ]
        self.ssm_states = [
            torch.zeros(batch_size, config.nheads, config.headdim, config.d_state, dtype=ssm_state_dtype, device=device)
            for _ in range(config.n_layers)
        ]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Tokens consumed so far."""
        return self.seqlen_offset

    def reset(self) -> None:
        """Zero all states and the offset."""
        self.seqlen_offset = 0
        for t in self.conv_states + self.ssm_states:
            t.zero_()

    def detach(self) -> Mamba2Cache:
        """Cut the autograd graph at the current states (truncated BPTT); returns ``self``."""
        self.conv_states = [t.detach() for t in self.conv_states]
        self.ssm_states = [t.detach() for t in self.ssm_states]
        return self

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Select batch rows (beam search)."""
        self.conv_states = [t.index_select(0, beam_idx.to(t.device)) for t in self.conv_states]
        self.ssm_states = [t.index_select(0, beam_idx.to(t.device)) for t in self.ssm_states]
        self.batch_size = int(beam_idx.numel())

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat each batch row ``repeats`` times (``num_return_sequences`` / beams before the first step)."""
        self.conv_states = [t.repeat_interleave(repeats, dim=0) for t in self.conv_states]
        self.ssm_states = [t.repeat_interleave(repeats, dim=0) for t in self.ssm_states]
        self.batch_size *= repeats

    def state_bytes(self) -> int:
        """Bytes held by the cache."""
        return sum(t.numel() * t.element_size() for t in self.conv_states + self.ssm_states)

    def __repr__(self) -> str:
        return (
            f"Mamba2Cache(layers={len(self.ssm_states)}, batch={self.batch_size}, seqlen_offset={self.seqlen_offset}, "
            f"ssm_dtype={self.ssm_states[0].dtype if self.ssm_states else None})"
        )
