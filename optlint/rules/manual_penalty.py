from __future__ import annotations

from typing import Iterator

import libcst as cst

from optlint.analysis.names import source_text
from optlint.fixes import RawEdit, RawFix, code
from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST
from optlint.rules.base import RawFinding, Rule, register

# Every penalty form penalty_kind() knows names one of these (keep the two in sync).
PENALTY_WORDS = r"\babs\(|\bpow\(|\bnorm\(|vector_norm\(|\*\*\s*2|\bsquare\(|L1Loss\(|MSELoss\(|l1_loss\(|mse_loss\("


@register
class ManualPenaltyAllParams(Rule):
    code = "OPT004"
    name = "manual-penalty-all-params"
    summary = "A hand-written L1/L2 penalty summed over every parameter"
    fixable = True
    what_it_does = """
        Finds L1 and L2 penalties written by hand (`p.abs().sum()`, `torch.norm(p, 1)`,
        `p.pow(2).sum()`, `(p ** 2).sum()`, `torch.linalg.norm(p)`, `nn.L1Loss()(p, zeros)`,
        `F.mse_loss(p, torch.zeros_like(p))`, ...) accumulated over
        every parameter of a module, in a generator, a comprehension or a `for` loop.
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
    fix_safety = "Unsafe (it changes the loss, on purpose): adds `if p.ndim >= 2` to the comprehension, or `if p.ndim < 2: continue` at the top of the loop."
    VALID = (
        "l2 = sum(p.pow(2).sum() for p in model.parameters() if p.ndim >= 2)\n",
        "l2 = sum(w.pow(2).sum() for w in [model.fc1.weight, model.fc2.weight])\n",
        "for p in model.parameters():\n    if p.ndim < 2:\n        continue\n    reg += p.norm(2)\n",
    )
    INVALID = (
        "l1 = sum(p.abs().sum() for p in model.parameters())\n",
        "reg = 0\nfor name, p in model.named_parameters():\n    reg = reg + torch.norm(p, 2)\n",
        "l2 = sum((p ** 2).sum() for p in self.parameters())\n",
    )
    REQUIRES = ("parameters", r"parameters\s*\(", PENALTY_WORDS)

    def may_fire_tree(self, summary) -> bool:
        return summary.has_penalty_loop

    def check(self, ctx) -> Iterator[RawFinding]:
        for penalty in ctx.penalties:
            if not penalty.all_params:
                continue
            message = (
                f"hand-written {penalty.kind} penalty over every parameter of `{penalty.module}`: it "
                f"regularizes biases and normalization weights too; skip parameters with ndim < 2"
            )
            yield RawFinding(self.code, message, penalty.node, penalty.node, _fix(penalty))


def _fix(penalty):
    var = penalty.var
    node = penalty.site.node
    if isinstance(node, cst.For):
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        if not body:
            return None
        test = STATIC_NO_DECAY_TEST.format(p=var)
        return RawFix(
            f"skip parameters with `{test}`",
            [RawEdit(body[0], lambda layout: f"{layout.indent}if {test}:{layout.newline}{layout.indent}    continue{layout.newline}", "insert-before")],
        )
    iterable = node.for_in.iter
    text = code(iterable).strip()
    test = STATIC_DECAY_TEST.format(p=var)
    return RawFix(f"keep parameters with `{test}`", [RawEdit(iterable, lambda _: f"{text} if {test}", with_parens=True)])
