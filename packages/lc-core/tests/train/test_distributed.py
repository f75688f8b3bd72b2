"""DDP and FSDP2 under torchrun on CPU (gloo) reproduce the single-process loss curve.

Run: ``pytest packages/lc-core/tests/train/test_distributed.py -q -m "slow or not slow"`` (the torchrun
test and the DCP-format test are ``slow``: torchrun workers and ``torch.distributed.checkpoint`` take
many seconds to import on a busy CPU).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import torch

from lc_core.train import ByteTokenizer, PackedDataset, TrainConfig, build_optimizer, load_checkpoint, train
from lc_core.train.checkpoint import full_state_dicts, load_full_state_dicts
from lc_core.train.distributed import DistInfo, all_reduce_mean, init_distributed, unwrap_model, wrap_model
from lc_core.train.toy import ToyCausalLM, ToyConfig

_SCRIPT = """
import json, sys
import torch.distributed as dist
from lc_core.train import ByteTokenizer, Callback, PackedDataset, StopTraining, TrainConfig, train
from lc_core.train.toy import ToyCausalLM, ToyConfig

class StopAt3(Callback):
    def on_step_end(self, state):
        if state.step == 3:
            raise StopTraining

data = PackedDataset.from_source(sys.argv[1], ByteTokenizer(), seq_len=16)
cfg = TrainConfig.from_dict(json.load(open(sys.argv[2])))
own_group = sys.argv[3] == "own"
if not own_group:
    dist.init_process_group("gloo")
    # stop at step 3, then resume from that sharded checkpoint in the same group
    first = train(lambda: ToyCausalLM(ToyConfig()), cfg, data, eval_data=data, callbacks=[StopAt3()])
    assert first.step == 3
result = train(lambda: ToyCausalLM(ToyConfig()), cfg, data, eval_data=data)
assert result.resumed_from == (None if own_group else 3), result.resumed_from
# train() destroys only a group it created itself (a re-init after destroy hangs under torchrun)
assert dist.is_initialized() != own_group
if not own_group:
    dist.destroy_process_group()
"""


def _rows(out_dir: str | Path, kind: str) -> list[dict]:
    rows = map(json.loads, (Path(out_dir) / "metrics.jsonl").read_text().splitlines())
    return [r for r in rows if r["kind"] == kind]


def test_single_process_is_unwrapped() -> None:
    info = init_distributed("cpu")
    assert (info.rank, info.world_size, info.owns_group) == (0, 1, False)
    model = ToyCausalLM(ToyConfig())
    assert wrap_model(model, "fsdp", info) is model
    assert unwrap_model(model) is model
    t = torch.tensor([1.5])
    assert torch.equal(all_reduce_mean(t), t)


@pytest.mark.slow
def test_plain_checkpoint_format_matches_torch_dcp() -> None:
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    torch.manual_seed(0)
    model = ToyCausalLM(ToyConfig(num_layers=1))
    opt = build_optimizer(model, TrainConfig(max_steps=4))
    model(input_ids=torch.randint(0, 257, (2, 8))).logits.sum().backward()
    opt.step()
    model_sd, ours = full_state_dicts(model, opt)
    ref = get_optimizer_state_dict(model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    assert ours["state"].keys() == ref["state"].keys()
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in ref["param_groups"]]
    for name, s in ref["state"].items():
        assert all(torch.equal(s[k], ours["state"][name][k]) for k in s)
    fresh = ToyCausalLM(ToyConfig(num_layers=1))
    fresh_opt = build_optimizer(fresh, TrainConfig(max_steps=4))
    load_full_state_dicts(fresh, fresh_opt, model_sd, ref)
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values()))
    assert torch.equal(fresh_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


# the acceptance test: 2-process gloo DDP/FSDP == 1 process with the same global batch (~30 s on 2 cores)
@pytest.mark.parametrize(
    "mode,group", [("ddp", "own"), ("fsdp", "caller")], ids=["ddp-train-inits-group", "fsdp-caller-group-stop-resume"]
)
def test_torchrun_matches_one_process(mode, group, corpus_jsonl, tmp_path, subprocess_env, python, free_port) -> None:
    base = TrainConfig(
        seq_len=16,
        micro_batch_size=2,
        global_batch_size=8,
        max_steps=6,
        lr=1e-2,
        warmup_steps=1,
        log_every=1,
        eval_batches=2,
        save_every=3,
        progress=False,
        out_dir=str(tmp_path / "single"),
    )
    cfg_path = tmp_path / f"{mode}.json"
    cfg_path.write_text(json.dumps(dataclasses.replace(base, distributed=mode, out_dir=str(tmp_path / mode)).to_dict()))
    script = tmp_path / "dist_run.py"
    script.write_text(_SCRIPT)
    cmd = [
        python,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port),
    ]
    res = subprocess.run(
        [*cmd, str(script), str(corpus_jsonl), str(cfg_path), group],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert res.returncode == 0, res.stderr[-3000:]

    data = PackedDataset.from_source(corpus_jsonl, ByteTokenizer(), seq_len=16)
    # one process accumulates 4 micro-batches where two ranks accumulate 2 each: the same global batch
    single = train(lambda: ToyCausalLM(ToyConfig()), dataclasses.replace(base, eval_batches=4), data, eval_data=data)
    ref = [r["loss"] for r in _rows(single.out_dir, "train")]
    got = [r["loss"] for r in _rows(tmp_path / mode, "train")]
    assert got == pytest.approx(ref, rel=1e-5, abs=1e-6)
    final_eval = [r["eval_loss"] for r in _rows(tmp_path / mode, "eval") if r["step"] == 6]
    assert final_eval == pytest.approx([r["eval_loss"] for r in _rows(single.out_dir, "eval")], rel=1e-5)
    # the gathered checkpoint loads into a plain single-process model and matches its weights
    cpu = DistInfo(device=torch.device("cpu"))
    model, ref_model = ToyCausalLM(ToyConfig()), ToyCausalLM(ToyConfig())
    load_checkpoint(tmp_path / mode / "checkpoints" / "step_00000006", model=model, optimizer=None, info=cpu)
    load_checkpoint(single.checkpoint, model=ref_model, optimizer=None, info=cpu)
    for (name, a), b in zip(model.state_dict().items(), ref_model.state_dict().values()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), name
