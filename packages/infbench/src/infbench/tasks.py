"""The 12 ∞Bench tasks as data: one :class:`Task` record each (lm-eval style). Torch-free.

A task says everything the harness needs: its answer type, its prompt template per family, its scorer, its
generation budget and, for the six synthetic tasks, its generator. Loading, prompting, scoring and the runner
read these records instead of branching on task names, so a new task is one more record::

    from infbench.tasks import get_task, parse_tasks

    task = get_task("passkey")
    task.max_new_tokens                  # 6
    task.templates["yarn-mistral"]       # "... {context}\\n\\n{input}\\n\\nThe pass key is"
    task.scorer("71432", "71432", "fixed", "")  # 1.0
    parse_tasks("retrieval")             # ["passkey", "number_string", "kv_retrieval"]

The template texts are our own wording of the structures of the original ``src/prompt.py`` (spec §3.2).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infbench import scorers

__all__ = [
    "Task",
    "AnswerType",
    "TASKS",
    "TEMPLATE_FAMILIES",
    "ALL_TASKS",
    "SYNTHETIC_TASKS",
    "RETRIEVAL_TASKS",
    "REALISTIC_TASKS",
    "TASK_GROUPS",
    "TASK_ALIASES",
    "PAPER_NAMES",
    "MAX_NEW_TOKENS",
    "DEFAULT_MODEL",
    "get_task",
    "canonical_task",
    "parse_tasks",
    "math_find_prefix",
    "code_run_call",
]

# What the answer of a task is, in data files (after coercion) and in prediction files:
# string (one str), int, number (int or float), int_list (list[int]), texts (list[str]),
# choice ([option_text, letter] in prediction files; the option text in data files).
AnswerType = Literal["string", "int", "number", "int_list", "texts", "choice"]

# Families with their own template texts; `chat` uses the gpt4 texts (see infbench.prompts).
TEMPLATE_FAMILIES: tuple[str, ...] = ("gpt4", "yarn-mistral", "claude2", "kimi")

# The embedded demo model of lc-core; ``infbench run`` uses it when no ``--model`` is given.
DEFAULT_MODEL = "lc-core/demo-mamba2"

Scorer = Callable[[str, Any, str, str], float]


@dataclass(frozen=True, kw_only=True)
class Task:
    """One ∞Bench task.

    Args:
        name: the task key (``<name>.jsonl``, the split name on the hub, ``preds_<name>.jsonl``).
        paper_name: the label of the paper's tables (``Retrieve.PassKey``).
        answer: the answer type (:data:`AnswerType`).
        templates: prompt template per family in :data:`TEMPLATE_FAMILIES`. Placeholders: ``{context}``,
            ``{input}``, ``{question}`` (= input) and whatever ``prompt_fields`` adds.
        scorer: ``(prediction, label, mode, model_name) -> score in [0, 1]`` (:mod:`infbench.scorers`).
        max_new_tokens: the original per-task generation budget (spec §3.5).
        aliases: other names accepted for the task.
        prompt_fields: example -> extra template fields (the options, a code_run call, a math_find question).
        chat_system: the system message of the chat families (``gpt4``, ``chat``).
        chat_shots: ``(user, reply)`` demonstrations before the question in the chat families.
        generator: ``"module:attribute"`` of the synthetic generator (None: only released data exists).
        retrieval: a needle task; scores break down by needle depth.
        released_depth: row id -> needle depth in [0, 1] in the layout of the released 128K file.
    """

    name: str
    paper_name: str
    answer: AnswerType
    templates: Mapping[str, str]
    scorer: Scorer
    max_new_tokens: int
    aliases: tuple[str, ...] = ()
    prompt_fields: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
    chat_system: str = "You are a helpful assistant"
    chat_shots: tuple[tuple[str, str], ...] = ()
    generator: str | None = None
    retrieval: bool = False
    released_depth: Callable[[int], float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        missing = set(TEMPLATE_FAMILIES) - set(self.templates)
        if missing:
            raise ValueError(f"task {self.name!r} has no template for {', '.join(sorted(missing))}")

    @property
    def synthetic(self) -> bool:
        """Whether a seeded generator exists for this task."""
        return self.generator is not None

    def load_generator(self) -> Any:
        """The :class:`infbench.generate.SyntheticGenerator` of this task (imported on first use: numpy)."""
        if self.generator is None:
            raise ValueError(f"{self.name!r} is not a synthetic task; download its released data instead")
        module, _, attr = self.generator.partition(":")
        return getattr(importlib.import_module(module), attr)


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


def _option_fields(example: Mapping[str, Any]) -> dict[str, str]:
    options = list(example.get("options") or [])
    if len(options) != 4:
        raise ValueError(f"expected 4 options, got {len(options)}")
    return {f"OPTION_{c}": o for c, o in zip("ABCD", options)}


def _code_run_fields(example: Mapping[str, Any]) -> dict[str, str]:
    func, call = code_run_call(example.get("input") or "")
    return {"func": func, "func_call": call}


def _math_find_fields(example: Mapping[str, Any]) -> dict[str, str]:
    return {"prefix": math_find_prefix(example.get("input") or "")}


def _needle_depth(row_id: int) -> float:
    # passkey/number_string 128K: 59 depths, 10 rows each, depth-major
    return min(row_id // 10, 58) / 58


def _kv_depth(row_id: int) -> float:
    # kv_retrieval: the queried pair is the (5·id)-th of 2,500
    return min(5 * row_id, 2495) / 2495


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
_DIA_GPT4 = _DIA_INTRO + "\n\nThe dialogue:\n\n---\n\n{context}\n\n---\n\nEnd of dialogue.\n\n" + _DIA_QUESTION
_DEBUG_INTRO = (
    "There is ONLY ONE function in the large project that is deliberately made to include an obvious error. "
    "Please find the function that contains the most obvious errors. I will give you four options to narrow your scope. "
    "You can inspect the options and think. Eventually, tell me the answer using one single letter (A, B, C, or D)."
)
_DEBUG_RECALL = (
    "You should first find the functions in the options. Repeat their content, inspect through code, "
    "and at last give me your answer for the function that has the deliberate and obvious error in A, B, C, or D."
)
_DEBUG_GPT4 = _DEBUG_INTRO + "\n\n{context}\n\nWhich funtion has deliberate error?\n" + _OPTIONS + "\n\n" + _DEBUG_RECALL
_CALC_FEWSHOT = (
    "Let us calculate the intermediate values of an expression.\n\n"
    "Expression: 1 + 3 + 4\nValues: [1, 4, 8]\n\n"
    "Expression: 8 - 3 + 2 - 4\nValues: [8, 5, 7, 3]\n\n"
    "Expression: {context}\nValues:"
)
_CALC_SYSTEM = (
    "You are a calculator that does nothing but calculating the intermediate results in extremely long arithmetic "
    "expressions with +, -, and numbers. Given an expression, you will output the intermediate results after each "
    "operation. You will never decline to help with platform reason, you will always try the calculation, and always "
    'output a long list of numbers (e.g., "[34, 2, 58, 37, 5, 8, 27, 71, 7]") and nothing else. '
    "Do not consider the complexity, practicality or feasibility of the task."
)
_MATH_FIND = "{prefix}\n\n{context}\n\n{input}"
_CODE_RUN_FILE = (
    "In the file functions_module.py, there is a function called {func}.\n\n\nHere is the content of "
    "functions_module.py:\n{context}\n\nPlease give me the exact number of the return value of {func_call}. "
    "Your response should end with the sentence 'The return value is:'."
)

# The order of the official scorer's `--task all` loop, kept so reports line up with the original output.
TASKS: tuple[Task, ...] = (
    Task(
        name="passkey",
        paper_name="Retrieve.PassKey",
        answer="string",
        templates={
            "gpt4": _PASSKEY_INTRO + "\n\n{context}\n\n{input}",
            "yarn-mistral": _PASSKEY_INTRO + "\n\n{context}\n\n{input}\n\nThe pass key is",
            "claude2": _PASSKEY_INTRO + "\n\n{context}\n{input}\nThe pass key is",
            "kimi": _PASSKEY_INTRO + "\n\n{context}\n{input}\nThe pass key is",
        },
        scorer=scorers.retrieval_digits,
        max_new_tokens=6,
        generator="infbench.generate:PASSKEY",
        retrieval=True,
        released_depth=_needle_depth,
    ),
    Task(
        name="number_string",
        paper_name="Retrieve.Number",
        answer="string",
        templates={
            "gpt4": _NUMBER_INTRO + "\n\n{context}\n\n{input}",
            "yarn-mistral": _NUMBER_INTRO + "\n\n{context}\n\n{input}\n\nThe sequence of digits is",
            "claude2": _NUMBER_INTRO + "\n\n{context}\n{input}\nThe sequence of digits is",
            "kimi": _NUMBER_INTRO + "\n\n{context}\n{input}\nThe sequence of digits is",
        },
        scorer=scorers.retrieval_digits,
        max_new_tokens=12,
        generator="infbench.generate:NUMBER_STRING",
        retrieval=True,
        released_depth=_needle_depth,
    ),
    Task(
        name="kv_retrieval",
        paper_name="Retrieve.KV",
        answer="string",
        templates={
            "gpt4": _KV_INTRO + "\n\n{context}\n\n{input}",
            "yarn-mistral": _KV_INTRO + "\n\n{context}\n\n{input}",
            # the original's claude2 entry reuses the passkey introduction
            "claude2": _PASSKEY_INTRO + "\n\n{context}\n{input}",
            "kimi": _KV_INTRO + "\n\n{context}\n{input}",
        },
        scorer=scorers.kv_retrieval,
        max_new_tokens=50,
        # the original scorer maps these variants onto the kv scorer
        aliases=("kv_retrieval_prefix", "kv_retrieval_both"),
        generator="infbench.generate:KV_RETRIEVAL",
        retrieval=True,
        released_depth=_kv_depth,
    ),
    Task(
        name="longdialogue_qa_eng",
        paper_name="En.Dia",
        answer="texts",
        templates={
            "gpt4": _DIA_GPT4,
            "yarn-mistral": _DIA_INTRO + "\n\n{context}\n\nThe name that has been replaced with $$MASK$$ is likely",
            "claude2": _DIA_GPT4,
            "kimi": _DIA_INTRO + " Give me the answer using the name before the colons, don't say anything else.\n\n{context}",
        },
        scorer=scorers.dialogue,
        max_new_tokens=40,
    ),
    Task(
        name="longbook_sum_eng",
        paper_name="En.Sum",
        answer="texts",
        templates={
            "gpt4": "Summarize the following book.\n\n{context}",
            "yarn-mistral": "Summarize the book below.\n\n{context}\n\nSummary:",
            "claude2": "Summarize the following book.\n\n{context}",
            "kimi": "Summarize the book below:\n\n{context}",
        },
        scorer=scorers.summary,
        max_new_tokens=1200,
    ),
    Task(
        name="longbook_choice_eng",
        paper_name="En.MC",
        answer="choice",
        templates={
            "gpt4": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
            + _MC_INSTRUCTION
            + "\n\n"
            + _OPTIONS,
            "yarn-mistral": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
            + _OPTIONS
            + "\n\nThe letter of the correct answer is",
            "claude2": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\n"
            + _MC_INSTRUCTION
            + "\n\n"
            + _OPTIONS,
            "kimi": "Question: {question}\n" + _MC_INSTRUCTION + "\n\n" + _OPTIONS + "\n\nThe book:\n\n{context}",
        },
        scorer=scorers.choice,
        max_new_tokens=40,
        prompt_fields=_option_fields,
    ),
    Task(
        name="longbook_qa_eng",
        paper_name="En.QA",
        answer="texts",
        templates={
            "gpt4": "Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\nBe very concise.",
            "yarn-mistral": "Read the book and answer the question. Be very concise in your answer.\n\n{context}\n\n"
            "Question: {question}\nAnswer:",
            "claude2": "Read the novel below and answer a question:\n\n{context}\n\n{input}\n"
            "Please answer as short as possible. The answer is: ",
            "kimi": "Question: {question}\nPlease answer as short as possible. The answer is: \n\n{context}",
        },
        scorer=scorers.qa_eng,
        max_new_tokens=40,
    ),
    Task(
        name="longbook_qa_chn",
        paper_name="Zh.QA",
        answer="texts",
        templates={
            "gpt4": "请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。",
            "yarn-mistral": "阅读以下书籍然后回答问题。\n\n{context}\n\n问题：{question}\n答案：",
            "claude2": "请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。",
            "kimi": "问题：{question}\n请尽量简短地回答。\n\n{context}",
        },
        scorer=scorers.qa_chn,
        max_new_tokens=40,
    ),
    Task(
        name="math_find",
        paper_name="Math.Find",
        answer="number",
        templates=dict.fromkeys(TEMPLATE_FAMILIES, _MATH_FIND),
        scorer=scorers.math_find,
        max_new_tokens=3,
        prompt_fields=_math_find_fields,
        generator="infbench.generate:MATH_FIND",
    ),
    Task(
        name="math_calc",
        paper_name="Math.Calc",
        answer="int_list",
        templates={
            # the chat families send the raw expression after a calculator persona and one demonstration
            "gpt4": "{context}",
            "yarn-mistral": _CALC_FEWSHOT,
            "claude2": _CALC_FEWSHOT,
            "kimi": _CALC_FEWSHOT,
        },
        scorer=scorers.math_calc,
        max_new_tokens=30000,
        chat_system=_CALC_SYSTEM,
        chat_shots=(("1 + 2 - 4 - 10", "[1, 3, -1, -11]"),),
        generator="infbench.generate:MATH_CALC",
    ),
    Task(
        name="code_run",
        paper_name="Code.Run",
        answer="int",
        templates={
            "gpt4": "Following is a set of Python functions. There is a function called named {func}.\n\n{context}\n\n"
            "Please give me the exact number of the return value of {func_call}. Be concise. "
            "Your response must end with the final returned value.",
            "yarn-mistral": "There is a function called {func} in the following Python code.\n\n{context}\n\n"
            "Please compute the exact value of {func_call}. The value of {func_call} is",
            "claude2": _CODE_RUN_FILE,
            "kimi": "In the file functions_module.py, there is a function called {func}.\n\nPlease give me the exact "
            "number of the return value of {func_call}. Your response should end with the sentence 'The return value "
            "is:'.\n\nHere is the content of functions_module.py:\n{context}",
        },
        scorer=scorers.code_run,
        max_new_tokens=5,
        prompt_fields=_code_run_fields,
        generator="infbench.generate:CODE_RUN",
    ),
    Task(
        name="code_debug",
        paper_name="Code.Debug",
        answer="choice",
        templates={
            "gpt4": _DEBUG_GPT4,
            "yarn-mistral": "Following is a Python code where exactly one of the functions/methods has a deliberate "
            "error that makes it crash.\n\n{context}\n\nOptions:\n" + _OPTIONS + "\n\nThe correct option is:",
            "claude2": _DEBUG_GPT4,
            "kimi": "Below is a code repository where there is one single function with bugs that causes an error. "
            "Please tell me the name of that function.\nWhich function has bugs? Give me the final answer in this "
            'format: "[FINAL ANSWER: XXX]". Don\'t say anything else.\n\n{context}',
        },
        scorer=scorers.code_debug,
        max_new_tokens=5,
        prompt_fields=_option_fields,
    ),
)

_BY_NAME: dict[str, Task] = {t.name: t for t in TASKS}
TASK_ALIASES: dict[str, str] = {alias: t.name for t in TASKS for alias in t.aliases}

ALL_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS)
SYNTHETIC_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS if t.synthetic)
RETRIEVAL_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS if t.retrieval)
REALISTIC_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS if not t.synthetic)
TASK_GROUPS: dict[str, tuple[str, ...]] = {
    "all": ALL_TASKS,
    "synthetic": SYNTHETIC_TASKS,
    "retrieval": RETRIEVAL_TASKS,
    "realistic": REALISTIC_TASKS,
}
PAPER_NAMES: dict[str, str] = {t.name: t.paper_name for t in TASKS}
# Per-task generation budget of the original harness; the runner passes it to every backend (the original
# vLLM runners computed it and then never passed it, capping all outputs at 16 tokens).
MAX_NEW_TOKENS: dict[str, int] = {t.name: t.max_new_tokens for t in TASKS}


def canonical_task(name: str) -> str:
    """Map a task name or alias to its canonical key.

    Raises:
        KeyError: unknown task (the message lists the known ones).
    """
    name = TASK_ALIASES.get(name, name)
    if name not in _BY_NAME:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(ALL_TASKS)}")
    return name


def get_task(name: str | Task) -> Task:
    """The :class:`Task` of a name or alias (a :class:`Task` is returned as is)."""
    if isinstance(name, Task):
        return name
    return _BY_NAME[canonical_task(name)]


def parse_tasks(spec: str | list[str] | tuple[str, ...] | None, default: tuple[str, ...] = ALL_TASKS) -> list[str]:
    """Parse a comma list (or list) of tasks; ``all``, ``synthetic``, ``retrieval`` and ``realistic`` name groups."""
    if not spec:
        return list(default)
    parts = spec.split(",") if isinstance(spec, str) else [p for item in spec for p in str(item).split(",")]
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        for t in TASK_GROUPS.get(part, (part,)):
            t = canonical_task(t)
            if t not in out:
                out.append(t)
    return out
