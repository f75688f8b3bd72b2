"""stuffed-mamba: state collapse of Mamba-2 language models, measured and mitigated.

The science on top of lc-core's Mamba-2 (:mod:`lc_core.models.mamba2`): diagnose how the recurrent state grows past
the training length (:mod:`stuffed_mamba.diagnostics`), mitigate it without training (:mod:`stuffed_mamba.methods`:
Method 1 decay/insertion scaling, Method 2 state normalisation, Method 3 state-difference sliding window), evaluate
passkey retrieval and per-token loss through bounded-memory streaming (:mod:`stuffed_mamba.passkey`,
:mod:`stuffed_mamba.loss`), and compute the paper's capacity quantities (:mod:`stuffed_mamba.capacity`).
"""

__version__ = "0.1.0"
