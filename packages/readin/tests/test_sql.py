import sqlite3

import pytest

from readin.cli import main
from readin.metrics import cspider_scores
from readin.sample import CSPIDER, write_jsonl
from readin.sql import database_path, exact_match, execution_match, normalize_sql


@pytest.fixture
def db_dir(tmp_path):
    path = database_path(tmp_path / "database", "concert_singer")
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE singer (name TEXT, age INT)")
    conn.executemany("INSERT INTO singer VALUES (?, ?)", [("张三", 25), ("李四", 35), ("王五", 41)])
    conn.commit()
    conn.close()
    return tmp_path / "database"


def test_normalize_and_exact():
    assert normalize_sql("SELECT  count(*) FROM singer ;") == normalize_sql("select count( * ) from SINGER")
    assert not exact_match("SELECT name FROM singer WHERE name = 'Bob'", "SELECT name FROM singer WHERE name = 'bob'")


def test_execution_match(db_dir):
    db = database_path(db_dir, "concert_singer")
    gold = "SELECT name FROM singer WHERE age > 30"
    assert execution_match("SELECT name FROM singer WHERE NOT age <= 30", gold, db)
    assert not execution_match("SELECT name FROM singer", gold, db)
    assert not execution_match("SELEC nonsense", gold, db)  # unparsable: wrong, no crash
    assert not execution_match("SELECT name FROM singer ORDER BY age DESC", "SELECT name FROM singer ORDER BY age", db)


def test_cspider_scores_and_cli(db_dir, task_dir, tmp_path, capsys):
    golds = [r["query"] for r in CSPIDER]
    dbs = [database_path(db_dir, r["db_id"]) for r in CSPIDER]
    alt = ["SELECT COUNT(*) FROM singer", "SELECT name FROM singer ORDER BY name", "SELECT name FROM singer"]
    s = cspider_scores(golds, golds, [golds, alt, golds], dbs)
    # example 0 differs only in case: an exact match in every version
    assert s["em_clean"] == 1.0 and s["em_worst"] == pytest.approx(1 / 3)
    assert s["ex_worst"] == pytest.approx(2 / 3) and s["ex_avg"] == pytest.approx((1 + 2 / 3 + 1) / 3)
    root = task_dir("cspider")
    preds = tmp_path / "p"
    for split in ("clean", "keyboard_1", "keyboard_2", "keyboard_3"):
        write_jsonl(preds / f"{split}.jsonl", [{"prediction": q} for q in golds])
    args = [
        "score",
        str(root),
        "--task",
        "cspider",
        "--preds",
        str(preds),
        "--db-dir",
        str(db_dir),
        "--out",
        str(tmp_path / "r"),
    ]
    assert main(args) == 0
    assert "| model | 100.00 | 100.00 | 100.00 |" in capsys.readouterr().out
