"""The toy causal LM: shapes and causality.

Run: ``pytest packages/lc-core/tests/train/test_toy.py -q``
"""

from __future__ import annotations

import torch

from lc_core.train.toy import ToyCausalLM, ToyConfig


def test_logits_shape_and_causality() -> None:
    torch.manual_seed(0)
    model = ToyCausalLM(ToyConfig(vocab_size=50, hidden_size=16, num_layers=2, kernel_size=3))
    x = torch.randint(0, 50, (2, 12))
    y = x.clone()
    y[:, 7] = (y[:, 7] + 1) % 50
    with torch.no_grad():
        a, b = model(input_ids=x).logits, model(input_ids=y).logits
    assert a.shape == (2, 12, 50)
    assert torch.equal(a[:, :7], b[:, :7])
    assert not torch.equal(a[:, 7:], b[:, 7:])
