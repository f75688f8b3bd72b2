"""Cost-optimal GQA search (paper §5, Eq. 5, 8, 9 and Appendix B.1).

Given a target loss L* and a context length T, for every candidate H = (n_h, n_kv):

1. ``N*(H) = a_H / (L* − E_H)^{1/b_H}`` from the fitted size law (non-embedding parameters);
2. ``shape_for_size`` turns N*(H) into a real-valued (L, d): the aspect ratio d/L is interpolated
   linearly in **log N** between the two neighbouring ladder shapes (Tables 9 and 7, their N computed with
   this H), then L is solved so that N(L, d/L·L, H) = N* exactly;
3. inference memory M (Eq. 4) and FLOPs C (Eq. 3) of that shape at T give ``Z = λ·M^α + (1−λ)·C^β``;
4. the answer is ``argmin_H Z``.

Example::

    from gqa_cost.calibrate import load_paper_model
    from gqa_cost.search import optimal_config
    best = optimal_config(2.615, 131072, load_paper_model())
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gqa_cost.config import PAPER_HEAD_DIM, PAPER_VOCAB, TABLE7_LADDER, TABLE9_LADDER, ArchConfig
from gqa_cost.costs import CostUnits, hardware_cost, infer_flop_breakdown, infer_memory, param_count
from gqa_cost.laws import Head, SizeLaw

__all__ = [
    "candidates",
    "DEFAULT_LADDER",
    "ShapeRecipe",
    "shape_for_size",
    "LossModel",
    "CostWeights",
    "Candidate",
    "SearchResult",
    "evaluate",
    "optimal_config",
    "search_table",
    "format_head",
    "parse_context",
]

# (L, d) shapes of Tables 9 and 7, smallest first.
DEFAULT_LADDER: tuple[tuple[int, int], ...] = tuple((L, d) for _, L, d in TABLE9_LADDER + TABLE7_LADDER)


def candidates(max_heads: int = 32) -> list[Head]:
    """Step 1: all (n_h, n_kv) with both powers of two up to ``max_heads`` and n_kv ≤ n_h (21 for 32).

    ``max_heads`` is max(d)/d_h rounded to the nearest power of two (1536/64 = 24 → 32 in the paper).
    """
    if max_heads < 1:
        raise ValueError(f"max_heads must be >= 1, got {max_heads}")
    top = 2 ** round(math.log2(max_heads))
    powers = [2**i for i in range(int(math.log2(top)) + 1)]
    return [(h, kv) for h in powers for kv in powers if kv <= h]


@dataclass(kw_only=True, frozen=True)
class ShapeRecipe:
    """Fixed parts of the searched architectures (the paper's recipe by default).

    Attributes:
        head_dim: d_h.
        ffn_mult: d_ff = ffn_mult·d, kept real-valued so N(L, d) is continuous (8/3 for SwiGLU).
        ffn_matrices: 3 gated, 2 plain.
        vocab_size: V.
        tied: tied embeddings.
    """

    head_dim: float = PAPER_HEAD_DIM
    ffn_mult: float = 8 / 3
    ffn_matrices: int = 3
    vocab_size: int = PAPER_VOCAB
    tied: bool = True

    def config(self, n_layers: float, d_model: float, head: Head, name: str = "") -> ArchConfig:
        return ArchConfig(
            n_layers=n_layers,
            d_model=d_model,
            n_heads=head[0],
            n_kv_heads=head[1],
            head_dim=self.head_dim,
            d_ff=self.ffn_mult * d_model,
            ffn_matrices=self.ffn_matrices,
            vocab_size=self.vocab_size,
            tied=self.tied,
            name=name,
        )

    def non_embedding(self, n_layers: float, d_model: float, head: Head) -> float:
        """N(L, d, H) = L·d·(2·d_h·(n_h + n_kv) + ffn_matrices·ffn_mult·d)."""
        return n_layers * d_model * (2 * self.head_dim * (head[0] + head[1]) + self.ffn_matrices * self.ffn_mult * d_model)


def shape_for_size(
    n_star: float, head: Head, *, ladder: Sequence[tuple[float, float]] = DEFAULT_LADDER, recipe: ShapeRecipe | None = None
) -> ArchConfig:
    """Appendix B.1: a real-valued (L, d) with non-embedding N(L, d, H) = ``n_star``.

    The aspect ratio r = d/L is interpolated linearly in log N between the two ladder shapes whose N
    (computed for this H) bracket ``n_star``; outside the ladder the end ratio is kept. Then L solves
    ``N(L, r·L, H) = n_star`` (N is increasing in L at fixed r).

    Args:
        n_star: target non-embedding parameters.
        head: (n_h, n_kv).
        ladder: predefined (L, d) shapes.
        recipe: head size, FFN rule, vocabulary.

    Returns:
        An :class:`ArchConfig` with real-valued ``n_layers`` and ``d_model``.
    """
    if not (n_star > 0 and math.isfinite(n_star)):
        raise ValueError(f"target size must be positive and finite, got {n_star!r}")
    recipe = recipe or ShapeRecipe()
    pts = sorted((recipe.non_embedding(L, d, head), d / L) for L, d in ladder)
    logn = np.log([p[0] for p in pts])
    ratios = np.array([p[1] for p in pts])
    if np.any(np.diff(logn) <= 0):
        raise ValueError(f"ladder shapes must have distinct sizes for H={head}")
    ratio = float(np.interp(math.log(n_star), logn, ratios))

    def gap(log_l: float) -> float:
        L = math.exp(log_l)
        return math.log(recipe.non_embedding(L, ratio * L, head)) - math.log(n_star)

    # scipy is imported here, not at module level: `gqa-cost --help` and the cost verbs must not pay for it
    from scipy.optimize import brentq

    log_l = brentq(gap, math.log(1e-6), math.log(1e8), xtol=1e-14, rtol=1e-15, maxiter=500)
    L = math.exp(log_l)
    return recipe.config(L, ratio * L, head, name=f"H{head[0]},{head[1]}-N{n_star:.3g}")


class LossModel:
    """Fitted size laws per head configuration, plus provenance.

    Args:
        laws: H -> size law.
        label: e.g. ``"fitted: runs.jsonl"`` or ``"paper-calibrated (not fitted)"``.
        meta: free-form provenance recorded in outputs.
    """

    def __init__(self, laws: Mapping[Head, SizeLaw], *, label: str = "fitted", meta: Mapping[str, Any] | None = None):
        if not laws:
            raise ValueError("a loss model needs at least one head configuration")
        self.laws = dict(laws)
        self.label = label
        self.meta = dict(meta or {})

    def __contains__(self, head: object) -> bool:
        return head in self.laws

    def loss(self, head: Head, n_params: float) -> float:
        """Predicted loss of H at non-embedding size N."""
        return float(self.law(head)(n_params))

    def law(self, head: Head) -> SizeLaw:
        if head not in self.laws:
            raise KeyError(f"no size law for H={head}; the model has {sorted(self.laws)}")
        return self.laws[head]

    def n_star(self, head: Head, target_loss: float) -> float:
        """Eq. 8 for H."""
        return self.law(head).invert(target_loss)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "meta": self.meta,
            "laws": [{"n_heads": h[0], "n_kv_heads": h[1], **law.to_dict()} for h, law in sorted(self.laws.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossModel:
        laws = {
            (int(r["n_heads"]), int(r["n_kv_heads"])): SizeLaw(a=float(r["a"]), b=float(r["b"]), E=float(r["E"]))
            for r in data["laws"]
        }
        return cls(laws, label=str(data.get("label", "fitted")), meta=data.get("meta", {}))


@dataclass(kw_only=True, frozen=True)
class CostWeights:
    """Eq. 5 weights and the units of M and C (defaults: the paper's λ = 0.9, α = 1/2, β = 1/3; GB and GFLOPs)."""

    lam: float = 0.9
    alpha: float = 0.5
    beta: float = 1 / 3
    units: CostUnits = field(default_factory=CostUnits)

    def describe(self) -> dict[str, Any]:
        return {"lambda": self.lam, "alpha": self.alpha, "beta": self.beta, "units": self.units.describe()}


@dataclass(kw_only=True, frozen=True)
class Candidate:
    """One head configuration costed at (L*, T)."""

    head: Head
    n_star: float
    config: ArchConfig
    memory: float
    kv: float
    flops: float
    attention_flops: float
    Z: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_heads": self.head[0],
            "n_kv_heads": self.head[1],
            "N_star": self.n_star,
            "N_total": param_count(self.config).total,
            "n_layers": self.config.n_layers,
            "d_model": self.config.d_model,
            "M": self.memory,
            "M_kv": self.kv,
            "C": self.flops,
            "C_attention": self.attention_flops,
            "Z": self.Z,
        }


@dataclass(kw_only=True)
class SearchResult:
    """All feasible candidates at (L*, T), the argmin and the configurations that cannot reach L*."""

    target_loss: float
    context: float
    best: Candidate
    candidates: list[Candidate]
    infeasible: list[Head]
    weights: CostWeights

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_loss": self.target_loss,
            "context": self.context,
            "best": self.best.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
            "infeasible": [list(h) for h in self.infeasible],
            "cost_weights": self.weights.describe(),
        }


