"""The lc-core GQA transformer: decoder-only, RoPE, RMSNorm, grouped-query attention, gated or plain FFN.

Module names follow transformers' Llama (``model.layers.{i}.self_attn.q_proj``, ``mlp.gate_proj``,
``input_layernorm``, ...), so Llama/Mistral/Qwen2 state dicts load with an identity key map (see
:mod:`lc_core.models.gqa.convert`).

Attention never materialises repeated K/V: the SDPA path passes ``enable_gqa=True`` and the explicit-matmul
path folds the query-group axis into the query-length axis (``[B, n_kv, G*T, D] @ [B, n_kv, D, S]``).
Without padding, prefill uses SDPA's ``is_causal`` flag, so no ``[T, S]`` mask is built either.

Example::

    import torch
    from lc_core.models.gqa import GQAForCausalLM
    from lc_core.models.gqa.presets import tiny_config

    model = GQAForCausalLM(tiny_config()).eval()
    out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=5, do_sample=False)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache, DynamicCache
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from lc_core.models.gqa.configuration import GQAConfig

__all__ = [
    "GQARMSNorm",
    "GQAAttention",
    "GQAMLP",
    "Intermediate",
    "GQADecoderLayer",
    "GQAPreTrainedModel",
    "GQAModel",
    "GQAForCausalLM",
    "rope_cos_sin",
    "rope_inv_freq",
    "scaled_rope_inv_freq",
    "apply_rope",
    "build_attention_mask",
    "matmul_gqa_attention",
]


class GQARMSNorm(nn.Module):
    """RMSNorm computed in fp32, scaled by a learned weight (Llama convention: weight applied after the cast back)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last axis of ``x`` (``[..., d]``)."""
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.eps}"


def rope_inv_freq(head_dim: int, theta: float, device: torch.device | None = None) -> torch.Tensor:
    """Plain RoPE inverse frequencies ``theta ** (-2i / D)``, ``[D / 2]`` fp32 (same formula as transformers)."""
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float, device=device) / head_dim))


def scaled_rope_inv_freq(config: GQAConfig, device: torch.device | None = None) -> tuple[torch.Tensor, float]:
    """Inverse frequencies and cos/sin scale of ``config.rope_scaling_config``, computed by transformers.

    Returns:
        ``(inv_freq [D / 2], attention_scaling)``.
    """
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    params = dict(config.rope_scaling_config)
    # the RoPE helpers read only these fields; one head with an explicit head_dim keeps decoupled shapes valid
    proxy = LlamaConfig(
        hidden_size=config.head_dim,
        num_attention_heads=1,
        head_dim=config.head_dim,
        max_position_embeddings=config.max_position_embeddings,
        rope_parameters={**params, "rope_theta": float(config.rope_theta)},
    )
    return ROPE_INIT_FUNCTIONS[params["rope_type"]](proxy, device)


def rope_cos_sin(
    position_ids: torch.Tensor,
    head_dim: int,
    theta: float,
    dtype: torch.dtype,
    inv_freq: torch.Tensor | None = None,
    attention_scaling: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """RoPE tables for the given positions (half-split "rotate_half" layout, as in Llama).

    Args:
        position_ids: ``[B, T]`` integer positions.
        head_dim: per-head width ``D`` (even).
        theta: RoPE base.
        dtype: dtype of the returned tables.
        inv_freq: ``[D / 2]`` precomputed (scaled) inverse frequencies; default plain RoPE from ``theta``.
        attention_scaling: factor applied to cos and sin (YaRN); 1 otherwise.

    Returns:
        ``(cos, sin)``, each ``[B, T, D]``.
    """
    if inv_freq is None:
        # computed on the fly (D/2 values): no buffer to re-initialise after meta-device loading
        inv_freq = rope_inv_freq(head_dim, theta, position_ids.device)
    freqs = position_ids[..., None].float() * inv_freq.to(position_ids.device)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    if attention_scaling != 1.0:
        cos, sin = cos * attention_scaling, sin * attention_scaling
    return cos.to(dtype), sin.to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (``[B, H, T, D]``) by the RoPE tables ``cos``/``sin`` (``[B, T, D]``)."""
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def build_attention_mask(
    attention_mask: torch.Tensor | None, q_len: int, past_len: int, device: torch.device
) -> tuple[torch.Tensor | None, bool]:
    """Boolean attention mask for queries at positions ``past_len .. past_len + q_len - 1``.

    Without padding this returns ``(None, True)`` for a fresh prefill (SDPA's causal flag, no mask built) and
    ``(None, False)`` for one-token decoding. Padded keys (``attention_mask == 0``) are masked; a query whose
    every visible key is padding (a left-pad position) attends to itself only, so no row is fully masked and
    nothing turns into NaN.

    Args:
        attention_mask: ``[B, S]`` with ``S = past_len + q_len``, 1 for real tokens, or ``None``.
        q_len: number of new queries ``T``.
        past_len: tokens already in the KV cache.
        device: device of the mask.

    Returns:
        ``(mask, is_causal)`` where ``mask`` is ``None`` or a bool ``[B or 1, 1, T, S]`` (True = attend).
    """
    total = past_len + q_len
    padded = attention_mask is not None and not bool(attention_mask.all())
    if attention_mask is not None and attention_mask.dim() != 2:
        raise ValueError(f"attention_mask must be 2D [batch, past+new tokens], got shape {tuple(attention_mask.shape)}")
    if attention_mask is not None and attention_mask.shape[-1] != total:
        raise ValueError(
            f"attention_mask covers {attention_mask.shape[-1]} tokens but the cache holds {past_len} and {q_len} are new"
        )
    if not padded:
        if q_len == 1:
            return None, False
        if past_len == 0:
            return None, True
    q_pos = torch.arange(past_len, total, device=device)[:, None]
    k_pos = torch.arange(total, device=device)[None, :]
    mask = (k_pos <= q_pos)[None, None]
    if padded:
        mask = mask & attention_mask[:, None, None, :].to(device=device, dtype=torch.bool)
        mask = mask | (k_pos == q_pos)[None, None]
    return mask, False


