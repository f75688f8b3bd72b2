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
    scores_record,
    scores_table,
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
    scores = score_results([results])
    pngs = plot_heatmaps(scores, tmp_path / "plots")
    assert [p.name for p in pngs] == ["heatmap_a_passkey.png", "heatmap_b_passkey.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    record = scores_record(scores, mode="fixed", rows=True)
    assert record["mode"] == "fixed" and record["scores"]["b"]["passkey"]["score"] == 50.0
    assert [r["score"] for r in record["scores"]["b"]["passkey"]["per_row"]] == [1.0, 1.0, 0.0, 0.0]


def test_results_go_through_lc_core_emit_without_masking_passkey(results, tmp_path):
    from lc_core.report import emit

    scores = score_results([results])
    written = emit(tmp_path / "out", "a", scores_record(scores, mode="fixed"), scores_table(scores), config={"mode": "fixed"})
    assert written.json.parent == tmp_path / "out" / "a" and written.json.name.startswith("results_")
    saved = json.loads(written.json.read_text())
    # the house scrubber masks api_key/token fields, not the passkey task or max_new_tokens
    assert saved["scores"]["a"]["passkey"]["score"] == 100.0 and "manifest" in saved
