"""The one registry of rules: every rule class, static and runtime, in code order.

Like ruff's table of codes, the list is written out: a rule module holds the rule (code,
name, docs, examples, check); this module is the only place that collects them, so no
module below it ever imports "all the rules".
"""

from __future__ import annotations

import functools

from optlint.rules.adam_coupled_l2 import AdamCoupledL2
from optlint.rules.base import Rule
from optlint.rules.config_decay_all_params import ConfigDecayAllParams
from optlint.rules.config_name_split import ConfigNameSplit
from optlint.rules.decay_all_params import DecayAllParams
from optlint.rules.double_regularization import DoubleRegularization
from optlint.rules.manual_penalty import ManualPenaltyAllParams
from optlint.rules.positional_hyperparameters import PositionalHyperparameters
from optlint.rules.reused_iterator import ReusedParamIterator
from optlint.rules.runtime_rules import RUNTIME_RULES
from optlint.rules.substring_name_split import SubstringNameSplit
from optlint.rules.syntax import SyntaxErrorRule
from optlint.rules.unknown_group_key import UnknownGroupKey
from optlint.rules.unused_noqa import UnusedNoqa

RULES: tuple[type[Rule], ...] = (
    SyntaxErrorRule,
    DecayAllParams,
    SubstringNameSplit,
    AdamCoupledL2,
    ManualPenaltyAllParams,
    DoubleRegularization,
    UnknownGroupKey,
    PositionalHyperparameters,
    ReusedParamIterator,
    UnusedNoqa,
    ConfigDecayAllParams,
    ConfigNameSplit,
    *RUNTIME_RULES,
)


@functools.lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    """Every rule, by code, in code order (built once: output asks per finding)."""
    table: dict[str, type[Rule]] = {}
    for rule in RULES:
        if not Rule.valid_code(rule.code) or rule.code in table:
            raise ValueError(f"bad or duplicate rule code {rule.code!r}")
        table[rule.code] = rule
    return dict(sorted(table.items()))
