"""Verbs that run a reader: ``search``, ``ask``, ``eval``, ``serve``. Argument builders import nothing heavy."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eren.commands.notes import add_notebook_argument
from lc_core.cli import UserError, parse_key_values

BACKENDS = ("scripted", "demo", "hf", "openai", "vllm")
# --backend demo: eren/demo-reader was trained on prompts of at most DEMO_K notes and writes bytes (answers up to 22)
DEMO_K = 3
DEMO_MAX_NEW_TOKENS = 48


def _k(args: argparse.Namespace) -> int:
    """``--k``, else 3 for the demo reader (its training k) and 5 (the paper's) for every other reader."""
    if args.k is not None:
        return int(args.k)
    return DEMO_K if getattr(args, "backend", None) == "demo" else 5


def _max_new_tokens(args: argparse.Namespace) -> int | None:
    if args.max_new_tokens is None and args.backend == "demo":
        return DEMO_MAX_NEW_TOKENS
    return args.max_new_tokens


METHODS = ("eren", "one-step", "unedited", "serac", "ike")


def add_retriever_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retriever", choices=["bm25", "dense", "hybrid"], default="bm25", help="how notes are found")
    p.add_argument(
        "--embedder",
        default=None,
        help="dense embedder: minilm (packaged all-MiniLM-L6-v2, default), hash, meanpool:<folder> (Contriever-style), "
        "or a sentence-transformers folder",
    )
    p.add_argument("--ann", choices=["faiss"], default=None, help="approximate dense search above 100k notes")
    p.add_argument(
        "--k", type=int, default=None, help="notes shown to the reader per query (default 5; 3 with --backend demo)"
    )


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="scripted",
        help="the reader: scripted (rule-based stand-in, no model), demo (the shipped eren/demo-reader model, CPU), hf "
        "(local transformers), openai (any OpenAI-compatible server), vllm",
    )
    p.add_argument("--model", default=None, help="hf/vllm: folder, built-in name or hub id; openai: the served model id")
    p.add_argument("--base-url", default=None, help="openai: the server, e.g. http://127.0.0.1:8000/v1 (key: OPENAI_API_KEY)")
    p.add_argument("--device", default="auto", help="hf: auto, cpu, cuda...")
    p.add_argument("--chat", action="store_true", help="send prompts as chat user messages (instruction/chat models)")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="generation limit (default 20 free-form, 10 with options; 48 with --backend demo)",
    )
    p.add_argument("--backend-arg", action="append", default=[], metavar="KEY=VALUE", help="extra backend argument")
    p.add_argument("--method", choices=METHODS, default="eren", help="eren (abstain and fall back) or a baseline")
    p.add_argument("--serac-threshold", type=float, default=0.5, help="serac: top-1 score needed to be in scope")


def build_backend(args: argparse.Namespace, facts: Any = None) -> Any:
    """The reader backend named by the flags."""
    from lc_core import env
    from lc_core.inference import get_backend

    extra = parse_key_values(args.backend_arg, flag="--backend-arg")
    if args.backend == "scripted":
        from eren.scripted import ScriptedReader

        return ScriptedReader(facts or ())
    if args.backend == "demo":
        from eren.assets import DEMO_READER, DEMO_READER_NAME

        if args.model is None and not (DEMO_READER / "config.json").is_file():
            raise UserError(f"the demo reader is not in this install ({DEMO_READER}); use --backend scripted or hf")
        device = "cpu" if args.device == "auto" else args.device
        return get_backend("hf", model=args.model or DEMO_READER_NAME, device=device, disable_tqdm=True, **extra)
    if not args.model:
        raise UserError(f"--backend {args.backend} needs --model")
    if args.backend == "hf":
        return get_backend("hf", model=args.model, device=args.device, disable_tqdm=True, **extra)
    if args.backend == "openai":
        key = env.get_secret("OPENAI_API_KEY") or "none"
        return get_backend("openai", model=args.model, base_url=args.base_url, api_key=key, disable_tqdm=True, **extra)
    return get_backend("vllm", model=args.model, **extra)


def _retriever(args: argparse.Namespace) -> Any:
    from eren.retrieval import get_retriever

    return get_retriever(args.retriever, embedder=args.embedder, ann=args.ann)


def _reader_config(args: argparse.Namespace, task: str) -> Any:
    from eren.reader import ReaderConfig

    return ReaderConfig(
        task=task,
        method=args.method,
        k=_k(args),
        chat=args.chat,
        serac_threshold=args.serac_threshold,
        max_new_tokens=_max_new_tokens(args),
    )


def _editor(args: argparse.Namespace) -> Any:
    from eren.commands.notes import _open
    from eren.editor import Editor

    return Editor(build_backend(args), _open(args), _retriever(args), _reader_config(args, args.task))


# ---- search ---------------------------------------------------------------------------------------------------


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    add_retriever_arguments(p)
    p.add_argument("query", nargs="+", help="queries")


def search(args: argparse.Namespace) -> int:
    from eren.commands.notes import _open
    from eren.editor import Editor

    ed = Editor(_NoModel(), _open(args), _retriever(args))
    for q, row in zip(args.query, ed.retrieve(args.query, _k(args))):
        print(q)
        for n, s in row:
            print(f"  {s:8.4f}  {n.id}\t{n.text}")
    return 0


