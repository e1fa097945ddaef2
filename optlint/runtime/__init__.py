"""The runtime half: audit a built optimizer against its model (torch is imported here only).

- ``check_optimizer(optimizer, model=None, **options)`` -> findings (OPT101-105, OPT006, OPT003)
  (``check.py``)
- ``assert_optimizer(...)`` raises ``OptimizerConfigError`` with a readable report (``report.py``)
- ``param_groups(model, weight_decay, ...)`` builds split groups with the same policy, and
  ``fix_optimizer(optimizer, model=None, ...)`` splits offending groups in place (``build.py``)
- ``install(on_finding="warn"|"raise"|callable, models=..., select=..., ignore=...)`` checks
  each model's optimizers at the first step() of any of them (``step_hook.py``)
- ``register_optimizer(cls, decay_key="wd", default=...)`` says where a custom optimizer keeps
  its decay (``knowledge.py``)

It reads shapes, ids and names only, never tensor data, so it works on the meta device.
The policy itself lives in ``optlint.policy``.
"""

from __future__ import annotations

#: Where each public name lives: served on first use (PEP 562), so importing the package, or
#: one of its modules, never imports the others (and the package has no import cycle).
_WHERE = {
    "check_optimizer": "check", "RuntimeFinding": "check",
    "param_groups": "build", "fix_optimizer": "build", "classify_parameters": "build", "Moved": "build",
    "install": "step_hook", "register_models": "step_hook", "OptimizerConfigWarning": "step_hook",
    "assert_optimizer": "report", "OptimizerConfigError": "report",
    "register_optimizer": "knowledge", "unregister_optimizer": "knowledge",
}

__all__ = [
    "check_optimizer", "assert_optimizer", "param_groups", "fix_optimizer", "install",
    "classify_parameters", "RuntimeFinding", "OptimizerConfigError", "OptimizerConfigWarning",
    "Moved", "NO_DECAY_ROLES", "register_models", "register_optimizer", "unregister_optimizer",
]


def __getattr__(name: str):
    if name == "NO_DECAY_ROLES":
        from optlint.policy import NO_DECAY_ROLES

        return NO_DECAY_ROLES
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"optlint.runtime.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'optlint.runtime' has no attribute {name!r}")
