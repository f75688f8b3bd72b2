"""Prompt construction from the task table. Torch-free.

Four template families follow the original's structure (spec §3.2): ``gpt4`` (chat), ``yarn-mistral``
(completion style with an answer prefix; also used for Yi and ChatGLM), ``claude2`` and ``kimi``; the texts
live in each task's record (:mod:`infbench.tasks`). The original's un-formattable Kimi/Claude entries are
repaired (README, "Differences"). ``chat`` uses the gpt4 texts as a user message for any chat model (the
backend applies its chat template)::

    from infbench.prompts import build_prompt

    prompt = build_prompt(example, "passkey", family="yarn-mistral")   # a string
    msgs = build_prompt(example, "math_calc", family="gpt4")            # a message list
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infbench.tasks import TASKS, TEMPLATE_FAMILIES, Task, code_run_call, get_task, math_find_prefix

__all__ = [
    "FAMILIES",
    "CHAT_FAMILIES",
    "FAMILY_ALIASES",
    "TEMPLATES",
    "resolve_family",
    "create_prompt",
    "create_msgs",
    "build_prompt",
    "math_find_prefix",
    "code_run_call",
]

FAMILIES: tuple[str, ...] = (*TEMPLATE_FAMILIES, "chat")

# Families whose prompts are message lists (the others are completion strings).
CHAT_FAMILIES: tuple[str, ...] = ("gpt4", "chat")

# The original used the yarn-mistral texts for every open model it ran.
FAMILY_ALIASES: dict[str, str] = {
    "yi-6b-200k": "yarn-mistral",
    "yi-34b-200k": "yarn-mistral",
    "chatglm3": "yarn-mistral",
    "open": "yarn-mistral",
    "completion": "yarn-mistral",
    "gpt-4": "gpt4",
}

# family -> task -> template: a view of the task table.
TEMPLATES: dict[str, dict[str, str]] = {f: {t.name: t.templates[f] for t in TASKS} for f in TEMPLATE_FAMILIES}


def resolve_family(name: str) -> str:
    """Canonical template family for a family or original model name."""
    name = FAMILY_ALIASES.get(name, name)
    if name not in FAMILIES:
        raise KeyError(f"unknown prompt family {name!r}; known: {', '.join(FAMILIES)} (aliases: {', '.join(FAMILY_ALIASES)})")
    return name


def _fields(example: Mapping[str, Any], task: Task) -> dict[str, str]:
    inp = example.get("input") or ""
    fields = {"context": example["context"], "input": inp, "question": inp}
    if task.prompt_fields is not None:
        try:
            fields.update(task.prompt_fields(example))
        except ValueError as e:
            raise ValueError(f"{task.name} example {example.get('id', '?')}: {e}") from None
    return fields


def create_prompt(example: Mapping[str, Any], task: str | Task, family: str = "gpt4") -> str:
    """The formatted prompt text of one example (the original's ``create_prompt``).

    For the chat families and math_calc this is the raw expression: the calculator system prompt and the
    demonstration are added by :func:`create_msgs`.
    """
    spec = get_task(task)
    family = resolve_family(family)
    template = spec.templates["gpt4" if family == "chat" else family]
    return template.format(**_fields(example, spec))


def create_msgs(prompt: str, task: str | Task, *, demo_role: str = "system") -> list[dict[str, str]]:
    """Chat messages for the gpt4/chat families (the original's ``create_msgs`` after truncation).

    The task's system message, its demonstrations (math_calc: one, whose reply uses the ``system`` role as in
    the original; ``demo_role="assistant"`` for chat templates that allow a system turn only first), then the
    prompt as the user turn.
    """
    spec = get_task(task)
    msgs = [{"role": "system", "content": spec.chat_system}]
    for user, reply in spec.chat_shots:
        msgs += [{"role": "user", "content": user}, {"role": demo_role, "content": reply}]
    msgs.append({"role": "user", "content": prompt})
    return msgs


def build_prompt(example: Mapping[str, Any], task: str | Task, family: str = "gpt4") -> str | list[dict[str, str]]:
    """A prompt ready for a backend: a string for completion families, a message list for ``gpt4``/``chat``."""
    family = resolve_family(family)
    text = create_prompt(example, task, family)
    if family in CHAT_FAMILIES:
        return create_msgs(text, task, demo_role="system" if family == "gpt4" else "assistant")
    return text
