"""The ``sparsing-law`` verbs (flags in :mod:`sparsing_law.cli`); each takes the parsed namespace, returns an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lc_core.cli import UserError
from lc_core.logging import get_logger
from lc_core.report import markdown_table

__all__ = ["measure", "apply", "fit", "curve", "load_model", "text_batches", "resolve_data"]

logger = get_logger(__name__)


def _emit(args: argparse.Namespace, record: dict[str, Any], table: str, default_name: str) -> None:
    print(table, end="")
    if getattr(args, "out", None):
        from lc_core.report import emit

        settings = {k: v for k, v in vars(args).items() if not k.startswith("_") and k not in ("debug", "func")}
        written = emit(args.out, args.run_name or default_name, record, table, config=settings, packages=["sparsing-law"])
        logger.info("wrote %s and %s", written.json, written.markdown)


def load_model(name: str, *, device: str = "auto", dtype: str = "float32", device_map: str | None = None) -> Any:
    """A causal LM and its tokenizer from a folder, hub id or built-in name (no network for built-ins)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lc_core.models import register_all
    from lc_core.models.builtin import resolve_model_path

    register_all()
    path = resolve_model_path(name)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    if device_map:
        kwargs["device_map"] = device_map
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        tok = AutoTokenizer.from_pretrained(path)
    except OSError as e:
        raise UserError(f"cannot load model {name!r}: {str(e).splitlines()[0]}") from e
    if not device_map:
        dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        model = model.to(dev)
    return model.eval(), tok


def resolve_data(path: str) -> Path:
    """``demo`` (when no such file exists) is the built-in held-out demo text; anything else is a path."""
    if path == "demo" and not Path(path).exists():
        from sparsing_law.assets import DEMO_TEXT

        return DEMO_TEXT
    return Path(path)


def text_batches(tok: Any, path: str, *, seq_len: int, batch_size: int, max_sequences: int) -> list[dict[str, Any]]:
    """Tokenize a text file and cut it into ``[B, seq_len]`` batches (the last sequence right-padded, masked)."""
    import torch

    p = resolve_data(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such text file (use --data demo for the built-in sample)") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{p}: not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise UserError(f"{p}: empty text file")
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) < 2:
        raise UserError(f"{p}: fewer than 2 tokens")
    seqs = [ids[i : i + seq_len] for i in range(0, len(ids), seq_len)][:max_sequences]
    seqs = [s for s in seqs if len(s) >= 2]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    batches = []
    for i in range(0, len(seqs), batch_size):
        group = seqs[i : i + batch_size]
        width = max(len(s) for s in group)
        input_ids = torch.full((len(group), width), pad, dtype=torch.long)
        mask = torch.zeros((len(group), width), dtype=torch.long)
        for j, s in enumerate(group):
            input_ids[j, : len(s)] = torch.tensor(s)
            mask[j, : len(s)] = 1
        batches.append({"input_ids": input_ids, "attention_mask": mask})
    return batches


def _layer_table(layer_act: list[float], thresholds: list[float] | None) -> str:
    rows = []
    for i, a in enumerate(layer_act):
        row: dict[str, Any] = {"layer": i, "activation %": 100 * a}
        if thresholds is not None:
            row["threshold"] = f"{thresholds[i]:.4e}"
        rows.append(row)
    return markdown_table(rows, precision=2)


def _heatmap(path: str, per_layer: Any, title: str) -> None:
    from lc_core.plot import heatmap

    data = per_layer.tolist()
    heatmap(
        data,
        row_labels=list(range(len(data))),
        col_labels=list(range(len(data[0]))),
        path=path,
        title=title,
        xlabel="token",
        ylabel="layer",
        vmin=0.0,
        vmax=1.0,
        cmap="viridis",
        colorbar_label="activation ratio",
        annotate=False,
    )


