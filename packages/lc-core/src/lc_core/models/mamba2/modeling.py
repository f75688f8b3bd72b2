"""The lc-core Mamba-2 language model: exact on CPU, HF-compatible, continuable from a cache, hookable.

Layer (spec §1.1, identical to ``mamba_ssm.modules.mamba2.Mamba2`` with ``rmsnorm=True``,
``norm_before_gate=False``)::

    z, xBC, dt = split(in_proj(u), [d_inner, conv_dim, H])
    xBC = silu(causal_depthwise_conv1d(xBC))            # carry: last d_conv - 1 inputs
    x, B, C = split(xBC, [d_inner, G*N, G*N])
    Δ = clamp(softplus(dt + dt_bias), dt_limit);  A = -exp(A_log)  (fp32; fp64 for fp64 models)
    y = SSD(x, Δ, A, B, C) + D * x                       # chunked scan, or one recurrent step when decoding
    out = out_proj(w * g / sqrt(mean_group(g^2) + eps)),  g = y * silu(z)   (per group of d_inner / G)

Module names match transformers' ``Mamba2ForCausalLM`` (``backbone.embeddings``, ``backbone.layers.{i}.norm``,
``.mixer.in_proj`` ...); a ``state-spaces`` state dict (``backbone.embedding``) loads through a pre-hook.

Example::

    import torch
    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM

    model = Mamba2ForCausalLM(Mamba2Config(d_model=64, n_layers=2, vocab_size=256, d_state=16, headdim=16)).eval()
    out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=5, do_sample=False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput

from lc_core.models.mamba2.cache import Mamba2Cache
from lc_core.models.mamba2.configuration import Mamba2Config
from lc_core.models.mamba2.hooks import LayerKnobs, SegmentSummary, SSMHooks, normalize_state, resolve_knobs
from lc_core.ops.conv1d import causal_conv1d, causal_conv1d_update
from lc_core.ops.ssd.dispatch import chunk_ssd, ssd_state_update
from lc_core.ops.ssd.naive import compute_dtype
from lc_core.ops.ssd.torch_chunk import chunk_ssd_torch

__all__ = [
    "Mamba2RMSNorm",
    "gated_rms_norm",
    "Mamba2Mixer",
    "Mamba2Block",
    "Mamba2PreTrainedModel",
    "Mamba2Model",
    "Mamba2ForCausalLM",
    "Mamba2Output",
    "Mamba2CausalLMOutput",
    "discretize_dt",
]


def discretize_dt(
    dt_raw: torch.Tensor, dt_bias: torch.Tensor, dt_limit: tuple[float, float], dtype: torch.dtype
) -> torch.Tensor:
    """Δ = clamp(softplus(dt_raw + dt_bias), dt_limit), computed in ``dtype``.

    ``F.softplus`` returns its input above 20 exactly as the mamba_ssm kernel does.

    Args:
        dt_raw: ``[B, T, H]`` slice of ``in_proj``.
        dt_bias: ``[H]``.
        dt_limit: ``(lo, hi)``; ``(0, inf)`` is a no-op.
        dtype: fp32 (fp64 for fp64 models).

    Returns:
        Δ ``[B, T, H]`` in ``dtype``.
    """
    dt = F.softplus(dt_raw.to(dtype) + dt_bias.to(dtype))
    lo, hi = dt_limit
    if lo > 0.0 or hi < float("inf"):
        dt = dt.clamp(min=lo, max=hi)
    return dt


class Mamba2RMSNorm(nn.Module):
    """RMSNorm computed in fp32 (fp64 for fp64 inputs), returned in the input dtype.

    Args:
        hidden_size: normalised width.
        eps: epsilon inside the square root.
    """

    def __init__(self, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``[..., D] -> [..., D]``."""
        cdt = compute_dtype(hidden_states)
        h = hidden_states.to(cdt)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return (h * self.weight.to(cdt)).to(hidden_states.dtype)


