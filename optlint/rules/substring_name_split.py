from __future__ import annotations

import ast
from typing import Iterator

from optlint.rules.base import RawFinding, Rule


class SubstringNameSplit(Rule):
    code = "OPT002"
    name = "substring-name-split"
    summary = "A decay / no-decay split decided by substrings of parameter names"
    fixable = True
    what_it_does = """
        Finds tests such as `'bias' in name`, `'bias' not in n`, `any(nd in n for nd in no_decay)`
        or `'norm' in name.lower()` over `named_parameters()` that decide which of an
        optimizer's param groups a parameter joins, when those groups get different weight
        decay: a comprehension's condition, the `if` of a loop that appends to one group's
        list or another's, or a set of names such tests built. Tests that freeze, clear, log,
        pick modules or choose groups that differ in learning rate only are not reported.
    """
    known_problems = """
        A family of parameters given its own group on purpose (`"mask_score" in n`) is not a
        role test and is not reported; nor are tests for token and position tables, which
        the policy itself keeps undecayed. A test and its complement (`not any(...)` /
        `any(...)` over the same parameters) are one decision, reported once at the first.
        A split that is exact for a model class of this file (every vector parameter, and
        nothing else, matches the words) is not reported; with a model chosen at run time
        it is. Groups handed to `deepspeed.initialize`, per-parameter groups whose decay a
        name test picks, and names from Hugging Face's `get_parameter_names` count too.
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
        on the no-decay side (`p.ndim >= 2` on the decayed side). It is offered only when the
        rewrite keeps every parameter in the optimizer: an if/else that sends each parameter
        to one group or the other, or two complementary comprehensions over the same
        parameters. Otherwise the finding says why there is no fix.
    """
    references = ("transformers #16908; minGPT #16; DeepSpeedExamples #755",)
    VALID = (
        "import torch\nd = [p for n, p in m.named_parameters() if p.ndim >= 2]\nopt = torch.optim.AdamW([{'params': d, 'weight_decay': 0.1}])\n",
        "import torch\nd = [p for n, p in m.named_parameters() if n.endswith('.bias') and p.ndim == 1]\nopt = torch.optim.AdamW([{'params': d, 'weight_decay': 0.0}])\n",
        # a freezing loop decides what trains, not what decays
        "import torch\nfor name, p in model.named_parameters():\n    if 'head' not in name:\n        p.requires_grad = False\n"
        "opt = torch.optim.AdamW(model.parameters(), weight_decay=0.0)\n",
        # groups that differ only in learning rate
        "import torch\nbb = [p for n, p in m.named_parameters() if 'backbone' in n]\nhd = [p for n, p in m.named_parameters() if 'backbone' not in n]\n"
        "opt = torch.optim.AdamW([{'params': bb, 'lr': 1e-5}, {'params': hd}], lr=1e-3)\n",
        # exact for the model the file builds: its only vectors are biases
        "import torch\nfrom torch import nn\nclass MLP(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n"
        "        self.fc1 = nn.Linear(d, 4 * d)\n        self.fc2 = nn.Linear(4 * d, d)\nm = MLP(64)\n"
        "d = [p for n, p in m.named_parameters() if 'bias' not in n]\nnd = [p for n, p in m.named_parameters() if 'bias' in n]\n"
        "opt = torch.optim.AdamW([{'params': d, 'weight_decay': 0.1}, {'params': nd, 'weight_decay': 0.0}])\n",
    )
    INVALID = (
        "import torch\nno_decay = ['bias', 'LayerNorm.weight']\ngroups = [\n"
        "    {'params': [p for n, p in m.named_parameters() if not any(nd in n for nd in no_decay)], 'weight_decay': 0.01},\n"
        "    {'params': [p for n, p in m.named_parameters() if any(nd in n for nd in no_decay)], 'weight_decay': 0.0},\n]\n"
        "opt = torch.optim.AdamW(groups, lr=1e-3)\n",
        "import torch\nfor name, p in model.named_parameters():\n    if 'bias' in name:\n        bias_p += [p]\n"
        "    else:\n        weight_p += [p]\nopt = torch.optim.SGD([{'params': weight_p, 'weight_decay': 1e-5}, {'params': bias_p, 'weight_decay': 0}])\n",
        # one group per parameter, its decay picked by name
        "import torch\ngroups = []\nfor n, p in model.named_parameters():\n    wd = 0.0 if 'bias' in n else 0.05\n"
        "    groups.append({'params': [p], 'weight_decay': wd})\nopt = torch.optim.AdamW(groups, lr=1e-3)\n",
    )
    REQUIRES = ("named_parameters", r"named_parameters\s*\(", "weight_decay", r"\bin\b")

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.model.splits import exact_for_model

        seen: set[int] = set()
        fixes: dict[int, tuple] = {}  # one fix for a test and its partner
        for split in ctx.splits:
            for test in sorted(split.tests, key=lambda t: (t.node.lineno, t.node.col_offset)):
                if id(test.node) in seen:
                    continue
                seen.add(id(test.node))
                if test.twin is not None:
                    # a test and its complement are one decision: one finding, at the first
                    seen.add(id(test.twin.node))
                if exact_for_model(test, ctx.params.shapes, ctx.resolver):
                    continue  # the words name exactly the vectors of the model the file builds
                if id(test) not in fixes:
                    found = _fix(ctx, test)
                    fixes[id(test)] = found
                    if found[0] is not None and test.partner is not None and test.partner.rewrite_to is not None:
                        fixes[id(test.partner)] = (None, f"the fix on line {test.node.lineno} rewrites this test too")
                fix, reason = fixes[id(test)]
                message = _message(ctx, test) + (f" (no automatic fix: {reason})" if reason else "")
                yield self.finding(test.node, message, fix=fix, no_fix=reason)


