"""Importing this package registers every rule (see ``optlint.rules.base``)."""

from optlint.rules import syntax, decay_all_params, adam_coupled_l2, unknown_group_key, runtime_rules  # noqa: F401
