"""Task registry: names, groups, aliases and the original generation budgets (spec §3.5).

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_tasks.py -q``
"""

from __future__ import annotations

import pytest

from infbench.tasks import ALL_TASKS, DEFAULT_MODEL, MAX_NEW_TOKENS, PAPER_NAMES, canonical_task, parse_tasks


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
    assert canonical_task("kv_retrieval_prefix") == "kv_retrieval"
    with pytest.raises(KeyError, match="unknown task 'longbook_sum_qa'"):
        canonical_task("longbook_sum_qa")
    assert DEFAULT_MODEL == "lc-core/demo-mamba2"
