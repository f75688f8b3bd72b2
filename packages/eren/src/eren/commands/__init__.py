"""The ``eren`` verbs: one module per group; argument builders import nothing heavy."""
