"""Shared fixtures of the sparsing-law tests: tiny seeded models only (the CI machine is small).

The Triton interpreter must be switched on before anything imports the kernels (``@triton.jit`` decides at
decoration time), so this runs first: without CUDA, the sparse-FFN kernels run on CPU through ``TRITON_INTERPRET=1``
(as in lc-core's conftest).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    import torch as _torch

    _HAS_CUDA = _torch.cuda.is_available()
except ImportError:  # torch-free install: kernel tests skip themselves
    _HAS_CUDA = False

if not _HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

from lc_core.testing import poison_empty_allocations  # noqa: E402

_TRAINED: dict = {}


def _markov_stream(seed: int, n_seq: int, length: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    trans = torch.softmax(torch.randn(64, 64, generator=torch.Generator().manual_seed(1)) * 3, dim=-1)
    seqs = torch.zeros(n_seq, length, dtype=torch.long)
    x = torch.randint(64, (n_seq,), generator=g)
    for t in range(length):
        seqs[:, t] = x
        x = torch.multinomial(trans[x], 1, generator=g).squeeze(1)
    return seqs


@pytest.fixture
def tiny_gqa():
    """Factory of a 2-layer, d=64 lc-core GQA LM with a gated ReLU or SiLU FFN, seeded.

    ``steps > 0`` trains it that many Adam steps on the synthetic Markov corpus of ``markov_batches`` (other
    sequences of the same chain), cached per process.
    """
    import torch

    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    def make(activation: str = "relu", seed: int = 0, ffn_type: str = "gated", steps: int = 0):
        key = (activation, seed, ffn_type, steps)
        torch.manual_seed(seed)
        cfg = GQAConfig(
            vocab_size=64,
            d_model=64,
            n_layers=2,
            n_heads=4,
            n_kv_heads=2,
            d_ff=128,
            activation=activation,
            ffn_type=ffn_type,
            init_std=0.1,
        )
        model = GQAForCausalLM(cfg)
        if steps:
            if key not in _TRAINED:
                data = _markov_stream(100 + seed, 16 * steps, 33)
                opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
                for i in range(steps):
                    x = data[16 * i : 16 * (i + 1)]
                    loss = model(input_ids=x, labels=x).loss
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                _TRAINED[key] = {k: v.clone() for k, v in model.state_dict().items()}
            model.load_state_dict(_TRAINED[key])
        return model.eval()

    return make


@pytest.fixture
def markov_batches():
    """Two batches of a seeded first-order Markov token stream (vocab 64), the second with right padding."""
    import torch

    seqs = _markov_stream(0, 8, 48)
    mask = torch.ones_like(seqs)
    mask[4:, 40:] = 0
    return [
        {"input_ids": seqs[:4], "attention_mask": mask[:4]},
        {"input_ids": seqs[4:], "attention_mask": mask[4:]},
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this package's ``gpu`` tests without CUDA; run its ``slow`` tests only when ``-m`` names them."""
    from pathlib import Path

    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.path)).parents]
    if not _HAS_CUDA:
        skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
        for item in mine:
            if "gpu" in item.keywords:
                item.add_marker(skip_gpu)
    expr = config.getoption("markexpr") or ""
    if "slow" in expr and "not slow" not in expr:
        return
    skip = pytest.mark.skip(reason="slow test: select with -m slow")
    for item in mine:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def poison_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fill every float ``torch.empty``/``torch.empty_like`` allocation with NaN (as lc-core's kernel tests do).

    A kernel that forgets to write part of its output then leaves NaN behind instead of plausible stale memory.
    """
    poison_empty_allocations(monkeypatch)