def evaluate(
    config: ArchConfig, context: float, weights: CostWeights, *, batch: int = 1
) -> tuple[float, float, float, float, float]:
    """(M, M_kv, C, C_attention, Z) of ``config`` at context T: M in ``weights.units``, C in FLOPs per token."""
    u = weights.units
    mem = infer_memory(config, context, batch=batch, n_params=u.n_params)
    fl = infer_flop_breakdown(config, context)
    linear = fl.linear
    if u.n_params == "non_embedding":
        linear -= 2 * config.d_model * config.vocab_size
    mem_u = u.memory_in_unit(mem)
    C = linear + fl.attention
    Z = hardware_cost(mem_u.total, C * u.flop_scale, lam=weights.lam, alpha=weights.alpha, beta=weights.beta)
    return mem_u.total, mem_u.kv, C, fl.attention, Z


def optimal_config(
    target_loss: float,
    context: float,
    model: LossModel,
    *,
    weights: CostWeights | None = None,
    heads: Iterable[Head] | None = None,
    ladder: Sequence[tuple[float, float]] = DEFAULT_LADDER,
    recipe: ShapeRecipe | None = None,
) -> SearchResult:
    """Eq. 9: ``argmin_H Z(T, N*(H), H)`` subject to reaching ``target_loss``.

    Args:
        target_loss: L*.
        context: inference context length T.
        model: fitted size laws.
        weights: λ, α, β and units.
        heads: candidate set (default: every H the model has).
        ladder: shapes for :func:`shape_for_size`.
        recipe: head size, FFN rule, vocabulary.

    Raises:
        ValueError: when no candidate can reach ``target_loss`` (L* ≤ E for all).
    """
    weights = weights or CostWeights()
    heads = list(model.laws) if heads is None else list(heads)
    rows: list[Candidate] = []
    infeasible: list[Head] = []
    for h in heads:
        law = model.law(h)
        if target_loss <= law.E:
            infeasible.append(h)
            continue
        n_star = law.invert(target_loss)
        cfg = shape_for_size(n_star, h, ladder=ladder, recipe=recipe)
        M, kv, C, Ca, Z = evaluate(cfg, context, weights)
        rows.append(Candidate(head=h, n_star=n_star, config=cfg, memory=M, kv=kv, flops=C, attention_flops=Ca, Z=Z))
    if not rows:
        Es = sorted({model.law(h).E for h in heads})
        raise ValueError(f"target loss {target_loss:g} is at or below the irreducible loss of every candidate (E = {Es})")
    best = min(rows, key=lambda c: c.Z)
    return SearchResult(
        target_loss=target_loss, context=context, best=best, candidates=rows, infeasible=infeasible, weights=weights
    )


def search_table(
    losses: Sequence[float], contexts: Sequence[float], model: LossModel, **kwargs: Any
) -> dict[tuple[float, float], SearchResult]:
    """Table 4 layout: (L*, T) -> search result for every pair."""
    return {(lo, t): optimal_config(lo, t, model, **kwargs) for lo in losses for t in contexts}


def format_head(head: Head) -> str:
    """``(32, 8)`` -> ``"32,8"`` as in Table 4."""
    return f"{head[0]},{head[1]}"


_SUFFIX = {"k": 1024, "m": 1024**2}


def parse_context(text: str | float | int) -> int:
    """``"128k"`` -> 131072, ``"8K"`` -> 8192, ``"4096"`` -> 4096 (binary K, as the paper's 128K = 131,072)."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = text.strip().lower()
        mult = 1
        if s and s[-1] in _SUFFIX:
            mult = _SUFFIX[s[-1]]
            s = s[:-1]
        try:
            value = float(s) * mult
        except ValueError:
            raise ValueError(f"cannot read context length {text!r} (examples: 8192, 8k, 128K)") from None
    if value <= 0 or not value.is_integer():
        raise ValueError(f"context length must be a positive integer number of tokens, got {text!r}")
    return int(value)
