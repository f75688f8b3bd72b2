"""Shared fixtures of the model tests."""

import pytest
import torch

from lc_core.models.mamba2 import Mamba2ForCausalLM
from lc_core.models.mamba2.presets import tiny_config


@pytest.fixture
def single_thread():
    """One intra-op thread: tiny shapes otherwise suffer OpenMP oversubscription on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    """A tiny fp64 Mamba-2 with perturbed weights (hooks and streaming tests)."""
    torch.manual_seed(0)
    m = Mamba2ForCausalLM(tiny_config(ssm_state_dtype="float64")).double().eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if not name.endswith(("A_log", "dt_bias")):
                p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return m
