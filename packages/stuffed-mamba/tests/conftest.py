"""Tiny Mamba-2 models for the stuffed-mamba tests (built from configs, never downloaded)."""

import pytest
import torch

from lc_core.models.mamba2 import Mamba2ForCausalLM
from lc_core.models.mamba2.presets import tiny_config


@pytest.fixture(autouse=True)
def _single_thread():
    """One intra-op thread: tiny shapes otherwise suffer OpenMP oversubscription on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model(seed: int = 0, dtype=torch.float64, **overrides):
    torch.manual_seed(seed)
    state_dtype = "float64" if dtype == torch.float64 else "float32"
    m = Mamba2ForCausalLM(tiny_config(ssm_state_dtype=state_dtype, **overrides)).to(dtype).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if not name.endswith(("A_log", "dt_bias")):
                p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return m


@pytest.fixture(scope="module")
def model():
    """A tiny fp64 2-layer Mamba-2 with perturbed weights."""
    return make_model()


@pytest.fixture
def make():
    """Factory of tiny fp64 models: ``make(seed=..., n_layers=...)``."""
    return make_model
