"""Text patterns several rules' pre-filters share (the REQUIRES of a rule's class).

A rule can fire only where its patterns all occur in the file's text; the pre-filter
(optlint.settings) tests them before anything is parsed. Kept here, apart from any rule, so
that rules never import each other.
"""

from optlint.optimizers import COUPLED_LAST_NAMES, KNOWN_LAST_NAMES

#: Whatever import form or alias reaches a known optimizer, its class name is written
#: somewhere in the file; an unknown callee needs `weight_decay=`. (The pre-filter tests this
#: identifier alternation against the file's identifiers, not as a regex.)
OPTIMIZER_NAMES = r"\b(?:%s)\b|weight_decay" % "|".join(sorted(KNOWN_LAST_NAMES))

#: The same, or a word of a factory's name (`build_optimizer`, `OPTIMIZERS.build`): an optimizer
#: built in another module of the project is often reached through one.
OPTIMIZER_OR_FACTORY = OPTIMIZER_NAMES + "|optimizer|Optimizer|OPTIMIZER"

#: The Adam-family classes that may apply coupled L2 (OPT003), under any of their names.
COUPLED_NAMES = r"\b(?:%s)\b" % "|".join(sorted(COUPLED_LAST_NAMES))

#: What a hand-written L1/L2 penalty is made of.
PENALTY_WORDS = r"\babs\(|\bpow\(|\bnorm\(|vector_norm\(|\*\*\s*2|\bsquare\(|L1Loss\(|MSELoss\(|l1_loss\(|mse_loss\("
