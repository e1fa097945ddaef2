from __future__ import annotations

from typing import Iterator

import libcst as cst

from optlint.analysis.loops import loop_parts, name_var, param_var, substring_tests
from optlint.analysis.names import source_text
from optlint.fixes import RawEdit, RawFix
from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST
from optlint.rules.base import RawFinding, Rule, register


@register
class SubstringNameSplit(Rule):
    code = "OPT002"
    name = "substring-name-split"
    summary = "A decay / no-decay split decided by substrings of parameter names"
    fixable = True
    what_it_does = """
        Finds tests such as `'bias' in name`, `'bias' not in n`, `any(nd in n for nd in no_decay)`
        or `'norm' in name.lower()` that decide, inside a loop or comprehension over
        `named_parameters()`, which parameters get weight decay.
    """
    why_bad = """
        Names are not roles. `'bias' in name` misses every normalization weight (`norm1.weight`,
        `ln_f.weight`, `layer_norm.weight`, RMSNorm scales) and other 1-D scales, so they stay
        decayed; Hugging Face's `["bias", "LayerNorm.weight"]` matches nothing in models whose
        norms are called `ln_1` or `norm1`. And it wrongly catches tensors that merely contain
        the word, such as `relative_position_bias_table` or a module named `bias_proj`.
    """
    example = """
        no_decay = ["bias", "LayerNorm.weight"]
        groups = [
            {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)]},
            {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
        ]
    """
    use_instead = """
        groups = [
            {"params": [p for n, p in model.named_parameters() if p.ndim >= 2]},
            {"params": [p for n, p in model.named_parameters() if p.ndim < 2], "weight_decay": 0.0},
        ]
    """
    fix_safety = """
        Unsafe (it changes which parameters decay, on purpose): the test becomes `p.ndim < 2`
        (or `p.ndim >= 2` for a negated test) on the loop's parameter variable. Without a
        parameter variable in scope, or with tests of mixed polarity, there is no fix.
    """
    references = ("transformers #16908; minGPT #16; DeepSpeedExamples #755",)
    VALID = (
        "import torch\nd = [p for n, p in m.named_parameters() if p.ndim >= 2]\nopt = torch.optim.AdamW([{'params': d, 'weight_decay': 0.1}])\n",
        "import torch\nd = [p for n, p in m.named_parameters() if n.endswith('.bias') and p.ndim == 1]\nopt = torch.optim.AdamW([{'params': d, 'weight_decay': 0.0}])\n",
    )
    INVALID = (
        "import torch\nb = [p for n, p in m.named_parameters() if 'bias' in n]\nopt = torch.optim.SGD([{'params': b, 'weight_decay': 0}], lr=0.1)\n",
        "import torch\nfor name, p in model.named_parameters():\n    if 'bias' in name:\n        bias_p += [p]\n"
        "    else:\n        weight_p += [p]\nopt = torch.optim.SGD([{'params': weight_p, 'weight_decay': 1e-5}, {'params': bias_p, 'weight_decay': 0}])\n",
    )
    REQUIRES = ("named_parameters", r"named_parameters\s*\(", "weight_decay", r"\bin\b")

    def check(self, ctx) -> Iterator[RawFinding]:
        for site in ctx.facts.loops:
            parts = loop_parts(site.node)
            if parts is None:
                continue
            target, iterable, conditions = parts
            if not (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute)
                    and iterable.func.attr.value == "named_parameters"):
                continue
            name, var = name_var(target), param_var(target)
            if name is None:
                continue
            if isinstance(site.node, cst.For):
                conditions = _if_tests(site.node)
            for test in conditions:
                found = substring_tests(test, name)
                if not found:
                    continue
                yield RawFinding(self.code, _message(test), test, test, *_fix(test, found, var))


def _if_tests(loop: cst.For) -> list:
    tests = []
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []
    for statement in body:
        node = statement
        while isinstance(node, cst.If):
            tests.append(node.test)
            node = node.orelse if isinstance(node.orelse, cst.If) else None
    return tests


def _message(test) -> str:
    return (
        f"`{source_text(test)}` decides weight decay by a substring of the parameter name: it misses "
        "normalization weights (norm1, ln_f, layer_norm, RMSNorm) and 1-D scales, and catches names "
        "such as relative_position_bias_table; test `p.ndim < 2` instead"
    )


def _fix(test, found, var):
    polarities = {positive for _, positive in found}
    if var is None:
        return None, "no parameter variable in scope"
    if len(polarities) != 1:
        return None, "the test mixes `in` and `not in`"
    check = (STATIC_NO_DECAY_TEST if polarities.pop() else STATIC_DECAY_TEST).format(p=var)
    return RawFix(f"test `{check}` instead of the name", [RawEdit(test, lambda _: check)]), None
