"""Issue §7: two gloo processes on CPU, each with half of the calibration batches, give one process's thresholds."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def _model(activation: str):
    from lc_core.models.gqa import GQAConfig, GQAForCausalLM

    torch.manual_seed(0)
    cfg = GQAConfig(vocab_size=64, d_model=32, n_layers=2, n_heads=2, d_ff=64, activation=activation, init_std=0.1)
    return GQAForCausalLM(cfg).eval()


def _batches():
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(64, (4, 24), generator=g)
    mask = torch.ones_like(ids)
    mask[3, 16:] = 0
    return [{"input_ids": ids[i : i + 1], "attention_mask": mask[i : i + 1]} for i in range(4)]


def _single(cetts, legacy=False):
    from sparsing_law.search import dense_stats, evaluate_thresholds, thresholds_for_cett

    model = _model("silu")
    stats = dense_stats(model, _batches())
    out = []
    for c in cetts:
        ths = thresholds_for_cett(stats, c, legacy=legacy)
        out.append((ths, evaluate_thresholds(model, _batches(), ths, dense_loss=stats.loss).ppl_ratio))
    return out


WORKER = """
import json, sys
import torch
import torch.distributed as dist
sys.path.insert(0, sys.argv[4])
import test_distributed as t
from sparsing_law.distributed import dist_reducer, shard_batches
from sparsing_law.search import dense_stats, evaluate_thresholds, thresholds_for_cett

rank, world, init = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
reducer = dist_reducer()
model = t._model("silu")
mine = shard_batches(t._batches())
stats = dense_stats(model, mine, reducer=reducer)
out = []
for c in (0.05, 0.2):
    ths = thresholds_for_cett(stats, c)
    out.append((ths, evaluate_thresholds(model, mine, ths, dense_loss=stats.loss, reducer=reducer).ppl_ratio))
dist.destroy_process_group()
print("RESULT " + json.dumps(out))
"""


@pytest.mark.timeout(600)
def test_two_gloo_processes_match_one(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    init = f"file://{tmp_path / 'rendezvous'}"
    here = str(Path(__file__).parent)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(r), "2", init, here], stdout=subprocess.PIPE, text=True)
        for r in range(2)
    ]
    outs = [p.communicate(timeout=500)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    results = [json.loads(next(line for line in o.splitlines() if line.startswith("RESULT "))[7:]) for o in outs]
    single = _single([0.05, 0.2])
    for res in results:
        for (ths, ratio), (ref_ths, ref_ratio) in zip(res, single):
            assert ths == pytest.approx(ref_ths, rel=1e-9, abs=0)
            assert ratio == pytest.approx(ref_ratio, rel=1e-9)
