"""Capacity sweep: train tiny Mamba-2 models of several state sizes and measure where they stop working.

For each ``d_state`` a model is trained from scratch (:func:`stuffed_mamba.train_long.train_long`, TBPTT on passkey
documents of ``train_min``–``train_max`` tokens), then measured:

* ``t_recall``: the longest evaluated length with passkey accuracy >= ``threshold`` (95 % like the paper);
* ``t_collapse``: the first length whose per-token loss (haystack prompt, ``loss_bucket``-token buckets) exceeds
  ``collapse_factor`` × the in-length level (None if it never does up to ``loss_length``). The in-length level is
  the mean of the buckets centred at or below ``train_max`` (legacy) or, when ``in_length`` is set (training on
  short windows), of those centred in ``(in_length / 2, in_length]``, past the haystack's first period.

With ``data="lexicon"`` the models are trained on :mod:`stuffed_mamba.lexicon` documents instead (text whose loss
depends on long memory; each ``seq_len`` window a fresh document from a zero state) and measured on one long lexicon
document: ``t_collapse`` on the per-token loss and ``t_collapse_recall`` on the loss of the *recallable* letters only
(those memory predicts), beside ``recall_level`` (their in-length loss; ~log 26 = 3.26 nats means no memory was
learned). Passkey is not measured for them (``t_recall`` None: they never saw the task).

One JSON line per finished run goes to ``<out>/runs.jsonl``; a rerun skips finished runs and lc-core resumes an
interrupted training run from its checkpoint. :func:`fit_sweep` fits the paper's forms against ``N_S`` (millions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lc_core.logging import get_logger

__all__ = ["SweepConfig", "run_sweep", "fit_sweep", "detect_collapse", "copy_recall"]

logger = get_logger(__name__)


@dataclass(kw_only=True)
class SweepConfig:
    """A capacity sweep.

    Args:
        d_states: state sizes N to train (one model each).
        d_model: model width.
        n_layers: layers.
        headdim: head size P.
        steps: training steps per model.
        seq_len: training window.
        segment_tokens: TBPTT segment.
        train_min: shortest training document (tokens).
        train_max: longest training document (tokens).
        eval_lengths: passkey / loss lengths to evaluate.
        samples: passkey samples per length.
        threshold: passkey accuracy defining t_recall.
        collapse_factor: loss ratio defining t_collapse.
        lr: learning rate.
        seed: seed of data and init.
        answer_weight: loss weight of the answer tokens (as the demo's recipe, 4).
        batch: windows per optimizer step.
        chunk_size: SSD chunk size of the models.
        packing: ``"stream"`` (documents cut into ``seq_len`` windows, each window from a zero state: with a short
            ``seq_len`` the models only ever see short contexts) or ``"whole"`` (see :func:`train_long`).
        bptt: ``"truncated"`` or ``"full"``.
        in_length: the trained context length defining the in-length loss level (None: ``train_max``).
        loss_bucket: bucket of the loss curve (tokens).
        loss_length: length of the haystack loss curve (None: the longest ``eval_lengths``).
        data: ``"passkey"`` (passkey documents, the haystack loss curve) or ``"lexicon"`` (lexicon documents, see
            :mod:`stuffed_mamba.lexicon`; ``train_min``/``train_max``/``answer_weight``/``eval_lengths`` unused).
        lexicon_size: lexicon words per document (``data="lexicon"``).
        word_min: shortest lexicon word.
        word_max: longest lexicon word.
        drift: lexicon drift per word.
        eval_docs: lexicon documents the loss curves are averaged over (``data="lexicon"``).
        recall_periods: (``data="lexicon"``) periods ``P`` at which to measure copy recall: a one-word lexicon of a
            ``P``-letter word, top-1 accuracy on its recallable letters; ``t_recall`` is then the longest ``P`` whose
            accuracy (and that of every shorter one) is ``>= threshold``.
    """

    d_states: Sequence[int] = (4, 8, 16)
    d_model: int = 32
    n_layers: int = 2
    headdim: int = 16
    steps: int = 100
    seq_len: int = 512
    segment_tokens: int = 128
    train_min: int = 128
    train_max: int = 400
    eval_lengths: Sequence[int] = (256, 512, 1024, 2048)
    samples: int = 10
    threshold: float = 0.95
    collapse_factor: float = 1.5
    lr: float = 3e-3
    seed: int = 0
    answer_weight: float = 1.0
    batch: int = 8
    chunk_size: int = 16
    packing: str = "stream"
    bptt: str = "truncated"
    in_length: int | None = None
    loss_bucket: int = 128
    loss_length: int | None = None
    data: str = "passkey"
    lexicon_size: int = 24
    word_min: int = 3
    word_max: int = 6
    drift: float = 0.0
    eval_docs: int = 1
    recall_periods: Sequence[int] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _measure(model: Any, cfg: SweepConfig, encode: Any, decode: Any) -> dict[str, Any]:
    from stuffed_mamba.loss import loss_curve
    from stuffed_mamba.passkey import StreamingBackend, make_examples, prompt_tokens, score
    from stuffed_mamba.prompts import encode_prompt

    model.eval()
    be = StreamingBackend(model, encode, decode, eos_token_id=1)
    acc = {}
    for n in cfg.eval_lengths:
        exs = make_examples([n], cfg.samples, seed=cfg.seed + 1, template="demo")
        acc[n] = sum(score(decode(be.complete_tokens(list(prompt_tokens(e, encode)), 6)), e["answer"]) for e in exs) / len(exs)
    ok = [n for n in cfg.eval_lengths if acc[n] >= cfg.threshold]
    t_recall = max(ok) if ok else 0
    length = cfg.loss_length or max(cfg.eval_lengths)
    curve = loss_curve(model, encode_prompt("haystack", encode, length), bucket=cfg.loss_bucket, progress=False)
    pts = [(int(c), float(m)) for c, m in zip(curve.centres, curve.means)]
    found = detect_collapse(pts, edge=cfg.train_max if cfg.in_length is None else cfg.in_length,
                            in_length=cfg.in_length, factor=cfg.collapse_factor)  # fmt: skip
    return {
        "passkey": {str(k): v for k, v in acc.items()}, "t_recall": t_recall, **found,
        "loss_curve": [[c, round(m, 5)] for c, m in pts],
    }  # fmt: skip


def _measure_lexicon(model: Any, cfg: SweepConfig, encode: Any) -> dict[str, Any]:
    import torch

    from stuffed_mamba.lexicon import LexiconSpec, lexicon_text
    from stuffed_mamba.loss import bucket_means, loss_curve

    model.eval()
    spec = LexiconSpec(lexicon_size=cfg.lexicon_size, word_min=cfg.word_min, word_max=cfg.word_max, drift=cfg.drift)
    length = cfg.loss_length or max(cfg.eval_lengths)
    losses_all, masks = [], []
    for d in range(cfg.eval_docs):  # per-position mean over eval_docs documents (each its own lexicon)
        text, recallable = lexicon_text(length, spec, seed=1_000_000 + cfg.seed + d)
        one = loss_curve(model, torch.tensor(encode(text)), bucket=cfg.loss_bucket, progress=False, keep_losses=True)
        assert one.losses is not None
        losses_all.append(one.losses.double())
        masks.append(torch.from_numpy(recallable[1:]))  # entry t of the losses scores token t + 1
    stacked, mstack = torch.stack(losses_all), torch.stack(masks)
    centres, means = bucket_means(stacked.mean(0), cfg.loss_bucket)
    pts = [(int(c), float(m)) for c, m in zip(centres, means)]
    edge = cfg.in_length or cfg.seq_len
    found = detect_collapse(pts, edge=edge, in_length=edge, factor=cfg.collapse_factor)
    # recallable letters only, pooled over the documents (same buckets as bucket_means: first and last dropped)
    rpts = []
    b = cfg.loss_bucket
    for lo in list(range(0, stacked.shape[1], b))[1:-1]:
        sel = mstack[:, lo : lo + b]
        if bool(sel.any()):
            rpts.append((lo + 1 + b // 2, float(stacked[:, lo : lo + b][sel].mean())))
    rec = detect_collapse(rpts, edge=edge, in_length=edge, factor=cfg.collapse_factor)
    acc = {p: copy_recall(model, p, encode, length=edge, docs=cfg.eval_docs, seed=cfg.seed) for p in cfg.recall_periods}
    t_recall = None
    if acc:
        t_recall = 0
        for p in sorted(acc):
            if acc[p] < cfg.threshold:
                break
            t_recall = p
    return {
        "passkey": {}, "t_recall": t_recall, "recall_acc": {str(p): round(a, 4) for p, a in acc.items()}, **found,
        "t_collapse_recall": rec["t_collapse"], "recall_level": rec["loss_level"],
        "recall_peak_ratio": rec["loss_peak_ratio"],
        "loss_curve": [[c, round(m, 5)] for c, m in pts], "recall_curve": [[c, round(m, 5)] for c, m in rpts],
    }  # fmt: skip


def copy_recall(model: Any, period: int, encode: Any, *, length: int, docs: int = 1, seed: int = 0) -> float:
    """Top-1 accuracy of ``model`` on the recallable letters of ``docs`` one-word lexicon documents of ``length``
    tokens whose word has ``period`` letters (the word repeats every ``period + 1`` tokens): how well the model copies
    from ``period + 1`` tokens back."""
    import torch

    from stuffed_mamba.lexicon import LexiconSpec, lexicon_text

    spec = LexiconSpec(lexicon_size=1, word_min=period, word_max=period)
    hit = total = 0
    for d in range(docs):
        text, recallable = lexicon_text(length, spec, seed=2_000_000 + seed + d)
        ids = torch.tensor([encode(text)])
        logits = model(input_ids=ids[:, :-1], use_cache=False).logits[0]
        mask = torch.from_numpy(recallable[1:])
        hit += int((logits.argmax(-1) == ids[0, 1:])[mask].sum())
        total += int(mask.sum())
    return hit / max(1, total)


def detect_collapse(pts: Sequence[tuple[float, float]], *, edge: int, in_length: int | None, factor: float) -> dict[str, Any]:
    """Find where a bucketed loss curve leaves its in-length level.

    Args:
        pts: ``(bucket centre, mean loss)`` pairs in position order.
        edge: trained length; the level is measured at or below it, the collapse searched above it.
        in_length: None (legacy: level = mean of all buckets centred ≤ ``edge``) or the trained context length
            (level = mean of the buckets centred in ``(in_length / 2, in_length]``).
        factor: a collapse is a loss above ``factor`` × the level.

    Returns:
        ``{"t_collapse", "loss_level", "loss_peak_ratio"}``. The curve past ``edge`` is compared through a sliding mean
        over as many buckets as the level averages, so a periodic prompt whose period exceeds one bucket (the
        haystack line is 90 bytes) cannot fake a collapse with a few high buckets: the sliding mean must stay above
        the threshold for as many consecutive windows as it is wide. ``t_collapse`` is the centre of the last bucket
        of the first such window (None if none is).
    """
    if in_length is None:
        inside = [m for c, m in pts if c <= edge]
    else:
        inside = [m for c, m in pts if in_length / 2 < c <= in_length]
    level = sum(inside) / max(1, len(inside))
    width = max(1, len(inside))
    after = [(c, m) for c, m in pts if c > edge]
    means = [(after[i + width - 1][0], sum(m for _, m in after[i : i + width]) / width) for i in range(len(after) - width + 1)]
    above = [m > factor * level for _, m in means]
    # sustained: `width` consecutive windows above the threshold (a single high bucket lifts at most `width` windows,
    # a periodic spike pattern never lifts that many in a row unless its mean itself rose)
    collapse = next((means[i][0] for i in range(len(means) - width + 1) if all(above[i : i + width])), None)
    peak = max((m for _, m in means), default=None)
    return {
        "t_collapse": collapse, "loss_level": level,
        "loss_peak_ratio": None if peak is None or level <= 0 else peak / level,
    }  # fmt: skip


def run_sweep(cfg: SweepConfig, out: str | Path, *, max_steps: int | None = None) -> list[dict[str, Any]]:
    """Train and measure every state size not yet in ``out/runs.jsonl``; returns all rows (old and new)."""
    import torch

    from lc_core.models.mamba2 import Mamba2ForCausalLM
    from lc_core.models.mamba2.presets import tiny_config
    from lc_core.tokenizers import ByteTokenizer
    from lc_core.train import TrainConfig
    from stuffed_mamba.capacity import state_size
    from stuffed_mamba.train_long import train_long

    if cfg.data not in ("passkey", "lexicon"):
        raise ValueError(f"SweepConfig.data must be 'passkey' or 'lexicon', got {cfg.data!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = out / "runs.jsonl"
    done = {}
    if runs.exists():
        for line in runs.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["d_state"]] = row
    tok = ByteTokenizer(extra_ids=0)
    for n in cfg.d_states:
        if n in done:
            logger.info("d_state %d already measured, skipping", n)
            continue
        mcfg = tiny_config(
            d_model=cfg.d_model, n_layers=cfg.n_layers, headdim=cfg.headdim, d_state=n, vocab_size=259,
            chunk_size=cfg.chunk_size,
        )  # fmt: skip

        torch.manual_seed(cfg.seed)
        model = Mamba2ForCausalLM(mcfg)  # trained in place (a ready model is accepted by lc_core.train)
        tcfg = TrainConfig(
            seq_len=cfg.seq_len, micro_batch_size=cfg.batch, global_batch_size=cfg.batch,
            max_steps=max_steps or cfg.steps, lr=cfg.lr,
            warmup_steps=min(20, (max_steps or cfg.steps) // 5), out_dir=str(out / f"N{n}"), save_every=25, progress=False,
            seed=cfg.seed,
        )  # fmt: skip
        if cfg.data == "lexicon":
            res = _train_lexicon(model, tcfg, cfg, tok.encode)
        else:
            documents = max(64, tcfg.max_steps * cfg.batch * cfg.seq_len // max(1, (cfg.train_min + cfg.train_max) // 2))
            res = train_long(
                model, tcfg, documents=documents, min_len=cfg.train_min, max_len=cfg.train_max,
                segment_tokens=cfg.segment_tokens, encode=tok.encode, eos_id=1, seed=cfg.seed,
                answer_weight=cfg.answer_weight, packing=cfg.packing, bptt=cfg.bptt,  # type: ignore[arg-type]
            )  # fmt: skip
        t0 = time.perf_counter()
        with torch.no_grad():
            if cfg.data == "lexicon":
                m = _measure_lexicon(model, cfg, tok.encode)
            else:
                m = _measure(model, cfg, tok.encode, lambda ids: tok.decode([i for i in ids if i < tok.vocab_size]))
        row = {
            "d_state": n, "N_S": state_size(mcfg), "final_loss": res.final_loss, "steps": res.step,
            "train_s": round(res.elapsed_s, 1), "measure_s": round(time.perf_counter() - t0, 1), **m,
        }  # fmt: skip
        with runs.open("a") as f:
            f.write(json.dumps(row) + "\n")
        done[n] = row
    return [done[n] for n in cfg.d_states if n in done]


def _train_lexicon(model: Any, tcfg: Any, cfg: SweepConfig, encode: Any) -> Any:
    """Train ``model`` on lexicon windows of ``cfg.seq_len`` tokens (each a fresh document from a zero state)."""
    from lc_core.train import PackedDataset, train
    from stuffed_mamba.lexicon import LexiconSpec, lexicon_windows
    from stuffed_mamba.train_long import tbptt_loss

    spec = LexiconSpec(lexicon_size=cfg.lexicon_size, word_min=cfg.word_min, word_max=cfg.word_max, drift=cfg.drift)
    tokens = lexicon_windows(tcfg.max_steps * tcfg.global_batch_size, tcfg.seq_len, spec, encode, seed=cfg.seed)
    model.train()
    loss_fn = tbptt_loss(cfg.segment_tokens, bptt=cfg.bptt)  # type: ignore[arg-type]
    return train(model, tcfg, PackedDataset(tokens, tcfg.seq_len), loss_fn=loss_fn, device="cpu")


def fit_sweep(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fit ``t_recall`` (exponential form) and ``t_collapse`` (linear form) against N_S in millions; what cannot be
    fitted (too few distinct points, no collapse observed) is reported as a reason, not a number."""
    from stuffed_mamba.capacity import fit_exponential, fit_linear

    out: dict[str, Any] = {}
    x = [r["N_S"] / 1e6 for r in rows]
    rec = [(xi, r["t_recall"] / 1e3) for xi, r in zip(x, rows) if r["t_recall"]]
    col = [(xi, r["t_collapse"] / 1e3) for xi, r in zip(x, rows) if r.get("t_collapse")]
    for name, pts, fn in (("t_recall", rec, fit_exponential), ("t_collapse", col, fit_linear)):
        try:
            out[name] = fn([p[0] for p in pts], [p[1] for p in pts]).to_dict()
        except (ValueError, RuntimeError) as e:
            out[name] = {"error": str(e), "points": pts}
    return out
