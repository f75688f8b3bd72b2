"""The verbs of ``stuffed-mamba`` (imported lazily by :mod:`stuffed_mamba.cli`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lc_core.logging import get_logger
from lc_core.report import emit, markdown_table

logger = get_logger(__name__)


def _emit(args: argparse.Namespace, record: dict[str, Any], table: str) -> None:
    print(table)
    if getattr(args, "out", None):
        paths = emit(args.out, args.run_name, record, table, config=vars(args), packages=["stuffed-mamba"])
        print(f"results: {paths.json}")


def method_spec(args: argparse.Namespace, loaded: Any = None) -> Any:
    """The :class:`~stuffed_mamba.methods.MethodSpec` of the ``--method`` flags (calibrating τ for m2)."""
    from stuffed_mamba.methods import MethodSpec, calibrate_thresholds
    from stuffed_mamba.prompts import encode_prompt

    thresholds = None
    if args.method == "m2":
        tokens = list(encode_prompt(args.calibration_prompt, loaded.encode, args.calibration_length))
        thresholds = calibrate_thresholds(loaded.model, tokens, multiplier=args.tau_multiplier)
    return MethodSpec(
        method=args.method,
        alpha_scale=args.alpha_scale,
        B_scale=args.b_scale,
        dt_scale=args.dt_scale,
        thresholds=thresholds,
        legacy_state_norm=args.legacy_state_norm,
        window=args.window,
        segment_tokens=args.segment_tokens,
    )


def analyze(args: argparse.Namespace) -> int:
    from stuffed_mamba.diagnostics import analyze as run
    from stuffed_mamba.diagnostics import exploding_heads, outlier_channels, summary_table
    from stuffed_mamba.methods import build_hooks
    from stuffed_mamba.models import load_model
    from stuffed_mamba.prompts import encode_prompt, prompt_text

    prompt_text(args.prompt)  # a missing file fails before the model loads
    loaded = load_model(args.model, threads=args.threads)
    spec = method_spec(args, loaded)
    hooks = build_hooks(spec)
    tokens = encode_prompt(args.prompt, loaded.encode, args.length)
    res = run(
        loaded.model,
        tokens,
        every=args.every,
        segment_tokens=args.segment_tokens,
        chunk_tokens=args.chunk_tokens,
        interventions=hooks.interventions if hooks else (),
        state_fn=hooks.state_fn if hooks else None,
        extra_observers=[hooks.on_segment] if hooks and hooks.on_segment else (),
        total=args.length,
    )
    rec = res.recorder
    marks = sorted(
        {
            min(args.train_length, args.length),
            *[p for p in (1024, 4096, 16384, 65536, 262144, 1 << 20) if p <= args.length],
            args.length,
        }
    )
    rows = summary_table(rec, marks, "rms")
    exploding = exploding_heads(rec, args.train_length, factor=args.factor)
    outliers = outlier_channels(rec)
    table = "## State RMS (max / mean over heads) by layer and position\n\n" + markdown_table(
        rows, ["layer", "position", "max_head", "max", "mean"]
    )
    table += f"\n\nExploding heads (RMS > {args.factor} × value at {args.train_length}): {len(exploding)}\n"
    if exploding:
        table += "\n" + markdown_table(exploding[:20], ["layer", "head", "ref", "max", "ratio", "first_position"])
    if res.losses is not None and res.losses.numel():
        table += f"\n\nmean loss: {float(res.losses.mean()):.4f} over {res.n_tokens} tokens in {res.wall_s:.1f} s"
    if args.plot:
        from stuffed_mamba.plots import plot_state_stats

        plot_state_stats(rec, args.plot, train_length=args.train_length)
        table += f"\n\nplot: {args.plot}"
    record = {
        "model": args.model,
        "method": spec.describe(),
        "prompt": args.prompt,
        "length": res.n_tokens,
        "wall_s": res.wall_s,
        "summary": rows,
        "exploding_heads": exploding,
        "outlier_channels": outliers,
        "traces": rec.to_dict(),
    }
    _emit(args, record, table)
    return 0


def capacity(args: argparse.Namespace) -> int:
    from stuffed_mamba.capacity import OFFICIAL_CONFIGS, paper_t_forget, paper_t_recall, state_size

    rows = []
    configs: dict[str, Any] = dict(OFFICIAL_CONFIGS) if args.formulas or not args.config else {}
    if args.config:
        path = Path(args.config)
        if path.is_dir():
            path = path / "config.json"
        configs[str(args.config)] = json.loads(path.read_text())
    for name, cfg in configs.items():
        n = state_size(cfg)
        rows.append(
            {
                "model": name,
                "N_S": n,
                "T_forget_K (paper, unverified)": round(paper_t_forget(n / 1e6), 1),
                "T_recall_K (paper, unverified)": round(paper_t_recall(n / 1e6), 1),
            }
        )
    table = markdown_table(rows, list(rows[0]))
    _emit(args, {"rows": rows}, table)
    return 0