def measure(args: argparse.Namespace) -> int:
    import torch

    from sparsing_law import metrics
    from sparsing_law.search import cett_for_ppl, dense_stats, evaluate_mask, evaluate_thresholds, thresholds_for_cett
    from sparsing_law.thresholds import format_thresholds_line, save_thresholds

    if args.metric != "zero" and args.arg is None:
        raise UserError(f"--metric {args.metric} needs --arg")
    model, tok = load_model(args.model, device=args.device, dtype=args.dtype, device_map=args.device_map)
    batches = text_batches(tok, args.data, seq_len=args.seq_len, batch_size=args.batch_size, max_sequences=args.max_sequences)
    thresholds: list[float] | None = None
    extra: dict[str, Any] = {}
    with torch.no_grad():
        if args.metric == "pplp":
            if args.arg < 1.0:
                raise UserError(f"--arg for pplp is 1+p (e.g. 1.01 for PPL-1%), got {args.arg}")
            res = cett_for_ppl(model, batches, args.arg - 1.0, eps=args.eps, legacy=args.legacy_grid, method=args.search)
            thresholds = res.thresholds[0]
            extra = {k: v for k, v in res.to_dict().items() if k not in ("thresholds", "layer_activation", "ppl_ratios")}
            dense_loss = None
            ev = evaluate_thresholds(model, batches, thresholds)
        elif args.metric == "cett":
            stats = dense_stats(model, batches)
            thresholds = thresholds_for_cett(stats, args.arg, legacy=args.legacy_grid)
            dense_loss = stats.loss
            ev = evaluate_thresholds(model, batches, thresholds, dense_loss=dense_loss)
            extra = {"cett": args.arg}
        else:
            if args.metric == "topk":
                per_token = not args.legacy_topk

                def rule(_i: int, _a: Any, s: Any) -> Any:
                    return metrics.topk_mask(s, args.arg, per_token=per_token)
            elif args.metric == "fat":

                def rule(_i: int, _a: Any, s: Any) -> Any:
                    return metrics.fat_mask(s, args.arg)
            else:

                def rule(_i: int, _a: Any, s: Any) -> Any:
                    return metrics.zero_mask(s)

            ev = evaluate_mask(model, batches, rule, needs_gate=True)
    if thresholds is not None:
        print("Thresholds List for Evaluation:")
        print(format_thresholds_line(thresholds))
        if args.thresholds_out:
            save_thresholds(args.thresholds_out, thresholds, model=args.model, metric=args.metric, arg=args.arg)
    print(f"Average activation: {100 * ev.activation:.2f}%")
    print(f"PPL ratio: {100 * ev.ppl_ratio:.3f}%")
    if "forwards" in extra:
        print(
            f"CETT: {extra['cett']:.6f} ({extra['iterations']} candidates, {extra['forwards']} model forwards; "
            f"the original's bisection: {extra['original_forwards']})"
        )
    if args.plot:
        _plot_measure(args, model, batches, thresholds)
    record = {
        "model": args.model,
        "metric": args.metric,
        "arg": args.arg,
        "activation": ev.activation,
        "ppl_ratio": ev.ppl_ratio,
        "layer_activation": ev.layer_activation,
        "thresholds": thresholds,
        **extra,
    }
    _emit(args, record, _layer_table(ev.layer_activation, thresholds), args.model)
    return 0


def _plot_measure(args: argparse.Namespace, model: Any, batches: list[dict[str, Any]], thresholds: list[float] | None) -> None:
    """Layer × token heatmap of the first sequence (the original's ``--output-image``)."""
    from sparsing_law import metrics
    from sparsing_law.hooks import find_mlps, sparse_forward

    sites = find_mlps(model)
    first = {k: v[:1] for k, v in batches[0].items()}
    if thresholds is not None:
        thetas = [metrics.neuron_thresholds(t, s.down_proj.weight) for t, s in zip(thresholds, sites)]

        def rule(i: int, a: Any, _s: Any) -> Any:
            return metrics.threshold_mask(a, thetas[i].to(a.device))

        gate = False
    else:

        def rule(_i: int, _a: Any, s: Any) -> Any:
            if args.metric == "topk":
                return metrics.topk_mask(s, args.arg, per_token=not args.legacy_topk)
            if args.metric == "fat":
                return metrics.fat_mask(s, args.arg)
            return metrics.zero_mask(s)

        gate = True
    dev = next(model.parameters()).device
    with sparse_forward(model, rule, needs_gate=gate, sites=sites) as state:
        model(input_ids=first["input_ids"].to(dev), attention_mask=first["attention_mask"].to(dev))
    per = state.per_layer()[:, 0]
    n = int(first["attention_mask"].sum())
    _heatmap(args.plot, per[:, :n], f"{args.model}: {args.metric} {args.arg if args.arg is not None else ''}")
    logger.info("wrote %s", args.plot)


def apply(args: argparse.Namespace) -> int:
    import torch

    from sparsing_law.search import evaluate_thresholds
    from sparsing_law.thresholds import load_thresholds

    thresholds = load_thresholds(args.thresholds)
    model, tok = load_model(args.model, device=args.device, dtype=args.dtype, device_map=args.device_map)
    batches = text_batches(tok, args.data, seq_len=args.seq_len, batch_size=args.batch_size, max_sequences=args.max_sequences)
    with torch.no_grad():
        try:
            ev = evaluate_thresholds(model, batches, thresholds)
        except ValueError as e:
            raise UserError(f"{args.thresholds}: {e}") from e
    print(f"Average activation: {100 * ev.activation:.2f}%")
    print(f"PPL ratio: {100 * ev.ppl_ratio:.3f}%")
    record = {
        "model": args.model,
        "thresholds": thresholds,
        "activation": ev.activation,
        "ppl_ratio": ev.ppl_ratio,
        "layer_activation": ev.layer_activation,
    }
    _emit(args, record, _layer_table(ev.layer_activation, thresholds), args.model)
    return 0


