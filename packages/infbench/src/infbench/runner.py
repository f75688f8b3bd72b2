"""Run a backend over ∞Bench tasks on lc-core's evaluation loop: prompts, truncation, resume, shards, manifest.

Each task is one :func:`lc_core.eval.evaluate` call. Predictions go to ``<output_dir>/<model_name>/preds_<task>.jsonl``
(``.shard-<i>-of-<n>.jsonl`` when sharded) in the original row format ``{"id", "prediction", "ground_truth", ...}``,
one fsynced line per example, so a killed run resumes where it stopped, and the official scorer (and ours) reads
them. A rerun with other settings (model, prompt family, truncation, decoding, data) is refused instead of mixing
two runs in one file::

    from infbench.runner import RunConfig, run

    manifest = run(RunConfig(tasks=["passkey"], data_dir="data", backend="openai", model="gpt-4o-mini"))

Importing this module does not import torch; the ``hf``/``vllm`` backends import it when built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from infbench.data import file_fingerprint, get_answer, load_task, task_path
from infbench.prompts import CHAT_FAMILIES, build_prompt, resolve_family
from infbench.tasks import DEFAULT_MODEL, Task, get_task, parse_tasks
from infbench.tokenization import TokenizerLike, get_tokenizer, truncate_text
from lc_core.eval import EvalConfig, Prepared, evaluate, parse_shard, shard_path
from lc_core.inference.base import Backend, GenerationConfig, Prompt, get_backend
from lc_core.io import atomic_write_json
from lc_core.logging import get_logger
from lc_core.report import run_manifest, safe_name

__all__ = ["RunConfig", "run", "parse_shard", "preds_path", "load_backend", "SERVED_BACKENDS"]

logger = get_logger(__name__)

# Row fields copied from the data into prediction files so scores can be broken down without the data.
_META_FIELDS = ("depth", "length", "n_units", "target")

# Backends that address a model by the name a server knows: a built-in model name is sent as is (it is what
# `lc-core serve --model lc-core/demo-mamba2` serves), never resolved to a local folder.
SERVED_BACKENDS = frozenset({"openai"})
# lc-core's own backends, which all take `disable_tqdm`
_LC_CORE_BACKENDS = frozenset({"hf", "openai", "vllm"})


@dataclass(kw_only=True)
class RunConfig:
    """One evaluation run.

    Args:
        tasks: tasks or groups (all, synthetic, retrieval, realistic).
        data_dir: folder with <task>.jsonl files.
        output_dir: results root; predictions go to <output_dir>/<model_name>/.
        model: model path, hub id, built-in lc-core model or the model name an API serves.
        backend: lc-core backend: hf, openai or vllm.
        backend_kwargs: extra keyword arguments for the backend constructor.
        model_name: results folder name (default: derived from the model).
        family: prompt family: auto, gpt4, yarn-mistral, claude2, kimi or chat (auto: chat for the openai
            backend, yarn-mistral otherwise).
        truncate: middle-truncate prompts to this many tokens.
        truncation_variant: runner keeps L//2 tokens on each side (the original runners), legacy L//2 + ceil(L/2)
            (eval_utils).
        tokenizer: tokenizer for truncation and data sizing (default: the backend's).
        batch_size: prompts per backend call (the concurrency of API backends).
        shard: (index, count): this process runs every count-th example from index.
        limit: only the first N examples of each task.
        max_new_tokens: per-task overrides of the original budget table.
        temperature: 0 = greedy.
        top_p: nucleus sampling mass.
        top_k: top-k sampling (0 = off).
        seed: sampling seed passed to the backend (also the generator seed of data made by the CLI).
        save_prompts: store each final prompt in the prediction rows (large).
    """

    tasks: list[str]
    data_dir: str | None = None
    output_dir: str = "results"
    model: str = DEFAULT_MODEL
    backend: str = "hf"
    backend_kwargs: dict[str, Any] = field(default_factory=dict)
    model_name: str | None = None
    family: str = "auto"
    truncate: int | None = None
    truncation_variant: Literal["runner", "legacy"] = "runner"
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
        self.tasks = parse_tasks(list(self.tasks))
        if not self.tasks:
            raise ValueError("no tasks given")
        self.shard = tuple(self.shard)  # type: ignore[assignment]
        i, n = self.shard
        if not (n >= 1 and 0 <= i < n):
            raise ValueError(f"shard must be i/n with 0 <= i < n, got {i}/{n}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        if self.truncate is not None and self.truncate < 16:
            raise ValueError(f"truncate must be >= 16 tokens, got {self.truncate}")
        if self.truncation_variant not in ("runner", "legacy"):
            raise ValueError(f"truncation_variant must be 'runner' or 'legacy', got {self.truncation_variant!r}")
        self.max_new_tokens = {get_task(t).name: int(v) for t, v in self.max_new_tokens.items()}
        if self.family != "auto":
            resolve_family(self.family)

    @property
    def resolved_family(self) -> str:
        if self.family == "auto":
            return "chat" if self.backend in SERVED_BACKENDS else "yarn-mistral"
        return resolve_family(self.family)

    @property
    def resolved_model_name(self) -> str:
        return safe_name(self.model_name or self.model)


def preds_path(output_dir: str | Path, model_name: str, task: str, shard: tuple[int, int] = (0, 1)) -> Path:
    """``<out>/<model>/preds_<task>.jsonl`` or ``preds_<task>.shard-<i>-of-<n>.jsonl``."""
    return shard_path(Path(output_dir) / model_name / f"preds_{task}.jsonl", shard)


def load_backend(config: RunConfig) -> Backend:
    """Build the configured lc-core backend.

    A built-in model name (``lc-core/demo-mamba2``) is resolved to its packaged folder for backends that load
    weights (``hf``, ``vllm``); :data:`SERVED_BACKENDS` get the name unchanged, as the server knows it.
    """
    model = config.model
    if config.backend not in SERVED_BACKENDS:
        from lc_core.models.builtin import is_builtin, resolve_model_path

        if is_builtin(model):
            try:
                model = resolve_model_path(model)
            except FileNotFoundError as e:
                raise FileNotFoundError(f"{e}; build or install it first, or pass --model PATH") from e
    kwargs = dict(config.backend_kwargs)
    if config.backend in _LC_CORE_BACKENDS:
        # the evaluation loop shows its own per-task progress; the backend's per-call bars would interleave with it
        kwargs.setdefault("disable_tqdm", True)
    return get_backend(config.backend, model=model, **kwargs)


def _truncate_prompt(prompt: Prompt, tok: TokenizerLike, config: RunConfig) -> tuple[Prompt, int, bool]:
    if isinstance(prompt, str):
        if config.truncate is None:
            return prompt, len(tok.encode(prompt)), False
        return truncate_text(prompt, tok, config.truncate, variant=config.truncation_variant)
    # chat prompts: the long user turn is the last message
    msgs = [dict(m) for m in prompt]
    if config.truncate is None:
        return msgs, len(tok.encode(msgs[-1]["content"])), False
    msgs[-1]["content"], n, cut = truncate_text(msgs[-1]["content"], tok, config.truncate, variant=config.truncation_variant)
    return msgs, n, cut


def _generation_config(config: RunConfig, task: Task) -> GenerationConfig:
    return GenerationConfig(
        max_new_tokens=config.max_new_tokens.get(task.name, task.max_new_tokens),
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        seed=config.seed,
        chat=config.resolved_family in CHAT_FAMILIES,
    )


def _signature(config: RunConfig, task: Task, gen: GenerationConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    # what must not change between a run and its resumption; batch size, shard count and --limit may
    return {
        "task": task.name,
        "model": config.model,
        "backend": config.backend,
        "prompt_family": config.resolved_family,
        "truncate": config.truncate,
        "truncation_variant": config.truncation_variant,
        "tokenizer": config.tokenizer,
        "max_new_tokens": gen.max_new_tokens,
        "temperature": gen.temperature,
        "top_p": gen.top_p,
        "top_k": gen.top_k,
        "seed": gen.seed,
        "save_prompts": config.save_prompts,
        "data_sha256": data["sha256"],
    }


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
        backend: a ready backend (default: built from ``config`` and closed at the end).
        progress: show tqdm bars.
        extra_manifest: merged into the manifest (e.g. the generator manifest).

    Returns:
        The manifest, also written to ``<out>/<model>/manifest[.shard-i-of-n].json``.

    Raises:
        ValueError: no ``data_dir``, or a prediction file holds rows of a run with other settings.
        DataError: a malformed or empty data file (file, line, field).
    """
    if not config.data_dir:
        raise ValueError("no data folder: set data_dir (or let `infbench run` generate the synthetic tasks)")
    own_backend = backend is None
    if backend is None:
        backend = load_backend(config)
    tok: TokenizerLike = get_tokenizer(config.tokenizer) if config.tokenizer else backend
    family = config.resolved_family
    model_name = config.resolved_model_name
    manifest_path = shard_path(Path(config.output_dir) / model_name / "manifest.json", config.shard)
    task_info: dict[str, Any] = {}
    try:
        for name in config.tasks:
            task = get_task(name)
            path = task_path(config.data_dir, task.name)
            examples = load_task(path, task.name)
            data = file_fingerprint(path)
            gen = _generation_config(config, task)

            def prepare(ex: Mapping[str, Any], task: Task = task) -> Prepared:
                prompt, n_tokens, cut = _truncate_prompt(build_prompt(ex, task, family), tok, config)
                fields: dict[str, Any] = {
                    "ground_truth": get_answer(ex, task.name),
                    "prompt_tokens": n_tokens,
                    "truncated": cut,
                }
                fields.update({k: ex[k] for k in _META_FIELDS if k in ex})
                if config.save_prompts:
                    fields["prompt"] = prompt
                return Prepared(prompt=prompt, fields=fields)

            result = evaluate(
                examples,
                backend,
                prompt=prepare,
                generation=gen,
                store=preds_path(config.output_dir, model_name, task.name),
                config=EvalConfig(batch_size=config.batch_size, shard=config.shard, limit=config.limit, progress=progress),
                signature=_signature(config, task, gen, data),
                desc=task.name,
            )
            task_info[task.name] = {
                "examples": result.total,
                "completed": len(result.rows),
                "resumed": result.resumed,
                "truncated": sum(bool(r.get("truncated")) for r in result.rows),
                "predictions": str(result.path),
                "max_new_tokens": gen.max_new_tokens,
                "data": data,
            }
            atomic_write_json(manifest_path, _manifest(config, backend, tok, task_info, extra_manifest))
    finally:
        if own_backend:
            backend.close()
    manifest = _manifest(config, backend, tok, task_info, extra_manifest)
    atomic_write_json(manifest_path, manifest)
    return manifest


def _manifest(
    config: RunConfig,
    backend: Backend,
    tok: TokenizerLike,
    task_info: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    # run_manifest masks secret-named fields (api_key=… in backend_kwargs) and secrets in argv
    return run_manifest(
        config,
        packages=("infbench", "openai", "vllm", "tokenizers", "rouge-score", "datasets"),
        model=config.model,
        model_name=config.resolved_model_name,
        backend=type(backend).__name__,
        tokenizer=repr(tok) if not isinstance(tok, Backend) else f"{type(tok).__name__} (backend tokenizer)",
        prompt_family=config.resolved_family,
        truncation={"max_tokens": config.truncate, "variant": config.truncation_variant},
        decoding={"temperature": config.temperature, "top_p": config.top_p, "top_k": config.top_k, "seed": config.seed},
        tasks=dict(task_info),
        **dict(extra or {}),
    )
