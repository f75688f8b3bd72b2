"""Shared helpers for lc-core's Triton kernels.

Everything here is safe to import without Triton and without a GPU: ``autotune`` falls back to a
single configuration under ``TRITON_INTERPRET=1`` (the autotuner benchmarks through the GPU driver,
which the CPU interpreter does not have), and the device helpers degrade to CPU.
"""

from lc_core.ops.utils.autotune import autotune, interpret_configs
from lc_core.ops.utils.device import (
    device_context,
    get_device,
    is_triton_available,
    next_power_of_2,
    triton_runs_on,
)
from lc_core.ops.utils.wrappers import autocast_custom_bwd, autocast_custom_fwd, contiguous, input_guard

__all__ = [
    "autotune",
    "interpret_configs",
    "is_triton_available",
    "triton_runs_on",
    "get_device",
    "device_context",
    "next_power_of_2",
    "contiguous",
    "input_guard",
    "autocast_custom_fwd",
    "autocast_custom_bwd",
]
