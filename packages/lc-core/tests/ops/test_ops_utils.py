"""Tests for ``lc_core.ops.utils``: the interpret-aware autotune wrapper and the device/contiguity helpers.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/ops/test_ops_utils.py -q``
"""

from __future__ import annotations

import contextlib

import pytest

torch = pytest.importorskip("torch")
triton = pytest.importorskip("triton")

import triton.language as tl  # noqa: E402

from lc_core.ops.utils import (  # noqa: E402
    autotune,
    contiguous,
    device_context,
    interpret_configs,
    is_triton_available,
    next_power_of_2,
    triton_runs_on,
)
from lc_core.testing import has_cuda  # noqa: E402

CONFIGS = [
    triton.Config({"BS": 16}, num_warps=1),
    triton.Config({"BS": 32}, num_warps=2),
    triton.Config({"BS": 64}, num_warps=4),
]


@autotune(configs=CONFIGS, key=["n"])
@triton.jit
def scale_fwd_kernel(x, y, n, BS: tl.constexpr):
    i = tl.program_id(0).to(tl.int64)
    o = i * BS + tl.arange(0, BS)
    m = o < n
    tl.store(y + o, 2.0 * tl.load(x + o, mask=m, other=0.0), mask=m)


def test_interpret_configs_keeps_one_when_interpreting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert interpret_configs(CONFIGS) == [CONFIGS[0]]
    assert interpret_configs(CONFIGS, index=2) == [CONFIGS[2]]
    assert interpret_configs(CONFIGS, index=-1) == [CONFIGS[2]]


def test_interpret_configs_keeps_all_on_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert interpret_configs(CONFIGS) == CONFIGS


@pytest.mark.parametrize(("configs", "index"), [([], 0), (CONFIGS, 3), (CONFIGS, -4)], ids=["empty", "index3", "index-4"])
def test_interpret_configs_rejects_bad_arguments(configs: list, index: int) -> None:
    with pytest.raises(ValueError):
        interpret_configs(configs, index)


@pytest.mark.skipif(has_cuda(), reason="checks the CPU interpreter path")
def test_autotuned_kernel_runs_in_interpreter() -> None:
    # plain triton.autotune with three configs fails here ("0 active drivers"); the wrapper keeps one
    assert len(scale_fwd_kernel.configs) == 1
    x = torch.arange(37, dtype=torch.float32)
    y = torch.full_like(x, float("nan"))
    scale_fwd_kernel[lambda meta: (triton.cdiv(37, meta["BS"]),)](x, y, 37)
    assert torch.equal(y, 2.0 * x)


@pytest.mark.gpu
@pytest.mark.skipif(not has_cuda(), reason="needs a CUDA device")
def test_autotuned_kernel_tunes_all_configs_on_gpu() -> None:
    assert len(scale_fwd_kernel.configs) == len(CONFIGS)
    x = torch.arange(1000, dtype=torch.float32, device="cuda")
    y = torch.empty_like(x)
    scale_fwd_kernel[lambda meta: (triton.cdiv(1000, meta["BS"]),)](x, y, 1000)
    assert torch.equal(y, 2.0 * x)


@pytest.mark.parametrize(("n", "expected"), [(1, 1), (2, 2), (3, 4), (16, 16), (17, 32), (100, 128)])
def test_next_power_of_2(n: int, expected: int) -> None:
    assert next_power_of_2(n) == expected


def test_next_power_of_2_rejects_zero() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        next_power_of_2(0)


def test_contiguous_decorator_copies_only_strided_tensors() -> None:
    seen = {}

    @contiguous
    def record(a: torch.Tensor, *, b: torch.Tensor, scale: float) -> float:
        seen["a"], seen["b"] = a, b
        return scale

    base = torch.arange(12.0).reshape(3, 4)
    strided = base.t()
    assert not strided.is_contiguous()
    assert record(strided, b=base, scale=0.5) == 0.5
    assert seen["a"].is_contiguous()
    assert torch.equal(seen["a"], strided)
    # an already contiguous tensor is passed through without a copy
    assert seen["b"] is base


def test_device_helpers_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.zeros(3)
    assert is_triton_available()
    assert isinstance(device_context(x), contextlib.nullcontext)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert triton_runs_on(x)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert not triton_runs_on(x)
