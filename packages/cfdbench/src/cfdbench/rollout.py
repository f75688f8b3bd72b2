"""Multi-step autoregressive rollouts and their per-step errors.

Alignment: ``preds[k - 1]`` is the model's k-th step from ``x0 = frame[t0]`` and is compared with ``frame[t0 + k * stride]``
(k >= 1). The original's ``test_multistep.py`` compared ``preds[step]`` with ``frames[step]`` although most models'
``generate_many`` does not return the input, an off-by-one; ``legacy=True`` reproduces it.

Example::

    from cfdbench.rollout import rollout

    frames = rollout(model, x0, params, mask, steps=20)   # [20, B, 2, H, W]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from cfdbench.data import Case, case_params, encode_frames
from cfdbench.metrics import compute_metrics
from cfdbench.models.base import AutoModel

__all__ = ["iter_rollout", "rollout", "rollout_errors"]


@torch.no_grad()
def iter_rollout(
    model: AutoModel, x0: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor, steps: int
) -> Iterator[torch.Tensor]:
    """Yield ``steps`` predicted states ``[B, 2, H, W]`` one at a time (memory O(1) in ``steps``).

    The model is put in eval mode; u-only models carry v over from the previous state.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    was_training = model.training
    model.eval()
    try:
        x = x0
        for _ in range(steps):
            x = model.next_frame(x, case_params, mask)
            yield x
    finally:
        model.train(was_training)


def rollout(model: AutoModel, x0: torch.Tensor, case_params: torch.Tensor, mask: torch.Tensor, steps: int) -> torch.Tensor:
    """All ``steps`` predictions stacked: ``[steps, B, 2, H, W]`` (``[0, B, 2, H, W]`` for ``steps=0``)."""
    preds = list(iter_rollout(model, x0, case_params, mask, steps))
    if not preds:
        return x0.new_zeros((0, *x0.shape))
    return torch.stack(preds)


def rollout_errors(
    model: AutoModel,
    case: Case,
    *,
    steps: int = 20,
    k: int = 1,
    t0: int = 0,
    encoding: str = "fixed",
    normalize: bool = True,
    channels: tuple[int, ...] = (0,),
    legacy: bool = False,
    device: str = "cpu",
) -> list[dict[str, float]]:
    """Per-step metrics of a rollout from ``frame[t0]`` on one case.

    Cases shorter than needed are padded by repeating the last frame (as the original). Scores are on the u channel
    by default (``channels=(0,)``), masked.

    Returns:
        ``steps`` dicts of ``mse/rmse/mae/nmse`` (entry ``k - 1`` compares step k with ``frame[t0 + k * stride]``).
    """
    needed = [min(t0 + i * k, case.num_frames - 1) for i in range(steps + 1)]
    frames = torch.from_numpy(encode_frames(case, needed, encoding=encoding)).to(device)
    x0 = frames[:1, :2]
    mask = frames[:1, 2:3]
    params = torch.from_numpy(case_params(case, normalize=normalize))[None].to(device)
    out = []
    ch = list(channels)
    for i, pred in enumerate(iter_rollout(model, x0, params, mask, steps), start=1):
        # legacy: compare step i with frame t0 + (i - 1) * k, the original's misalignment
        truth = frames[i - 1 if legacy else i, :2][None]
        out.append(compute_metrics(pred[:, ch], truth[:, ch], mask=mask))
    return out


def mean_step_errors(per_case: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """Average per-step metric dicts over cases."""
    if not per_case:
        return []
    steps = len(per_case[0])
    return [{m: float(np.mean([c[s][m] for c in per_case])) for m in per_case[0][s]} for s in range(steps)]
