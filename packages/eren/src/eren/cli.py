"""The ``eren`` console script (lazy verbs on :mod:`lc_core.cli`; each verb lives in :mod:`eren.commands`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from lc_core.cli import App, Command

__all__ = ["main", "app"]

EPILOG = """quick start (offline):
  eren add --notebook notes.db "The president of Freedonia is Rufus T. Firefly."
  eren ask --notebook notes.db --backend scripted "Who is the president of Freedonia?"
  eren list --notebook notes.db
  eren eval --data ../shared/data/eren/cfh_filtered.json --methods eren,one-step,unedited --retriever bm25
  eren serve --notebook notes.db --backend openai --model qwen --base-url http://127.0.0.1:8001/v1 --port 8000
  eren score result/preds.json                     # re-score the original repository's preds.json
"""


def _cmd(module: str, name: str, help: str, func: str | None = None) -> Command:
    return Command(f"eren.commands.{module}:{func or name}", f"eren.commands.{module}:add_{name}_arguments", help)


def _version() -> str:
    from eren import __version__

    return __version__


app = App(
    prog="eren",
    description="Edit a model by reading notes: a notebook of edits, retrieval, and a reader that abstains and falls back.",
    commands={
        "add": _cmd("notes", "add", "add notes (arguments, --file with one per line, or a JSON list)"),
        "list": _cmd("notes", "list", "list the notebook's notes", "list_"),
        "update": _cmd("notes", "update", "rewrite a note (it becomes the newest)"),
        "delete": _cmd("notes", "delete", "delete notes by id"),
        "export": _cmd("notes", "export", "write the notebook to a JSON file"),
        "import": _cmd("notes", "import", "add the notes of a JSON file", "import_"),
        "search": _cmd("run", "search", "show the notes retrieved for queries"),
        "ask": _cmd("run", "ask", "answer questions with the edited model (notes, abstain, fall back)"),
        "eval": _cmd("run", "eval", "ES/BP/EQ of a method on CounterFact-Hard, FEVER, FEVER-Clean or HotpotQA", "eval_"),
        "serve": _cmd("run", "serve", "serve the edited model on an OpenAI-compatible HTTP API"),
        "score": _cmd("notes", "score", "re-score the original repository's preds.json (ES/BP/EQ)"),
    },
    epilog=EPILOG,
    version=_version(),
    missing_input_example=("score", "{missing}"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``eren`` console script."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
