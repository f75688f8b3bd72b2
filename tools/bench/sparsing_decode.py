"""Whole-model greedy decoding, dense vs sparse FFN, on the shipped demo model, in one process (CPU, batch 1).

Every MLP of ``sparsing-law/demo-relu`` is replaced by :class:`sparsing_law.sparse_ffn.SparseFFN` with ``eps=0``:
ReLU's exact zeros are skipped, so the sparse model is lossless. Before timing, the generated tokens must be
identical and the first-step logits equal to 1e-5. ``--eps`` > 0 prunes more (FAT-ε on the gate, lossy); both models
then use the same mask (the dense one through a masking hook), and tokens are compared as well. Run::

    python tools/bench/sparsing_decode.py --model sparsing-law/demo-relu --new-tokens 64 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from lc_core.report import machine_header
from sparsing_law.sparse_ffn import SparseFFN


class MaskedMLP(nn.Module):
    """The dense MLP with gate outputs ``|s| <= eps`` zeroed (the reference for ``eps > 0``)."""

    def __init__(self, mlp: nn.Module, eps: float) -> None:
        super().__init__()
        self.mlp, self.eps = mlp, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.mlp
        s = m.act_fn(m.gate_proj(x))
        s = torch.where(s.abs() > self.eps, s, torch.zeros_like(s))
        return m.down_proj(s * m.up_proj(x))


def load(name: str) -> nn.Module:
    from transformers import AutoModelForCausalLM

    from lc_core.models import register_all
    from lc_core.models.builtin import resolve_model_path

    register_all()
    return AutoModelForCausalLM.from_pretrained(resolve_model_path(name)).eval()


def decode(model: nn.Module, ids: torch.Tensor, n: int) -> tuple[list[int], torch.Tensor]:
    """Greedy decoding with the KV cache: ``n`` new tokens and the first step's logits."""
    out = model(input_ids=ids, use_cache=True)
    past, logits0 = out.past_key_values, out.logits[0, -1]
    tok = int(logits0.argmax())
    toks = [tok]
    for _ in range(n - 1):
        out = model(input_ids=torch.tensor([[tok]]), past_key_values=past, use_cache=True)
        past = out.past_key_values
        tok = int(out.logits[0, -1].argmax())
        toks.append(tok)
    return toks, logits0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="sparsing-law/demo-relu")
    p.add_argument("--prompt", default="The assignment statement binds names to values and")
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--eps", type=float, default=0.0, help="gate threshold (0: ReLU zeros only, lossless)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from lc_core.tokenizers import ByteTokenizer

    ids = torch.tensor([ByteTokenizer().encode(args.prompt)])
    dense, sparse = load(args.model), load(args.model)
    for d_layer, s_layer in zip(dense.model.layers, sparse.model.layers):
        if args.eps > 0:
            d_layer.mlp = MaskedMLP(d_layer.mlp, args.eps)
        s_layer.mlp = SparseFFN(s_layer.mlp, eps=args.eps)
    # activation ratio over the prompt and decoded tokens (gate outputs above eps), on a third copy
    kept: list[float] = []
    probe = load(args.model)

    def record(_m: nn.Module, _a: object, out: torch.Tensor) -> None:
        kept.append(float((out.abs() > args.eps).float().mean()))

    hooks = [layer.mlp.act_fn.register_forward_hook(record) for layer in probe.model.layers]
    with torch.no_grad():
        t_d, l_d = decode(dense, ids, args.new_tokens)
        t_s, l_s = decode(sparse, ids, args.new_tokens)
        assert t_d == t_s, "sparse decoding diverged from dense"
        err = float((l_d - l_s).abs().max())
        assert err <= 1e-5, err
        decode(probe, ids, args.new_tokens)
        for h in hooks:
            h.remove()
        times = {}
        for name, model in (("dense", dense), ("sparse", sparse)):
            runs = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                decode(model, ids, args.new_tokens)
                runs.append(time.perf_counter() - t0)
            runs.sort()
            times[name] = runs[len(runs) // 2]
    ratio = sum(kept) / len(kept)
    print(json.dumps({"machine": machine_header(), "model": args.model, "threads": args.threads}, default=str))
    print("| model | eps | activation | new tokens | dense ms/token | sparse ms/token | speed-up | max logit err |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    n = args.new_tokens
    print(
        f"| {args.model} | {args.eps:g} | {100 * ratio:.1f}% | {n} | {1e3 * times['dense'] / n:.2f} | "
        f"{1e3 * times['sparse'] / n:.2f} | {times['dense'] / times['sparse']:.2f}x | {err:.1e} |"
    )


if __name__ == "__main__":
    main()
