"""Tests for lc_core.plot: lazy import, atomic save, heatmap and line plots."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

from lc_core.plot import heatmap, line_plot, pyplot, save_figure  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_import_does_not_load_matplotlib():
    code = "import sys, lc_core.plot; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_heatmap_writes_png_with_nan_cells(tmp_path):
    path = heatmap(
        [[100.0, 50.0], [float("nan"), 0.0]],
        row_labels=[0.0, 1.0],
        col_labels=["1k", "2k"],
        path=tmp_path / "sub" / "h.png",
        vmin=0,
        vmax=100,
        title="passkey",
    )
    assert path.read_bytes().startswith(PNG)
    assert not list(path.parent.glob(".*.tmp"))


def test_heatmap_shape_mismatch_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        heatmap([[1.0, 2.0]], row_labels=["a", "b"], col_labels=["x", "y"], path=tmp_path / "h.png")


def test_line_plot_and_pdf(tmp_path):
    p = line_plot({"a": ([1, 2, 3], [3, 2, 1])}, tmp_path / "l.pdf", logx=True, hlines={"ref": 2.0}, vlines={"T": 2})
    assert p.read_bytes().startswith(b"%PDF")


def test_save_figure_closes(tmp_path):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    before = len(plt.get_fignums())
    save_figure(fig, tmp_path / "f.png")
    assert len(plt.get_fignums()) == before - 1


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'infbench\[plot\]'"):
        pyplot("infbench[plot]")