def matmul_gqa_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    is_causal: bool,
    scale: float,
) -> torch.Tensor:
    """Exact GQA with explicit matmuls and no repeated K/V.

    The ``G = H // H_kv`` query heads of a group are folded into the row axis, so one batched matmul per KV
    head computes all their scores: ``[B, H_kv, G*T, D] @ [B, H_kv, D, S]``.

    Args:
        q: ``[B, H, T, D]`` queries (head ``h`` belongs to KV head ``h // G``).
        k: ``[B, H_kv, S, D]`` keys.
        v: ``[B, H_kv, S, D]`` values.
        mask: bool ``[B or 1, 1, T, S]`` (True = attend) or ``None``.
        is_causal: apply a top-left-aligned causal mask (used only when ``mask`` is ``None``).
        scale: softmax scale, usually ``D ** -0.5``.

    Returns:
        ``[B, H, T, D]``.
    """
    bsz, n_heads, q_len, head_dim = q.shape
    n_kv, kv_len = k.shape[1], k.shape[2]
    groups = n_heads // n_kv
    scores = torch.matmul(q.reshape(bsz, n_kv, groups * q_len, head_dim), k.transpose(-1, -2)) * scale
    scores = scores.view(bsz, n_kv, groups, q_len, kv_len)
    if mask is None and is_causal:
        mask = torch.ones(q_len, kv_len, dtype=torch.bool, device=q.device).tril()[None, None]
    if mask is not None:
        # [B, 1, T, S] -> [B, 1, 1, T, S] broadcasts over KV heads and groups
        scores = scores.masked_fill(~mask.unsqueeze(2), float("-inf"))
    probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    out = torch.matmul(probs.view(bsz, n_kv, groups * q_len, kv_len), v)
    return out.view(bsz, n_heads, q_len, head_dim)


