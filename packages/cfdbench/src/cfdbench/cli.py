"""``cfdbench`` console script: generate data, train/test baselines, roll out, plot, summarise datasets.

Quick start::

    cfdbench generate --problem cavity --subset bc --cases 3 --frames 10 --out data
    cfdbench info data
    cfdbench overfit --data_dir data --data cavity_bc --models fno,unet --budget 60
    cfdbench train --model fno --data cavity_bc --data_dir data --num_epochs 5
    cfdbench test --run_dir result/auto/cavity_bc/dt0.001/fno
    cfdbench rollout --run_dir result/auto/cavity_bc/dt0.001/fno --steps 5
    cfdbench plot --run_dir result/auto/cavity_bc/dt0.001/fno
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lc_core.logging import get_logger, setup_logging

__all__ = ["main", "build_parser"]

logger = get_logger(__name__)


def _add_generate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", required=True, choices=["cavity", "tube", "dam", "cylinder"], help="problem to generate")
    p.add_argument("--subset", default="bc", choices=["bc", "prop", "geo"], help="parameter family that varies")
    p.add_argument("--cases", type=int, default=None, help="number of cases (first N of the sweep; default all)")
    p.add_argument("--frames", type=int, default=20, help="frames per case, including the initial state")
    p.add_argument("--backend", default="torch", choices=["torch", "openfoam"], help="solver backend")
    p.add_argument("--out", required=True, help="dataset root; cases go to OUT/{problem}/{subset}/caseNNNN")
    p.add_argument("--original", action="store_true", help="use the original sweep verbatim (many cases unresolvable)")
    p.add_argument(
        "--max_re", "--max-re", type=float, default=None, help="drop cases above this Reynolds number (default 1000)"
    )
    p.add_argument("--resolution", type=int, default=64, help="torch solver cells along the longer side")
    p.add_argument("--data_dt", "--data-dt", type=float, default=None, help="frame interval in seconds (default per problem)")
    p.add_argument("--device", default="cpu", help="torch device for the solver")
    p.add_argument("--processes", type=int, default=1, help="MPI ranks for the OpenFOAM backend")
    p.add_argument(
        "--tube_phases",
        "--tube-phases",
        type=int,
        default=2,
        choices=[1, 2],
        help="OpenFOAM tube: 2 = water/air VOF (interFoam, the original's), 1 = single-phase icoFoam channel",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the cylinder's symmetry-breaking perturbation")


def _generate(args: argparse.Namespace) -> int:
    from cfdbench.generate import GenerateConfig, generate

    cfg = GenerateConfig(
        problem=args.problem,
        subset=args.subset,
        cases=args.cases,
        frames=args.frames,
        out=args.out,
        backend=args.backend,
        original=args.original,
        max_re=args.max_re,
        resolution=args.resolution,
        device=args.device,
        data_dt=args.data_dt,
        seed=args.seed,
        processes=args.processes,
        tube_phases=args.tube_phases,
    )
    summary = generate(cfg)
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()}, indent=2))
    return 1 if summary["failed"] else 0


def _add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default="fno",
        help="baseline: ffn, deeponet, auto_ffn, auto_deeponet, auto_edeeponet, auto_deeponet_cnn, resnet, unet, fno, "
        "identity, or neuralop_fno (neuraloperator's FNO; needs the [neuralop] extra)",
    )
    # the original README's '--data' was an ambiguous abbreviation; here it is an explicit alias
    p.add_argument(
        "--data",
        "--data_name",
        "--data-name",
        dest="data_name",
        default="cavity_prop",
        help="{problem}_{subsets}, e.g. cavity_prop_bc_geo",
    )
    p.add_argument("--data_dir", "--data-dir", default="data", help="dataset root")
    p.add_argument(
        "--task", choices=["auto", "nonauto"], default=None, help="check that the model matches this task (default: inferred)"
    )
    p.add_argument(
        "--mode",
        choices=["train", "test", "train_test"],
        default="train_test",
        help="train, test the best checkpoint, or both",
    )
    p.add_argument("--output_dir", "--output-dir", default="result", help="results root")
    p.add_argument("--run_dir", "--run-dir", default=None, help="explicit run folder (overrides --output_dir layout)")
    p.add_argument("--num_epochs", "--num-epochs", type=int, default=100, help="training epochs")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--lr_step_size", "--lr-step-size", type=int, default=20, help="StepLR period (epochs)")
    p.add_argument("--batch_size", "--batch-size", type=int, default=128, help="training batch size")
    p.add_argument("--eval_batch_size", "--eval-batch-size", type=int, default=16, help="dev batch size")
    p.add_argument("--eval_interval", "--eval-interval", type=int, default=10, help="evaluate and checkpoint every N epochs")
    p.add_argument("--delta_time", "--delta-time", type=float, default=None, help="model step in seconds (default: one frame)")
    p.add_argument(
        "--encoding", choices=["fixed", "legacy"], default="fixed", help="64x64 with correct masks, or the original 66x65"
    )
    p.add_argument("--no_norm", "--no-norm", action="store_true", help="do not normalise case parameters")
    p.add_argument("--seed", type=int, default=0, help="torch seed")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument(
        "--model_kwargs", "--model-kwargs", default="{}", help="JSON overrides of the model config, e.g. '{\"hidden\": 8}'"
    )
    p.add_argument("--no_resume", "--no-resume", action="store_true", help="start from scratch even if checkpoints exist")


def _train(args: argparse.Namespace) -> int:
    from cfdbench.data import PROBLEMS, parse_data_name
    from cfdbench.train import TrainConfig, output_dir_for, run_test, run_training

    problem, _ = parse_data_name(args.data_name)
    delta_time = args.delta_time
    if delta_time is None:
        meta = Path(args.data_dir) / problem / "generation.json"
        delta_time = json.loads(meta.read_text())["data_dt"] if meta.is_file() else PROBLEMS[problem].data_dt
    cfg = TrainConfig(
        model=args.model,
        data_name=args.data_name,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        run_dir=args.run_dir,
        lr=args.lr,
        lr_step_size=args.lr_step_size,
        num_epochs=args.num_epochs,
        eval_interval=args.eval_interval,
        batch_size=args.batch_size,
        eval_batch_size=args.eval_batch_size,
        delta_time=delta_time,
        encoding=args.encoding,
        normalize=not args.no_norm,
        seed=args.seed,
        device=args.device,
        model_kwargs=json.loads(args.model_kwargs),
        resume=not args.no_resume,
    )
    if args.task and args.task != cfg.task:
        raise SystemExit(f"--task {args.task} does not match model {args.model!r} (a {cfg.task} model)")
    run_dir = output_dir_for(cfg)
    if args.mode in ("train", "train_test"):
        run_dir = run_training(cfg)
        print(f"run folder: {run_dir}")
    if args.mode in ("test", "train_test"):
        rec = run_test(run_dir, device=args.device)
        print(json.dumps({"ckpt": rec["ckpt"], "test": rec["scores"]["all"]["batch_mean"]}, indent=2))
    return 0


def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run_dir", "--run-dir", required=True, help="a training run folder (holds args.json and ckpt-*)")
    p.add_argument("--data_dir", "--data-dir", default=None, help="dataset root (default: the one in args.json)")
    p.add_argument("--device", default="cpu", help="torch device")


def _test(args: argparse.Namespace) -> int:
    from cfdbench.train import run_test

    rec = run_test(args.run_dir, data_dir=args.data_dir, device=args.device)
    print(json.dumps({"ckpt": rec["ckpt"], "test": rec["scores"]["all"]["batch_mean"]}, indent=2))
    return 0


def _add_rollout(p: argparse.ArgumentParser) -> None:
    _add_run(p)
    p.add_argument("--steps", type=int, default=20, help="rollout steps from frame 0 of each test case")
    p.add_argument("--legacy", action="store_true", help="reproduce the original's off-by-one step alignment")


def _rollout(args: argparse.Namespace) -> int:
    from cfdbench.data import load_split_cases, time_ratio
    from cfdbench.rollout import mean_step_errors, rollout_errors
    from cfdbench.train import load_run
    from lc_core.report import markdown_table, run_manifest, write_results

    cfg, model = load_run(args.run_dir, device=args.device)
    if cfg.task != "auto":
        raise SystemExit("rollout needs an autoregressive model")
    _, _, test = load_split_cases(args.data_dir or cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    per_case = []
    for case in test:
        k = time_ratio(cfg.delta_time, case.data_dt)
        per_case.append(
            rollout_errors(
                model,
                case,
                steps=args.steps,
                k=k,
                encoding=cfg.encoding,
                normalize=cfg.normalize,
                legacy=args.legacy,
                device=args.device,
            )
        )
    steps = mean_step_errors(per_case)
    rows = [{"step": i + 1, **s} for i, s in enumerate(steps)]
    write_results(
        Path(args.run_dir) / "test" / "multistep",
        {"manifest": run_manifest({k: v for k, v in vars(args).items() if k != "func"}), "steps": rows},
        markdown_table(rows, precision=6),
    )
    print(markdown_table(rows, precision=6))
    return 0


def _add_plot(p: argparse.ArgumentParser) -> None:
    _add_run(p)
    p.add_argument("--case", type=int, default=0, help="index of the test case to draw")
    p.add_argument("--frame", type=int, default=0, help="input frame index")


def _plot(args: argparse.Namespace) -> int:
    import torch

    from cfdbench.data import case_params, encode_frames, load_split_cases, time_ratio
    from cfdbench.plot import plot_fields, plot_rollout_errors
    from cfdbench.train import load_run

    cfg, model = load_run(args.run_dir, device=args.device)
    _, _, test = load_split_cases(args.data_dir or cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    case = test[args.case]
    out = Path(args.run_dir) / "test"
    params = torch.from_numpy(case_params(case, normalize=cfg.normalize))[None]
    if cfg.task == "auto":
        k = time_ratio(cfg.delta_time, case.data_dt)
        frames = torch.from_numpy(
            encode_frames(case, [args.frame, min(args.frame + k, case.num_frames - 1)], encoding=cfg.encoding)
        )
        with torch.no_grad():
            pred = model.next_frame(frames[:1, :2], params, frames[:1, 2:3])[0].numpy()
        truth = frames[1, :2].numpy()
    else:
        frame = torch.from_numpy(encode_frames(case, args.frame, encoding=cfg.encoding))
        pred = model.generate_one(params, torch.tensor([[float(args.frame)]]), *frame.shape[-2:])[0].numpy()
        truth = frame[:1].numpy()
    print(plot_fields(pred, truth, out / f"fields_case{args.case}_frame{args.frame}.png", title=f"{cfg.model} {case.name}"))
    ms = out / "multistep.json"
    if ms.is_file():
        steps = json.loads(ms.read_text())["steps"]
        print(plot_rollout_errors({cfg.model: [s["nmse"] for s in steps]}, out / "multistep_nmse.png"))
    return 0


def _add_overfit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data_dir", "--data-dir", required=True, help="dataset root holding {problem}/{subset}/caseNNNN")
    p.add_argument("--data_name", "--data-name", "--data", default="cavity_bc", help="{problem}_{subsets}")
    p.add_argument("--models", default="all", help="comma-separated baselines, or 'all' (the nine)")
    p.add_argument("--cases", type=int, default=2, help="first N cases of the subset")
    p.add_argument("--frames", type=int, default=8, help="first N frames of each case")
    p.add_argument("--steps", type=int, default=2000, help="full-batch optimiser steps at most")
    p.add_argument("--budget", type=float, default=120.0, help="seconds of training per model at most")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: per model, see the README)")
    p.add_argument(
        "--num_query_points", "--num-query-points", type=int, default=1000, help="FFN/DeepONet query pixels per step (0: all)"
    )
    p.add_argument("--target", type=float, default=1e-3, help="absolute NMSE goal")
    p.add_argument("--ratio", type=float, default=0.1, help="relative goal: this fraction of the trivial predictor")
    p.add_argument("--out", default="results/overfit", help="output prefix for .json/.md")


def _overfit(args: argparse.Namespace) -> int:
    import dataclasses

    from cfdbench.data import load_cases
    from cfdbench.models import MODELS
    from cfdbench.overfit import OVERFIT_LR, OVERFIT_OVERRIDES, OverfitConfig, overfit
    from lc_core.report import markdown_table, run_manifest, write_results

    names = [m for m in MODELS if m != "identity"] if args.models == "all" else args.models.split(",")
    cases = [
        dataclasses.replace(c, u=c.u[: args.frames], v=c.v[: args.frames])
        for c in load_cases(args.data_dir, args.data_name)[: args.cases]
    ]
    rows = []
    for name in names:
        cfg = OverfitConfig(
            model=name,
            data_name=args.data_name,
            lr=args.lr if args.lr is not None else OVERFIT_LR.get(name, 1e-3),
            max_steps=args.steps,
            time_budget_s=args.budget,
            target=args.target,
            ratio=args.ratio,
            num_query_points=args.num_query_points,
            model_kwargs=dict(OVERFIT_OVERRIDES.get(name, {})),
        )
        rows.append({**overfit(cfg, cases).row(), "lr": cfg.lr})
    table = markdown_table(rows, precision=4)
    manifest = run_manifest({k: v for k, v in vars(args).items() if k != "func"}, packages=["cfdbench"])
    write_results(args.out, {"manifest": manifest, "rows": rows}, table)
    print(table)
    return 0 if all(r["reached"] for r in rows) else 1


def _add_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="dataset root")
    p.add_argument("--check", action="store_true", help="also scan every frame for NaN/Inf (reads all data)")


def _info(args: argparse.Namespace) -> int:
    import numpy as np

    from cfdbench.data import PROBLEMS, SUBSETS, encode_frames, list_case_dirs, load_case
    from lc_core.report import markdown_table

    rows = []
    root = Path(args.dir)
    for problem in PROBLEMS:
        for subset in SUBSETS:
            if not (root / problem / subset).is_dir():
                continue
            cases = [load_case(d, problem, subset) for d in list_case_dirs(root, problem, subset)]
            if args.check:
                for c in cases:
                    for t in range(c.num_frames):
                        encode_frames(c, t)
            lens = [c.num_frames for c in cases]
            speed = max((float(np.abs(c.u[-1]).max()) for c in cases), default=0.0)
            rows.append(
                {
                    "problem": problem,
                    "subset": subset,
                    "cases": len(cases),
                    "frames": sum(lens),
                    "T min": min(lens, default=0),
                    "T max": max(lens, default=0),
                    "data_dt": cases[0].data_dt if cases else None,
                    "max |u| (last frame)": speed,
                }
            )
    if not rows:
        print(f"{root}: no {{problem}}/{{subset}}/caseNNNN folders found")
        return 1
    print(markdown_table(rows, precision=4))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``cfdbench`` argument parser (abbreviated flags are rejected)."""
    parser = argparse.ArgumentParser(
        prog="cfdbench",
        description="CFDBench: data generation, baselines, training, rollouts.",
        epilog=__doc__.split("Quick start::", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_, add, run in (
        ("generate", "generate a dataset subset in the released layout", _add_generate, _generate),
        ("train", "train (and test) a baseline", _add_train, _train),
        ("test", "score the best checkpoint of a run on the test split", _add_run, _test),
        ("rollout", "multi-step rollout errors on the test split", _add_rollout, _rollout),
        ("plot", "draw predicted vs true fields and rollout curves", _add_plot, _plot),
        ("overfit", "check that each baseline memorises a few cases (spec §9.8)", _add_overfit, _overfit),
        ("info", "summarise a dataset folder", _add_info, _info),
    ):
        p = sub.add_parser(name, help=help_, allow_abbrev=False)
        add(p)
        p.set_defaults(func=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cfdbench`` console script."""
    setup_logging()
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
