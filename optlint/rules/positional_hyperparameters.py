from __future__ import annotations

from typing import Iterator

from optlint.analysis.names import source_text
from optlint.fixes import RawEdit, RawFix, code
from optlint.rules.base import RawFinding, Rule, register
from optlint.rules.decay_all_params import OPTIMIZER_NAMES


@register
class PositionalHyperparameters(Rule):
    code = "OPT007"
    name = "positional-hyperparameters"
    summary = "Optimizer hyperparameters after lr passed positionally"
    default_enabled = False
    fixable = True
    what_it_does = "Finds known optimizers given hyperparameters after `lr` by position, and says what each binds to."
    why_bad = """
        Positions differ between optimizers and are easy to misread: `SGD(p, 0.1, 0.9, 1e-4)`
        sets dampening, not weight decay; `Adam(p, lr, betas, wd)` puts the decay into eps.
    """
    example = "opt = torch.optim.SGD(params, 0.1, 0.9, 1e-4)"
    use_instead = "opt = torch.optim.SGD(params, 0.1, momentum=0.9, weight_decay=1e-4)"
    fix_safety = "Safe: each positional argument gets the keyword it already binds to, so behaviour is unchanged."
    VALID = ("import torch\nopt = torch.optim.SGD(w, 0.1, momentum=0.9)\n",)
    INVALID = ("import torch\nopt = torch.optim.SGD(w, 0.1, 0.9, 1e-4)\n",)
    REQUIRES = (OPTIMIZER_NAMES,)

    def may_fire_tree(self, summary) -> bool:
        return summary.calls_to(summary.callees(), min_positional=3)

    def check(self, ctx) -> Iterator[RawFinding]:
        for call in ctx.optimizer_calls:
            if call.kind != "optimizer" or not call.spec.complete:
                continue
            args = call.node.args
            positional = [a for a in args if a.keyword is None]
            if any(a.star for a in args):
                continue
            late = [(i, a) for i, a in enumerate(positional) if i >= 2 and i < len(call.spec.positional)]
            if not late:
                continue
            bindings = ", ".join(f"{source_text(a.value)} -> {call.spec.positional[i]}" for i, a in late)
            edits = [
                RawEdit(a.value, (lambda name, text: lambda _: f"{name}={text}")(call.spec.positional[i], code(a.value).strip()), with_parens=True)
                for i, a in late
            ]
            yield RawFinding(
                self.code,
                f"{call.display} gets hyperparameters by position ({bindings}); pass them by keyword",
                call.node,
                call.node,
                RawFix("pass them by keyword", edits, applicability="safe"),
            )
