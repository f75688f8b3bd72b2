"""PyTorch datasets over CFDBench cases (frames are read lazily from the memory-mapped arrays).

Example::

    from cfdbench.data import load_split_cases
    from cfdbench.datasets import AutoDataset

    train, dev, test = load_split_cases("data", "cavity_bc")
    ds = AutoDataset(train, delta_time=0.1)
    inputs, label, mask, params = ds[0]  # [2, H, W], [2, H, W], [1, H, W], [p]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from cfdbench.data import Case, autoregressive_pairs, case_params, encode_frames

__all__ = ["AutoDataset", "NonAutoDataset"]


class AutoDataset(Dataset):
    """One-step pairs ``(u^t, u^{t+k})`` over a list of cases.

    Items are ``(inputs [2, H, W], label [2, H, W], mask [1, H, W], case_params [p])`` (float32), i.e. the original
    ``collate_fn`` output per example: the mask channel is split off the encoded ``[u, v, mask]`` frame.

    Args:
        cases: the cases of one split.
        delta_time: model step (s); ``k = round(delta_time / data_dt)``.
        k: frames per step (overrides ``delta_time``).
        encoding: ``"fixed"`` or ``"legacy"``.
        normalize: normalise the case parameters (original ``--norm_props 1 --norm_bc 1``).
        steady_cut: apply the steady-state truncation (default: per problem).
    """

    def __init__(
        self,
        cases: Sequence[Case],
        *,
        delta_time: float | None = None,
        k: int | None = None,
        encoding: str = "fixed",
        normalize: bool = True,
        steady_cut: bool | None = None,
    ):
        self.cases = list(cases)
        self.encoding = encoding
        self.params = [torch.from_numpy(case_params(c, normalize=normalize)) for c in self.cases]
        self.index: list[tuple[int, int, int]] = []
        for ci, c in enumerate(self.cases):
            for a, b in autoregressive_pairs(c, delta_time=delta_time, k=k, steady_cut=steady_cut):
                self.index.append((ci, a, b))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        ci, a, b = self.index[i]
        frames = torch.from_numpy(encode_frames(self.cases[ci], [a, b], encoding=self.encoding))
        x, y = frames[0], frames[1]
        return x[:2], y[:2], x[2:3], self.params[ci]


class NonAutoDataset(Dataset):
    """Every frame of every case as ``(case_params [p], t [1], frame [3, H, W])``; ``t`` is the raw frame index."""

    def __init__(self, cases: Sequence[Case], *, encoding: str = "fixed", normalize: bool = True):
        self.cases = list(cases)
        self.encoding = encoding
        self.params = [torch.from_numpy(case_params(c, normalize=normalize)) for c in self.cases]
        self.index = [(ci, t) for ci, c in enumerate(self.cases) for t in range(c.num_frames)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ci, t = self.index[i]
        frame = torch.from_numpy(np.ascontiguousarray(encode_frames(self.cases[ci], t, encoding=self.encoding)))
        return self.params[ci], torch.tensor([float(t)]), frame
