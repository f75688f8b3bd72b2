"""Text-generation backends behind one interface (see :mod:`lc_core.inference.base`)."""

from lc_core.inference.base import (
    BACKENDS,
    Backend,
    ChatMessage,
    GenerationConfig,
    Prompt,
    available_backends,
    get_backend,
    register_backend,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "ChatMessage",
    "GenerationConfig",
    "Prompt",
    "available_backends",
    "get_backend",
    "register_backend",
]
