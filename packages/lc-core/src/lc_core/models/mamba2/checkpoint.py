"""Load and export Mamba-2 checkpoints: ``state-spaces/mamba2-*`` (mamba_ssm), transformers ``Mamba2``, and lc.

Formats (spec §5):

* **state-spaces**: ``config.json`` with ``d_model, n_layer, vocab_size, ssm_cfg, pad_vocab_size_multiple,
  tie_embeddings, ...`` and ``pytorch_model.bin`` (or ``model.safetensors``); keys ``backbone.embedding.weight``,
  ``backbone.layers.{i}.{norm,mixer.*}``, ``backbone.norm_f.weight``, ``lm_head.weight``.
* **hf**: ``config.json`` with ``model_type: "mamba2"`` (``hidden_size, num_hidden_layers, state_size, ...``),
  the same keys except ``backbone.embeddings.weight``; ``model.safetensors``.
* **lc**: ``model_type: "lc-mamba2"``, the hf key names.

Every load validates the state dict against the config before touching the model: a missing, unexpected or
mis-shaped key raises :class:`CheckpointError` naming the file and key. ``.bin`` files are read with
``torch.load(weights_only=True)`` only.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from lc_core.io import DataError, atomic_write_json
from lc_core.logging import get_logger
from lc_core.models.mamba2.configuration import Mamba2Config

__all__ = [
    "CheckpointError",
    "decode_special_floats",
    "detect_format",
    "config_from_state_spaces",
    "config_from_hf",
    "config_to_hf",
    "config_to_state_spaces",
    "expected_shapes",
    "validate_state_dict",
    "read_state_dict",
    "load_checkpoint",
    "export_hf",
    "export_state_spaces",
]

logger = get_logger(__name__)

PathLike = str | os.PathLike[str]

# mamba_ssm Mamba2 constructor arguments this implementation follows; others must keep their defaults
_SSM_CFG_MAP = {
    "d_state": "d_state",
    "d_conv": "d_conv",
    "expand": "expand",
    "headdim": "headdim",
    "ngroups": "ngroups",
    "chunk_size": "chunk_size",
    "dt_min": "dt_min",
    "dt_max": "dt_max",
    "dt_init_floor": "dt_init_floor",
    "dt_limit": "dt_limit",
    "A_init_range": "A_init_range",
    "conv_bias": "conv_bias",
    "bias": "bias",
}
# (key, value this implementation supports)
_SSM_CFG_FIXED = {"rmsnorm": True, "norm_before_gate": False, "D_has_hdim": False, "d_ssm": None, "activation": "silu"}
_SSM_CFG_IGNORED = {
    "layer",
    "use_mem_eff_path",
    "sequence_parallel",
    "process_group",
    "dt_init",
    "dt_scale",
    "learnable_init_states",
}

_HF_MAP = {
    "hidden_size": "d_model",
    "num_hidden_layers": "n_layers",
    "vocab_size": "vocab_size",
    "state_size": "d_state",
    "conv_kernel": "d_conv",
    "expand": "expand",
    "head_dim": "headdim",
    "n_groups": "ngroups",
    "chunk_size": "chunk_size",
    "layer_norm_epsilon": "rms_norm_eps",
    "residual_in_fp32": "residual_in_fp32",
    "use_bias": "bias",
    "use_conv_bias": "conv_bias",
    "time_step_min": "dt_min",
    "time_step_max": "dt_max",
    "time_step_floor": "dt_init_floor",
    "time_step_limit": "dt_limit",
    "tie_word_embeddings": "tie_word_embeddings",
    "pad_token_id": "pad_token_id",
    "bos_token_id": "bos_token_id",
    "eos_token_id": "eos_token_id",
}


class CheckpointError(DataError):
    """A checkpoint that does not match its config (names the file and the key or config field)."""


_FLOAT_TAGS = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def decode_special_floats(obj: Any) -> Any:
    """Turn transformers' ``{"__float__": "Infinity"}`` tags (``save_pretrained`` of 5.x) back into floats.

    ``PreTrainedConfig.to_json_string`` writes ``inf``/``nan`` that way so other JSON engines can read the file;
    a plain ``json.load`` keeps the dict, so every ``config.json`` we read goes through here. Plain JSON
    ``Infinity`` (Python's own writer) is read by ``json.load`` already.
    """
    if isinstance(obj, dict):
        if set(obj) == {"__float__"} and obj["__float__"] in _FLOAT_TAGS:
            return _FLOAT_TAGS[obj["__float__"]]
        return {k: decode_special_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_special_floats(v) for v in obj]
    return obj


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = decode_special_floats(json.load(f))
    except FileNotFoundError:
        raise CheckpointError("config.json not found", path=path) from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"invalid JSON: {e.msg}", path=path, line=e.lineno) from None
    if not isinstance(data, dict):
        raise CheckpointError("expected a JSON object", path=path)
    return data


def detect_format(config: dict[str, Any]) -> str:
    """``"hf"``, ``"lc"`` or ``"state-spaces"`` from the fields of a ``config.json``.

    Raises:
        ValueError: for a config of none of these formats.
    """
    model_type = config.get("model_type")
    if model_type == "mamba2":
        return "hf"
    if model_type == Mamba2Config.model_type:
        return "lc"
    if model_type is None and "d_model" in config and "n_layer" in config:
        return "state-spaces"
    raise ValueError(f"not a Mamba-2 config (model_type={model_type!r}, keys {sorted(config)[:8]}...)")


def config_from_state_spaces(config: dict[str, Any], path: PathLike | None = None) -> Mamba2Config:
    """Build a :class:`Mamba2Config` from a ``state-spaces`` / mamba_ssm ``config.json`` dict.

    Raises:
        CheckpointError: a required field is missing or a feature this implementation lacks is switched on
            (attention layers, an MLP, ``rms_norm=False``, a non-Mamba2 layer, ...).
    """
    for name in ("d_model", "n_layer", "vocab_size"):
        if name not in config:
            raise CheckpointError("required field is missing", path=path, field=name)
    ssm_cfg = dict(config.get("ssm_cfg") or {})
    if ssm_cfg.get("layer", "Mamba2") != "Mamba2":
        raise CheckpointError(
            f"layer {ssm_cfg.get('layer')!r} is not supported (only Mamba2)", path=path, field="ssm_cfg.layer"
        )
    if config.get("attn_layer_idx"):
        raise CheckpointError("hybrid attention layers are not supported", path=path, field="attn_layer_idx")
    if config.get("d_intermediate", 0):
        raise CheckpointError("MLP blocks (d_intermediate > 0) are not supported", path=path, field="d_intermediate")
    if config.get("rms_norm", True) is not True:
        raise CheckpointError("only rms_norm=true is supported", path=path, field="rms_norm")
    kwargs: dict[str, Any] = {}
    for key, value in ssm_cfg.items():
        if key in _SSM_CFG_MAP:
            kwargs[_SSM_CFG_MAP[key]] = value
        elif key in _SSM_CFG_FIXED:
            if value != _SSM_CFG_FIXED[key]:
                raise CheckpointError(
                    f"only {_SSM_CFG_FIXED[key]!r} is supported, got {value!r}", path=path, field=f"ssm_cfg.{key}"
                )
        elif key not in _SSM_CFG_IGNORED:
            raise CheckpointError("unknown Mamba2 option", path=path, field=f"ssm_cfg.{key}")
    try:
        return Mamba2Config(
            d_model=config["d_model"],
            n_layers=config["n_layer"],
            vocab_size=config["vocab_size"],
            pad_vocab_size_multiple=config.get("pad_vocab_size_multiple", 8),
            tie_word_embeddings=config.get("tie_embeddings", True),
            residual_in_fp32=config.get("residual_in_fp32", True),
            **kwargs,
        )
    except (ValueError, TypeError) as e:
        raise CheckpointError(str(e), path=path) from None


def config_from_hf(config: dict[str, Any], path: PathLike | None = None) -> Mamba2Config:
    """Build a :class:`Mamba2Config` from a transformers ``Mamba2Config`` dict (``model_type: "mamba2"``).

    Raises:
        CheckpointError: missing fields, ``num_heads`` inconsistent with ``hidden_size * expand / head_dim``,
            or a ``norm_before_gate=True`` / ``rms_norm=False`` model.
    """
    for name in ("hidden_size", "num_hidden_layers", "vocab_size", "num_heads"):
        if name not in config:
            raise CheckpointError("required field is missing", path=path, field=name)
    if config.get("rms_norm", True) is not True:
        raise CheckpointError("only rms_norm=true is supported", path=path, field="rms_norm")
    if config.get("norm_before_gate", False):
        raise CheckpointError("only norm_before_gate=false is supported", path=path, field="norm_before_gate")
    kwargs = {ours: config[theirs] for theirs, ours in _HF_MAP.items() if theirs in config}
    kwargs.setdefault("tie_word_embeddings", False)
    # the HF vocab_size is already the padded embedding size
    kwargs["pad_vocab_size_multiple"] = 1
    try:
        cfg = Mamba2Config(**kwargs)
    except (ValueError, TypeError) as e:
        raise CheckpointError(str(e), path=path) from None
    if cfg.nheads != config["num_heads"]:
        raise CheckpointError(
            f"num_heads={config['num_heads']} but hidden_size * expand / head_dim = {cfg.nheads}", path=path, field="num_heads"
        )
    return cfg


def config_to_hf(config: Mamba2Config) -> dict[str, Any]:
    """The transformers ``Mamba2Config`` dict of a model (``model_type: "mamba2"``)."""
    out = {theirs: getattr(config, ours) for theirs, ours in _HF_MAP.items()}
    out["time_step_limit"] = list(config.dt_limit)
    out.update(
        model_type="mamba2",
        architectures=["Mamba2ForCausalLM"],
        num_heads=config.nheads,
        rms_norm=True,
        norm_before_gate=False,
        hidden_act="silu",
        time_step_rank=math.ceil(config.d_model / 16),
        # an init-only flag; transformers 5.x re-applies it to *loaded* out_proj weights in from_pretrained
        rescale_prenorm_residual=False,
        initializer_range=config.initializer_range,
        use_cache=True,
    )
    return out


def config_to_state_spaces(config: Mamba2Config) -> dict[str, Any]:
    """The ``state-spaces`` ``config.json`` dict of a model (vocab stored padded, multiple 1)."""
    return {
        "d_model": config.d_model,
        "d_intermediate": 0,
        "n_layer": config.n_layers,
        "vocab_size": config.vocab_size,
        "ssm_cfg": {
            "layer": "Mamba2",
            **{theirs: getattr(config, ours) for theirs, ours in _SSM_CFG_MAP.items()},
            "dt_limit": list(config.dt_limit),
            "A_init_range": list(config.A_init_range),
        },
        "attn_layer_idx": [],
        "attn_cfg": {},
        "rms_norm": True,
        "residual_in_fp32": config.residual_in_fp32,
        "fused_add_norm": True,
        "pad_vocab_size_multiple": config.pad_vocab_size_multiple,
        "tie_embeddings": config.tie_word_embeddings,
    }


def expected_shapes(config: Mamba2Config) -> dict[str, tuple[int, ...]]:
    """Every state-dict key (hf naming) with its shape; ``lm_head.weight`` included even when tied."""
    d, di, h = config.d_model, config.d_inner, config.nheads
    shapes: dict[str, tuple[int, ...]] = {"backbone.embeddings.weight": (config.vocab_size, d)}
    for i in range(config.n_layers):
        p = f"backbone.layers.{i}."
        shapes[p + "norm.weight"] = (d,)
        shapes[p + "mixer.in_proj.weight"] = (config.d_in_proj, d)
        if config.bias:
            shapes[p + "mixer.in_proj.bias"] = (config.d_in_proj,)
        shapes[p + "mixer.conv1d.weight"] = (config.conv_dim, 1, config.d_conv)
        if config.conv_bias:
            shapes[p + "mixer.conv1d.bias"] = (config.conv_dim,)
        shapes[p + "mixer.dt_bias"] = (h,)
        shapes[p + "mixer.A_log"] = (h,)
        shapes[p + "mixer.D"] = (h,)
        shapes[p + "mixer.norm.weight"] = (di,)
        shapes[p + "mixer.out_proj.weight"] = (d, di)
        if config.bias:
            shapes[p + "mixer.out_proj.bias"] = (d,)
    shapes["backbone.norm_f.weight"] = (d,)
    shapes["lm_head.weight"] = (config.vocab_size, d)
    return shapes


def _shape_hint(key: str, config: Mamba2Config) -> str:
    if key.endswith("in_proj.weight"):
        return (
            f" (rows = 2*d_inner + 2*ngroups*d_state + nheads = 2*{config.d_inner} + 2*{config.ngroups}*{config.d_state}"
            f" + {config.nheads}; check d_state/headdim/ngroups/expand in the config)"
        )
    if key.endswith("conv1d.weight"):
        return f" (conv_dim = d_inner + 2*ngroups*d_state = {config.conv_dim}, width d_conv = {config.d_conv})"
    if "embedding" in key or key == "lm_head.weight":
        return f" (vocab_size after padding to a multiple of {config.pad_vocab_size_multiple} = {config.vocab_size})"
    return ""


def validate_state_dict(
    state_dict: dict[str, torch.Tensor], config: Mamba2Config, path: PathLike | None = None
) -> dict[str, torch.Tensor]:
    """Check every key and shape against ``config``; return the dict in hf naming.

    Accepts ``backbone.embedding.weight`` (state-spaces) or ``backbone.embeddings.weight`` (hf/lc), an optional
    ``model.`` prefix, and a missing ``lm_head.weight`` for tied models.

    Raises:
        CheckpointError: naming the first missing, unexpected or mis-shaped key, or a tied ``lm_head`` that
            differs from the embedding.
    """
    sd = {(k[len("model.") :] if k.startswith("model.backbone.") else k): v for k, v in state_dict.items()}
    if "backbone.embedding.weight" in sd:
        if "backbone.embeddings.weight" in sd:
            raise CheckpointError(
                "both backbone.embedding and backbone.embeddings present", path=path, field="backbone.embedding.weight"
            )
        sd["backbone.embeddings.weight"] = sd.pop("backbone.embedding.weight")
    shapes = expected_shapes(config)
    if config.tie_word_embeddings:
        head, emb = sd.get("lm_head.weight"), sd.get("backbone.embeddings.weight")
        if head is not None and emb is not None and not torch.equal(head, emb):
            raise CheckpointError(
                "tie_embeddings is set but lm_head differs from the embedding", path=path, field="lm_head.weight"
            )
        sd.pop("lm_head.weight", None)
        shapes.pop("lm_head.weight")
    missing = [k for k in shapes if k not in sd]
    if missing:
        extra = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"missing key{extra}", path=path, field=missing[0])
    unexpected = [k for k in sd if k not in shapes]
    if unexpected:
        extra = f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
        raise CheckpointError(f"unexpected key{extra}", path=path, field=unexpected[0])
    for key, shape in shapes.items():
        got = tuple(sd[key].shape)
        if got != shape:
            raise CheckpointError(
                f"shape {list(got)} != expected {list(shape)}{_shape_hint(key, config)}", path=path, field=key
            )
        if not sd[key].is_floating_point():
            raise CheckpointError(f"dtype {sd[key].dtype} is not floating point", path=path, field=key)
    return sd


def read_state_dict(folder: PathLike) -> tuple[dict[str, torch.Tensor], Path]:
    """Read ``model.safetensors`` or ``pytorch_model.bin`` (``weights_only=True``) from ``folder``.

    Returns:
        ``(state_dict, file)``.
    """
    folder = Path(folder)
    st = folder / "model.safetensors"
    if st.is_file():
        from safetensors.torch import load_file

        return load_file(str(st)), st
    binf = folder / "pytorch_model.bin"
    if binf.is_file():
        try:
            sd = torch.load(binf, map_location="cpu", weights_only=True)
        except Exception as e:
            raise CheckpointError(f"cannot read with torch.load(weights_only=True): {e}", path=binf) from None
        if not isinstance(sd, dict):
            raise CheckpointError(f"expected a state dict, got {type(sd).__name__}", path=binf)
        return sd, binf
    raise CheckpointError("no model.safetensors or pytorch_model.bin", path=folder)


def load_checkpoint(
    folder: PathLike, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None, **config_overrides: Any
) -> Any:
    """Load a state-spaces, hf or lc Mamba-2 checkpoint folder into :class:`Mamba2ForCausalLM`.

    Args:
        folder: directory with ``config.json`` and weights (a built-in name like ``lc-core/demo-mamba2`` works too).
        dtype: cast the weights (default: keep the checkpoint's floating dtype).
        device: move the model there.
        **config_overrides: config fields to change (e.g. ``chunk_size``, ``ssm_state_dtype``).

    Returns:
        The model in eval mode.
    """
    from lc_core.models.builtin import resolve_model_path
    from lc_core.models.mamba2.modeling import Mamba2ForCausalLM

    folder = Path(resolve_model_path(str(folder)))
    cfg_path = folder / "config.json"
    raw = _read_json(cfg_path)
    try:
        fmt = detect_format(raw)
    except ValueError as e:
        raise CheckpointError(str(e), path=cfg_path, field="model_type") from None
    if fmt == "state-spaces":
        config = config_from_state_spaces(raw, cfg_path)
    elif fmt == "hf":
        config = config_from_hf(raw, cfg_path)
    else:
        try:
            config = Mamba2Config.from_dict({k: v for k, v in raw.items() if k not in ("model_type", "transformers_version")})
        except (ValueError, TypeError) as e:
            raise CheckpointError(str(e), path=cfg_path) from None
    for key, value in config_overrides.items():
        setattr(config, key, value)
    sd, weights_file = read_state_dict(folder)
    sd = validate_state_dict(sd, config, weights_file)
    ckpt_dtype = sd["backbone.embeddings.weight"].dtype
    model = Mamba2ForCausalLM(config).to(ckpt_dtype)
    model.load_state_dict(sd, strict=not config.tie_word_embeddings)
    if config.tie_word_embeddings:
        model.tie_weights()
    if dtype is not None:
        model = model.to(dtype)
    if device is not None:
        model = model.to(device)
    logger.info("loaded %s Mamba-2 checkpoint from %s (%d layers, d_model %d)", fmt, folder, config.n_layers, config.d_model)
    return model.eval()


def _state_dict_for_export(model: Any, dtype: torch.dtype | None, embedding_key: str) -> dict[str, torch.Tensor]:
    sd = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight" and model.config.tie_word_embeddings:
            continue
        t = v.detach().to("cpu")
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        sd[embedding_key if k == "backbone.embeddings.weight" else k] = t.contiguous().clone()
    return sd


def export_hf(model: Any, out_dir: PathLike, *, dtype: torch.dtype | None = None) -> Path:
    """Write ``config.json`` (transformers ``Mamba2Config``) and ``model.safetensors`` loadable by
    ``transformers.Mamba2ForCausalLM.from_pretrained`` and by :func:`load_checkpoint`.

    Args:
        model: a :class:`Mamba2ForCausalLM`.
        out_dir: output directory (created).
        dtype: cast floating weights (e.g. ``torch.bfloat16``); default keep.

    Returns:
        ``out_dir`` as a Path.
    """
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sd = _state_dict_for_export(model, dtype, "backbone.embeddings.weight")
    tmp = out / "model.safetensors.tmp"
    save_file(sd, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, out / "model.safetensors")
    cfg = config_to_hf(model.config)
    cfg["torch_dtype"] = str(next(iter(sd.values())).dtype).replace("torch.", "")
    atomic_write_json(out / "config.json", cfg)
    return out


def export_state_spaces(model: Any, out_dir: PathLike, *, dtype: torch.dtype | None = None) -> Path:
    """Write the ``state-spaces`` format (``config.json`` + ``pytorch_model.bin`` with a tied ``lm_head``).

    Args:
        model: a :class:`Mamba2ForCausalLM`.
        out_dir: output directory (created).
        dtype: cast floating weights; default keep.

    Returns:
        ``out_dir`` as a Path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sd = _state_dict_for_export(model, dtype, "backbone.embedding.weight")
    if model.config.tie_word_embeddings:
        sd["lm_head.weight"] = sd["backbone.embedding.weight"]
    tmp = out / "pytorch_model.bin.tmp"
    torch.save(sd, tmp)
    os.replace(tmp, out / "pytorch_model.bin")
    atomic_write_json(out / "config.json", config_to_state_spaces(model.config))
    return out