class _NoModel:
    """Placeholder reader for retrieval-only verbs."""

    name = "none"

    def generate(self, prompts: Any, config: Any) -> list[str]:  # pragma: no cover - never called
        raise RuntimeError("no reader")


# ---- ask ------------------------------------------------------------------------------------------------------


def add_ask_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    add_backend_arguments(p)
    add_retriever_arguments(p)
    p.add_argument("--task", choices=["qa", "fc"], default="qa", help="qa: questions; fc: claims to verify")
    p.add_argument("--json", action="store_true", help="one JSON object per query (notes shown, abstention, calls)")
    p.add_argument("query", nargs="+", help="questions (or claims with --task fc)")


def ask(args: argparse.Namespace) -> int:
    ed = _editor(args)
    for a in ed.ask(args.query):
        if args.json:
            print(json.dumps(a.to_dict(), ensure_ascii=False))
        else:
            how = "closed book" if a.abstained or not a.notes or args.method == "unedited" else "from notes"
            print(f"{a.query}\t{a.answer}\t({how})")
    return 0


# ---- eval -----------------------------------------------------------------------------------------------------


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", required=True, help="cfh_filtered.json, fever_filtered.json, fever_filtered_small.json, hotpot.json"
    )
    p.add_argument("--kind", choices=["cfh", "fever", "fever-clean", "hotpot"], default=None, help="default: from the name")
    p.add_argument("--n", type=int, default=None, help="edited records (default: 1024 CFH/FEVER, 128 FEVER-Clean, 512 Hotpot)")
    p.add_argument("--seed", type=int, default=0, help="split seed")
    add_backend_arguments(p)
    p.set_defaults(method=None)
    p.add_argument(
        "--methods", default="eren", help="comma-separated: eren, one-step, unedited, serac, ike (overrides --method)"
    )
    add_retriever_arguments(p)
    p.add_argument("--match", choices=["em", "contains"], default="em", help="answer matching for ES")
    p.add_argument("--sequential", action="store_true", help="add the notes one at a time (results must not change)")
    p.add_argument("--out", default="results", help="results root")
    p.add_argument("--batch-size", type=int, default=16, help="queries per reader call")
    p.add_argument("--shard", default="0/1", help="i/n: this process takes every n-th query from i")
    p.add_argument("--limit", type=int, default=None, help="only the first N queries (smoke runs)")


def eval_(args: argparse.Namespace) -> int:
    from eren.data import load_dataset
    from eren.evaluate import PAPER_TABLE3, EvalSettings, run_eval
    from lc_core.eval import EvalConfig, parse_shard
    from lc_core.report import markdown_table

    if not Path(args.data).is_file():
        raise FileNotFoundError(f"{args.data}: no such file")
    methods = [m.strip() for m in (args.method or args.methods).split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise UserError(f"unknown method {m!r}; known: {', '.join(METHODS)}")
    ds = load_dataset(args.data, kind=args.kind, n=args.n, seed=args.seed)
    facts = None
    if args.backend == "scripted":
        from eren.scripted import facts_from_dataset

        facts = facts_from_dataset(ds)
    backend = build_backend(args, facts)
    cfg = EvalConfig(batch_size=args.batch_size, shard=parse_shard(args.shard), limit=args.limit)
    rows = []
    for m in methods:
        settings = EvalSettings(
            method=m,
            retriever=args.retriever,
            embedder=args.embedder,
            k=_k(args),
            match=args.match,
            chat=args.chat,
            serac_threshold=args.serac_threshold,
            sequential=args.sequential,
            max_new_tokens=_max_new_tokens(args),
        )
        res = run_eval(ds, backend, settings, out=args.out, eval_config=cfg)
        met = res["metrics"]
        paper = PAPER_TABLE3.get(m, {}).get(ds.name)
        rows.append(
            {
                "method": m,
                "ES": met["es"],
                "BP": met["bp"],
                "EQ": met["eq"],
                **{f"BP {b}": met.get(f"bp_{b}") for b in ("neighbor_subj", "same_subj", "out_of_scope") if f"bp_{b}" in met},
                "paper ES/BP/EQ": "—" if paper is None else "/".join(f"{x:.1f}" for x in paper),
                "results": res["results"],
            }
        )
    print(f"{ds.name}: {len(ds.edited)} edited records, {len(ds.notes)} notes, reader {getattr(backend, 'model_name', '')}")
    print(markdown_table(rows, precision=1), end="")
    return 0


# ---- serve ----------------------------------------------------------------------------------------------------


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    add_backend_arguments(p)
    add_retriever_arguments(p)
    p.add_argument("--task", choices=["qa", "fc"], default="qa", help="qa: questions; fc: claims to verify")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1 = this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (0 = any free port)")
    p.add_argument("--served-model-name", default="eren", help="the model id clients send")


def serve(args: argparse.Namespace) -> int:
    from lc_core import env
    from lc_core.inference.server import serve as serve_backend

    ed = _editor(args)
    server, thread = serve_backend(
        ed.as_backend(),
        args.host,
        args.port,
        model_name=args.served_model_name,
        api_key=env.get_secret("LC_SERVE_API_KEY"),
    )
    print(
        f"serving the edited model {server.model_name!r} at {server.url} (notes: {args.notebook}; Ctrl-C to stop)", flush=True
    )
    try:
        while thread.is_alive():
            thread.join(timeout=1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        ed.close()
    return 0
