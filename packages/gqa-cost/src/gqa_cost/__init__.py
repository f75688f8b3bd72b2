"""gqa-cost: cost model, loss laws and cost-optimal GQA search for long-context LMs.

Modules: ``config`` (architectures, presets, HF config.json), ``costs`` (parameters, FLOPs, memory, Z),
``laws`` (size/head/Chinchilla laws and fitting), ``search`` (N*(H), shapes, argmin of Z, Table 4),
``calibrate`` (the paper-calibrated loss model), ``measure`` (FlopCounterMode checks, torch extra),
``sweep`` (training grids on lc-core), ``plot`` (plot extra), ``cli`` (the ``gqa-cost`` script).
Importing the package imports neither torch nor matplotlib.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gqa-cost")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
