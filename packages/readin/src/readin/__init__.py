"""READIN: a Chinese multi-task benchmark with realistic keyboard (pinyin IME) and speech (ASR) input noise.

Loaders for the released test sets (:mod:`readin.data`), the clean / average / worst metrics (:mod:`readin.metrics`)
and README-layout tables (:mod:`readin.report`). Torch-free.
"""

from readin.tasks import NOISES, TASKS, Task, get_task

__version__ = "0.1.0"

__all__ = ["__version__", "NOISES", "TASKS", "Task", "get_task"]
