"""The ``cfdbench`` verbs (their flags are in :mod:`cfdbench.cli`); each takes the parsed namespace, returns an exit code."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lc_core.cli import UserError, config_from_args
from lc_core.logging import get_logger

__all__ = ["generate", "train", "test", "rollout", "plot", "overfit", "info"]

logger = get_logger(__name__)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The flags as a run config for the results manifest (without the CLI's own bookkeeping)."""
    return {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "debug"}


def generate(args: argparse.Namespace) -> int:
    """``cfdbench generate``: write one subset in the released layout (resumes an interrupted run)."""
    from cfdbench.generate import GenerateConfig
    from cfdbench.generate import generate as run_generate

    summary = run_generate(config_from_args(GenerateConfig, args))
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()}, indent=2))
    return 1 if summary["failed"] else 0


def _model_kwargs(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"--model-kwargs is not JSON ({e.msg} at column {e.colno}): {text!r}") from None
    if not isinstance(value, dict):
        raise UserError(f"--model-kwargs must be a JSON object, got {text!r}")
    return value


def train(args: argparse.Namespace) -> int:
    """``cfdbench train``: train a baseline, then (``--mode train_test``) score its best checkpoint."""
    from cfdbench.config import TrainConfig
    from cfdbench.data import frame_interval, parse_data_name

    problem, _ = parse_data_name(args.data_name)
    delta_time = args.delta_time
    if delta_time is None:
        if not Path(args.data_dir).is_dir() and args.mode != "test":
            raise FileNotFoundError(f"{args.data_dir}: no such dataset folder (give --data-dir)")
        delta_time = frame_interval(args.data_dir, problem)
    cfg = config_from_args(TrainConfig, args, delta_time=delta_time, model_kwargs=_model_kwargs(args.model_kwargs))
    if args.task and args.task != cfg.task:
        raise UserError(f"--task {args.task} does not match model {args.model!r} (a {cfg.task} model)")
    from cfdbench.train import output_dir_for, run_test, run_training

    run_dir = output_dir_for(cfg)
    if args.mode in ("train", "train_test"):
        run_dir = run_training(cfg)
        print(f"run folder: {run_dir}")
    if args.mode in ("test", "train_test"):
        rec = run_test(run_dir, device=args.device)
        print(json.dumps({"ckpt": rec["ckpt"], "test": rec["scores"]["all"]["batch_mean"]}, indent=2))
        logger.info("wrote %s", rec["results"])
    return 0


def test(args: argparse.Namespace) -> int:
    """``cfdbench test``: score the best checkpoint of a run on the test split."""
    from cfdbench.train import run_test

    rec = run_test(args.run_dir, data_dir=args.data_dir, device=args.device, out=args.out, run_name=args.run_name)
    print(json.dumps({"ckpt": rec["ckpt"], "test": rec["scores"]["all"]["batch_mean"]}, indent=2))
    logger.info("wrote %s", rec["results"])
    return 0


def rollout(args: argparse.Namespace) -> int:
    """``cfdbench rollout``: mean per-step errors of autoregressive rollouts from frame 0 of every test case."""
    from cfdbench.data import load_split_cases, time_ratio
    from cfdbench.rollout import mean_step_errors, rollout_errors
    from cfdbench.train import load_run
    from lc_core.report import emit, markdown_table

    cfg, model = load_run(args.run_dir, device=args.device)
    if cfg.task != "auto":
        raise UserError(f"rollout needs an autoregressive model; {cfg.model!r} is non-autoregressive")
    _, _, test_cases = load_split_cases(args.data_dir or cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    per_case = []
    for case in test_cases:
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
    rows = [{"step": i + 1, **s} for i, s in enumerate(mean_step_errors(per_case))]
    table = markdown_table(rows, precision=6)
    written = emit(
        args.out or args.run_dir,
        args.run_name,
        {"model": cfg.model, "data": cfg.data_name, "steps": rows},
        table,
        config=_settings(args),
        packages=["cfdbench"],
    )
    print(table)
    logger.info("wrote %s", written.json)
    return 0


def _newest_rollout(run_dir: Path) -> dict[str, Any] | None:
    from lc_core.io import read_json_object

    found = sorted((run_dir / "rollout").glob("results_*.json"))
    return read_json_object(found[-1]) if found else None


def plot(args: argparse.Namespace) -> int:
    """``cfdbench plot``: predicted vs true fields of one test frame, and the newest rollout's error curve."""
    import torch

    from cfdbench.data import case_params, encode_frames, load_split_cases, time_ratio
    from cfdbench.plot import plot_fields, plot_rollout_errors
    from cfdbench.train import load_run

    cfg, model = load_run(args.run_dir, device=args.device)
    _, _, test_cases = load_split_cases(args.data_dir or cfg.data_dir, cfg.data_name, rounding=cfg.split_rounding)
    if not 0 <= args.case < len(test_cases):
        raise UserError(f"--case {args.case}: the test split has {len(test_cases)} case(s)")
    case = test_cases[args.case]
    if not 0 <= args.frame < case.num_frames:
        raise UserError(f"--frame {args.frame}: {case.name} has {case.num_frames} frame(s)")
    out = Path(args.out or args.run_dir) / args.run_name
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
    record = _newest_rollout(Path(args.run_dir))
    if record is not None:
        print(plot_rollout_errors({cfg.model: [s["nmse"] for s in record["steps"]]}, out / "rollout_nmse.png"))
    return 0


def overfit(args: argparse.Namespace) -> int:
    """``cfdbench overfit``: can each baseline memorise a few cases? Exit 1 when one misses the goal."""
    import dataclasses

    from cfdbench.config import OverfitConfig
    from cfdbench.data import load_cases
    from cfdbench.models import MODELS
    from cfdbench.overfit import OVERFIT_LR, OVERFIT_OVERRIDES
    from cfdbench.overfit import overfit as run_overfit
    from lc_core.report import emit, markdown_table

    names = [m for m in MODELS if m != "identity"] if args.models == "all" else args.models.split(",")
    cases = [
        dataclasses.replace(c, u=c.u[: args.frames], v=c.v[: args.frames])
        for c in load_cases(args.data_dir, args.data_name)[: args.cases]
    ]
    rows = []
    for name in names:
        cfg = config_from_args(
            OverfitConfig,
            args,
            model=name,
            lr=args.lr if args.lr is not None else OVERFIT_LR.get(name, 1e-3),
            model_kwargs=dict(OVERFIT_OVERRIDES.get(name, {})),
        )
        rows.append({**run_overfit(cfg, cases).row(), "lr": cfg.lr})
    table = markdown_table(rows, precision=4)
    written = emit(
        args.out, args.run_name or args.data_name, {"rows": rows}, table, config=_settings(args), packages=["cfdbench"]
    )
    print(table)
    logger.info("wrote %s", written.json)
    return 0 if all(r["reached"] for r in rows) else 1


def info(args: argparse.Namespace) -> int:
    """``cfdbench info``: cases, frames and speeds per problem and subset of a dataset folder."""
    import numpy as np

    from cfdbench.data import PROBLEMS, SUBSETS, encode_frames, list_case_dirs, load_case
    from lc_core.report import markdown_table

    rows = []
    root = Path(args.dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder")
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
        raise UserError(f"{root}: no {{problem}}/{{subset}}/caseNNNN folders found")
    print(markdown_table(rows, precision=4))
    return 0