def _message(ctx, test) -> str:
    twin = f" (and its complement on line {test.twin.node.lineno})" if test.twin is not None else ""
    return (
        f"`{ctx.source.short(test.node)}`{twin} decides weight decay by a substring of the parameter name: it misses "
        "normalization weights (norm1, ln_f, layer_norm, RMSNorm) and 1-D scales, and catches names "
        "such as bias_proj or attn_bias_table; test `p.ndim < 2` instead"
    )


def _fix(ctx, test):
    """Rewrite the test to the shape test, only where that keeps every parameter in the
    optimizer (an if/else that sends each parameter to one of two groups, or two
    complementary comprehensions, rewritten together); otherwise say why not. A list of
    words only the rewritten tests read (`no_decay = ["bias", ...]`) goes with them."""
    from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST
    from optlint.static.fix.edits import RawEdit, RawFix

    if test.var is None:
        return None, "no parameter variable in scope"
    if test.rewrite_to is None:
        return None, test.no_fix or "the test is not the decay split itself"
    tests = [test] + ([test.partner] if test.partner is not None and test.partner.rewrite_to is not None else [])
    edits = []
    for each in tests:
        check = (STATIC_NO_DECAY_TEST if each.rewrite_to == "no-decay" else STATIC_DECAY_TEST).format(p=each.var)
        edits.append(RawEdit(each.node, (lambda text: lambda layout, view: text)(check)))
    words = _unused_word_list(ctx, tests)
    if words is not None:
        edits.append(RawEdit(words, lambda layout, view: "", "delete-statement"))
    title = "test `p.ndim < 2` / `p.ndim >= 2` instead of the names" if len(tests) > 1 else f"test `{check}` instead of the name"
    return RawFix(title, edits), None


def _unused_word_list(ctx, tests):
    """The statement `no_decay = [...]` when the rewritten tests were its only readers."""
    names = set()
    for test in tests:
        for node in ast.walk(test.node):
            if isinstance(node, ast.comprehension) and isinstance(node.iter, ast.Name):
                names.add(node.iter.id)
    if len(names) != 1:
        return None
    (name,) = names
    inside = {id(n) for test in tests for n in ast.walk(test.node)}
    readers = [n for n in ast.walk(ctx.tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    if not readers or any(id(n) not in inside for n in readers):
        return None
    writers = [n for n in ast.walk(ctx.tree) if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)]
    if len(writers) != 1:
        return None
    for statement in ast.walk(ctx.tree):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and statement.targets[0] is writers[0] \
                and isinstance(statement.value, (ast.List, ast.Tuple, ast.Set)):
            line = ctx.source.line(statement.lineno)
            end_line = ctx.source.line(statement.end_lineno)
            # alone on its lines: nothing else would be deleted with it
            if line[: statement.col_offset].strip() == "" and end_line[statement.end_col_offset :].strip() in ("", "\\"):
                return statement
    return None
