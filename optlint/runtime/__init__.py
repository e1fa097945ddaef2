"""The runtime half: audit a built optimizer against its model (torch is imported here only).

- ``check_optimizer(optimizer, model=None, **options)`` -> findings (OPT101-105, OPT006, OPT003)
  (``check.py``)
- ``assert_optimizer(...)`` raises ``OptimizerConfigError`` with a readable report (``report.py``)
- ``param_groups(model, weight_decay, ...)`` builds split groups with the same policy, and
  ``fix_optimizer(optimizer, model=None, ...)`` splits offending groups in place (``build.py``)
- ``install(mode="warn"|"raise", models=...)`` checks every optimizer at its first step()
  (``install.py``)

It reads shapes, ids and names only, never tensor data, so it works on the meta device.
The policy itself lives in ``optlint.policy``.
"""

from __future__ import annotations

from optlint.policy import NO_DECAY_ROLES
from optlint.runtime.build import (
    Moved,
    classify_parameters,
    fix_optimizer,
    param_groups,
)
from optlint.runtime.check import RuntimeFinding, check_optimizer
from optlint.runtime.install import OptimizerConfigWarning, install, register_models
from optlint.runtime.report import OptimizerConfigError, assert_optimizer

__all__ = [
    "check_optimizer", "assert_optimizer", "param_groups", "fix_optimizer", "install",
    "classify_parameters", "RuntimeFinding", "OptimizerConfigError", "OptimizerConfigWarning",
    "Moved", "NO_DECAY_ROLES", "register_models",
]
