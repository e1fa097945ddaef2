"""The accelerate one-liner: ``optlint.integrations.accelerate.check(accelerator)``.

Call it after ``accelerator.prepare(model, optimizer, ...)``: every prepared model is judged
with the prepared optimizers that hold its parameters (unwrapped from accelerate's
``AcceleratedOptimizer``; names keep DDP's ``module.`` stripped). It reads the accelerator's
``_models`` and ``_optimizers`` lists, which ``Accelerator.prepare`` fills
(https://huggingface.co/docs/accelerate/package_reference/accelerator); this module does not
import accelerate.
"""

from __future__ import annotations


def check(accelerator, on_finding="raise", *, select=None, ignore=None, **options) -> list:
    """Check every optimizer the accelerator prepared against the prepared model it trains.

    Returns the findings (also delivered through `on_finding`: "warn", "raise" or a callable).
    """
    from optlint.runtime.check import unwrap_optimizer
    from optlint.runtime.report import check_together
    from optlint.runtime.step_hook import _resolve_on_finding, owner_of

    action = _resolve_on_finding(on_finding, None)
    models = list(getattr(accelerator, "_models", None) or [])
    optimizers = [unwrap_optimizer(opt) for opt in getattr(accelerator, "_optimizers", None) or []]
    if not optimizers:
        raise ValueError("optlint.integrations.accelerate.check(): the accelerator has prepared no optimizer; call it after accelerator.prepare(model, optimizer)")
    findings = []
    by_model: dict[int, list] = {}
    owners = {}
    for optimizer in optimizers:
        model = owner_of(optimizer, models)
        by_model.setdefault(id(model), []).append(optimizer)
        owners[id(model)] = model
    for key, group in by_model.items():
        findings += check_together(group, owners[key], action, select=select, ignore=ignore, **options)
    return findings