class GQAAttention(nn.Module):
    """Grouped-query self-attention with RoPE and an optional KV cache.

    Args:
        config: the model config (``n_heads``, ``n_kv_heads``, ``head_dim``, ``attn_impl``, biases).
        layer_idx: index of this layer in the KV cache.
    """

    def __init__(self, config: GQAConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.n_heads = config.n_heads
        self.n_kv_heads = config.n_kv_heads
        self.head_dim = config.head_dim
        self.attn_impl = config.attn_impl
        self.scale = self.head_dim**-0.5
        self.q_proj = nn.Linear(config.d_model, self.n_heads * self.head_dim, bias=config.attention_bias)
        self.k_proj = nn.Linear(config.d_model, self.n_kv_heads * self.head_dim, bias=config.attention_bias)
        self.v_proj = nn.Linear(config.d_model, self.n_kv_heads * self.head_dim, bias=config.attention_bias)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, config.d_model, bias=config.attention_out_bias)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None = None,
        is_causal: bool = False,
        past_key_values: Cache | None = None,
    ) -> torch.Tensor:
        """Attend over the cache plus the new tokens.

        Args:
            x: ``[B, T, d]`` normalised hidden states.
            cos: ``[B, T, D]`` RoPE cosines.
            sin: ``[B, T, D]`` RoPE sines.
            mask: bool ``[B or 1, 1, T, S]`` or ``None`` (see :func:`build_attention_mask`).
            is_causal: use the causal flag instead of a mask (fresh prefill without padding).
            past_key_values: a transformers ``Cache``; updated in place with this layer's K/V.

        Returns:
            ``[B, T, d]``.
        """
        bsz, q_len, _ = x.shape
        q = self.q_proj(x).view(bsz, q_len, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(bsz, q_len, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(bsz, q_len, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if past_key_values is not None:
            k, v = past_key_values.update(k, v, self.layer_idx)
        if self.attn_impl == "matmul":
            out = matmul_gqa_attention(q, k, v, mask, is_causal, self.scale)
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=is_causal, scale=self.scale, enable_gqa=self.n_heads != self.n_kv_heads
            )
        out = out.transpose(1, 2).reshape(bsz, q_len, self.n_heads * self.head_dim)
        return self.o_proj(out)


class Intermediate(nn.Module):
    """Identity marking the tensor fed to ``down_proj`` (``[B, T, d_ff]``).

    A forward hook on it can read the FFN intermediate activations or replace them by returning a new tensor
    (sparsing-law's activation-sparsity measurements and masking use this).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class GQAMLP(nn.Module):
    """Gated (``down(act(gate(x)) * up(x))``) or plain (``down(act(up(x)))``) FFN with hook points.

    Submodules ``act_fn`` (output ``act(W_gate x)``, or ``act(W_up x)`` when plain) and ``intermediate`` (output is
    the ``down_proj`` input) are hookable with ``register_forward_hook``.
    """

    def __init__(self, config: GQAConfig) -> None:
        super().__init__()
        self.gated = config.ffn_type == "gated"
        if self.gated:
            self.gate_proj = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.up_proj = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.down_proj = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.act_fn = ACT2FN[config.activation]
        self.intermediate = Intermediate()

    def _may_overwrite(self, act: torch.Tensor) -> bool:
        # safe only when autograd does not need the activation and no hook on act_fn may hold a reference to it
        no_grad = not (torch.is_grad_enabled() and act.requires_grad)
        return no_grad and not self.act_fn._forward_hooks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[B, T, d]`` -> ``[B, T, d]``."""
        if self.gated:
            h = self.act_fn(self.gate_proj(x))
            up = self.up_proj(x)
            if self._may_overwrite(h):
                # inference: reuse the activation buffer, one [B, T, d_ff] tensor fewer at the FFN's peak
                h = h.mul_(up)
            else:
                h = h * up
        else:
            h = self.act_fn(self.up_proj(x))
        return self.down_proj(self.intermediate(h))


class GQADecoderLayer(GradientCheckpointingLayer):
    """Pre-norm block: ``x + attn(norm(x))`` then ``h + mlp(norm(h))``."""

    def __init__(self, config: GQAConfig, layer_idx: int) -> None:
        super().__init__()
        self.self_attn = GQAAttention(config, layer_idx)
        self.mlp = GQAMLP(config)
        self.input_layernorm = GQARMSNorm(config.d_model, eps=config.norm_eps)
        self.post_attention_layernorm = GQARMSNorm(config.d_model, eps=config.norm_eps)

    def forward(
        self,
        hidden_states: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None = None,
        is_causal: bool = False,
        past_key_values: Cache | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """``hidden_states``: ``[B, T, d]`` -> ``[B, T, d]`` (other arguments as in :class:`GQAAttention`)."""
        h = hidden_states + self.self_attn(self.input_layernorm(hidden_states), cos, sin, mask, is_causal, past_key_values)
        return h + self.mlp(self.post_attention_layernorm(h))


class GQAPreTrainedModel(PreTrainedModel):
    """Weight init, config class and capability flags shared by the GQA models."""

    config_class = GQAConfig
    config: GQAConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["GQADecoderLayer"]
    _skip_keys_device_placement = ["past_key_values"]
    _supports_sdpa = True

    def _init_weights(self, module: nn.Module) -> None:
        # every matrix ~ N(0, init_std), biases 0, norm weights 1
        from transformers import initialization as init

        std = self.config.init_std
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, GQARMSNorm):
            init.ones_(module.weight)

    def num_parameters_breakdown(self) -> dict[str, int]:
        """Parameter counts by component (tied weights counted once, under ``embedding``).

        Returns:
            ``embedding``, ``lm_head`` (0 when tied), ``attn_q``/``attn_k``/``attn_v``/``attn_o`` and their sum
            ``attention`` (biases included), ``ffn``, ``norms``, ``total`` and ``non_embedding``
            (``total - embedding - lm_head``).
        """
        counts = dict.fromkeys(("embedding", "lm_head", "attn_q", "attn_k", "attn_v", "attn_o", "ffn", "norms"), 0)
        seen: set[int] = set()
        for name, param in self.named_parameters(remove_duplicate=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            parts = name.split(".")
            if "embed_tokens" in parts:
                key = "embedding"
            elif parts[0] == "lm_head":
                key = "lm_head"
            elif "self_attn" in parts:
                key = "attn_" + parts[parts.index("self_attn") + 1][0]
            elif "mlp" in parts:
                key = "ffn"
            elif "norm" in parts[-2]:
                key = "norms"
            else:
                raise RuntimeError(f"num_parameters_breakdown: unclassified parameter {name}")
            counts[key] += param.numel()
        counts["attention"] = counts["attn_q"] + counts["attn_k"] + counts["attn_v"] + counts["attn_o"]
        counts["total"] = counts["embedding"] + counts["lm_head"] + counts["attention"] + counts["ffn"] + counts["norms"]
        counts["non_embedding"] = counts["total"] - counts["embedding"] - counts["lm_head"]
        return counts


class GQAModel(GQAPreTrainedModel):
    """The decoder stack without the output head (``last_hidden_state`` is after the final norm)."""

    def __init__(self, config: GQAConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList([GQADecoderLayer(config, i) for i in range(config.n_layers)])
        self.norm = GQARMSNorm(config.d_model, eps=config.norm_eps)
        self._scaled_rope: dict[str, tuple[torch.Tensor, float]] = {}
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def _rope_tables(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        if self.config.rope_scaling_config is None:
            return rope_cos_sin(position_ids, self.config.head_dim, self.config.rope_theta, dtype)
        # scaled frequencies are computed once per device (lazily: the model may have been built on "meta")
        key = str(position_ids.device)
        if key not in self._scaled_rope:
            self._scaled_rope[key] = scaled_rope_inv_freq(self.config, position_ids.device)
        inv_freq, scale = self._scaled_rope[key]
        return rope_cos_sin(position_ids, self.config.head_dim, self.config.rope_theta, dtype, inv_freq, scale)

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPast:
        """Run the decoder.

        Args:
            input_ids: ``[B, T]`` token ids (or give ``inputs_embeds`` ``[B, T, d]``).
            attention_mask: ``[B, S]`` (``S`` = cached + new tokens), 0 marks padding (left padding for batched
                generation).
            position_ids: ``[B, T]``; default: positions counted over non-padding tokens when a mask with padding is
                given, else ``past .. past + T - 1``.
            past_key_values: a transformers ``Cache`` (created as ``DynamicCache`` when ``use_cache`` and missing).
            use_cache: keep K/V for later steps (default ``config.use_cache``).
            output_hidden_states: also return the embeddings and every block's output (before the final norm).

        Returns:
            ``BaseModelOutputWithPast`` with ``last_hidden_state`` ``[B, T, d]``.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("GQAModel.forward: pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        use_cache = self.config.use_cache if use_cache is None else use_cache
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache(config=self.config)
        past_len = past_key_values.get_seq_length() if past_key_values is not None else 0
        bsz, q_len = inputs_embeds.shape[:2]
        device = inputs_embeds.device

        if position_ids is None:
            if attention_mask is not None and not bool(attention_mask.all()):
                position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -q_len:]
            else:
                position_ids = torch.arange(past_len, past_len + q_len, device=device).unsqueeze(0).expand(bsz, -1)
        mask, is_causal = build_attention_mask(attention_mask, q_len, past_len, device)
        cos, sin = self._rope_tables(position_ids.to(device), inputs_embeds.dtype)

        hidden_states = inputs_embeds
        all_hidden = [hidden_states] if output_hidden_states else None
        for layer in self.layers:
            hidden_states = layer(hidden_states, cos, sin, mask, is_causal, past_key_values)
            if all_hidden is not None:
                all_hidden.append(hidden_states)
        hidden_states = self.norm(hidden_states)
        return BaseModelOutputWithPast(
            last_hidden_state=hidden_states,
            past_key_values=past_key_values if use_cache else None,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
        )


class GQAForCausalLM(GQAPreTrainedModel, GenerationMixin):
    """GQA decoder with a language-modelling head; works with ``generate()`` (greedy, sampling, beams)."""

    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: GQAConfig) -> None:
        super().__init__(config)
        self.model = GQAModel(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.model.embed_tokens = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.lm_head = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """Logits (and the shifted next-token loss when ``labels`` are given).

        Args:
            input_ids: ``[B, T]``.
            labels: ``[B, T]`` targets aligned with ``input_ids`` (shifted inside; ``-100`` is ignored).
            logits_to_keep: compute logits for the last ``n`` positions only (0 = all), or an index tensor.
            **kwargs: the remaining arguments of :meth:`GQAModel.forward`.

        Returns:
            ``CausalLMOutputWithPast`` with ``logits`` ``[B, T or n, vocab_size]``.
        """
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_hidden_states=output_hidden_states,
        )
        hidden_states = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, keep, :])
        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size, **kwargs)
        return CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
        )
