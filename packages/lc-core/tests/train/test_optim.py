"""AdamW parameter groups: decay on weight matrices only, never on norms, biases or embeddings.

Run: ``pytest packages/lc-core/tests/train/test_optim.py -q``
"""

from __future__ import annotations

import pytest
import torch

from lc_core.train import TrainConfig, build_optimizer, param_groups
from lc_core.train.toy import ToyCausalLM, ToyConfig


def _names(groups: list[dict], wd: float) -> set[str]:
    return {n for g in groups if g["weight_decay"] == wd for n in g["names"]}


def test_llama_groups(tiny_llama) -> None:
    model = tiny_llama()
    groups = param_groups(model, 0.1)
    decayed, plain = _names(groups, 0.1), _names(groups, 0.0)
    assert "model.layers.0.self_attn.q_proj.weight" in decayed
    assert "model.layers.1.mlp.down_proj.weight" in decayed
    assert "model.embed_tokens.weight" in plain  # tied to lm_head: listed once, not decayed
    assert "model.norm.weight" in plain
    assert not decayed & plain
    n_unique = len({id(p) for p in model.parameters()})
    assert sum(len(g["params"]) for g in groups) == n_unique


def test_biases_and_norms_not_decayed() -> None:
    model = ToyCausalLM(ToyConfig(num_layers=1))
    groups = param_groups(model, 0.1)
    plain = _names(groups, 0.0)
    assert {"layers.0.up.bias", "layers.0.norm.weight", "layers.0.norm.bias", "embed.weight"} <= plain
    assert {"layers.0.up.weight", "layers.0.conv.weight", "head.weight"} <= _names(groups, 0.1)


def test_decay_embeddings_switch() -> None:
    model = ToyCausalLM(ToyConfig(num_layers=1))
    assert "embed.weight" in _names(param_groups(model, 0.1, decay_embeddings=True), 0.1)


def test_frozen_params_left_out() -> None:
    model = ToyCausalLM(ToyConfig(num_layers=1))
    model.embed.weight.requires_grad_(False)
    names = {n for g in param_groups(model, 0.1) for n in g["names"]}
    assert "embed.weight" not in names


def test_build_optimizer_settings() -> None:
    model = ToyCausalLM(ToyConfig(num_layers=1))
    cfg = TrainConfig(lr=2e-3, warmup_steps=4, max_steps=10, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.05)
    opt = build_optimizer(model, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.05, 0.0]
    assert opt.param_groups[0]["lr"] == pytest.approx(2e-3 / 4)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt.param_groups[0]["eps"] == 1e-6


def test_legacy_decay_all_params() -> None:
    model = ToyCausalLM(ToyConfig(num_layers=1))
    groups = param_groups(model, 0.1, decay_all=True)
    assert len(groups) == 1 and groups[0]["weight_decay"] == 0.1
    opt = build_optimizer(model, TrainConfig(decay_all_params=True))
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1]
