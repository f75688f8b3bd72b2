"""The ``gqa-cost`` verbs (the flags are in :mod:`gqa_cost.cli`); each takes the parsed namespace, returns an exit code.

Each verb prints its Markdown table and, with ``--out``, writes it through :func:`lc_core.report.emit`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gqa_cost.config import ArchConfig, load_config
from gqa_cost.costs import CostUnits, cost_summary, infer_memory, param_count
from gqa_cost.search import CostWeights, LossModel, format_head, parse_context
from lc_core.cli import UserError, config_from_args
from lc_core.io import DataError, read_json_object
from lc_core.logging import get_logger, print0
from lc_core.report import markdown_table, safe_name

__all__ = ["cost", "compare", "fit", "search", "table", "headline", "calibrate", "sweep", "load_laws"]

logger = get_logger(__name__)


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


def _weights(args: argparse.Namespace) -> CostWeights:
    return config_from_args(CostWeights, args, units=config_from_args(CostUnits, args))


def _bytes_note(units: CostUnits) -> str:
    kv = "" if units.kv_bytes_per_elem is None else f", KV cache {units.kv_bytes:g} B/value"
    return f"{units.bytes_per_elem:g} B/value{kv}"


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
        raise UserError(f"give a preset/config or all of {', '.join(missing)}")
    return ArchConfig(name="custom", **overrides)


def _contexts(values: Sequence[str]) -> list[int]:
    return [parse_context(v) for v in values]


def _emit(args: argparse.Namespace, record: dict[str, Any], table: str, default_name: str) -> None:
    print(table, end="")
    if getattr(args, "out", None):
        from lc_core.report import emit

        settings = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "debug"}
        written = emit(args.out, args.run_name or default_name, record, table, config=settings, packages=["gqa-cost"])
        logger.info("wrote %s and %s", written.json, written.markdown)


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


def cost(args: argparse.Namespace) -> int:
    """``gqa-cost cost``: parameters by component and memory/FLOPs/Z at each context length."""
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
    units = _weights(args).units
    table = markdown_table(params) + "\n" + markdown_table([{k: v for k, v in r.items() if k != "_record"} for r in rows])
    table += (
        f"\nmemory in bytes at {_bytes_note(units)}, batch {args.batch}; "
        f"Z with M in {units.memory}, C in {units.flops} per token\n"
    )
    _emit(args, {"config": cfg.to_dict(), "results": [r["_record"] for r in rows]}, table, cfg.name or "custom")
    return 0


def compare(args: argparse.Namespace) -> int:
    """``gqa-cost compare``: memory, FLOPs and Z of model B relative to model A."""
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
    table = markdown_table(rows) + f"\nbatch {args.batch}, {_bytes_note(weights.units)}; Δ = B relative to A\n"
    _emit(args, {"a": a.to_dict(), "b": b.to_dict(), "results": records}, table, f"{a.name}-vs-{b.name}")
    return 0


def _newest_results(folder: Path) -> Path:
    found = sorted(folder.glob("results_*.json"))
    if not found:
        raise FileNotFoundError(f"{folder}: no results_*.json (write one with `gqa-cost fit runs.jsonl --out DIR`)")
    return found[-1]


def load_laws(path: str | None) -> LossModel:
    """The loss model for ``--laws``: the paper-calibrated preset (None), a laws JSON, or a ``fit --out`` run folder."""
    if path in (None, "paper", "paper-calibrated"):
        from gqa_cost.calibrate import load_paper_model

        return load_paper_model()
    p = Path(path)
    if p.is_dir():
        p = _newest_results(p)
    data = read_json_object(p, what="laws file (write one with `gqa-cost fit runs.jsonl --out DIR`)")
    # a `gqa-cost fit --out` record nests the model under "model"
    model = data.get("model", data)
    if not isinstance(model, dict) or not isinstance(model.get("laws"), list):
        raise DataError("not a laws file: no 'laws' list", path=p, field="laws")
    for i, row in enumerate(model["laws"]):
        missing = [k for k in ("n_heads", "n_kv_heads", "a", "b", "E") if not isinstance(row, dict) or k not in row]
        if missing:
            raise DataError(f"law {i} lacks {', '.join(missing)}", path=p, field="laws")
    return LossModel.from_dict(model)


def fit(args: argparse.Namespace) -> int:
    """``gqa-cost fit``: size laws per H (shared E by default) or a Chinchilla law from a runs file."""
    from gqa_cost.laws import fit_chinchilla, fit_size_laws, group_runs, read_runs

    runs = read_runs(args.runs, require=("tokens",) if args.chinchilla else ())
    name = args.run_name or safe_name(Path(args.runs).stem)
    try:
        if args.chinchilla:
            rep = fit_chinchilla(
                [r.n_params for r in runs], [r.tokens for r in runs], [r.loss for r in runs], n_boot=args.bootstrap
            )
            reports = {}
        else:
            reports = fit_size_laws(group_runs(runs), shared_E=not args.per_head_e, n_boot=args.bootstrap, seed=args.seed)
    except ValueError as e:
        # the runs cannot determine the law: say which file, and why
        raise DataError(str(e), path=args.runs) from None
    if args.chinchilla:
        row = {**rep.law.to_dict(), "r2": rep.r2, "n_points": rep.n_points}
        table = markdown_table([row], precision=4) + _warning_lines(rep.warnings)
        _emit(args, {"chinchilla": rep.to_dict(), "warnings": rep.warnings}, table, name)
        return 0
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
    warnings = [w for r in reports.values() for w in r.warnings]
    table = markdown_table(rows, precision=4) + _warning_lines(warnings)
    record = {"model": model.to_dict(), "fits": [r.to_dict() for r in reports.values()], "warnings": warnings}
    _emit(args, record, table, name)
    return 0


def _warning_lines(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    return "\n" + "".join(f"WARNING: {w}\n" for w in warnings) + "Do not extrapolate from this fit without more runs.\n"


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


def search(args: argparse.Namespace) -> int:
    """``gqa-cost search``: every candidate H costed at (L*, T), best first."""
    from gqa_cost.search import optimal_config

    model = load_laws(args.laws)
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
    _emit(args, {"model": model.label, "result": result.to_dict()}, table, "search")
    return 0


def table(args: argparse.Namespace) -> int:
    """``gqa-cost table``: the optimal H over a (L*, T) grid, compared with the paper's Table 4 by default."""
    from gqa_cost.calibrate import TABLE4, TABLE4_CONTEXTS, TABLE4_LOSSES
    from gqa_cost.search import search_table

    model = load_laws(args.laws)
    weights = _weights(args)
    losses = args.losses or list(TABLE4_LOSSES)
    contexts = _contexts(args.contexts) if args.contexts else list(TABLE4_CONTEXTS)
    grid = search_table(losses, contexts, model, weights=weights)
    compare_paper = args.losses is None and args.contexts is None
    rows, matched = [], 0
    for lo in losses:
        row: dict[str, Any] = {"L* \\ T": f"{lo:g}"}
        for j, t in enumerate(contexts):
            ours = grid[(lo, t)].best.head
            cell = format_head(ours)
            if compare_paper:
                ok = ours == TABLE4[lo][j]
                matched += ok
                cell += "" if ok else f" (paper {format_head(TABLE4[lo][j])})"
            row[f"{t // 1024}K"] = cell
        rows.append(row)
    text = f"loss model: {model.label}\n\n" + markdown_table(rows)
    if compare_paper:
        text += f"\nmatches the paper's Table 4 in {matched} of {len(losses) * len(contexts)} cells\n"
    if args.plot:
        from gqa_cost.plot import plot_table

        plot_table(grid, args.plot)
    record = {
        "model": model.label,
        "matched": matched if compare_paper else None,
        "cells": [r.to_dict() for r in grid.values()],
        "cost_weights": weights.describe(),
    }
    _emit(args, record, text, "table")
    return 0


