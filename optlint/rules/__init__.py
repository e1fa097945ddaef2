"""Importing this package registers every rule (see ``optlint.rules.base``)."""

from optlint.rules import (  # noqa: F401
    adam_coupled_l2,
    decay_all_params,
    double_regularization,
    manual_penalty,
    positional_hyperparameters,
    reused_iterator,
    runtime_rules,
    substring_name_split,
    syntax,
    unknown_group_key,
)
