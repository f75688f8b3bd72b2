"""GQA transformer for lc: config, model, HF conversion and presets.

Importing this package registers ``model_type = "lc-gqa"`` with transformers' ``AutoConfig`` and
``AutoModelForCausalLM``/``AutoModel``, so saved checkpoints load through the Auto classes. Needs the
``torch`` extra.
"""

from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

from lc_core.models.gqa.configuration import GQAConfig
from lc_core.models.gqa.convert import config_from_hf, config_to_llama, from_hf, to_llama
from lc_core.models.gqa.modeling import GQAForCausalLM, GQAModel, GQAPreTrainedModel
from lc_core.models.gqa.presets import get_preset, list_presets, tiny_config

__all__ = [
    "GQAConfig",
    "GQAModel",
    "GQAForCausalLM",
    "GQAPreTrainedModel",
    "from_hf",
    "to_llama",
    "config_from_hf",
    "config_to_llama",
    "tiny_config",
    "get_preset",
    "list_presets",
]

AutoConfig.register(GQAConfig.model_type, GQAConfig, exist_ok=True)
AutoModel.register(GQAConfig, GQAModel, exist_ok=True)
AutoModelForCausalLM.register(GQAConfig, GQAForCausalLM, exist_ok=True)
