from __future__ import annotations

from typing import Iterator

from optlint.rules.base import RawFinding, Rule
from optlint.rules.patterns import OPTIMIZER_NAMES, PENALTY_WORDS


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


class DoubleRegularization(Rule):
    code = "OPT005"
    name = "double-regularization"
    summary = "A manual L2 penalty and optimizer weight decay on the same parameters"
    what_it_does = """
        Finds a hand-written L2 penalty over a module's parameters (filtered or not) in a file
        whose optimizer also applies weight decay (nonzero or unknown, coupled or decoupled)
        to parameters of the same module. Reported at the optimizer, naming the penalty's line.
    """
    why_bad = """
        The parameters are regularized twice, with two strengths that are tuned separately:
        the effective decay is neither of the values anyone chose.
    """
    example = """
        optimizer = torch.optim.AdamW(model.parameters(), weight_decay=0.01)
        loss = loss + 1e-4 * sum(p.pow(2).sum() for p in model.parameters())
    """
    use_instead = """
        optimizer = torch.optim.AdamW(param_groups, weight_decay=0.01)  # one mechanism only
    """
    VALID = (
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\nl2 = sum(p.pow(2).sum() for p in model.parameters())\n(loss + l2).backward()\n",
        # the norm is logged, not added to the loss
        "import torch\nopt = torch.optim.AdamW(model.parameters())\nl2 = sum(p.pow(2).sum() for p in model.parameters())\nprint(l2)\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.AdamW(model.parameters())\nl2 = sum(p.pow(2).sum() for p in model.parameters())\n(loss + l2).backward()\n",
    )
    REQUIRES = ("parameters", r"parameters\s*\(", PENALTY_WORDS, OPTIMIZER_NAMES)

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.model.params import params_module

        penalties = [p for p in ctx.penalties if p.kind == "L2"]
        if not penalties:
            return
        reported: set[int] = set()
        for call in ctx.optimizer_calls:
            if id(call.site) in reported or call.kind == "engine":
                continue  # DeepSpeed's decay is in its config, not the file
            for group in call.groups:
                if group.weight_decay.provably_zero or group.params_node is None:
                    continue
                module = params_module(group.params_node, ctx.resolver, group.params_where)
                penalty = next((p for p in penalties if module and _overlap(module, p.module)), None)
                if penalty is None:
                    continue
                reported.add(id(call.site))
                yield self.finding(
                    call.node,
                    f"`{module}`'s parameters get weight decay from {call.display} "
                    f"({group.weight_decay.describe()}) and a hand-written L2 penalty (line {penalty.node.lineno}): "
                    "they are regularized twice; keep one",
                )
                break
