"""The per-file flow model on CPython's ast: scopes, values, parameter sets, optimizers, penalties, splits."""