def headline(args: argparse.Namespace) -> int:
    """``gqa-cost headline``: (8,1) vs (32,8) at the loss of Llama-3 GQA 1B."""
    from gqa_cost.search import optimal_config

    model = load_laws(args.laws)
    weights = _weights(args)
    t = parse_context(args.context)
    missing = [format_head(h) for h in ((32, 8), (8, 1)) if h not in model]
    if missing:
        raise UserError(f"the headline compares H=(32,8) with (8,1); the loss model has no law for ({'), ('.join(missing)})")
    result = optimal_config(args.target_loss, t, model, weights=weights)
    by_head = {c.head: c for c in result.candidates}
    unreachable = [format_head(h) for h in ((32, 8), (8, 1)) if h not in by_head]
    if unreachable:
        raise UserError(f"L* = {args.target_loss:g} is below the irreducible loss of ({'), ('.join(unreachable)})")
    base, ours = by_head[(32, 8)], by_head[(8, 1)]
    u = weights.units
    rows = []
    for c in (base, ours):
        mem = infer_memory(c.config, t, bytes_per_elem=u.bytes_per_elem, kv_bytes_per_elem=u.kv_bytes, n_params=u.n_params)
        rows.append(
            {
                "H": format_head(c.head),
                "N total": _fmt_count(param_count(c.config).total),
                "M": _fmt_bytes(mem.total),
                "C (FLOPs/tok)": _fmt_count(c.flops),
            }
        )
    dm = ours.memory / base.memory - 1
    dc = ours.flops / base.flops - 1
    text = (
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
    _emit(args, record, text, "headline")
    return 0


def calibrate(args: argparse.Namespace) -> int:
    """``gqa-cost calibrate``: recompute the paper-calibrated loss model and write it to ``--write``."""
    from gqa_cost.calibrate import CalibrationSpec, write_preset
    from gqa_cost.calibrate import calibrate as run_calibration

    spec = config_from_args(CalibrationSpec, args)
    model, report = run_calibration(spec, weights=_weights(args))
    write_preset(model, args.write)
    rows = [
        {
            "L*": row[0]["L*"],
            **{f"{c['T'] // 1024}K": format_head(tuple(c["ours"])) + ("" if c["match"] else " ✗") for c in row},
        }
        for row in report["grid"]
    ]
    text = markdown_table(rows) + f"\nmatched {report['matched']} of {report['cells']} Table 4 cells; wrote {args.write}\n"
    _emit(args, {"model": model.to_dict(), "report": report}, text, "calibrate")
    return 0


def sweep(args: argparse.Namespace) -> int:
    """``gqa-cost sweep``: train the grid (resuming), append ``runs.jsonl`` and write a summary on rank 0."""
    from gqa_cost.sweep import load_sweep_config, run_sweep
    from lc_core.logging import rank

    cfg = load_sweep_config(args.config)
    if args.max_steps is not None:
        cfg.max_steps = args.max_steps
    rows = run_sweep(cfg, args.out)
    cols = ["run_id", "n_heads", "n_kv_heads", "n_params", "context", "loss", "tokens"]
    text = markdown_table(rows, columns=cols, precision=4)
    # under torchrun only rank 0 holds the runs file
    print0(text, end="")
    if rank() == 0:
        from lc_core.report import emit

        settings = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "debug"}
        emit(
            args.out,
            "summary",
            {"runs_file": str(Path(args.out) / "runs.jsonl"), "runs": rows},
            text,
            config=settings,
            packages=["gqa-cost"],
        )
    return 0
