"""Kernels: one folder per op with a plain-torch ``naive.py`` reference and Triton versions (see STYLE.md)."""
