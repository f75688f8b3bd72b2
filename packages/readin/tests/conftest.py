"""Fixtures: tiny READIN-schema test sets written by the tests themselves (the real data has no licence)."""

from __future__ import annotations

import pytest

from readin.sample import write_task


@pytest.fixture
def task_dir(tmp_path):
    return lambda task, **kw: write_task(tmp_path / task, task, **kw)
