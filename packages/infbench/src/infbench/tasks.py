"""The 12 ∞Bench tasks: names, paper labels, generation budgets and answer kinds. Torch-free.

Example::

    from infbench.tasks import ALL_TASKS, MAX_NEW_TOKENS

    MAX_NEW_TOKENS["passkey"]  # 6
"""

from __future__ import annotations

__all__ = [
    "ALL_TASKS",
    "SYNTHETIC_TASKS",
    "RETRIEVAL_TASKS",
    "REALISTIC_TASKS",
    "TASK_ALIASES",
    "PAPER_NAMES",
    "MAX_NEW_TOKENS",
    "DEFAULT_MODEL",
    "canonical_task",
    "parse_tasks",
]

# The order of the official scorer's ``--task all`` loop, kept so reports line up with the original output.
ALL_TASKS: tuple[str, ...] = (
    "passkey",
    "number_string",
    "kv_retrieval",
    "longdialogue_qa_eng",
    "longbook_sum_eng",
    "longbook_choice_eng",
    "longbook_qa_eng",
    "longbook_qa_chn",
    "math_find",
    "math_calc",
    "code_run",
    "code_debug",
)

SYNTHETIC_TASKS: tuple[str, ...] = ("passkey", "number_string", "kv_retrieval", "math_find", "math_calc", "code_run")
RETRIEVAL_TASKS: tuple[str, ...] = ("passkey", "number_string", "kv_retrieval")
REALISTIC_TASKS: tuple[str, ...] = tuple(t for t in ALL_TASKS if t not in SYNTHETIC_TASKS)

# The original scorer maps these variants onto the kv scorer.
TASK_ALIASES: dict[str, str] = {"kv_retrieval_prefix": "kv_retrieval", "kv_retrieval_both": "kv_retrieval"}

PAPER_NAMES: dict[str, str] = {
    "passkey": "Retrieve.PassKey",
    "number_string": "Retrieve.Number",
    "kv_retrieval": "Retrieve.KV",
    "longbook_sum_eng": "En.Sum",
    "longbook_qa_eng": "En.QA",
    "longbook_choice_eng": "En.MC",
    "longdialogue_qa_eng": "En.Dia",
    "longbook_qa_chn": "Zh.QA",
    "code_debug": "Code.Debug",
    "code_run": "Code.Run",
    "math_calc": "Math.Calc",
    "math_find": "Math.Find",
}

# Per-task generation budget of the original harness (spec §3.5); the runner passes it to every backend
# (the original vLLM runners computed it and then never passed it, capping all outputs at 16 tokens).
MAX_NEW_TOKENS: dict[str, int] = {
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

# The embedded demo model of lc-core; ``infbench run`` uses it when no ``--model`` is given.
DEFAULT_MODEL = "lc-core/demo-mamba2"


def canonical_task(name: str) -> str:
    """Map a task name or alias to its canonical key.

    Raises:
        KeyError: unknown task (the message lists the known ones).
    """
    name = TASK_ALIASES.get(name, name)
    if name not in ALL_TASKS:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(ALL_TASKS)}")
    return name


def parse_tasks(spec: str | None, default: tuple[str, ...] = ALL_TASKS) -> list[str]:
    """Parse a comma list of tasks; ``all``, ``synthetic``, ``retrieval`` and ``realistic`` name groups."""
    if not spec:
        return list(default)
    groups = {"all": ALL_TASKS, "synthetic": SYNTHETIC_TASKS, "retrieval": RETRIEVAL_TASKS, "realistic": REALISTIC_TASKS}
    out: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        for t in groups.get(part, (part,)):
            t = canonical_task(t)
            if t not in out:
                out.append(t)
    return out
