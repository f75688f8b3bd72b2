"""Kernels of sparsing-law, laid out like ``lc_core.ops``: one folder per op with a plain-torch reference, a Triton
version imported lazily and a ``dispatch.py`` that picks the backend. Importing this package needs neither Triton
nor a GPU.
"""
