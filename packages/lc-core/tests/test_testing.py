"""``lc_core.testing.shared_data_dir``: the shared data of tests is found from any checkout, or reported absent.

Run: ``.venv/bin/python -m pytest packages/lc-core/tests/test_testing.py -q``
"""

from __future__ import annotations

import pytest

from lc_core.testing import shared_data_candidates, shared_data_dir


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv("LC_SHARED_DATA", raising=False)


def test_found_next_to_the_repository_root(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "packages" / "x" / "tests").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "golden").mkdir(parents=True)
    start = tmp_path / "repo" / "packages" / "x" / "tests"
    assert shared_data_dir("golden", start=start) == tmp_path / "shared" / "data" / "golden"
    assert shared_data_dir("missing", start=start) is None


def test_linked_worktree_also_looks_next_to_the_main_checkout(tmp_path):
    main = tmp_path / "main"
    (main / ".git" / "worktrees" / "feature").mkdir(parents=True)
    (main / ".git" / "worktrees" / "feature" / "commondir").write_text("../..\n")
    wt = tmp_path / "elsewhere" / "feature"
    wt.mkdir(parents=True)
    (wt / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'feature'}\n")
    (tmp_path / "shared" / "data" / "golden").mkdir(parents=True)
    assert shared_data_candidates(wt) == [tmp_path / "elsewhere" / "shared" / "data", tmp_path / "shared" / "data"]
    assert shared_data_dir("golden", start=wt) == tmp_path / "shared" / "data" / "golden"


def test_env_override_wins_and_is_the_only_place_looked(tmp_path, monkeypatch):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "golden").mkdir(parents=True)
    (tmp_path / "mine" / "golden").mkdir(parents=True)
    monkeypatch.setenv("LC_SHARED_DATA", str(tmp_path / "mine"))
    assert shared_data_dir("golden", start=tmp_path / "repo") == tmp_path / "mine" / "golden"
    monkeypatch.setenv("LC_SHARED_DATA", str(tmp_path / "nowhere"))
    assert shared_data_dir("golden", start=tmp_path / "repo") is None
    assert shared_data_candidates(tmp_path / "repo") == [tmp_path / "nowhere"]


def test_outside_any_checkout_is_none(tmp_path):
    if any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder lies inside a git checkout")
    assert shared_data_candidates(tmp_path) == []
    assert shared_data_dir("golden", start=tmp_path) is None


def test_poison_empty_allocations_fills_float_allocations_with_nan(monkeypatch):
    import torch

    from lc_core.testing import poison_empty_allocations

    poison_empty_allocations(monkeypatch)
    assert torch.isnan(torch.empty(3)).all() and torch.isnan(torch.empty_like(torch.zeros(2, 2))).all()
    # integer allocations are left alone (NaN does not exist there)
    assert torch.empty(3, dtype=torch.int64).dtype == torch.int64
