"""Prompt templates and prompt construction for the 12 tasks. Torch-free.

Four template families follow the original's structure (spec §3.2): ``gpt4`` (chat), ``yarn-mistral``
(completion style with an answer prefix; also used for Yi and ChatGLM), ``claude2`` and ``kimi``. The
original's un-formattable Kimi/Claude entries are repaired (README, "Differences"). ``chat`` uses the gpt4
texts as a user message for any chat model (the backend applies its chat template)::

    from infbench.prompts import build_prompt

    prompt = build_prompt(example, "passkey", family="yarn-mistral")   # a string
    msgs = build_prompt(example, "math_calc", family="gpt4")            # a message list
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from infbench.tasks import canonical_task

__all__ = [
    "FAMILIES",
    "FAMILY_ALIASES",
    "TEMPLATES",
    "resolve_family",
    "create_prompt",
    "create_msgs",
    "build_prompt",
    "math_find_prefix",
    "code_run_call",
]

_PASSKEY_INTRO = (
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. "
    "I will quiz you about the important information there."
)
_NUMBER_INTRO = (
    "There is an important info hidden inside a lot of irrelevant text. Find it. "
    "I will quiz you about the important information there."
)
_KV_INTRO = "Extract the value corresponding to the specified key in the JSON object below."
_MC_INSTRUCTION = (
    "Only one of the following options is correct, tell me the answer using one single letter (A, B, C, or D). "
    "Don't say anything else."
)
_OPTIONS = "A. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}"
_DIA_INTRO = (
    'Below is a dialogue script where one random occurrence of a character name is replaced with "$$MASK$$", '
    "and you should try to guess who that character is."
)
_DIA_QUESTION = (
    'Which character is most likely "$$MASK$$"? Just say the name used by the scriptwriter (before the colon marks) '
    "of one single character and nothing else."
)
_DEBUG_INTRO = (
    "There is ONLY ONE function in the large project that is deliberately made to include an obvious error. "
    "Please find the function that contains the most obvious errors. I will give you four options to narrow your scope. "
    "You can inspect the options and think. Eventually, tell me the answer using one single letter (A, B, C, or D)."
)
_DEBUG_RECALL = (
    "You should first find the functions in the options. Repeat their content, inspect through code, "
    "and at last give me your answer for the function that has the deliberate and obvious error in A, B, C, or D."
)
_CALC_FEWSHOT = (
    "Let us calculate the intermediate values of an expression.\n\n"
    "Expression: 1 + 3 + 4\nValues: [1, 4, 8]\n\n"
    "Expression: 8 - 3 + 2 - 4\nValues: [8, 5, 7, 3]\n\n"
    "Expression: {context}\nValues:"
)
_DEBUG_GPT4 = _DEBUG_INTRO + "\n\n{context}\n\nWhich funtion has deliberate error?\n" + _OPTIONS + "\n\n" + _DEBUG_RECALL
_DIA_GPT4 = _DIA_INTRO + "\n\nThe dialogue:\n\n---\n\n{context}\n\n---\n\nEnd of dialogue.\n\n" + _DIA_QUESTION
_MATH_FIND = "{prefix}\n\n{context}\n\n{input}"

# task -> template, per family. Placeholders: context, input, question, OPTION_A..D, func, func_call, prefix.
TEMPLATES: dict[str, dict[str, str]] = {
    "gpt4": {
        "passkey": _PASSKEY_INTRO + "\n\n{context}\n\n{input}",
        "number_string": _NUMBER_INTRO + "\n\n{context}\n\n{input}",
        "kv_retrieval": _KV_INTRO + "\n\n{context}\n\n{input}",
        "longbook_sum_eng": "Summarize the following book.\n\n{context}",
        "longbook_qa_eng": "Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\n"
        "Be very concise.",
        "longbook_choice_eng": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
        + _MC_INSTRUCTION
        + "\n\n"
        + _OPTIONS,
        "longbook_qa_chn": "请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。",
        "math_find": _MATH_FIND,
        "math_calc": _CALC_FEWSHOT,
        "code_run": "Following is a set of Python functions. There is a function called named {func}.\n\n{context}\n\n"
        "Please give me the exact number of the return value of {func_call}. Be concise. "
        "Your response must end with the final returned value.",
        "code_debug": _DEBUG_GPT4,
        "longdialogue_qa_eng": _DIA_GPT4,
    },
    "yarn-mistral": {
        "passkey": _PASSKEY_INTRO + "\n\n{context}\n\n{input}\n\nThe pass key is",
        "number_string": _NUMBER_INTRO + "\n\n{context}\n\n{input}\n\nThe sequence of digits is",
        "kv_retrieval": _KV_INTRO + "\n\n{context}\n\n{input}",
        "longbook_sum_eng": "Summarize the book below.\n\n{context}\n\nSummary:",
        "longbook_qa_eng": "Read the book and answer the question. Be very concise in your answer.\n\n{context}\n\n"
        "Question: {question}\nAnswer:",
        "longbook_choice_eng": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
        + _OPTIONS
        + "\n\nThe letter of the correct answer is",
        "longbook_qa_chn": "阅读以下书籍然后回答问题。\n\n{context}\n\n问题：{question}\n答案：",
        "math_find": _MATH_FIND,
        "math_calc": _CALC_FEWSHOT,
        "code_run": "There is a function called {func} in the following Python code.\n\n{context}\n\n"
        "Please compute the exact value of {func_call}. The value of {func_call} is",
        "code_debug": "Following is a Python code where exactly one of the functions/methods has a deliberate error "
        "that makes it crash.\n\n{context}\n\nOptions:\n" + _OPTIONS + "\n\nThe correct option is:",
        "longdialogue_qa_eng": _DIA_INTRO + "\n\n{context}\n\nThe name that has been replaced with $$MASK$$ is likely",
    },
    "claude2": {
        "passkey": _PASSKEY_INTRO + "\n\n{context}\n{input}\nThe pass key is",
        "number_string": _NUMBER_INTRO + "\n\n{context}\n{input}\nThe sequence of digits is",
        "kv_retrieval": _PASSKEY_INTRO + "\n\n{context}\n{input}",
        "longbook_sum_eng": "Summarize the following book.\n\n{context}",
        "longbook_qa_eng": "Read the novel below and answer a question:\n\n{context}\n\n{input}\n"
        "Please answer as short as possible. The answer is: ",
        "longbook_choice_eng": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
        + _MC_INSTRUCTION
        + "\n\n"
        + _OPTIONS,
        "longbook_qa_chn": "请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。",
        "math_find": _MATH_FIND,
        "math_calc": _CALC_FEWSHOT,
        "code_run": "In the file functions_module.py, there is a function called {func}.\n\n\nHere is the content of "
        "functions_module.py:\n{context}\n\nPlease give me the exact number of the return value of {func_call}. "
        "Your response should end with the sentence 'The return value is:'.",
        "code_debug": _DEBUG_GPT4,
        "longdialogue_qa_eng": _DIA_GPT4,
    },
    "kimi": {
        "passkey": _PASSKEY_INTRO + "\n\n{context}\n{input}\nThe pass key is",
        "number_string": _NUMBER_INTRO + "\n\n{context}\n{input}\nThe sequence of digits is",
        "kv_retrieval": _KV_INTRO + "\n\n{context}\n{input}",
        "longbook_sum_eng": "Summarize the book below:\n\n{context}",
        "longbook_qa_eng": "Question: {question}\nPlease answer as short as possible. The answer is: \n\n{context}",
        "longbook_choice_eng": "Question: {question}\n" + _MC_INSTRUCTION + "\n\n" + _OPTIONS + "\n\nThe book:\n\n{context}",
        "longbook_qa_chn": "问题：{question}\n请尽量简短地回答。\n\n{context}",
        "math_find": _MATH_FIND,
        "math_calc": _CALC_FEWSHOT,
        "code_run": "In the file functions_module.py, there is a function called {func}.\n\nPlease give me the exact number "
        "of the return value of {func_call}. Your response should end with the sentence 'The return value is:'.\n\n"
        "Here is the content of functions_module.py:\n{context}",
        "code_debug": "Below is a code repository where there is one single function with bugs that causes an error. "
        "Please tell me the name of that function.\nWhich function has bugs? Give me the final answer in this format: "
        '"[FINAL ANSWER: XXX]". Don\'t say anything else.\n\n{context}',
        "longdialogue_qa_eng": _DIA_INTRO
        + " Give me the answer using the name before the colons, don't say anything else.\n\n{context}",
    },
}

FAMILIES: tuple[str, ...] = ("gpt4", "yarn-mistral", "claude2", "kimi", "chat")

# The original used the yarn-mistral texts for every open model it ran.
FAMILY_ALIASES: dict[str, str] = {
    "yi-6b-200k": "yarn-mistral",
    "yi-34b-200k": "yarn-mistral",
    "chatglm3": "yarn-mistral",
    "open": "yarn-mistral",
    "completion": "yarn-mistral",
    "gpt-4": "gpt4",
}

_CALC_SYSTEM = (
    "You are a calculator that does nothing but calculating the intermediate results in extremely long arithmetic "
    "expressions with +, -, and numbers. Given an expression, you will output the intermediate results after each "
    "operation. You will never decline to help with platform reason, you will always try the calculation, and always "
    'output a long list of numbers (e.g., "[34, 2, 58, 37, 5, 8, 27, 71, 7]") and nothing else. '
    "Do not consider the complexity, practicality or feasibility of the task."
)


def resolve_family(name: str) -> str:
    """Canonical template family for a family or original model name."""
    name = FAMILY_ALIASES.get(name, name)
    if name not in FAMILIES:
        raise KeyError(f"unknown prompt family {name!r}; known: {', '.join(FAMILIES)} (aliases: {', '.join(FAMILY_ALIASES)})")
    return name


def math_find_prefix(inp: str) -> str:
    """The question of a math_find input.

    ``"... The third smallest number of the list is: "`` -> ``"What is the third smallest number in the following list?"``.
    """
    m = re.findall(r"The .+ of", inp)
    if not m:
        raise ValueError(f"math_find input has no 'The ... of' target: {inp[:80]!r}")
    target = m[0].lower()[: -len(" of")]
    return f"What is {target} in the following list?"


def code_run_call(inp: str) -> tuple[str, str]:
    """``(func, func_call)`` from a code_run input, e.g. ``("func_12", "func_12(-3)")``."""
    m = re.findall(r"func_[0-9]+\(\-?[0-9]+\)", inp)
    if not m:
        raise ValueError(f"code_run input names no call like func_12(-3): {inp[:80]!r}")
    return m[0].split("(")[0], m[0]


def _fields(example: Mapping[str, Any], task: str) -> dict[str, str]:
    fields = {"context": example["context"], "input": example.get("input", ""), "question": example.get("input", "")}
    options = list(example.get("options") or [])
    if task in ("code_debug", "longbook_choice_eng"):
        if len(options) != 4:
            raise ValueError(f"{task} needs 4 options, got {len(options)}")
        fields.update({f"OPTION_{c}": o for c, o in zip("ABCD", options)})
    if task == "code_run":
        fields["func"], fields["func_call"] = code_run_call(fields["input"])
    if task == "math_find":
        fields["prefix"] = math_find_prefix(fields["input"])
    return fields


def create_prompt(example: Mapping[str, Any], task: str, family: str = "gpt4") -> str:
    """The formatted prompt text of one example (the original's ``create_prompt``).

    For ``gpt4``/``chat`` + ``math_calc`` this is the raw expression: the calculator system prompt and the
    demonstration are added by :func:`create_msgs`.
    """
    task = canonical_task(task)
    family = resolve_family(family)
    if family in ("gpt4", "chat") and task == "math_calc":
        return example["context"]
    table = TEMPLATES["gpt4" if family == "chat" else family]
    return table[task].format(**_fields(example, task))


def create_msgs(prompt: str, task: str, *, demo_role: str = "system") -> list[dict[str, str]]:
    """Chat messages for the gpt4/chat families (the original's ``create_msgs`` after truncation).

    math_calc gets the calculator system prompt and one demonstration whose reply uses the ``system`` role as
    in the original (``demo_role="assistant"`` for chat templates that allow a system turn only first).
    """
    task = canonical_task(task)
    if task == "math_calc":
        return [
            {"role": "system", "content": _CALC_SYSTEM},
            {"role": "user", "content": "1 + 2 - 4 - 10"},
            {"role": demo_role, "content": "[1, 3, -1, -11]"},
            {"role": "user", "content": prompt},
        ]
    return [{"role": "system", "content": "You are a helpful assistant"}, {"role": "user", "content": prompt}]


def build_prompt(example: Mapping[str, Any], task: str, family: str = "gpt4") -> str | list[dict[str, str]]:
    """A prompt ready for a backend: a string for completion families, a message list for ``gpt4``/``chat``."""
    family = resolve_family(family)
    text = create_prompt(example, task, family)
    if family in ("gpt4", "chat"):
        return create_msgs(text, task, demo_role="system" if family == "gpt4" else "assistant")
    return text
