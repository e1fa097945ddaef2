"""The report that assert_optimizer, install() and pytest --optlint show: findings, then advice.

The advice follows the codes found: splitting groups fixes decayed no-decay parameters
(OPT101/OPT103) only, so it is offered only for them; each other code gets its own line.
"""

from __future__ import annotations

import warnings

from optlint.runtime.check import RuntimeFinding, as_optimizers, check_optimizer, decay_of, known_decay

#: Shown when findings name parameters by position: how to get real names.
NAMES_HINT = (
    "Parameters are named by position because optlint does not know the model: pass it "
    "(check_optimizer(optimizer, model), optlint.install(models=model), or under pytest --optlint "
    "a fixture that returns it), or build the optimizer from model.named_parameters() so that "
    "it carries the names."
)


class OptimizerConfigWarning(UserWarning):
    """Emitted by install(on_finding="warn"), and in every mode when a check itself fails."""


class OptimizerConfigError(AssertionError):
    """Raised by assert_optimizer (and install(mode="raise")): the message is the report."""

    def __init__(self, report: str, findings: list[RuntimeFinding]) -> None:
        super().__init__(report)
        self.findings = findings


def _optimizer_expression(optimizer) -> str:
    cls = type(optimizer)
    return f"torch.optim.{cls.__name__}" if cls.__module__.startswith("torch.optim") else cls.__name__


def _decays(optimizers) -> list[float]:
    found = set()
    for optimizer in optimizers:
        knowledge = known_decay(optimizer)
        if knowledge is None:
            continue
        for g, group in enumerate(optimizer.param_groups):
            if (d := decay_of(group, g, knowledge)) > 0:
                found.add(d)
    return sorted(found)


def advice(optimizer, findings: list[RuntimeFinding]) -> list[str]:
    """Lines that say how to fix what was found, one block per kind of finding.

    `optimizer` is the optimizer checked, or the list of them checked together.
    """
    optimizers = as_optimizers(optimizer, "advice")
    many = len(optimizers) > 1
    codes = {f.code for f in findings}
    decays = _decays(optimizers)
    wd = f"{decays[-1]:g}" if decays else None
    lines: list[str] = []
    flagged = {f.optimizer for f in findings if f.code in ("OPT101", "OPT103")}
    optimizer = optimizers[min(k for k in flagged if k is not None)] if many and flagged - {None} else optimizers[0]
    if codes & {"OPT101", "OPT103"}:
        lines += [
            "Fix new code by building the groups with the shared policy:",
            f"    optimizer = {_optimizer_expression(optimizer)}(optlint.param_groups(model, weight_decay={wd or '0.01'}), ...)",
            "or split this optimizer's groups in place (before creating an LR scheduler):",
            "    optlint.fix_optimizer(optimizer, model)",
        ]
    if "OPT102" in codes:
        build = f" or optlint.param_groups(model, weight_decay={wd})" if wd else ""
        if many:
            lines.append(
                "Give every trainable parameter to one of the optimizers, or add the missing ones with "
                "optimizer.add_param_group({'params': [...]}); freeze what must not train with requires_grad_(False)."
            )
        else:
            lines.append(
                f"Give every trainable parameter to the optimizer (build it from model.parameters(){build}), "
                "or add the missing ones with optimizer.add_param_group({'params': [...]}); "
                "freeze what must not train with requires_grad_(False). If another optimizer trains them "
                "(Muon for the matrices, AdamW for the rest), check them together: "
                "optlint.check_optimizer([muon, adamw], model)."
            )
    if "OPT104" in codes:
        lines.append("List each tensor once per optimizer (for example list(dict.fromkeys(params))).")
    if "OPT105" in codes:
        lines.append("Wrap with FSDP(model, use_orig_params=True) or use FSDP2 (fully_shard) so that parameters keep their names and shapes.")
    if "OPT006" in codes:
        lines.append("Rename the unknown param-group key (PyTorch keeps it and ignores it).")
    if "OPT106" in codes:
        lines.append(
            "Tell optlint where the optimizer keeps its decay: optlint.register_optimizer(MyOptimizer, "
            "decay_key=\"wd\", default=0.0), or decay_key=None for one that never decays."
        )
    if "OPT003" in codes:
        lines.append("Use AdamW (decoupled weight decay), or pass decoupled_weight_decay=True where the optimizer has it.")
    if any(f.param is None and f.index is not None for f in findings):
        lines.append(NAMES_HINT)
    return lines


def report(optimizer, findings: list[RuntimeFinding]) -> str:
    optimizers = as_optimizers(optimizer, "report")
    name = " + ".join(type(opt).__name__ for opt in optimizers)
    whose = f"{name}'s param groups" if len(optimizers) == 1 else f"the param groups of {name}"
    lines = [f"optlint: {len(findings)} problem{'s' if len(findings) != 1 else ''} in {whose}:"]
    lines += [f"  {f.code} {f.message}" for f in findings]
    return "\n".join(lines + advice(optimizers, findings))


def assert_optimizer(optimizer, model=None, **options) -> None:
    """Raise OptimizerConfigError with a report if check_optimizer finds anything.

    `optimizer` may be a list of the optimizers that together train `model`.
    """
    findings = check_optimizer(optimizer, model, **options)
    if findings:
        raise OptimizerConfigError(report(optimizer, findings), findings)


def deliver(error: OptimizerConfigError, on_finding) -> None:
    """Hand a report over: "warn" (an OptimizerConfigWarning), "raise", or a callable."""
    if callable(on_finding):
        on_finding(error)
    elif on_finding == "raise":
        raise error
    else:
        warnings.warn(str(error), OptimizerConfigWarning, stacklevel=3)


def check_together(optimizers, model, on_finding="warn", *, select=None, ignore=None, **options) -> list[RuntimeFinding]:
    """Check `optimizers` (one or a list) against `model` and deliver a report if anything is
    found; what the trainer integrations run once, before the first optimizer step."""
    optimizers = as_optimizers(optimizers, "check_together")  # a trainer's wrapper, unwrapped
    findings = check_optimizer(optimizers if len(optimizers) > 1 else optimizers[0], model, select=select, ignore=ignore, **options)
    if findings:
        deliver(OptimizerConfigError(report(optimizers, findings), findings), on_finding)
    return findings
