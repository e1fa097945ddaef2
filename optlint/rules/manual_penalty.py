from __future__ import annotations

from typing import Iterator

import ast

from optlint.rules.base import RawFinding, Rule
from optlint.rules.patterns import PENALTY_WORDS



class ManualPenaltyAllParams(Rule):
    code = "OPT004"
    name = "manual-penalty-all-params"
    summary = "A hand-written L1/L2 penalty summed over every parameter"
    fixable = True
    what_it_does = """
        Finds L1 and L2 penalties written by hand (`p.abs().sum()`, `torch.norm(p, 1)`,
        `p.pow(2).sum()`, `(p ** 2).sum()`, `torch.linalg.norm(p)`, `nn.L1Loss()(p, zeros)`,
        `F.mse_loss(p, torch.zeros_like(p))`, ...) accumulated over
        every parameter of a module, in a generator, a comprehension or a `for` loop, when
        the penalty reaches a loss: it is added to a value that is `.backward()`-ed (also
        through `accelerator.backward`, `scaler.scale(loss).backward()`, `manual_backward`),
        to a variable named like a loss, or returned from a loss or training-step function.
        Norms computed for logging, clipping or monitoring are not penalties.
    """
    why_bad = """
        The penalty regularizes biases and normalization weights exactly like the optimizer's
        weight_decay would: biases pinned near zero, LayerNorm scales pulled away from one.
    """
    example = """
        l1 = sum(p.abs().sum() for p in model.parameters())
    """
    use_instead = """
        l1 = sum(p.abs().sum() for p in model.parameters() if p.ndim >= 2)
    """
    fix_safety = (
        "Safe (its only effect is that vectors are no longer penalized): adds `if p.squeeze().ndim >= 2` "
        "to the comprehension, or `if p.squeeze().ndim < 2: continue` at the top of the loop; a loop whose "
        "body shares the loop's row gets no fix. It does not touch the optimizer's groups."
    )
    VALID = (
        "l2 = sum(p.pow(2).sum() for p in model.parameters() if p.ndim >= 2)\n(loss + l2).backward()\n",
        "l2 = sum(w.pow(2).sum() for w in [model.fc1.weight, model.fc2.weight])\n(loss + l2).backward()\n",
        "for p in model.parameters():\n    if p.ndim < 2:\n        continue\n    reg += p.norm(2)\n(loss + reg).backward()\n",
        # a norm computed for logging never reaches the loss
        "total = sum(p.norm() ** 2 for p in model.parameters())\nwandb.log({'weight_norm': total})\nloss.backward()\n",
    )
    INVALID = (
        "l1 = sum(p.abs().sum() for p in model.parameters())\nloss = ce + 1e-4 * l1\nloss.backward()\n",
        "reg = 0\nfor name, p in model.named_parameters():\n    reg = reg + torch.norm(p, 2)\n(loss + reg).backward()\n",
        "def training_step(self, batch, i):\n    l2 = sum((p ** 2).sum() for p in self.parameters())\n    return self.loss(batch) + l2\n",
    )
    REQUIRES = ("parameters", r"parameters\s*\(", PENALTY_WORDS)

    def check(self, ctx) -> Iterator[RawFinding]:
        for penalty in ctx.penalties:
            if not penalty.all_params:
                continue
            message = (
                f"hand-written {penalty.kind} penalty over every parameter of `{penalty.module}`: it "
                f"regularizes biases and normalization weights too; skip vectors (`p.squeeze().ndim < 2`)"
            )
            yield self.finding(penalty.node, message, fix=_fix(penalty))


def _fix(penalty):
    from optlint.static.fix.edits import NoFix, RawEdit, RawFix
    from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST

    var = penalty.var
    node = penalty.site.node
    if isinstance(node, (ast.For, ast.AsyncFor)):
        test = STATIC_NO_DECAY_TEST.format(p=var)
        first = node.body[0]
        if first.lineno == node.lineno:
            return None  # `for p in ...: acc += ...` on one line: no line to insert before
        def render(layout, view) -> str:
            if layout.inline:  # the body's first row starts inside the loop's header
                raise NoFix("the loop's body does not start a row of its own")
            return f"{layout.indent}if {test}:{layout.newline}{layout.indent}    continue{layout.newline}"

        return RawFix(f"skip parameters with `{test}`", [RawEdit(first, render, "insert-before")])
    iterable = node.generators[0].iter
    test = STATIC_DECAY_TEST.format(p=var)
    return RawFix(
        f"keep parameters with `{test}`",
        [RawEdit(iterable, lambda layout, view: f"{view.text(iterable).strip()} if {test}", with_parens=True)],
    )
