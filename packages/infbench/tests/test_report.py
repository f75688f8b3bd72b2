"""Tables, depth breakdowns and heatmaps.

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_report.py -q``
"""

from __future__ import annotations

import json

import pytest

from infbench.report import (
    depth_table,
    details_table,
    plot_heatmaps,
    result_folders,
    score_results,
    scores_table,
    write_record,
)


@pytest.fixture
def results(tmp_path):
    for model, hits in (("a", 1.0), ("b", 0.5)):
        d = tmp_path / model
        d.mkdir()
        rows = []
        for i in range(4):
            ok = i < 4 * hits
            rows.append(
                {"id": i, "prediction": "12345" if ok else "", "ground_truth": "12345", "depth": i / 3, "length": "1024"}
            )
        (d / "preds_passkey.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_tables(results):
    scores = score_results([results])
    assert list(scores) == ["a", "b"]
    table = scores_table(scores)
    assert "| Retrieve.PassKey (`passkey`) | 100.00 | 50.00 |" in table and "**average**" in table
    assert "| b | passkey | 50.00 | 4 | 2 |" in details_table(scores)
    depths = depth_table(scores)
    assert depths.splitlines()[0] == "| depth | a passkey | b passkey |"


def test_result_folders_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no preds_"):
        result_folders([tmp_path])


def test_heatmaps_and_record(results, tmp_path):
    pytest.importorskip("matplotlib")
    pngs = plot_heatmaps(score_results([results]), tmp_path / "plots")
    assert [p.name for p in pngs] == ["heatmap_a_passkey.png", "heatmap_b_passkey.png"]
    json_path, md_path = write_record(tmp_path / "rec", {"scores": {"passkey": 1}}, "text")
    # unlike lc_core.report.write_results, "passkey" is not masked as a secret
    assert json.loads(json_path.read_text()) == {"scores": {"passkey": 1}} and md_path.read_text() == "text"
