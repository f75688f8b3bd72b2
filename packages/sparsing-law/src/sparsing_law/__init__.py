"""sparsing-law: activation sparsity of gated-FFN language models (Luo, Song et al., "Sparsing Law", ICML 2025).

Modules: ``metrics`` (neuron norms, CETT, exact and grid per-layer thresholds, Top-k / FAT / zero masks, activation
ratio), ``hooks`` (capture of the FFN intermediate and sparse-forward patching on HF gated MLPs and lc-core GQA
models), ``search`` (dense statistics, PPL ratio, CETT-PPL-p% outer search), ``laws`` (the ReLU/SiLU laws, baselines,
width-depth fit), ``sparse_ffn`` (decode-time FFN over active neurons only), ``ops.sparse_ffn`` (its Triton kernels and
backend dispatch), ``cli`` (the ``sparsing-law`` script).
Importing the package imports neither torch nor scipy.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sparsing-law")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