def fit(args: argparse.Namespace) -> int:
    import numpy as np

    from sparsing_law import laws

    d, a = laws.load_curve(args.data)
    stem = Path(args.data).stem
    p0 = laws.PAPER_PARAMS.get(stem) if stem.endswith(args.act) else None
    try:
        main = laws.fit_law(args.act, d, a, drop=args.drop, p0=p0)
    except ValueError as e:
        raise UserError(f"{args.data}: {e}") from e
    baselines = [laws.fit_log_law(d, a, drop=args.drop), laws.fit_sigmoid_law(d, a, drop=args.drop)]
    rows = []
    for f in [main, *baselines]:
        rows.append(
            {
                "law": f.kind,
                "params": ", ".join(f"{k}={v:.4g}" for k, v in zip(f.names, f.params)),
                "MAE": f"{f.mae:.3e}",
                "MSE": f"{f.mse:.3e}",
            }
        )
    record: dict[str, Any] = {
        "data": args.data,
        "act": args.act,
        "fit": main.as_dict(),
        "baselines": [b.as_dict() for b in baselines],
    }
    a0 = main.params[-1]
    record["limit_activation"] = a0
    record["limit_sparsity"] = laws.limit_sparsity(a0)
    if p0 is not None:
        dd, aa = d[args.drop :], a[args.drop :]
        law = laws.relu_law if args.act == "relu" else laws.silu_law
        pred = law(dd, *p0)
        paper = laws.LawFit(args.act, tuple(p0), laws.mae(aa, pred), laws.mse(aa, pred), len(dd))
        record["paper"] = paper.as_dict()
        rows.append(
            {
                "law": f"{args.act} (paper Table 2)",
                "params": ", ".join(f"{k}={v:.4g}" for k, v in zip(paper.names, p0)),
                "MAE": f"{paper.mae:.3e}",
                "MSE": f"{paper.mse:.3e}",
            }
        )
    table = markdown_table(rows)
    print(f"limit activation ratio A0 = {a0:.4f}, limit sparsity = {laws.limit_sparsity(a0):.4f}")
    if args.plot:
        from lc_core.plot import line_plot

        grid = np.geomspace(d.min(), d.max(), 200)
        curves = {"data": (d.tolist(), a.tolist()), f"{args.act} law": (grid.tolist(), main(grid).tolist())}
        for b in baselines:
            curves[f"{b.kind} baseline"] = (grid.tolist(), b(grid).tolist())
        line_plot(curves, args.plot, title=stem, xlabel="tokens (B)", ylabel="activation ratio", hlines={"A0": a0})
        logger.info("wrote %s", args.plot)
    _emit(args, record, table, stem)
    return 0


def curve(args: argparse.Namespace) -> int:
    import numpy as np

    from sparsing_law.curves import fit_curve, load_run_curve

    cett = None if args.zero else args.cett
    fits = []
    for source in args.runs:
        try:
            c = load_run_curve(source, cett=cett, unit=args.unit)
            fits.append(fit_curve(c, act=args.act, drop=args.drop))
        except (FileNotFoundError, ValueError) as e:
            raise UserError(str(e)) from e
    rows = []
    for f in fits:
        for kind, law in f.fits.items():
            rows.append(
                {
                    "run": f.curve.name,
                    "act": f.own,
                    "law": kind + (" (own)" if kind == f.own else ""),
                    "params": ", ".join(f"{k}={v:.4g}" for k, v in zip(law.names, law.params)),
                    "MAE": f"{law.mae:.2e}",
                    "A first": f"{f.first:.4f}",
                    "A last": f"{f.last:.4f}",
                    "dA/dlnD": f"{f.log_slope:+.4f}",
                }
            )
    table = markdown_table(rows)
    for f in fits:
        trend = "falls" if f.log_slope < 0 else "rises"
        print(
            f"{f.curve.name} ({f.own}, {f.curve.measure}): activation {trend} with data, "
            f"{100 * f.first:.2f}% -> {100 * f.last:.2f}% over "
            f"{f.curve.d[f.drop]:.3g}-{f.curve.d[-1]:.3g} x {args.unit:g} tokens"
        )
    if args.plot:
        from lc_core.plot import pyplot, save_figure

        plt = pyplot("sparsing-law[plot]")
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for i, f in enumerate(fits):
            color = f"C{i}"
            d, a = f.curve.d, f.curve.a
            ax.plot(d[: f.drop], a[: f.drop], "x", color=color, alpha=0.5)
            ax.plot(d[f.drop :], a[f.drop :], "o", color=color, markersize=4, label=f"{f.curve.name} ({f.curve.measure})")
            grid = np.geomspace(d[f.drop], d[-1], 200)
            own = f.fits[f.own]
            ax.plot(grid, own(grid), "-", color=color, linewidth=1, label=f"{f.own} law, MAE {own.mae:.1e}")
        ax.set_xscale("log")
        ax.set_xlabel(f"training tokens (x {args.unit:g})")
        ax.set_ylabel("activation ratio")
        ax.set_title(args.title or "activation ratio vs training tokens")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        save_figure(fig, args.plot)
        logger.info("wrote %s", args.plot)
    record = {"measure": "zero" if cett is None else f"CETT {cett:g}", "runs": [f.as_dict() for f in fits]}
    _emit(args, record, table, "curve")
    return 0