def gated_rms_norm(y: torch.Tensor, z: torch.Tensor, weight: torch.Tensor, eps: float, ngroups: int) -> torch.Tensor:
    """mamba_ssm ``RMSNormGated`` with ``norm_before_gate=False``: normalise ``y * silu(z)`` per group.

    Args:
        y: SSM output ``[B, T, d_inner]``.
        z: gate ``[B, T, d_inner]``.
        weight: ``[d_inner]``.
        eps: epsilon.
        ngroups: groups ``G``; the RMS is taken over each block of ``d_inner / G`` channels (transformers
            normalises the whole ``d_inner`` instead, which only agrees for ``G = 1``).

    Returns:
        ``[B, T, d_inner]`` in fp32 (fp64 for fp64 inputs).
    """
    cdt = compute_dtype(y)
    g = y.to(cdt) * F.silu(z.to(cdt))
    shape = g.shape
    # the fused norm keeps one [B, T, d_inner] temporary instead of four (the peak memory of a long prefill)
    g = F.rms_norm(g.view(*shape[:-1], ngroups, shape[-1] // ngroups), (shape[-1] // ngroups,), eps=eps).view(shape)
    if torch.is_grad_enabled() and g.requires_grad:
        return g * weight.to(cdt)
    return g.mul_(weight.to(cdt))


class Mamba2Mixer(nn.Module):
    """One Mamba-2 mixer (see the module docstring for the math).

    Args:
        config: model config.
        layer_idx: index of this layer (cache slot and hook target).
    """

    def __init__(self, config: Mamba2Config, layer_idx: int) -> None:
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.d_inner = config.d_inner
        self.nheads = config.nheads
        self.headdim = config.headdim
        self.ngroups = config.ngroups
        self.d_state = config.d_state
        self.conv_dim = config.conv_dim
        self.chunk_size = config.chunk_size
        self.in_proj = nn.Linear(config.d_model, config.d_in_proj, bias=config.bias)
        self.conv1d = nn.Conv1d(
            self.conv_dim, self.conv_dim, config.d_conv, groups=self.conv_dim, bias=config.conv_bias, padding=config.d_conv - 1
        )
        self.dt_bias = nn.Parameter(torch.empty(self.nheads))
        self.A_log = nn.Parameter(torch.empty(self.nheads))
        self.D = nn.Parameter(torch.empty(self.nheads))
        for p in (self.dt_bias, self.A_log, self.D):
            p._no_weight_decay = True  # type: ignore[attr-defined]
        self.norm = Mamba2RMSNorm(self.d_inner, eps=config.rms_norm_eps)
        self.out_proj = nn.Linear(self.d_inner, config.d_model, bias=config.bias)
        # marks the residual output projection for the 1/sqrt(n_layers) init
        self.out_proj._lc_prenorm_rescale = True  # type: ignore[assignment]

    def forward(
        self,
        u: torch.Tensor,
        cache: Mamba2Cache | None = None,
        seq_idx: torch.Tensor | None = None,
        hooks: SSMHooks | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mix a block of tokens, continuing from and updating ``cache`` when given.

        Args:
            u: ``[B, T, d_model]``.
            cache: states after the previous tokens (updated in place) or None (start from zeros).
            seq_idx: ``[B, T]`` document ids (packed sequences; the conv window and the SSM state reset
                where the id changes; the cached state belongs to the first document of the call) or None.
            hooks: observers / interventions, see :mod:`lc_core.models.mamba2.hooks`.
            attention_mask: ``[B, T]`` with 0 at (left-)padding positions, which are zeroed like in transformers.

        Returns:
            ``[B, T, d_model]`` in ``u.dtype``.
        """
        bsz, seqlen, _ = u.shape
        cdt = compute_dtype(u)
        mask = attention_mask[:, :, None].to(u.dtype) if attention_mask is not None else None
        if mask is not None:
            u = u * mask
        z, xBC, dt_raw = torch.split(self.in_proj(u), [self.d_inner, self.conv_dim, self.nheads], dim=-1)
        conv_w = self.conv1d.weight[:, 0]
        conv_state = cache.conv_states[self.layer_idx] if cache is not None else None
        if seqlen == 1 and cache is not None and seq_idx is None:
            xBC, new_conv = causal_conv1d_update(xBC[:, 0], conv_state, conv_w, self.conv1d.bias, "silu")
            xBC = xBC[:, None]
        else:
            xBC, new_conv = causal_conv1d(xBC, conv_w, self.conv1d.bias, conv_state, "silu", seq_idx)
        if mask is not None:
            xBC = xBC * mask
        x, B, C = torch.split(xBC, [self.d_inner, self.ngroups * self.d_state, self.ngroups * self.d_state], dim=-1)
        x = x.reshape(bsz, seqlen, self.nheads, self.headdim)
        B = B.reshape(bsz, seqlen, self.ngroups, self.d_state)
        C = C.reshape(bsz, seqlen, self.ngroups, self.d_state)
        dt = discretize_dt(dt_raw, self.dt_bias, self.config.dt_limit, cdt)
        A = -torch.exp(self.A_log.to(cdt))

        knobs = resolve_knobs(hooks, self.layer_idx, self.nheads)
        x_ssm = x
        if knobs.dt_scale is not None:
            dt = dt * knobs.dt_scale.to(dt)
        if knobs.B_scale is not None:
            x_ssm = (x.to(cdt) * knobs.B_scale.to(cdt)[:, None]).to(x.dtype)
        log_alpha = knobs.log_alpha.to(cdt) if knobs.log_alpha is not None else None

        state = cache.ssm_states[self.layer_idx] if cache is not None else None
        segmented = hooks is not None and (hooks.on_segment is not None or hooks.state_fn is not None or knobs.needs_segments)
        if segmented:
            offset = cache.seqlen_offset if cache is not None else 0
            y, state = self._segmented_scan(x_ssm, dt, A, B, C, state, seq_idx, log_alpha, hooks, knobs, offset)
        elif seqlen == 1 and cache is not None and log_alpha is None and seq_idx is None:
            y, state = ssd_state_update(state, x_ssm[:, 0], dt[:, 0], A, B[:, 0], C[:, 0], backend=self.config.ssd_backend)
            y = y[:, None]
        else:
            y, state = self._scan(x_ssm, dt, A, B, C, state, seq_idx, log_alpha)
        y = y.to(cdt) + self.D.to(cdt)[:, None] * x.to(cdt)

        if cache is not None:
            cache.conv_states[self.layer_idx] = new_conv.to(cache.conv_states[self.layer_idx].dtype)
            cache.ssm_states[self.layer_idx] = state.to(cache.ssm_states[self.layer_idx].dtype)
        y = gated_rms_norm(y.reshape(bsz, seqlen, self.d_inner), z, self.norm.weight, self.norm.variance_epsilon, self.ngroups)
        return self.out_proj(y.to(u.dtype))

    def _scan(
        self,
        x: torch.Tensor,
        dt: torch.Tensor,
        A: torch.Tensor,
        B: torch.Tensor,
        C: torch.Tensor,
        state: torch.Tensor | None,
        seq_idx: torch.Tensor | None,
        log_alpha: torch.Tensor | None,
        chunk_size: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = chunk_size or self.chunk_size
        if log_alpha is not None:
            return chunk_ssd_torch(
                x, dt, A, B, C, chunk_size=q, initial_state=state, seq_idx=seq_idx, log_decay_offset=log_alpha
            )
        return chunk_ssd(x, dt, A, B, C, chunk_size=q, initial_state=state, seq_idx=seq_idx, backend=self.config.ssd_backend)

    def _segmented_scan(
        self,
        x: torch.Tensor,
        dt: torch.Tensor,
        A: torch.Tensor,
        B: torch.Tensor,
        C: torch.Tensor,
        state: torch.Tensor | None,
        seq_idx: torch.Tensor | None,
        log_alpha: torch.Tensor | None,
        hooks: SSMHooks,
        knobs: LayerKnobs,
        offset: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        bsz, seqlen = x.shape[:2]
        seg_len = hooks.segment_tokens
        if state is None:
            state = x.new_zeros((bsz, self.nheads, self.headdim, self.d_state), dtype=compute_dtype(x))
        ys = []
        t = 0
        while t < seqlen:
            pos = offset + t
            n = min(seqlen - t, (pos // seg_len + 1) * seg_len - pos)
            sl = slice(t, t + n)
            if seq_idx is not None and t > 0:
                keep = (seq_idx[:, t] == seq_idx[:, t - 1]).to(state.dtype)
                state = state * keep[:, None, None, None]
            y, state = self._scan(
                x[:, sl], dt[:, sl], A, B[:, sl], C[:, sl], state,
                seq_idx[:, sl] if seq_idx is not None else None, log_alpha,
            )  # fmt: skip
            ys.append(y)
            if hooks.on_segment is not None:
                log_a = dt[:, sl] * A
                if log_alpha is not None:
                    log_a = log_a + log_alpha
                hooks.on_segment(
                    SegmentSummary(
                        layer=self.layer_idx,
                        start=pos,
                        end=pos + n,
                        dt_mean=dt[:, sl].mean(dim=1),
                        alpha_mean=torch.exp(log_a).mean(dim=1),
                        log_alpha_sum=log_a.sum(dim=1),
                        state_norm=torch.linalg.vector_norm(state, dim=(-2, -1)),
                        state=state,
                    )
                )
            if (pos + n) % seg_len == 0:
                if knobs.threshold is not None:
                    state = normalize_state(state, knobs.threshold, legacy=knobs.legacy_state_norm)
                if hooks.state_fn is not None:
                    new = hooks.state_fn(self.layer_idx, state, pos + n)
                    if new is not None:
                        if new.shape != state.shape:
                            raise ValueError(f"state_fn returned shape {tuple(new.shape)}, expected {tuple(state.shape)}")
                        state = new.to(state.dtype)
            t += n
        return torch.cat(ys, dim=1), state


class Mamba2Block(GradientCheckpointingLayer):
    """Pre-norm residual block ``h + mixer(norm(h))`` (residual kept in fp32 when ``residual_in_fp32``)."""

    def __init__(self, config: Mamba2Config, layer_idx: int) -> None:
        super().__init__()
        self.residual_in_fp32 = config.residual_in_fp32
        self.norm = Mamba2RMSNorm(config.d_model, eps=config.rms_norm_eps)
        self.mixer = Mamba2Mixer(config, layer_idx)

    def forward(
        self,
        hidden_states: torch.Tensor,
        cache: Mamba2Cache | None = None,
        seq_idx: torch.Tensor | None = None,
        hooks: SSMHooks | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``[B, T, d_model] -> [B, T, d_model]`` (fp32 residual stream when ``residual_in_fp32``)."""
        residual = hidden_states.float() if self.residual_in_fp32 and hidden_states.dtype != torch.float64 else hidden_states
        out = self.mixer(self.norm(hidden_states.to(self.norm.weight.dtype)), cache, seq_idx, hooks, attention_mask)
        return residual + out


@dataclass
class Mamba2Output(ModelOutput):
    """Backbone output: ``last_hidden_state [B, T, d_model]``, the cache and optional per-layer hidden states."""

    last_hidden_state: torch.Tensor | None = None
    cache_params: Mamba2Cache | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class Mamba2CausalLMOutput(ModelOutput):
    """LM output: ``loss``, ``logits [B, T, vocab]``, the cache (named ``cache_params`` as transformers expects)."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    cache_params: Mamba2Cache | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class Mamba2PreTrainedModel(PreTrainedModel):
    """Init (spec §1.1), config class and capability flags shared by the Mamba-2 models."""

    config_class = Mamba2Config
    config: Mamba2Config
    base_model_prefix = "backbone"
    supports_gradient_checkpointing = True
    _no_split_modules = ["Mamba2Block"]
    _is_stateful = True

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        # generate() must not build a transformers DynamicCache: forward creates a Mamba2Cache on first use
        return False

    def _init_weights(self, module: nn.Module) -> None:
        from transformers import initialization as init

        cfg = self.config
        if isinstance(module, nn.Linear):
            # torch's default Linear init (kaiming-uniform, a=sqrt(5)); out_proj additionally / sqrt(n_layers)
            w = torch.empty_like(module.weight, device="cpu" if module.weight.is_meta else module.weight.device)
            nn.init.kaiming_uniform_(w, a=math.sqrt(5))
            if getattr(module, "_lc_prenorm_rescale", False) and cfg.rescale_prenorm_residual:
                w /= math.sqrt(cfg.n_layers)
            init.copy_(module.weight, w)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Conv1d):
            # torch's default Conv1d init, as mamba_ssm leaves the conv untouched
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                bound = 1.0 / math.sqrt(module.weight.shape[1] * module.weight.shape[2])
                init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=cfg.initializer_range)
        elif isinstance(module, Mamba2RMSNorm):
            init.ones_(module.weight)
        elif isinstance(module, Mamba2Mixer):
            h = module.nheads
            lo, hi = cfg.A_init_range
            init.copy_(module.A_log, torch.log(torch.empty(h).uniform_(lo, hi)))
            log_min, log_max = cfg.dt_init_log_range()
            dt = torch.exp(torch.rand(h) * (log_max - log_min) + log_min).clamp(min=cfg.dt_init_floor)
            # inverse of softplus: dt + log(1 - exp(-dt))
            init.copy_(module.dt_bias, dt + torch.log(-torch.expm1(-dt)))
            init.ones_(module.D)


class Mamba2Model(Mamba2PreTrainedModel):
    """Embedding, ``n_layers`` blocks and the final norm."""

    def __init__(self, config: Mamba2Config) -> None:
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList([Mamba2Block(config, i) for i in range(config.n_layers)])
        self.norm_f = Mamba2RMSNorm(config.d_model, eps=config.rms_norm_eps)
        self.ssm_hooks: SSMHooks | None = None
        self.gradient_checkpointing = False
        self._register_load_state_dict_pre_hook(self._rename_state_spaces_keys)
        self.post_init()

    @staticmethod
    def _rename_state_spaces_keys(state_dict: dict[str, torch.Tensor], prefix: str, *args: Any) -> None:
        old = prefix + "embedding.weight"
        if old in state_dict and prefix + "embeddings.weight" not in state_dict:
            state_dict[prefix + "embeddings.weight"] = state_dict.pop(old)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings = value

    def new_cache(self, batch_size: int, dtype: torch.dtype | None = None) -> Mamba2Cache:
        """A zero cache on this model's device (conv states in the weights' dtype unless ``dtype`` is given)."""
        w = self.embeddings.weight
        return Mamba2Cache(self.config, batch_size, dtype=dtype or w.dtype, device=w.device)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache_params: Mamba2Cache | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        attention_mask: torch.Tensor | None = None,
        seq_idx: torch.Tensor | None = None,
        ssm_hooks: SSMHooks | None = None,
        **kwargs: Any,
    ) -> Mamba2Output:
        """Run the blocks over ``[B, T]`` tokens, continuing from ``cache_params`` when given.

        Args:
            input_ids: ``[B, T]`` (or give ``inputs_embeds [B, T, d_model]``).
            cache_params: cache to continue from (updated in place; ``seqlen_offset`` advances by ``T``).
            use_cache: create a cache when none is passed and return it.
            output_hidden_states: also return the input of every block and the final output.
            attention_mask: ``[B, T]`` 0 at padding (left padding only); ignored when all ones.
            seq_idx: ``[B, T]`` document ids for packed sequences (see :class:`Mamba2Mixer`).
            ssm_hooks: hooks for this call; default the ones attached with ``set_ssm_hooks``.

        Returns:
            :class:`Mamba2Output`.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        use_cache = use_cache if use_cache is not None else (self.config.use_cache and not self.training)
        if use_cache and cache_params is None:
            cache_params = self.new_cache(inputs_embeds.shape[0])
        if attention_mask is not None:
            attention_mask = attention_mask[:, -inputs_embeds.shape[1] :]
            if bool(attention_mask.all()):
                attention_mask = None
        hooks = ssm_hooks if ssm_hooks is not None else self.ssm_hooks
        hidden = inputs_embeds
        all_hidden: tuple[torch.Tensor, ...] = ()
        for block in self.layers:
            if output_hidden_states:
                all_hidden += (hidden,)
            hidden = block(hidden, cache_params, seq_idx, hooks, attention_mask)
        hidden = self.norm_f(hidden.to(self.norm_f.weight.dtype))
        if output_hidden_states:
            all_hidden += (hidden,)
        if cache_params is not None:
            cache_params.seqlen_offset += inputs_embeds.shape[1]
        return Mamba2Output(
            last_hidden_state=hidden,
            cache_params=cache_params if (use_cache or cache_params is not None) else None,
            hidden_states=all_hidden if output_hidden_states else None,
        )


class Mamba2ForCausalLM(Mamba2PreTrainedModel, GenerationMixin):
    """Mamba-2 with a (tied by default) LM head; works with ``generate()`` (greedy and sampling)."""

    _tied_weights_keys = {"lm_head.weight": "backbone.embeddings.weight"}

    def __init__(self, config: Mamba2Config) -> None:
        super().__init__(config)
        self.backbone = Mamba2Model(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.backbone.embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.backbone.embeddings = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.lm_head = value

    def set_ssm_hooks(self, hooks: SSMHooks | None) -> None:
        """Attach (or with None, detach) observation hooks and interventions for every later forward."""
        self.backbone.ssm_hooks = hooks

    def new_cache(self, batch_size: int, dtype: torch.dtype | None = None) -> Mamba2Cache:
        """A zero :class:`Mamba2Cache` for ``batch_size`` sequences."""
        return self.backbone.new_cache(batch_size, dtype)

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        cache_params: Mamba2Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        # feed only the tokens the cache has not consumed yet (one per step after the prompt)
        if cache_params is not None and cache_params.seqlen_offset > 0:
            input_ids = input_ids[:, cache_params.seqlen_offset :]
            inputs_embeds = None
        inputs: dict[str, Any] = {"cache_params": cache_params, "use_cache": use_cache, "attention_mask": attention_mask}
        if inputs_embeds is not None:
            inputs["inputs_embeds"] = inputs_embeds
        else:
            inputs["input_ids"] = input_ids
        if kwargs.get("logits_to_keep") is not None:
            inputs["logits_to_keep"] = kwargs["logits_to_keep"]
        return inputs

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache_params: Mamba2Cache | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        attention_mask: torch.Tensor | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        seq_idx: torch.Tensor | None = None,
        ssm_hooks: SSMHooks | None = None,
        **kwargs: Any,
    ) -> Mamba2CausalLMOutput:
        """Logits (and the shifted next-token loss when ``labels`` are given).

        Args:
            input_ids: ``[B, T]``.
            labels: ``[B, T]`` aligned with ``input_ids`` (shifted inside; ``-100`` ignored).
            logits_to_keep: logits for the last ``n`` positions only (0 = all), or an index tensor.
            **kwargs: see :meth:`Mamba2Model.forward`.

        Returns:
            :class:`Mamba2CausalLMOutput` with ``logits [B, T or n, vocab_size]``.
        """
        out = self.backbone(
            input_ids=input_ids,
            inputs_embeds=inputs_embeds,
            cache_params=cache_params,
            use_cache=use_cache,
            output_hidden_states=output_hidden_states,
            attention_mask=attention_mask,
            seq_idx=seq_idx,
            ssm_hooks=ssm_hooks,
        )
        hidden = out.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden[:, keep].to(self.lm_head.weight.dtype))
        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits.float(), labels=labels, vocab_size=self.config.vocab_size, **kwargs)
        return Mamba2CausalLMOutput(loss=loss, logits=logits, cache_params=out.cache_params, hidden_states=out.hidden_states)
