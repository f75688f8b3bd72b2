"""``gqa-cost`` console script: costs, comparisons, law fitting, cost-optimal search, Table 4, sweeps.

Run ``gqa-cost --help``; every subcommand prints a Markdown table and, with ``--out PREFIX``, writes
``PREFIX.json`` (the record, with units and a run manifest) and ``PREFIX.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gqa_cost.config import PAPER_HEAD_DIM, PAPER_VOCAB, ArchConfig, load_config, preset_names
from gqa_cost.costs import CostUnits, cost_summary, param_count
from gqa_cost.search import CostWeights, LossModel, format_head, parse_context
from lc_core.io import DataError
from lc_core.logging import get_logger, print0, setup_logging
from lc_core.report import markdown_table, run_manifest, write_results

__all__ = ["main", "build_parser"]

logger = get_logger(__name__)

EPILOG = """quick start:
  gqa-cost cost llama-3.2-1b --context 128k
  gqa-cost compare paper-llama3-gqa-1.2b paper-ours-1.8b --context 128k
  gqa-cost table                              # Table 4 from the paper-calibrated preset
  gqa-cost headline                           # (8,1) vs (32,8) at 128K, L* = 2.615
  gqa-cost search --target-loss 2.6 --context 128k --plot pareto.png
  gqa-cost fit runs.jsonl --out fits          # then: gqa-cost search --laws fits.json ...
  gqa-cost sweep sweep.json --out runs/       # train a grid with lc-core (torchrun-capable)
