"""TrainConfig: derived accumulation, validation and JSON loading with located errors.

Run: ``pytest packages/lc-core/tests/train/test_config.py -q``
"""

from __future__ import annotations

import json

import pytest

from lc_core.io import DataError
from lc_core.train import TrainConfig


@pytest.mark.parametrize(
    "micro,glob,world,accum",
    [(8, 64, 4, 2), (8, 8, 1, 1), (2, 32, 2, 8), (4, 4, 1, 1)],
    ids=lambda v: str(v),
)
def test_grad_accum_steps(micro: int, glob: int, world: int, accum: int) -> None:
    cfg = TrainConfig(micro_batch_size=micro, global_batch_size=glob)
    assert cfg.grad_accum_steps(world) == accum


def test_grad_accum_rejects_uneven_split() -> None:
    cfg = TrainConfig(micro_batch_size=4, global_batch_size=8)
    with pytest.raises(ValueError, match="world_size 4"):
        cfg.grad_accum_steps(4)


@pytest.mark.parametrize(
    "field,value",
    [
        ("global_batch_size", 6),
        ("schedule", "linear"),
        ("distributed", "deepspeed"),
        ("dtype", "fp16"),
        ("warmup_steps", 10_000),
        ("decay_fraction", 1.5),
        ("keep_last", 0),
        ("seq_len", 0),
    ],
    ids=lambda v: str(v),
)
def test_invalid_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{"micro_batch_size": 4, "global_batch_size": 8, field: value})


def test_from_dict_round_trip(tmp_path) -> None:
    cfg = TrainConfig(seq_len=64, lr=3e-4, betas=(0.9, 0.99), schedule="cosine", distributed="ddp")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg.to_dict()))
    again = TrainConfig.from_dict(json.loads(path.read_text()), path=path)
    assert again == cfg
    assert again.betas == (0.9, 0.99)


def test_from_dict_accepts_int_for_float() -> None:
    assert TrainConfig.from_dict({"lr": 1}).lr == 1.0


@pytest.mark.parametrize(
    "data,field,msg",
    [
        ({"learning_rate": 1e-3}, "learning_rate", "unknown"),
        ({"seq_len": "256"}, "seq_len", "expected int"),
        ({"resume": 1}, "resume", "expected bool"),
        ({"betas": [0.9, "x"]}, "betas", "expected tuple"),
    ],
    ids=["unknown", "str-for-int", "int-for-bool", "bad-betas"],
)
def test_from_dict_errors_name_file_and_field(data: dict, field: str, msg: str) -> None:
    with pytest.raises(DataError, match=msg) as err:
        TrainConfig.from_dict(data, path="cfg.json")
    assert err.value.field == field
    assert str(err.value).startswith("cfg.json")


def test_tokens_per_step() -> None:
    assert TrainConfig(seq_len=128, micro_batch_size=4, global_batch_size=16).tokens_per_step == 2048
