"""The console script: notebook verbs end to end, one-line errors."""

from __future__ import annotations

import json

from eren.cli import main


def test_notebook_verbs(tmp_path, capsys):
    db = str(tmp_path / "n.db")
    assert main(["add", "--notebook", db, "Alpha is red.", "Beta is blue"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0\tAlpha is red", "1\tBeta is blue"]
    assert main(["update", "--notebook", db, "1", "Beta is green."]) == 0
    assert main(["delete", "--notebook", db, "0"]) == 0
    capsys.readouterr()
    assert main(["list", "--notebook", db, "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["text"]) for r in rows] == [(1, "Beta is green")]
    out = tmp_path / "e.json"
    assert main(["export", "--notebook", db, str(out)]) == 0
    db2 = str(tmp_path / "m.db")
    assert main(["import", "--notebook", db2, str(out)]) == 0
    capsys.readouterr()
    assert main(["list", "--notebook", db2]) == 0
    assert capsys.readouterr().out == "0\tBeta is green\n"


def test_errors_are_one_line(tmp_path, capsys):
    db = str(tmp_path / "n.db")
    assert main(["list", "--notebook", db]) == 2
    assert "no such notebook" in capsys.readouterr().err
    main(["add", "--notebook", db, "x"])
    assert main(["delete", "--notebook", db, "7"]) == 2
    assert "unknown note id 7" in capsys.readouterr().err
    assert main(["add", "--notebook", db]) == 2
