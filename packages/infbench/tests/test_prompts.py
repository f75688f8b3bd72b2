"""Prompt construction per task × family (spec §9.4).

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_prompts.py -q``
"""

from __future__ import annotations

import pytest

from infbench.prompts import (
    TEMPLATES,
    build_prompt,
    code_run_call,
    create_msgs,
    create_prompt,
    math_find_prefix,
    resolve_family,
)
from infbench.tasks import ALL_TASKS


def _example(task):
    ex = {"id": 0, "context": "<CTX>", "input": "<Q>", "answer": "a", "options": []}
    if task in ("code_debug", "longbook_choice_eng"):
        ex["options"] = ["opt1", "opt2", "opt3", "opt4"]
    if task == "code_run":
        ex["input"] = "Please give me the exact number of the return value of func_12(-3). Your response should end ..."
    if task == "math_find":
        ex["input"] = "You should answer with only one number, no other words. The third smallest number of the list is: "
    return ex


def test_math_find_prefix_and_code_run_call():
    assert math_find_prefix(_example("math_find")["input"]) == "What is the third smallest number in the following list?"
    assert math_find_prefix("The median of the list is: ") == "What is the median in the following list?"
    assert code_run_call(_example("code_run")["input"]) == ("func_12", "func_12(-3)")
    with pytest.raises(ValueError):
        code_run_call("no call here")


@pytest.mark.parametrize("family", ["gpt4", "yarn-mistral", "claude2", "kimi"])
@pytest.mark.parametrize("task", ALL_TASKS)
def test_every_template_formats_with_context_and_question(task, family):
    # the original's kimi and claude2 qa_eng templates raised KeyError here
    prompt = create_prompt(_example(task), task, family)
    assert "<CTX>" in prompt
    if task in ("passkey", "number_string", "kv_retrieval", "longbook_qa_eng", "longbook_choice_eng", "longbook_qa_chn"):
        assert "<Q>" in prompt
    if task in ("code_debug", "longbook_choice_eng") and not (family == "kimi" and task == "code_debug"):
        assert "A. opt1\nB. opt2\nC. opt3\nD. opt4" in prompt
    if task == "code_run":
        assert "func_12" in prompt
    assert "{" not in prompt.replace("<CTX>", "")


def test_golden_prompts_for_synthetic_examples():
    ex = _example("math_find")
    assert create_prompt(ex, "math_find", "yarn-mistral") == (
        "What is the third smallest number in the following list?\n\n<CTX>\n\n" + ex["input"]
    )
    passkey = {"context": "<CTX>", "input": "What is the pass key?", "answer": "1"}
    assert create_prompt(passkey, "passkey", "yarn-mistral").endswith("<CTX>\n\nWhat is the pass key?\n\nThe pass key is")
    assert create_prompt(passkey, "passkey", "claude2").endswith("<CTX>\nWhat is the pass key?\nThe pass key is")
    assert create_prompt(passkey, "passkey", "gpt4").endswith("<CTX>\n\nWhat is the pass key?")
    kv = {"context": "<CTX>", "input": "\nKey: k", "answer": "v"}
    assert create_prompt(kv, "kv_retrieval", "kimi").endswith("<CTX>\n\nKey: k")
    calc = create_prompt({"context": "1 + 2", "answer": [3]}, "math_calc", "yarn-mistral")
    assert "Expression: 1 + 3 + 4\nValues: [1, 4, 8]" in calc and calc.endswith("Expression: 1 + 2\nValues:")


def test_gpt4_math_calc_messages():
    ex = {"context": "5 + 3 - 2", "answer": [8, 6]}
    assert create_prompt(ex, "math_calc", "gpt4") == "5 + 3 - 2"
    msgs = build_prompt(ex, "math_calc", "gpt4")
    assert [m["role"] for m in msgs] == ["system", "user", "system", "user"]
    assert msgs[1]["content"] == "1 + 2 - 4 - 10" and msgs[2]["content"] == "[1, 3, -1, -11]"
    assert msgs[3]["content"] == "5 + 3 - 2" and "calculator" in msgs[0]["content"]
    assert create_msgs("hi", "passkey") == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "hi"},
    ]


def test_families_and_aliases():
    assert resolve_family("yi-34b-200k") == "yarn-mistral"
    assert set(TEMPLATES) == {"gpt4", "yarn-mistral", "claude2", "kimi"}
    assert isinstance(build_prompt(_example("passkey"), "passkey", "chat"), list)
    assert isinstance(build_prompt(_example("passkey"), "passkey", "claude2"), str)
    with pytest.raises(KeyError, match="unknown prompt family"):
        resolve_family("llama")


def test_chat_family_uses_assistant_role_for_the_demo():
    msgs = build_prompt({"context": "5 + 3", "answer": [8]}, "math_calc", "chat")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
