"""EREN: edit a model by reading notes -- notebook, retrieval, the abstain-and-fall-back reader, editing metrics."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