"""


def _fmt_count(x: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3f}{unit}"
    return f"{x:.0f}"


def _fmt_bytes(x: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(x) >= scale:
            return f"{x / scale:.3f} {unit}"
    return f"{x:.0f} B"


def _add_model_args(p: argparse.ArgumentParser, *, positional: str | None = "model") -> None:
    if positional:
        p.add_argument(positional, nargs="?", help=f"preset ({', '.join(preset_names())}) or a config.json path/folder")
    g = p.add_argument_group("architecture overrides (or a full custom model when no preset is given)")
    g.add_argument("--n-layers", type=int, help="number of layers L")
    g.add_argument("--d-model", type=int, help="hidden size d")
    g.add_argument("--n-heads", type=int, help="query heads n_h")
    g.add_argument("--n-kv-heads", type=int, help="key/value heads n_kv (must divide n_h)")
    g.add_argument("--head-dim", type=int, help=f"head size d_h (default {PAPER_HEAD_DIM} for custom models)")
    g.add_argument("--d-ff", type=int, help="FFN width (default int(8d/3))")
    g.add_argument("--vocab-size", type=int, help=f"vocabulary V (default {PAPER_VOCAB} for custom models)")
    g.add_argument("--ffn", choices=("gated", "plain"), help="gated FFN (3 matrices, SwiGLU) or plain (2 matrices)")
    g.add_argument("--untied", action="store_true", help="untied input/output embeddings")


def _add_weight_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("hardware cost Z = λ·M^α + (1−λ)·C^β")
    g.add_argument("--lambda", dest="lam", type=float, default=0.9, help="λ, weight of memory (paper: 0.9)")
    g.add_argument("--alpha", type=float, default=0.5, help="α, exponent of memory (paper: 1/2)")
    g.add_argument("--beta", type=float, default=1 / 3, help="β, exponent of FLOPs (paper: 1/3)")
    g.add_argument(
        "--memory-unit", choices=("values", "bytes", "GB", "GiB"), default="GB", help="unit of M inside Z (default GB)"
    )
    g.add_argument("--flop-unit", choices=("FLOPs", "GFLOPs", "TFLOPs"), default="GFLOPs", help="unit of C inside Z")
    g.add_argument("--bytes-per-elem", type=float, default=2.0, help="bytes per weight/KV value (2 = BF16)")
    g.add_argument(
        "--n-params", choices=("total", "non_embedding"), default="total", help="which parameter count enters M and C"
    )


def _weights(args: argparse.Namespace) -> CostWeights:
    units = CostUnits(
        memory=args.memory_unit, flops=args.flop_unit, bytes_per_elem=args.bytes_per_elem, n_params=args.n_params
    )
    return CostWeights(lam=args.lam, alpha=args.alpha, beta=args.beta, units=units)


def _model_from_args(args: argparse.Namespace, spec: str | None) -> ArchConfig:
    overrides: dict[str, Any] = {}
    for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff", "vocab_size"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "ffn", None):
        overrides["ffn_matrices"] = 3 if args.ffn == "gated" else 2
    if getattr(args, "untied", False):
        overrides["tied"] = False
    if spec:
        return load_config(spec).replace(**overrides) if overrides else load_config(spec)
    missing = [f"--{n.replace('_', '-')}" for n in ("n_layers", "d_model", "n_heads", "n_kv_heads") if n not in overrides]
    if missing:
        raise ValueError(f"give a preset/config or all of {', '.join(missing)}")
    return ArchConfig(name="custom", **overrides)


def _contexts(values: Sequence[str]) -> list[int]:
    return [parse_context(v) for v in values]


def _emit(args: argparse.Namespace, record: dict[str, Any], table: str) -> None:
    print(table, end="")
    if getattr(args, "out", None):
        settings = {k: v for k, v in vars(args).items() if k != "func"}
        record = {"manifest": run_manifest(settings, packages=("gqa-cost",)), **record}
        json_path, md_path = write_results(args.out, record, table)
        logger.info("wrote %s and %s", json_path, md_path)


def _breakdown_rows(cfg: ArchConfig, contexts: Sequence[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    weights = _weights(args)
    rows = []
    for t in contexts:
        s = cost_summary(
            cfg, t, units=weights.units, batch=args.batch, lam=weights.lam, alpha=weights.alpha, beta=weights.beta
        )
        mb = s["memory_bytes"]
        rows.append(
            {
                "model": cfg.name or "custom",
                "T": t,
                "params": _fmt_count(s["params"]["total"]),
                "weights": _fmt_bytes(mb["weights"]),
                "KV cache": _fmt_bytes(mb["kv"]),
                "KV %": 100 * mb["kv_fraction"],
                "linear FLOPs/tok": _fmt_count(s["flops"]["linear"]),
                "attn FLOPs/tok": _fmt_count(s["flops"]["attention"]),
                "attn %": 100 * s["flops"]["attention_fraction"],
                "Z": s["Z"],
                "_record": s,
            }
        )
    return rows


def _cmd_cost(args: argparse.Namespace) -> int:
    cfg = _model_from_args(args, args.model)
    rows = _breakdown_rows(cfg, _contexts(args.context), args)
    p = param_count(cfg)
    params = [
        {"component": k, "parameters": int(v)}
        for k, v in (
            ("embedding", p.embedding),
            ("lm_head", p.lm_head),
            ("attention", p.attention),
            ("ffn", p.ffn),
            ("norms", p.norms),
            ("biases", p.biases),
            ("non-embedding N", p.non_embedding),
            ("total", p.total),
        )
    ]
    table = markdown_table(params) + "\n" + markdown_table([{k: v for k, v in r.items() if k != "_record"} for r in rows])
    table += (
        f"\nmemory in bytes at {args.bytes_per_elem:g} B/value, batch {args.batch}; "
        f"Z with M in {args.memory_unit}, C in {args.flop_unit} per token\n"
    )
    _emit(args, {"config": cfg.to_dict(), "results": [r["_record"] for r in rows]}, table)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    a = load_config(args.a)
    b = load_config(args.b)
    weights = _weights(args)
    rows, records = [], []
    for t in _contexts(args.context):
        sa = cost_summary(a, t, units=weights.units, batch=args.batch, lam=weights.lam, alpha=weights.alpha, beta=weights.beta)
        sb = cost_summary(b, t, units=weights.units, batch=args.batch, lam=weights.lam, alpha=weights.alpha, beta=weights.beta)
        ma, mb = sa["memory_bytes"]["total"], sb["memory_bytes"]["total"]
        ca, cb = sa["flops"]["total"], sb["flops"]["total"]
        row = {
            "T": t,
            f"M {a.name}": _fmt_bytes(ma),
            f"M {b.name}": _fmt_bytes(mb),
            "ΔM %": 100 * (mb / ma - 1),
            f"C {a.name}": _fmt_count(ca),
            f"C {b.name}": _fmt_count(cb),
            "ΔC %": 100 * (cb / ca - 1),
            "ΔZ %": 100 * (sb["Z"] / sa["Z"] - 1),
        }
        rows.append(row)
        records.append({"context": t, "a": sa, "b": sb, "memory_change": mb / ma - 1, "flops_change": cb / ca - 1})
    table = markdown_table(rows) + f"\nbatch {args.batch}, {args.bytes_per_elem:g} B/value; Δ = B relative to A\n"
    _emit(args, {"a": a.to_dict(), "b": b.to_dict(), "results": records}, table)
    return 0


def _load_model(path: str | None) -> LossModel:
    if path in (None, "paper", "paper-calibrated"):
        from gqa_cost.calibrate import load_paper_model

        return load_paper_model()
    import json

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such laws file (write one with `gqa-cost fit runs.jsonl --out fits`)")
    data = json.loads(p.read_text(encoding="utf-8"))
    # a `gqa-cost fit --out` record nests the model under "model"
    data = data.get("model", data)
    if "laws" not in data:
        raise DataError("not a laws file: no 'laws' list", path=p, field="laws")
    return LossModel.from_dict(data)


def _cmd_fit(args: argparse.Namespace) -> int:
    from gqa_cost.laws import fit_chinchilla, fit_size_laws, group_runs, read_runs

    runs = read_runs(args.runs, require=("tokens",) if args.chinchilla else ())
    if args.chinchilla:
        rep = fit_chinchilla(
            [r.n_params for r in runs], [r.tokens for r in runs], [r.loss for r in runs], n_boot=args.bootstrap
        )
        row = {**rep.law.to_dict(), "r2": rep.r2, "n_points": rep.n_points}
        _emit(args, {"chinchilla": rep.to_dict()}, markdown_table([row], precision=4))
        return 0
    reports = fit_size_laws(group_runs(runs), shared_E=not args.per_head_e, n_boot=args.bootstrap, seed=args.seed)
    model = LossModel(
        {h: r.law for h, r in reports.items()}, label=f"fitted: {args.runs}", meta={"shared_E": not args.per_head_e}
    )
    rows = []
    for h, r in sorted(reports.items()):
        row = {"H": format_head(h), "a": f"{r.law.a:.4g}", "b": r.law.b, "E": r.law.E, "R²": r.r2, "runs": r.n_points}
        if r.ci:
            row["b 95% CI"] = "[{:.4f}, {:.4f}]".format(*r.ci["b"])
            row["E 95% CI"] = "[{:.3f}, {:.3f}]".format(*r.ci["E"])
        rows.append(row)
    _emit(args, {"model": model.to_dict(), "fits": [r.to_dict() for r in reports.values()]}, markdown_table(rows, precision=4))
    return 0


def _search_rows(result: Any) -> list[dict[str, Any]]:
    rows = []
    for c in sorted(result.candidates, key=lambda c: c.Z):
        rows.append(
            {
                "H": format_head(c.head),
                "N* (non-emb)": _fmt_count(c.n_star),
                "L": c.config.n_layers,
                "d": c.config.d_model,
                "M": c.memory,
                "C (FLOPs/tok)": _fmt_count(c.flops),
                "Z": c.Z,
                "best": "◀" if c.head == result.best.head else "",
            }
        )
    return rows


def _cmd_search(args: argparse.Namespace) -> int:
    from gqa_cost.search import optimal_config

    model = _load_model(args.laws)
    weights = _weights(args)
    t = parse_context(args.context)
    result = optimal_config(args.target_loss, t, model, weights=weights)
    rows = _search_rows(result)[: args.top]
    b = result.best
    table = (
        f"loss model: {model.label}\nbest H = ({format_head(b.head)}), N* = {_fmt_count(b.n_star)} non-embedding "
        f"({_fmt_count(param_count(b.config).total)} total), L = {b.config.n_layers:.1f}, d = {b.config.d_model:.0f}\n\n"
        + markdown_table(rows, precision=3)
        + f"\nM in {weights.units.memory}; Z with λ={weights.lam:g}, α={weights.alpha:g}, β={weights.beta:.4g}\n"
    )
    if result.infeasible:
        table += f"cannot reach L* = {args.target_loss:g}: {', '.join(format_head(h) for h in result.infeasible)}\n"
    if args.plot:
        from gqa_cost.plot import plot_pareto

        plot_pareto(model, t, args.plot, weights=weights, target_loss=args.target_loss, result=result)
        logger.info("wrote %s", args.plot)
    _emit(args, {"model": model.label, "result": result.to_dict()}, table)
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    from gqa_cost.calibrate import TABLE4, TABLE4_CONTEXTS, TABLE4_LOSSES
    from gqa_cost.search import search_table

    model = _load_model(args.laws)
    weights = _weights(args)
    losses = args.losses or list(TABLE4_LOSSES)
    contexts = _contexts(args.contexts) if args.contexts else list(TABLE4_CONTEXTS)
    grid = search_table(losses, contexts, model, weights=weights)
    compare = args.losses is None and args.contexts is None
    rows, matched = [], 0
    for lo in losses:
        row: dict[str, Any] = {"L* \\ T": f"{lo:g}"}
        for j, t in enumerate(contexts):
            ours = grid[(lo, t)].best.head
            cell = format_head(ours)
            if compare:
                ok = ours == TABLE4[lo][j]
                matched += ok
                cell += "" if ok else f" (paper {format_head(TABLE4[lo][j])})"
            row[f"{t // 1024}K"] = cell
        rows.append(row)
    table = f"loss model: {model.label}\n\n" + markdown_table(rows)
    if compare:
        table += f"\nmatches the paper's Table 4 in {matched} of {len(losses) * len(contexts)} cells\n"
    if args.plot:
        from gqa_cost.plot import plot_table

        plot_table(grid, args.plot)
    record = {
        "model": model.label,
        "matched": matched if compare else None,
        "cells": [r.to_dict() for r in grid.values()],
        "cost_weights": weights.describe(),
    }
    _emit(args, record, table)
    return 0


def _cmd_headline(args: argparse.Namespace) -> int:
    from gqa_cost.search import optimal_config

    model = _load_model(args.laws)
    weights = _weights(args)
    t = parse_context(args.context)
    result = optimal_config(args.target_loss, t, model, weights=weights)
    by_head = {c.head: c for c in result.candidates}
    base, ours = by_head[(32, 8)], by_head[(8, 1)]
    rows = []
    for c in (base, ours):
        rows.append(
            {
                "H": format_head(c.head),
                "N total": _fmt_count(param_count(c.config).total),
                "M": _fmt_bytes(c.memory / weights.units.memory_scale * args.bytes_per_elem),
                "C (FLOPs/tok)": _fmt_count(c.flops),
            }
        )
    dm = ours.memory / base.memory - 1
    dc = ours.flops / base.flops - 1
    table = (
        f"loss model: {model.label}; L* = {args.target_loss:g}, T = {t:,}; search picks ({format_head(result.best.head)})\n\n"
        + markdown_table(rows)
        + f"\n(8,1) vs (32,8): memory {100 * dm:+.1f} %, FLOPs {100 * dc:+.1f} % (paper: −50.8 %, −57.8 %)\n"
    )
    record = {
        "memory_change": dm,
        "flops_change": dc,
        "best": result.best.to_dict(),
        "base": base.to_dict(),
        "ours": ours.to_dict(),
    }
    _emit(args, record, table)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from gqa_cost.calibrate import CalibrationSpec, calibrate, write_preset

    spec = CalibrationSpec(n_starts=args.starts, maxiter=args.maxiter, seed=args.seed)
    model, report = calibrate(spec, weights=_weights(args))
    write_preset(model, args.write)
    rows = [
        {
            "L*": row[0]["L*"],
            **{f"{c['T'] // 1024}K": format_head(tuple(c["ours"])) + ("" if c["match"] else " ✗") for c in row},
        }
        for row in report["grid"]
    ]
    table = markdown_table(rows) + f"\nmatched {report['matched']} of {report['cells']} Table 4 cells; wrote {args.write}\n"
    _emit(args, {"model": model.to_dict(), "report": report}, table)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from gqa_cost.sweep import load_sweep_config, run_sweep

    sweep = load_sweep_config(args.config)
    if args.max_steps is not None:
        sweep.max_steps = args.max_steps
    rows = run_sweep(sweep, args.out)
    cols = ["run_id", "n_heads", "n_kv_heads", "n_params", "context", "loss", "tokens"]
    # under torchrun only rank 0 holds the runs file
    print0(markdown_table(rows, columns=cols, precision=4), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gqa-cost",
        description="Cost model, loss-law fitting and cost-optimal GQA search for long-context LMs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("cost", help="parameter, memory and FLOP breakdown of one model")
    _add_model_args(p)
    p.add_argument("--context", nargs="+", default=["8k", "128k"], help="context lengths T (e.g. 8192, 32k, 128K)")
    p.add_argument("--batch", type=int, default=1, help="sequences in the KV cache")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_cost)

    p = sub.add_parser("compare", help="memory and FLOPs of model B relative to model A")
    p.add_argument("a", help="baseline preset or config.json")
    p.add_argument("b", help="compared preset or config.json")
    p.add_argument("--context", nargs="+", default=["128k"], help="context lengths T")
    p.add_argument("--batch", type=int, default=1, help="sequences in the KV cache")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("fit", help="fit size laws (or Chinchilla) to a runs file")
    p.add_argument("runs", help="runs file, .csv or .jsonl (columns: n_heads, n_kv_heads, n_params, loss[, tokens])")
    p.add_argument("--per-head-e", action="store_true", help="fit E per head configuration instead of one shared E")
    p.add_argument("--chinchilla", action="store_true", help="fit L(N, D) = E + A/N^α + B/D^β instead (needs tokens)")
    p.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--out", help="write OUT.json (usable as --laws) and OUT.md")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("search", help="cost-optimal (n_h, n_kv) and size for a target loss and context")
    p.add_argument("--target-loss", type=float, required=True, help="target loss L* (nats/token)")
    p.add_argument("--context", default="128k", help="inference context length T")
    p.add_argument("--laws", help="laws JSON from `gqa-cost fit --out` (default: the paper-calibrated preset)")
    p.add_argument("--top", type=int, default=21, help="candidates to list")
    p.add_argument("--plot", help="write a loss-vs-memory/FLOPs figure here (needs the plot extra)")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("table", help="optimal H over a (L*, T) grid in the layout of the paper's Table 4")
    p.add_argument("--laws", help="laws JSON (default: the paper-calibrated preset)")
    p.add_argument("--losses", type=float, nargs="+", help="target losses (default: Table 4's rows)")
    p.add_argument("--contexts", nargs="+", help="context lengths (default: 8K … 128K)")
    p.add_argument("--plot", help="write a heat map of the table here (needs the plot extra)")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_table)

    p = sub.add_parser("headline", help="the paper's headline: (8,1) vs Llama-3 GQA (32,8) at equal loss")
    p.add_argument("--laws", help="laws JSON (default: the paper-calibrated preset)")
    p.add_argument("--target-loss", type=float, default=2.615, help="loss to match (Llama-3 GQA 1B: 2.615)")
    p.add_argument("--context", default="128k", help="context length T")
    p.add_argument("--out", help="write OUT.json and OUT.md")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_headline)

    p = sub.add_parser("calibrate", help="recompute the paper-calibrated loss model (minutes)")
    p.add_argument("--write", required=True, help="where to write the calibrated laws JSON")
    p.add_argument("--starts", type=int, default=2, help="optimiser starts")
    p.add_argument("--maxiter", type=int, default=400, help="iterations per start")
    p.add_argument("--seed", type=int, default=0, help="seed of the random starts")
    p.add_argument("--out", help="write OUT.json and OUT.md (report)")
    _add_weight_args(p)
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("sweep", help="train a grid of GQA models with lc-core and write runs.jsonl")
    p.add_argument("config", help="sweep JSON (sizes, heads, contexts, data, tokenizer, train)")
    p.add_argument("--out", required=True, help="output folder (runs.jsonl + one folder per run); reruns resume")
    p.add_argument("--max-steps", type=int, help="override the steps of every run (smoke tests)")
    p.set_defaults(func=_cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    setup_logging()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DataError, ValueError, KeyError, FileNotFoundError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"gqa-cost {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
