"""Mamba-2 language model of lc-core (``model_type = "lc-mamba2"``).

Importing this package registers :class:`Mamba2Config` / :class:`Mamba2ForCausalLM` with transformers'
``AutoConfig`` / ``AutoModel`` / ``AutoModelForCausalLM``. See ``packages/lc-core/docs/mamba2.md``.

Example::

    import torch
    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM, stream

    model = Mamba2ForCausalLM(Mamba2Config(d_model=64, n_layers=2, vocab_size=256, d_state=16, headdim=16)).eval()
    result = stream(model, iter(torch.randint(0, 256, (10_000,)).tolist()), chunk_tokens=1024)
"""

from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

from lc_core.models.mamba2.cache import Mamba2Cache
from lc_core.models.mamba2.checkpoint import (
    CheckpointError,
    export_hf,
    load_checkpoint,
    validate_state_dict,
)
from lc_core.models.mamba2.configuration import Mamba2Config
from lc_core.models.mamba2.hooks import SegmentSummary, SSMHooks, SSMIntervention
from lc_core.models.mamba2.modeling import Mamba2ForCausalLM, Mamba2Model, Mamba2PreTrainedModel
from lc_core.models.mamba2.streaming import StreamResult, stream

__all__ = [
    "Mamba2Config",
    "Mamba2Cache",
    "Mamba2Model",
    "Mamba2ForCausalLM",
    "Mamba2PreTrainedModel",
    "SSMHooks",
    "SSMIntervention",
    "SegmentSummary",
    "CheckpointError",
    "load_checkpoint",
    "export_hf",
    "validate_state_dict",
    "stream",
    "StreamResult",
]

AutoConfig.register(Mamba2Config.model_type, Mamba2Config, exist_ok=True)
AutoModel.register(Mamba2Config, Mamba2Model, exist_ok=True)
AutoModelForCausalLM.register(Mamba2Config, Mamba2ForCausalLM, exist_ok=True)
