"""Notebook verbs: add, list, update, delete, export, import; and ``score`` (re-score a preds.json)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lc_core.cli import UserError

DEFAULT_NOTEBOOK = "notes.db"


def add_notebook_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notebook", default=DEFAULT_NOTEBOOK, help="the notebook file (SQLite; created on first use)")


def _open(args: argparse.Namespace, *, must_exist: bool = True):
    from eren.notebook import Notebook

    if must_exist and not Path(args.notebook).is_file():
        raise FileNotFoundError(f"{args.notebook}: no such notebook (add notes first: eren add --notebook PATH ...)")
    return Notebook(args.notebook)


def add_add_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("text", nargs="*", help="notes (one trailing period is stripped)")
    p.add_argument("--file", default=None, help="a text file with one note per line ('-' = stdin)")
    p.add_argument("--source", default=None, help="stored with each note (a data set, a user...)")
    p.add_argument("--key", default=None, help="the fact the note states (newest note with a key wins at read time)")


def add(args: argparse.Namespace) -> int:
    texts = list(args.text)
    if args.file:
        if args.file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(args.file).read_text(encoding="utf-8").splitlines()
        texts += [line for line in lines if line.strip()]
    if not texts:
        raise UserError("nothing to add: give notes as arguments or --file")
    with _open(args, must_exist=False) as nb:
        ids = nb.add_many(texts, source=args.source, keys=None if args.key is None else [args.key] * len(texts))
        for n in nb.get_many(ids):
            print(f"{n.id}\t{n.text}")
    return 0


def add_list_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object per note")


def list_(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    with _open(args) as nb:
        for n in nb.notes():
            print(json.dumps(asdict(n), ensure_ascii=False) if args.json else f"{n.id}\t{n.text}")
    return 0


def add_update_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("id", type=int, help="the note's id")
    p.add_argument("text", help="the new text")


def update(args: argparse.Namespace) -> int:
    with _open(args) as nb:
        try:
            n = nb.update(args.id, args.text)
        except KeyError as e:
            raise UserError(str(e.args[0])) from None
    print(f"{n.id}\t{n.text}")
    return 0


def add_delete_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("ids", type=int, nargs="+", help="note ids")


def delete(args: argparse.Namespace) -> int:
    with _open(args) as nb:
        for i in args.ids:
            try:
                nb.delete(i)
            except KeyError as e:
                raise UserError(str(e.args[0])) from None
    return 0


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("out", help="the JSON file to write")


def export(args: argparse.Namespace) -> int:
    with _open(args) as nb:
        n = nb.export_json(args.out)
    print(f"wrote {n} notes to {args.out}")
    return 0


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    add_notebook_argument(p)
    p.add_argument("file", help="a JSON file: an export, or a list of strings / {text, source, key} objects")
    p.add_argument("--source", default=None, help="source for notes that carry none")


def import_(args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        raise FileNotFoundError(f"{args.file}: no such file")
    with _open(args, must_exist=False) as nb:
        ids = nb.import_json(args.file, source=args.source)
    print(f"imported {len(ids)} notes" + (f" (ids {ids[0]}..{ids[-1]})" if ids else ""))
    return 0


def add_score_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("preds", help="the original repository's preds.json")
    p.add_argument("--unedited", default=None, help="the unedited baseline's preds.json on the same records")
    p.add_argument("--match", choices=["em", "contains"], default="em", help="answer matching for ES")


def score(args: argparse.Namespace) -> int:
    from eren.metrics import rescore_preds_json

    if not Path(args.preds).is_file():
        raise FileNotFoundError(f"{args.preds}: no such file")
    print(json.dumps(rescore_preds_json(args.preds, unedited=args.unedited, mode=args.match), indent=2))
    return 0
