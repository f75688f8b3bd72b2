"""Training-time sparsity tracking: the activation ratio at fixed CETT values every N steps (``lc_core.train``).

:class:`ActivationTracker` is an :class:`lc_core.train.Callback`. Every ``every`` optimizer steps (and after the
first and last step) it runs the model in eval mode on fixed probe batches: one dense pass (per-layer
intermediates and loss, :func:`sparsing_law.search.dense_stats`), then per CETT value the exact per-layer
thresholds and one sparse pass (activation ratio and PPL ratio), plus the straightforward zero-threshold ratio
(``|σ(W_gate x)| == 0``, ReLU's exact zeros). Each measurement is one JSON line in ``<run>/sparsity.jsonl``::

    {"step": 100, "tokens": 409600, "dense_loss": 1.93,
     "zero": 0.41, "cett": {"0.2": {"activation": 0.23, "ppl_ratio": 1.004}, ...}}

This is the activation-vs-tokens curve that the sparsing laws are fitted to (``sparsing-law curve``). A resumed
run drops the lines beyond the step it resumes from, so the file matches the run's history.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lc_core.logging import get_logger
from lc_core.train.callbacks import Callback, TrainState

__all__ = ["ActivationTracker", "SPARSITY_LOG", "read_sparsity_log"]

logger = get_logger(__name__)

SPARSITY_LOG = "sparsity.jsonl"


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def _key(c: float) -> str:
    return f"{c:g}"


class ActivationTracker(Callback):
    """Log the activation ratio at fixed CETT values (and zero-threshold) every ``every`` steps.

    Args:
        probe: batches ``{"input_ids": [B, T], "attention_mask": [B, T]}`` held out from training.
        cetts: CETT values at which the activation ratio is measured (per-layer exact thresholds).
        every: measurement cadence in optimizer steps; step 1 and the last step are always measured.
        out_dir: folder receiving :data:`SPARSITY_LOG` (default: the trainer's ``out_dir``).
        zero: also log the zero-threshold ratio (needs an ``act_fn`` module, as in lc-core GQA and HF Llama MLPs).
    """

    def __init__(
        self,
        probe: Sequence[dict[str, torch.Tensor]],
        cetts: Sequence[float] = (0.1, 0.2, 0.3),
        *,
        every: int = 50,
        out_dir: str | Path | None = None,
        zero: bool = True,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if not probe:
            raise ValueError("no probe batches")
        self.probe = list(probe)
        self.cetts = [float(c) for c in cetts]
        self.every = every
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.zero = zero
        self.rows: list[dict[str, Any]] = []
        self._last_step = -1

    @property
    def path(self) -> Path:
        assert self.out_dir is not None
        return self.out_dir / SPARSITY_LOG

    def on_train_begin(self, state: TrainState) -> None:
        if self.out_dir is None:
            self.out_dir = Path(state.config.out_dir)
        if state.rank != 0:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        kept = [r for r in read_sparsity_log(self.path) if r["step"] <= state.step] if self.path.exists() else []
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        self.rows = kept
        self._last_step = kept[-1]["step"] if kept else -1
        if state.step == 0:
            # the initialisation: D = 0
            self._log(state)

    def on_step_end(self, state: TrainState) -> None:
        if state.step == 1 or state.step % self.every == 0 or state.step >= state.config.max_steps:
            self._log(state)

    def on_train_end(self, state: TrainState) -> None:
        if state.step != self._last_step:
            self._log(state)

    def measure(self, model: torch.nn.Module) -> dict[str, Any]:
        """Dense loss, zero-threshold ratio and per-CETT activation / PPL ratio on the probe batches."""
        from sparsing_law import metrics
        from sparsing_law.search import dense_stats, evaluate_mask, evaluate_thresholds, thresholds_for_cett

        model = _unwrap(model)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                stats = dense_stats(model, self.probe)
                row: dict[str, Any] = {"dense_loss": stats.loss}
                if self.zero:
                    ev = evaluate_mask(
                        model,
                        self.probe,
                        lambda _i, _a, s: metrics.zero_mask(s),
                        dense_loss=stats.loss,
                        needs_gate=True,
                    )
                    row["zero"] = ev.activation
                    row["zero_layers"] = ev.layer_activation
                row["cett"] = {}
                for c in self.cetts:
                    ths = thresholds_for_cett(stats, c)
                    ev = evaluate_thresholds(model, self.probe, ths, dense_loss=stats.loss)
                    row["cett"][_key(c)] = {
                        "activation": ev.activation,
                        "ppl_ratio": ev.ppl_ratio,
                        "layers": ev.layer_activation,
                    }
        finally:
            model.train(was_training)
        return row

    def _log(self, state: TrainState) -> None:
        if state.rank != 0 or state.step == self._last_step:
            return
        t0 = time.perf_counter()
        row = {"step": state.step, "tokens": state.tokens_seen, **self.measure(state.model)}
        row["seconds"] = round(time.perf_counter() - t0, 3)
        self.rows.append(row)
        self._last_step = state.step
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        for c in self.cetts[:1]:
            state.metrics[f"act_cett{_key(c)}"] = row["cett"][_key(c)]["activation"]
        if "zero" in row:
            state.metrics["act_zero"] = row["zero"]
        logger.info(
            "step %d (%d tokens): %s",
            state.step,
            state.tokens_seen,
            ", ".join(f"CETT {k}: {100 * v['activation']:.1f}%" for k, v in row["cett"].items())
            + (f", zero: {100 * row['zero']:.1f}%" if "zero" in row else ""),
        )


def read_sparsity_log(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a :data:`SPARSITY_LOG` file (a run folder is accepted too), ordered by step.

    Raises:
        ValueError: a line is not JSON or lacks ``step`` / ``tokens`` (names the file and line).
    """
    p = Path(path)
    if p.is_dir():
        p = p / SPARSITY_LOG
    rows = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}:{n}: not JSON ({e.msg})") from None
        if not isinstance(row, dict) or "step" not in row or "tokens" not in row:
            raise ValueError(f"{p}:{n}: a row needs 'step' and 'tokens'")
        if not all(math.isfinite(float(v["activation"])) for v in row.get("cett", {}).values()):
            raise ValueError(f"{p}:{n}: non-finite activation ratio")
        rows.append(row)
    return sorted(rows, key=lambda r: r["step"])
