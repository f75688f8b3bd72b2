"""A million tokens in bounded memory (spec §8 test 18) and the numerics policy (test 19). Slow: ``-m slow``."""

import resource
import subprocess
import sys
import textwrap

import pytest

CODE = textwrap.dedent(
    """
    import resource, sys, time, torch
    from lc_core.models.mamba2 import Mamba2ForCausalLM, stream
    from lc_core.models.mamba2.presets import tiny_config
    from stuffed_mamba.methods import MethodSpec, build_hooks
    torch.manual_seed(0)
    torch.set_num_threads(1)
    m = Mamba2ForCausalLM(tiny_config(d_model=64, vocab_size=256)).eval()
    n = int(sys.argv[1])
    ids = (torch.arange(n) * 7919 % 251)
    hooks = build_hooks(MethodSpec(method=sys.argv[2], window=4096))
    t = time.perf_counter()
    res = stream(m, ids, chunk_tokens=4096, keep_losses=False, ssm_hooks=hooks, progress=False)
    assert res.n_tokens == n and res.loss_count == n - 1
    assert torch.isfinite(torch.tensor(res.mean_loss)), res.mean_loss
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t)
    """
)


def _run(n: int, method: str) -> tuple[int, float]:
    out = subprocess.run([sys.executable, "-c", CODE, str(n), method], capture_output=True, text=True, timeout=900, check=True)
    rss, wall = out.stdout.split()
    return int(rss), float(wall)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["none", "m3"])
def test_million_tokens_bounded_rss(method):
    rss_256k, _ = _run(1 << 18, method)
    rss_1m, wall = _run(1 << 20, method)
    print(f"{method}: peak RSS 256K {rss_256k} kB, 1M {rss_1m} kB, 1M wall {wall:.0f} s")
    assert rss_1m <= 1.1 * rss_256k
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
