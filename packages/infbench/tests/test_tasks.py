"""The task table: one record per task, names, groups, aliases, the original budgets (spec §3.5).

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_tasks.py -q``
"""

from __future__ import annotations

import pytest

from infbench import scorers
from infbench.tasks import (
    ALL_TASKS,
    DEFAULT_MODEL,
    MAX_NEW_TOKENS,
    PAPER_NAMES,
    TASKS,
    TEMPLATE_FAMILIES,
    Task,
    canonical_task,
    get_task,
    parse_tasks,
)


def test_max_new_tokens_table_is_the_original():
    assert MAX_NEW_TOKENS == {
        "passkey": 6,
        "number_string": 12,
        "kv_retrieval": 50,
        "longbook_sum_eng": 1200,
        "longbook_choice_eng": 40,
        "longbook_qa_eng": 40,
        "longbook_qa_chn": 40,
        "longdialogue_qa_eng": 40,
        "math_find": 3,
        "math_calc": 30000,
        "code_run": 5,
        "code_debug": 5,
    }


def test_groups_aliases_and_names():
    assert len(ALL_TASKS) == 12 and set(PAPER_NAMES) == set(ALL_TASKS) == set(MAX_NEW_TOKENS)
    assert parse_tasks("retrieval") == ["passkey", "number_string", "kv_retrieval"]
    assert parse_tasks("passkey,synthetic")[:2] == ["passkey", "number_string"] and len(parse_tasks("synthetic")) == 6
    assert len(parse_tasks("realistic")) == 6 and parse_tasks(None) == list(ALL_TASKS)
    assert parse_tasks(["retrieval", "math_find"]) == ["passkey", "number_string", "kv_retrieval", "math_find"]
    assert canonical_task("kv_retrieval_prefix") == "kv_retrieval"
    assert get_task("kv_retrieval_both") is get_task("kv_retrieval")
    with pytest.raises(KeyError, match="unknown task 'longbook_sum_qa'"):
        canonical_task("longbook_sum_qa")
    assert DEFAULT_MODEL == "lc-core/demo-mamba2"


def test_every_task_is_one_complete_record():
    # the official scorer's --task all order
    assert [t.name for t in TASKS][:3] == ["passkey", "number_string", "kv_retrieval"]
    for task in TASKS:
        assert set(task.templates) == set(TEMPLATE_FAMILIES)
        assert task.scorer.__module__ == scorers.__name__
        assert task.synthetic == (task.name in parse_tasks("synthetic"))
        assert (task.released_depth is not None) == task.retrieval
        if task.synthetic:
            assert callable(task.load_generator().rows)
        else:
            with pytest.raises(ValueError, match="not a synthetic task"):
                task.load_generator()


def test_released_layout_depths():
    assert get_task("passkey").released_depth(589) == 1.0 and get_task("passkey").released_depth(15) == 1 / 58
    assert get_task("kv_retrieval").released_depth(0) == 0.0 and get_task("kv_retrieval").released_depth(499) == 1.0


def test_a_task_without_a_family_template_is_refused():
    with pytest.raises(ValueError, match="no template for"):
        Task(
            name="x",
            paper_name="X",
            answer="string",
            templates={"gpt4": "{context}"},
            scorer=scorers.kv_retrieval,
            max_new_tokens=1,
        )
