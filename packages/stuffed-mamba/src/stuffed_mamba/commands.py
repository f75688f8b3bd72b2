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

    if args.sweep:
        from lc_core.cli import UserError
        from stuffed_mamba.sweep import SweepConfig, fit_sweep, run_sweep

        if not args.sweep_dir:
            raise UserError("--sweep needs --sweep-dir")
        try:
            spec = json.loads(Path(args.sweep).read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{args.sweep}: line {e.lineno}: {e.msg}") from None
        rows = run_sweep(SweepConfig(**spec), args.sweep_dir, max_steps=args.max_steps)
        fits = fit_sweep(rows)
        cols = ["d_state", "N_S", "final_loss", "t_recall", "t_collapse"]
        table = (
            markdown_table(rows, cols)
            + "\n\nfits (K tokens vs N_S in millions): "
            + json.dumps({k: v.get("params", v.get("error")) for k, v in fits.items()})
        )
        _emit(args, {"rows": rows, "fits": fits}, table)
        return 0
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


def _hooks_factory(spec: Any) -> Any:
    from stuffed_mamba.methods import build_hooks

    return lambda: build_hooks(spec)


def passkey(args: argparse.Namespace) -> int:
    import tempfile

    from lc_core.cli import UserError
    from lc_core.eval import EvalConfig, Prepared, evaluate, parse_shard
    from lc_core.inference import GenerationConfig
    from stuffed_mamba.passkey import StreamingBackend, build_prompt, heatmap, make_examples, prompt_tokens, score

    try:
        examples = make_examples(
            args.lengths, args.samples, seed=args.seed, template=args.template, depth_range=tuple(args.depth_range)
        )
    except ValueError as e:
        raise UserError(str(e)) from None
    method = "none"
    if args.backend == "stream":
        from stuffed_mamba.models import load_model

        loaded = load_model(args.model, threads=args.threads)
        spec = method_spec(args, loaded)
        method = spec.describe()
        encode = loaded.encode
        by_prompt: dict[str, Any] = {}
        backend = StreamingBackend(
            loaded.model, loaded.encode, loaded.decode, hooks_factory=_hooks_factory(spec), chunk_tokens=args.chunk_tokens,
            eos_token_id=loaded.eos_token_id, token_source=lambda text: by_prompt.pop(text, None) or loaded.encode(text),
        )  # fmt: skip
    else:
        from lc_core.cli import UserError
        from lc_core.inference import get_backend

        if args.method != "none":
            raise UserError("mitigations need the stream backend (lc-core Mamba-2 hooks)")
        backend = get_backend(args.backend, model=args.model)
        encode = backend.encode
        by_prompt = {}

    def prompt(ex: Any) -> Prepared:
        text = build_prompt(ex, encode)
        if args.backend == "stream":
            by_prompt[text] = prompt_tokens(ex, encode)
        return Prepared(text, fields={"length": ex["length"], "depth": ex["depth"]})

    if args.store:
        store = args.store
    elif args.out:
        store = str(Path(args.out) / args.run_name / "preds.jsonl")
    else:
        store = str(Path(tempfile.mkdtemp(prefix="stuffed-passkey-")) / "preds.jsonl")
    result = evaluate(
        examples,
        backend,
        prompt=prompt,
        generation=GenerationConfig(max_new_tokens=args.max_new_tokens),
        store=store,
        record=lambda ex, out: {"answer": ex["answer"], "score": score(out, ex["answer"])},
        config=EvalConfig(shard=parse_shard(args.shard), limit=args.limit),
        signature={"model": args.model, "method": method, "template": args.template, "seed": args.seed},
        desc="passkey",
    )
    rows = result.rows
    per_len: dict[int, list[float]] = {}
    for r in rows:
        per_len.setdefault(int(r["length"]), []).append(float(r["score"]))
    table_rows = [{"length": n, "samples": len(v), "accuracy %": 100 * sum(v) / len(v)} for n, v in sorted(per_len.items())]
    lengths, matrix = heatmap(rows)
    table = f"## Passkey ({args.model}, method {method}, template {args.template})\n\n"
    table += markdown_table(table_rows, ["length", "samples", "accuracy %"])
    hm_rows = [
        {
            "depth": f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
            **{str(n): ("" if v is None else f"{100 * v:.0f}") for n, v in zip(lengths, row)},
        }
        for b, row in enumerate(matrix)
    ]
    table += "\n\n### accuracy % by depth bin × length\n\n" + markdown_table(hm_rows, ["depth", *map(str, lengths)])
    if args.plot:
        from stuffed_mamba.plots import plot_heatmap

        plot_heatmap(lengths, matrix, args.plot, title=f"passkey, {method}")
        table += f"\n\nplot: {args.plot}"
    record = {
        "model": args.model,
        "method": method,
        "per_length": table_rows,
        "heatmap": {"lengths": lengths, "matrix": matrix},
    }
    record["predictions"] = str(result.path)
    _emit(args, record, table)
    return 0


def loss_curve(args: argparse.Namespace) -> int:
    from stuffed_mamba.loss import loss_curve as run
    from stuffed_mamba.loss import relative_to_reference
    from stuffed_mamba.methods import build_hooks
    from stuffed_mamba.models import load_model
    from stuffed_mamba.prompts import encode_prompt, prompt_text

    prompt_text(args.prompt)
    loaded = load_model(args.model, threads=args.threads)
    spec = method_spec(args, loaded)
    curve = run(
        loaded.model,
        encode_prompt(args.prompt, loaded.encode, args.length),
        bucket=args.bucket,
        chunk_tokens=args.chunk_tokens,
        hooks=build_hooks(spec),
        total=args.length,
    )
    try:
        rel = relative_to_reference(curve, max(args.train_length, 2 * args.bucket))
    except ValueError:
        rel = [float("nan")] * len(curve.means)
    rows = [{"position": c, "loss": m, "loss / in-length": r} for c, m, r in zip(curve.centres, curve.means, rel)]
    step = max(1, len(rows) // 16)
    table = f"## Per-token loss ({args.model}, {spec.describe()}, prompt {args.prompt})\n\n"
    table += markdown_table(
        rows[::step] + ([rows[-1]] if rows and (len(rows) - 1) % step else []), ["position", "loss", "loss / in-length"]
    )
    table += f"\n\nmean loss {curve.mean_loss:.4f} over {curve.n_tokens} tokens, {curve.wall_s:.1f} s "
    table += (
        f"({curve.n_tokens / max(curve.wall_s, 1e-9):.0f} tok/s); max bucket / in-length: {max(rel, default=float('nan')):.3f}"
    )
    if args.plot:
        from stuffed_mamba.plots import plot_loss_curve

        plot_loss_curve({spec.describe(): curve}, args.plot, train_length=args.train_length)
        table += f"\n\nplot: {args.plot}"
    _emit(args, {"model": args.model, "method": spec.describe(), "curve": curve.to_dict(), "relative": rel}, table)
    return 0


def calibrate(args: argparse.Namespace) -> int:
    from stuffed_mamba.methods import calibrate_thresholds
    from stuffed_mamba.models import load_model
    from stuffed_mamba.prompts import encode_prompt, prompt_text

    prompt_text(args.calibration_prompt)
    loaded = load_model(args.model, threads=args.threads)
    tokens = list(encode_prompt(args.calibration_prompt, loaded.encode, args.calibration_length))
    tau = calibrate_thresholds(loaded.model, tokens, multiplier=args.tau_multiplier)
    rows = [{"layer": i, **{f"h{h}": float(v) for h, v in enumerate(row)}} for i, row in enumerate(tau.tolist())]
    table = markdown_table(rows, list(rows[0]))
    if args.write:
        from lc_core.io import atomic_write_json

        atomic_write_json(args.write, {"tau": tau.tolist(), "model": args.model})
        table += f"\n\nwritten: {args.write}"
    _emit(args, {"model": args.model, "tau": tau.tolist()}, table)
    return 0


def train_long(args: argparse.Namespace) -> int:
    from lc_core.train import TrainConfig
    from stuffed_mamba.models import load_model
    from stuffed_mamba.train_long import train_long as run

    loaded = load_model(args.model, threads=args.threads)
    cfg = TrainConfig(
        seq_len=args.seq_len, micro_batch_size=args.batch, global_batch_size=args.batch, max_steps=args.steps, lr=args.lr,
        warmup_steps=min(20, args.steps // 10) if args.warmup is None else args.warmup, out_dir=args.train_dir,
        save_every=args.save_every or max(1, args.steps // 10), keep_last=args.keep_last, seed=args.seed,
        decay_fraction=args.decay_fraction,
    )  # fmt: skip
    if args.fit_schedule and not args.time_budget:
        from lc_core.cli import UserError

        raise UserError("--fit-schedule needs --time-budget")
    documents = max(64, args.steps * args.batch * args.seq_len // max(1, (args.min_len + args.max_len) // 2))
    res = run(
        loaded.model, cfg, documents=documents, min_len=args.min_len, max_len=args.max_len,
        segment_tokens=args.segment_tokens, encode=loaded.encode, eos_id=loaded.eos_token_id or 1, seed=args.seed,
        answer_weight=args.answer_weight, time_budget_s=args.time_budget * 60 if args.time_budget else None,
        packing=args.packing, bptt=args.bptt, fit_schedule=args.fit_schedule,
    )  # fmt: skip
    model_dir = Path(args.train_dir) / "model"
    loaded.model.eval().save_pretrained(model_dir)
    from lc_core.models.builtin import resolve_model_path

    src = Path(resolve_model_path(args.model))
    for name in ("tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model"):
        if (src / name).is_file():
            (model_dir / name).write_bytes((src / name).read_bytes())
    rows = [{"steps": res.step, "final_loss": res.final_loss, "elapsed_s": res.elapsed_s, "resumed_from": res.resumed_from}]
    table = markdown_table(rows, list(rows[0])) + f"\n\nmodel: {model_dir} (use --model {model_dir})"
    _emit(args, {"result": rows[0], "model_dir": str(model_dir)}, table)
    return 0


def plot(args: argparse.Namespace) -> int:
    from lc_core.cli import UserError
    from lc_core.io import DataError, read_json_object
    from stuffed_mamba.plots import (
        capacity_from_result,
        heatmap_from_results,
        loss_from_results,
        result_kind,
        state_from_result,
    )

    records, kinds = [], set()
    for path in args.results:
        rec = read_json_object(path, what="result JSON")
        try:
            kinds.add(result_kind(rec))
        except ValueError as e:
            raise DataError(str(e), path=path) from None
        records.append(rec)
    if len(kinds) > 1:
        raise UserError(f"results mix kinds {sorted(kinds)}: plot one kind at a time")
    kind = kinds.pop()
    if kind == "state" and len(records) > 1:
        raise UserError(f"a state plot takes one result, got {len(records)}")
    if kind == "heatmap":
        try:
            out = heatmap_from_results(records, args.plot, title=args.title)
        except ValueError as e:
            raise UserError(str(e)) from None
    elif kind == "loss":
        out = loss_from_results(records, args.plot, train_length=args.train_length)
    elif kind == "capacity":
        if len(records) > 1:
            raise UserError(f"a capacity plot takes one result, got {len(records)}")
        out = capacity_from_result(records[0], args.plot, train_length=args.train_length)
    else:
        try:
            out = state_from_result(records[0], args.plot, top=args.top, train_length=args.train_length)
        except ValueError as e:
            raise DataError(str(e), path=args.results[0]) from None
    print(f"plot: {out}")
    return 0
