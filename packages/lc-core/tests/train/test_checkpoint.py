"""Checkpoints: atomic folders, keep-last-k, exact state round trip, loadable by transformers.

Run: ``pytest packages/lc-core/tests/train/test_checkpoint.py -q``
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from lc_core.train import TrainConfig, build_optimizer, latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from lc_core.train.checkpoint import rng_state, set_rng_state
from lc_core.train.distributed import DistInfo
from lc_core.train.toy import ToyCausalLM, ToyConfig

CPU = DistInfo(device=torch.device("cpu"))


def _trained(seed: int = 0) -> tuple[ToyCausalLM, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = ToyCausalLM(ToyConfig(num_layers=1))
    opt = build_optimizer(model, TrainConfig(max_steps=4))
    for _ in range(2):
        model(input_ids=torch.randint(0, 257, (2, 8))).logits.square().mean().backward()
        opt.step()
        opt.zero_grad()
    return model, opt


def test_round_trip_restores_model_optimizer_and_rng(tmp_path) -> None:
    model, opt = _trained()
    torch.manual_seed(123)
    random.seed(5)
    np.random.seed(7)
    path = save_checkpoint(tmp_path, step=2, model=model, optimizer=opt, trainer_state={"data": {"position": 2}}, info=CPU)
    expected = (torch.rand(3), random.random(), np.random.rand())
    fresh, fresh_opt = _trained(seed=1)
    state = load_checkpoint(path, model=fresh, optimizer=fresh_opt, info=CPU)
    assert state["step"] == 2 and state["data"] == {"position": 2}
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values()))
    for a, b in zip(fresh_opt.state_dict()["state"].values(), opt.state_dict()["state"].values()):
        assert all(torch.equal(a[k], b[k]) for k in ("exp_avg", "exp_avg_sq", "step"))
    assert (torch.rand(3), random.random(), np.random.rand())[0].tolist() == expected[0].tolist()
    set_rng_state(torch.load(path / "rng_rank0.pt", weights_only=True))
    assert (random.random(), np.random.rand()) == expected[1:]


def test_files_load_with_weights_only(tmp_path) -> None:
    model, opt = _trained()
    path = save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={}, info=CPU)
    assert {p.name for p in path.iterdir()} == {"model.safetensors", "optimizer.pt", "rng_rank0.pt", "trainer_state.json"}
    torch.load(path / "optimizer.pt", weights_only=True)
    torch.load(path / "rng_rank0.pt", weights_only=True)
    assert json.loads((path / "trainer_state.json").read_text())["world_size"] == 1


def test_keep_last_and_latest(tmp_path) -> None:
    model, opt = _trained()
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step=step, model=model, optimizer=opt, trainer_state={}, info=CPU, keep_last=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [3, 4]
    assert latest_checkpoint(tmp_path).name == "step_00000004"


def test_a_torn_save_is_invisible_and_cleaned(tmp_path) -> None:
    model, opt = _trained()
    save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={}, info=CPU)
    # what a kill during the write of step 2 leaves behind
    torn = tmp_path / "checkpoints" / ".tmp-step_00000002"
    torn.mkdir()
    (torn / "model.safetensors").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step_00000001"
    save_checkpoint(tmp_path, step=3, model=model, optimizer=opt, trainer_state={}, info=CPU)
    assert not torn.exists()


def test_resaving_a_step_replaces_it(tmp_path) -> None:
    model, opt = _trained()
    save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={"v": 1}, info=CPU)
    path = save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={"v": 2}, info=CPU)
    assert json.loads((path / "trainer_state.json").read_text())["v"] == 2
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step_00000001"]


def test_tied_llama_checkpoint_loads_with_transformers(tiny_llama, tmp_path) -> None:
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = tiny_llama()
    opt = build_optimizer(model, TrainConfig(max_steps=2))
    path = save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={}, info=CPU)
    loaded = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    x = torch.randint(0, 257, (1, 8))
    with torch.no_grad():
        assert torch.equal(loaded(input_ids=x).logits, model(input_ids=x).logits)
    again = tiny_llama()
    load_checkpoint(path, model=again, optimizer=build_optimizer(again, TrainConfig(max_steps=2)), info=CPU)
    assert again.lm_head.weight is again.model.embed_tokens.weight
    assert torch.equal(again.lm_head.weight, model.lm_head.weight)


def test_rng_state_is_tensors_and_numbers_only() -> None:
    state = rng_state()
    assert isinstance(state["torch"], torch.Tensor)
    buf = __import__("io").BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    torch.load(buf, weights_only=True)


def test_optimizer_mismatch_is_rejected(tmp_path) -> None:
    model, opt = _trained()
    path = save_checkpoint(tmp_path, step=1, model=model, optimizer=opt, trainer_state={}, info=CPU)
    other = ToyCausalLM(ToyConfig(num_layers=2))
    with pytest.raises(RuntimeError):
        load_checkpoint(path, model=other, optimizer=build_optimizer(other, TrainConfig(max_steps=2)), info=CPU)
