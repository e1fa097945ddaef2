from __future__ import annotations

from typing import Iterator

import ast

from optlint.rules.base import RawFinding, Rule
from optlint.rules.patterns import OPTIMIZER_NAMES


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

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.fix.edits import RawEdit, RawFix

        reported: set[int] = set()
        for call in ctx.optimizer_calls:
            if call.kind != "optimizer" or not call.spec.complete or call.via or id(call.site) in reported:
                continue
            positional = call.node.args
            if any(isinstance(a, ast.Starred) for a in positional) or any(k.arg is None for k in call.node.keywords):
                continue
            late = [(i, a) for i, a in enumerate(positional) if 2 <= i < len(call.spec.positional)]
            if not late:
                continue
            reported.add(id(call.site))
            bindings = ", ".join(f"{ctx.source.short(a)} -> {call.spec.positional[i]}" for i, a in late)
            edits = [
                RawEdit(a, (lambda name, node: lambda layout, view: f"{name}={view.text(node).strip()}")(call.spec.positional[i], a),
                        with_parens=True)
                for i, a in late
            ]
            yield self.finding(
                call.node,
                f"{call.display} gets hyperparameters by position ({bindings}); pass them by keyword",
                fix=RawFix("pass them by keyword", edits, applicability="safe"),
            )
