"""Run a backend over ∞Bench tasks: prompts, truncation, batching, resume, sharding, manifest.

Predictions go to ``<output_dir>/<model_name>/preds_<task>.jsonl`` (``.shard-<i>-of-<n>.jsonl`` when
sharded) in the original row format ``{"id", "prediction", "ground_truth", ...}``, one fsynced line per
example through :class:`lc_core.io.ResultsStore`, so a killed run resumes where it stopped::

    from infbench.runner import RunConfig, run

    manifest = run(RunConfig(tasks=["passkey"], data_dir="data", backend="openai", model="gpt-4o-mini"))

Importing this module does not import torch; the ``hf``/``vllm`` backends import it when built.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infbench.data import file_fingerprint, get_answer, load_task, task_path
from infbench.prompts import build_prompt, resolve_family
from infbench.tasks import DEFAULT_MODEL, MAX_NEW_TOKENS, canonical_task
from infbench.tokenization import TokenizerLike, get_tokenizer, truncate_text
from lc_core.inference.base import Backend, GenerationConfig, get_backend
from lc_core.io import ResultsStore, atomic_write_json
from lc_core.logging import get_logger
from lc_core.report import package_versions, run_manifest

__all__ = ["RunConfig", "run", "parse_shard", "shard_examples", "model_dir_name", "preds_path", "load_backend"]

logger = get_logger(__name__)

# Row fields copied from the data into prediction files so scores can be broken down without the data.
_META_FIELDS = ("depth", "length", "n_units", "target")


@dataclass(kw_only=True)
class RunConfig:
    """One evaluation run.

    Args:
        tasks: task names.
        data_dir: folder with ``<task>.jsonl`` files.
        output_dir: results root; predictions go to ``<output_dir>/<model_name>/``.
        model: model path, hub id, built-in lc-core name or API model name.
        backend: ``hf``, ``openai`` or ``vllm`` (any name registered in lc-core).
        backend_kwargs: extra keyword arguments for the backend constructor.
        model_name: results folder name (default: derived from ``model``).
        family: prompt family (``gpt4``, ``yarn-mistral``, ``claude2``, ``kimi``, ``chat``) or ``auto``
            (``chat`` for the openai backend, ``yarn-mistral`` otherwise).
        truncate: middle-truncate prompts to this many tokens (None: no truncation).
        truncation_variant: ``runner`` (L//2 each side, as the original runners) or ``legacy`` (eval_utils).
        tokenizer: tokenizer for truncation (default: the backend's own).
        batch_size: prompts per ``generate`` call (concurrency for API backends).
        shard: ``(index, count)``: this process handles examples ``index, index+count, ...``.
        limit: only the first ``limit`` examples of each task.
        max_new_tokens: per-task overrides of the original budget table.
        temperature: 0 is greedy (the default).
        top_p: nucleus mass.
        top_k: top-k (0 = off).
        seed: sampling seed passed to the backend.
        save_prompts: store the final (truncated) prompt text in each row (large).
    """

    tasks: Sequence[str]
    data_dir: str
    output_dir: str = "results"
    model: str = DEFAULT_MODEL
    backend: str = "hf"
    backend_kwargs: dict[str, Any] = field(default_factory=dict)
    model_name: str | None = None
    family: str = "auto"
    truncate: int | None = None
    truncation_variant: str = "runner"
    tokenizer: str | None = None
    batch_size: int = 1
    shard: tuple[int, int] = (0, 1)
    limit: int | None = None
    max_new_tokens: dict[str, int] = field(default_factory=dict)
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = 0
    save_prompts: bool = False

    def __post_init__(self) -> None:
        self.tasks = [canonical_task(t) for t in self.tasks]
        i, n = self.shard
        if not (n >= 1 and 0 <= i < n):
            raise ValueError(f"shard must be i/n with 0 <= i < n, got {i}/{n}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.truncate is not None and self.truncate < 16:
            raise ValueError(f"truncate must be >= 16 tokens, got {self.truncate}")
        if self.truncation_variant not in ("runner", "legacy"):
            raise ValueError(f"truncation_variant must be 'runner' or 'legacy', got {self.truncation_variant!r}")

    @property
    def resolved_family(self) -> str:
        if self.family == "auto":
            return "chat" if self.backend == "openai" else "yarn-mistral"
        return resolve_family(self.family)

    @property
    def resolved_model_name(self) -> str:
        return self.model_name or model_dir_name(self.model)


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> ``(1, 4)``."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise ValueError(f"shard must look like i/n (e.g. 0/4), got {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"shard must satisfy 0 <= i < n, got {text!r}")
    return i, n


def shard_examples(examples: Sequence[Any], index: int, count: int) -> list[Any]:
    """Every ``count``-th example starting at ``index`` (balanced across depth-ordered files)."""
    return list(examples[index::count])


def model_dir_name(model: str) -> str:
    """A folder name for a model path or id (``org/name`` -> ``org--name``)."""
    name = model.rstrip("/")
    if Path(name).exists():
        name = Path(name).name
    return re.sub(r"[^A-Za-z0-9._-]+", "--", name).strip("-") or "model"


def preds_path(output_dir: str | Path, model_name: str, task: str, shard: tuple[int, int] = (0, 1)) -> Path:
    """``<out>/<model>/preds_<task>.jsonl`` or ``preds_<task>.shard-<i>-of-<n>.jsonl``."""
    i, n = shard
    suffix = "" if n == 1 else f".shard-{i}-of-{n}"
    return Path(output_dir) / model_name / f"preds_{task}{suffix}.jsonl"


def load_backend(config: RunConfig) -> Backend:
    """Build the configured lc-core backend (built-in model names are resolved to their packaged folder)."""
    model = config.model
    try:
        from lc_core.models.builtin import is_builtin, resolve_model_path

        if is_builtin(model):
            model = resolve_model_path(model)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{e}; build or install it first, or pass --model PATH") from e
    kwargs = dict(config.backend_kwargs)
    if config.backend == "hf":
        # the runner shows its own per-task progress; the backend's per-call bars would interleave with it
        kwargs.setdefault("disable_tqdm", True)
    return get_backend(config.backend, model=model, **kwargs)


def _truncate_prompt(prompt: Any, tok: TokenizerLike, config: RunConfig) -> tuple[Any, int, bool]:
    if config.truncate is None:
        text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
        return prompt, len(tok.encode(text)), False
    if isinstance(prompt, str):
        return truncate_text(prompt, tok, config.truncate, variant=config.truncation_variant)
    # chat prompts: the long user turn is the last message
    msgs = [dict(m) for m in prompt]
    msgs[-1]["content"], n, cut = truncate_text(msgs[-1]["content"], tok, config.truncate, variant=config.truncation_variant)
    return msgs, n, cut


def _generation_config(config: RunConfig, task: str) -> GenerationConfig:
    return GenerationConfig(
        max_new_tokens=config.max_new_tokens.get(task, MAX_NEW_TOKENS[task]),
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        seed=config.seed,
        chat=config.resolved_family in ("gpt4", "chat"),
    )


def run(
    config: RunConfig,
    backend: Backend | None = None,
    *,
    progress: bool = True,
    extra_manifest: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every task of ``config``; already stored ids are skipped (resume).

    Args:
        config: the run.
        backend: a ready backend (default: built from ``config``).
        progress: show tqdm bars.
        extra_manifest: merged into the manifest (e.g. the generator manifest).

    Returns:
        The manifest, also written to ``<out>/<model>/manifest[.shard-i-of-n].json``.
    """
    from tqdm.auto import tqdm

    own_backend = backend is None
    if backend is None:
        backend = load_backend(config)
    tok: TokenizerLike = get_tokenizer(config.tokenizer) if config.tokenizer else backend
    family = config.resolved_family
    model_name = config.resolved_model_name
    out_dir = Path(config.output_dir) / model_name
    i, n = config.shard
    suffix = "" if n == 1 else f".shard-{i}-of-{n}"
    manifest_path = out_dir / f"manifest{suffix}.json"
    task_info: dict[str, Any] = {}
    try:
        for task in config.tasks:
            path = task_path(config.data_dir, task)
            examples = load_task(path, task, limit=config.limit)
            mine = shard_examples(examples, i, n)
            gen_cfg = _generation_config(config, task)
            store_path = preds_path(config.output_dir, model_name, task, config.shard)
            with ResultsStore(store_path, key="id") as store:
                todo = [e for e in mine if e["id"] not in store]
                if len(todo) < len(mine):
                    logger.info("%s: resuming, %d of %d examples already done", task, len(mine) - len(todo), len(mine))
                bar = tqdm(total=len(mine), initial=len(mine) - len(todo), desc=task, unit="ex", disable=not progress)
                for start in range(0, len(todo), config.batch_size):
                    batch = todo[start : start + config.batch_size]
                    prompts, meta = [], []
                    for ex in batch:
                        prompt, n_tokens, cut = _truncate_prompt(build_prompt(ex, task, family), tok, config)
                        prompts.append(prompt)
                        meta.append((n_tokens, cut))
                    outputs = backend.generate(prompts, gen_cfg)
                    if len(outputs) != len(batch):
                        raise RuntimeError(f"backend returned {len(outputs)} outputs for {len(batch)} prompts")
                    for ex, out, prompt, (n_tokens, cut) in zip(batch, outputs, prompts, meta):
                        row: dict[str, Any] = {
                            "id": ex["id"],
                            "prediction": out,
                            "ground_truth": get_answer(ex, task),
                            "prompt_tokens": n_tokens,
                            "truncated": cut,
                        }
                        row.update({k: ex[k] for k in _META_FIELDS if k in ex})
                        if config.save_prompts:
                            row["prompt"] = prompt
                        store.add(row)
                    bar.update(len(batch))
                bar.close()
                done = [store.get(e["id"]) for e in mine]
                task_info[task] = {
                    "examples": len(mine),
                    "completed": sum(r is not None for r in done),
                    "truncated": sum(bool(r and r.get("truncated")) for r in done),
                    "predictions": str(store_path),
                    "max_new_tokens": gen_cfg.max_new_tokens,
                    "data": file_fingerprint(path),
                }
            manifest = _manifest(config, backend, tok, family, task_info, extra_manifest)
            atomic_write_json(manifest_path, manifest)
    finally:
        if own_backend:
            backend.close()
    manifest = _manifest(config, backend, tok, family, task_info, extra_manifest)
    atomic_write_json(manifest_path, manifest)
    return manifest


def _manifest(
    config: RunConfig,
    backend: Backend,
    tok: TokenizerLike,
    family: str,
    task_info: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    # lc-core's secret masking matches substrings ("key" in "passkey", "token" in "max_new_tokens"), so only
    # the backend kwargs (where API keys live) go through it; the rest is written as is
    manifest = run_manifest({"backend_kwargs": config.backend_kwargs})
    cfg = dataclasses.asdict(config)
    cfg["backend_kwargs"] = manifest.pop("config")["backend_kwargs"]
    manifest.update(
        config=cfg,
        versions=package_versions(("infbench", "lc-core", "openai", "vllm", "tokenizers", "rouge-score", "datasets")),
        model=config.model,
        model_name=config.resolved_model_name,
        backend=type(backend).__name__,
        tokenizer=repr(tok) if not isinstance(tok, Backend) else f"{type(tok).__name__} (backend tokenizer)",
        prompt_family=family,
        truncation={"max_tokens": config.truncate, "variant": config.truncation_variant},
        decoding={"temperature": config.temperature, "top_p": config.top_p, "top_k": config.top_k, "seed": config.seed},
        tasks=dict(task_info),
        **dict(extra or {}),
    )
    return manifest
