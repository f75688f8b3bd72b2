"""Per-token loss (spec §8 test 17): length T−1, bucket means without edges, chunked == one-shot."""

import pytest
import torch
import torch.nn.functional as F

from stuffed_mamba.loss import bucket_means, loss_curve, relative_to_reference


def test_bucket_means_drop_edges():
    losses = torch.arange(10, dtype=torch.float32)  # buckets of 3: [0,1,2] [3,4,5] [6,7,8] [9]
    centres, means = bucket_means(losses, 3)
    assert means == [4.0, 7.0] and centres == [5, 8]
    _, all_means = bucket_means(losses, 3, drop_edges=False)
    assert all_means == [1.0, 4.0, 7.0, 9.0]
    with pytest.raises(ValueError):
        bucket_means(losses, 0)


@pytest.mark.parametrize("chunk", [1, 37, 128, 1000])
def test_chunked_equals_one_shot_fp32(make, chunk):
    model = make(seed=1, dtype=torch.float32)
    ids = torch.randint(0, 97, (600,), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = model(ids[None], use_cache=False).logits[0]
    ref = F.cross_entropy(logits[:-1].float(), ids[1:], reduction="none")
    curve = loss_curve(model, ids if chunk > 1 else ids[:200], bucket=50, chunk_tokens=chunk, keep_losses=True, progress=False)
    n = curve.losses.numel()
    assert n == (599 if chunk > 1 else 199)
    torch.testing.assert_close(curve.losses, ref[:n], rtol=1e-5, atol=1e-5)


def test_relative_to_reference():
    losses = torch.tensor([1.0] * 400 + [2.0] * 400)
    from stuffed_mamba.loss import LossCurve

    c, m = bucket_means(losses, 100)
    rel = relative_to_reference(LossCurve(centres=c, means=m, mean_loss=1.5, n_tokens=801, wall_s=1.0), 400)
    assert rel[0] == 1.0 and rel[-1] == 2.0
