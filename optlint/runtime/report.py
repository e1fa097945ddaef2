"""The report that assert_optimizer, install() and pytest --optlint show: findings, then advice.

The advice follows the codes found: splitting groups fixes decayed no-decay parameters
(OPT101/OPT103) only, so it is offered only for them; each other code gets its own line.
"""

from __future__ import annotations

from optlint.runtime.check import RuntimeFinding, check_optimizer, decay_of

#: Shown when findings name parameters by position: how to get real names.
NAMES_HINT = (
    "Parameters are named by position because optlint does not know the model: pass it "
    "(check_optimizer(optimizer, model), optlint.install(models=model), or under pytest --optlint "
    "a fixture that returns it), or build the optimizer from model.named_parameters() so that "
    "it carries the names."
)


class OptimizerConfigError(AssertionError):
    """Raised by assert_optimizer (and install(mode="raise")): the message is the report."""

    def __init__(self, report: str, findings: list[RuntimeFinding]) -> None:
        super().__init__(report)
        self.findings = findings


def _optimizer_expression(optimizer) -> str:
    cls = type(optimizer)
    return f"torch.optim.{cls.__name__}" if cls.__module__.startswith("torch.optim") else cls.__name__


def advice(optimizer, findings: list[RuntimeFinding]) -> list[str]:
    """Lines that say how to fix what was found, one block per kind of finding."""
    codes = {f.code for f in findings}
    decays = sorted({d for g, group in enumerate(optimizer.param_groups) if (d := decay_of(group, g)) > 0})
    wd = f"{decays[-1]:g}" if decays else None
    lines: list[str] = []
    if codes & {"OPT101", "OPT103"}:
        lines += [
            "Fix new code by building the groups with the shared policy:",
            f"    optimizer = {_optimizer_expression(optimizer)}(optlint.param_groups(model, weight_decay={wd or '0.01'}), ...)",
            "or split this optimizer's groups in place (before creating an LR scheduler):",
            "    optlint.fix_optimizer(optimizer, model)",
        ]
    if "OPT102" in codes:
        build = f" or optlint.param_groups(model, weight_decay={wd})" if wd else ""
        lines.append(
            f"Give every trainable parameter to the optimizer (build it from model.parameters(){build}), "
            "or add the missing ones with optimizer.add_param_group({'params': [...]}); "
            "freeze what must not train with requires_grad_(False)."
        )
    if "OPT104" in codes:
        lines.append("List each tensor once per optimizer (for example list(dict.fromkeys(params))).")
    if "OPT105" in codes:
        lines.append("Wrap with FSDP(model, use_orig_params=True) or use FSDP2 (fully_shard) so that parameters keep their names and shapes.")
    if "OPT006" in codes:
        lines.append("Rename the unknown param-group key (PyTorch keeps it and ignores it).")
    if "OPT003" in codes:
        lines.append("Use AdamW (decoupled weight decay), or pass decoupled_weight_decay=True where the optimizer has it.")
    if any(f.param is None and f.index is not None for f in findings):
        lines.append(NAMES_HINT)
    return lines


def report(optimizer, findings: list[RuntimeFinding]) -> str:
    name = type(optimizer).__name__
    lines = [f"optlint: {len(findings)} problem{'s' if len(findings) != 1 else ''} in {name}'s param groups:"]
    lines += [f"  {f.code} {f.message}" for f in findings]
    return "\n".join(lines + advice(optimizer, findings))


def assert_optimizer(optimizer, model=None, **options) -> None:
    """Raise OptimizerConfigError with a report if check_optimizer finds anything."""
    findings = check_optimizer(optimizer, model, **options)
    if findings:
        raise OptimizerConfigError(report(optimizer, findings), findings)
