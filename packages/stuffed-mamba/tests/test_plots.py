"""Figures from result JSONs (``stuffed-mamba plot``): each kind writes a PNG, bad input is one line and rc 2."""

import json

import pytest

from stuffed_mamba.cli import main
from stuffed_mamba.plots import result_kind

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"

PASSKEY = {"method": "none", "heatmap": {"lengths": [256, 1024], "matrix": [[1.0, 0.0], [1.0, None]]}}
LOSS = {"method": "m3(window=512)", "curve": {"centres": [1536, 2560, 3584], "means": [0.02, 0.03, 0.5]}}
ANALYZE = {
    "method": "none",
    "traces": {"0": {"positions": [128, 256, 512], "rms": [[1.0, 1.0], [1.0, 2.0], [1.1, 8.0]]}},
    "exploding_heads": [{"layer": 0, "head": 1, "ref": 1.0, "max": 8.0, "ratio": 8.0, "first_position": 512}],
}
CAPACITY = {
    "rows": [
        {"d_state": 4, "N_S": 1840, "recall_curve": [[97, 0.5], [161, 0.6], [1057, 0.7]]},
        {"d_state": 64, "N_S": 17920, "recall_curve": [[97, 0.01], [161, 0.02], [1057, 0.09]]},
    ],
    "fits": {},
}


def _write(tmp_path, name, rec):
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"manifest": {}, **rec}))
    return str(p)


@pytest.mark.parametrize(("name", "rec"), [("passkey", PASSKEY), ("loss", LOSS), ("analyze", ANALYZE), ("capacity", CAPACITY)])
def test_each_kind_writes_a_png(tmp_path, name, rec):
    out = tmp_path / f"{name}.png"
    assert main(["plot", _write(tmp_path, name, rec), "--plot", str(out), "--train-length", "400"]) == 0
    assert out.read_bytes()[:8] == PNG


def test_loss_plot_overlays_several_results(tmp_path):
    a = _write(tmp_path, "a", LOSS)
    b = _write(tmp_path, "b", {**LOSS, "method": "none"})
    assert main(["plot", a, b, "--plot", str(tmp_path / "l.png")]) == 0


def test_heatmaps_of_several_results_join_their_lengths(tmp_path):
    long = {"method": "none", "heatmap": {"lengths": [4096], "matrix": [[0.0], [1.0]]}}
    args = [_write(tmp_path, "a", PASSKEY), _write(tmp_path, "b", long)]
    assert main(["plot", *args, "--plot", str(tmp_path / "h.png")]) == 0
    assert main(["plot", args[0], args[0], "--plot", str(tmp_path / "dup.png")]) == 2  # length 256 twice
    assert not (tmp_path / "dup.png").exists()


def test_kind_detection():
    assert [result_kind(r) for r in (PASSKEY, LOSS, ANALYZE, CAPACITY)] == ["heatmap", "loss", "state", "capacity"]
    with pytest.raises(ValueError, match="heatmap"):
        result_kind({"rows": []})


def test_bad_inputs_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"heatmap": ')
    cases = [
        [str(bad)],  # invalid JSON
        [_write(tmp_path, "cap", {"rows": []})],  # not a plottable result
        [_write(tmp_path, "p", PASSKEY), _write(tmp_path, "l", LOSS)],  # mixed kinds
        [_write(tmp_path, "calm", {**ANALYZE, "exploding_heads": []})],  # nothing to draw
    ]
    for results in cases:
        assert main(["plot", *results, "--plot", str(tmp_path / "x.png")]) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
        assert len(err) == 1, err
    assert not (tmp_path / "x.png").exists()
