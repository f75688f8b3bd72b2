import re

from readin.report import table1, table2

T1 = """\
Keyboard | RoBERTa-wwm | 78.92 / 42.75 / 15.17 | 65.75 / 81.87 / 65.85 | 69.78 / 60.84 / 46.69
Keyboard | + ADA | 76.76 / 48.31 / 19.88 | 63.50 / 76.56 / 58.23 | 59.30 / 53.04 / 42.00
Keyboard | MacBERT | 80.04 / 48.33 / 18.83 | 62.09 / 76.77 / 58.29 | 67.69 / 56.71 / 41.29
Speech | RoBERTa-wwm | 78.92 / 27.75 / 5.68 | 65.75 / 87.80 / 73.81 | 69.78 / 55.97 / 40.73
Speech | + Word Correction | 80.04 / 26.68 / 5.16 | 62.09 / 87.77 / 73.77 | 67.69 / 51.81 / 35.94
"""


def _cells(md: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines()[2:]]


def test_table1_round_trips_readme_numbers():
    rows = []
    for line in T1.splitlines():
        noise, model, *groups = [c.strip() for c in line.split("|")]
        rec = {"noise": {"Keyboard": "keyboard", "Speech": "asr"}[noise], "model": model}
        for key, group in zip(("pos", "neg", "em"), groups):
            for part, value in zip(("clean", "avg", "worst"), group.split(" / ")):
                rec[f"{key}_{part}"] = float(value) / 100
        rows.append(rec)
    md = table1(rows)
    head = md.splitlines()[0]
    assert "AFQMC pos Clean" in head and "CMRC Worst" in head
    got = _cells(md)
    want = []
    last = None
    for line in T1.splitlines():
        noise, model, *groups = [c.strip() for c in line.split("|")]
        want.append(["" if noise == last else noise, model] + [v for g in groups for v in g.split(" / ")])
        last = noise
    assert got == want


def test_table2_layout_and_round_trip():
    row = {
        "model": "DG-SQL / mBART50",
        "cspider": {"clean": 0.4487, "keyboard": {"avg": 0.2885, "worst": 0.1199}, "asr": {"avg": 0.3340, "worst": 0.2418}},
        "wmt": {"clean": 23.19, "keyboard": {"avg": 16.35, "worst": 9.37}, "asr": {"avg": 16.74, "worst": 10.82}},
    }
    md = table2([row])
    assert re.search(r"CSpider Clean \| CSpider KB Avg \| CSpider KB Worst \| CSpider Sp Avg", md)
    assert _cells(md) == [
        ["DG-SQL / mBART50", "44.87", "28.85", "11.99", "33.40", "24.18", "23.19", "16.35", "9.37", "16.74", "10.82"]
    ]
