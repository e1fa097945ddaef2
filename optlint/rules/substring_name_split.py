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
        A function that returns param groups split by name (`get_parameter_groups(model,
        wd)`) is reported where it splits them, whichever module builds the optimizer (no
        automatic fix there: its callers' optimizers are not rewritten); a test in another
        module that only the caller's arguments make a decay split is reported at the
        caller's optimizer, naming the test's file and line.
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
            {"params": [p for n, p in model.named_parameters() if p.squeeze().ndim >= 2]},
            {"params": [p for n, p in model.named_parameters() if p.squeeze().ndim < 2], "weight_decay": 0.0},
        ]
    """
    fix_safety = """
        Safe when its only effect is the decay of vectors: the shape test joins the name
        test, `p.squeeze().ndim < 2 or <test>` on the no-decay side (`p.squeeze().ndim >= 2
        and <test>` on the decayed side), so what the names kept undecayed (an embedding
        matrix, a `(C, 1)` bias) stays undecayed and only the vectors the names missed lose
        their decay. The word list the test reads is never deleted (another module may import
        it). It is offered only when the rewrite keeps every parameter in the optimizer (an
        if/else that sends each parameter to one group or the other, or two complementary
        comprehensions) and the groups agree on every key but `weight_decay` (in an
        `if/elif` chain whose groups differ in `lr`, moving vectors would change their lr).
        Uses of the groups that single one out (a write to `param_groups[1]["lr"]`, a
        per-group scheduler list with different entries, clipping one group) stop the fix,
        naming the line; loading an optimizer state dict or handing the optimizer to code
        optlint cannot read makes it unsafe (`--unsafe-fixes`).
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
        from optlint.static.fix.edits import caveat_note
        from optlint.static.model.splits import exact_for_model

        seen: set[int] = set()
        fixes: dict[int, tuple] = {}  # one fix for a test and its partner
        for split in ctx.splits:
            decisions: set[str] = set()
            for test in sorted(split.tests, key=lambda t: (t.node.lineno, t.node.col_offset)):
                if id(test.node) in seen:
                    continue
                seen.add(id(test.node))
                if split.call.kind == "returned":
                    # returned groups get no fix: the same test repeated in four groups
                    # (decay x lr) is one decision, reported once
                    key = _decision_key(test.node)
                    if key in decisions:
                        continue
                    decisions.add(key)
                if test.twin is not None:
                    # a test and its complement are one decision: one finding, at the first
                    seen.add(id(test.twin.node))
                other = ctx.resolver.elsewhere(test.where.scope) if test.where is not None else None
                owner = other or ctx.resolver
                if exact_for_model(test, owner.context.params.shapes if other else ctx.params.shapes, owner):
                    continue  # the words name exactly the vectors of the model the file builds
                if other is not None:
                    # the test is written in another module: that module reports it when its
                    # own text shows the split (a helper returning the groups); else it is
                    # reported here, at the optimizer, naming the test's file and line
                    if any(t.node is test.node for each in other.context.splits for t in each.tests):
                        continue
                    yield self.finding(split.call.node, _elsewhere_message(other, test), no_fix=_ELSEWHERE)
                    continue
                if id(test) not in fixes:
                    found = _fix(ctx, split, test)
                    fixes[id(test)] = found
                    if found[0] is not None and test.partner is not None and test.partner.rewrite_to is not None:
                        fixes[id(test.partner)] = (None, f"the fix on line {test.node.lineno} rewrites this test too")
                fix, reason = fixes[id(test)]
                message = _message(ctx, test) + (f" (no automatic fix: {reason})" if reason else "") + caveat_note(fix)
                yield self.finding(test.node, message, fix=fix, no_fix=reason)


_ELSEWHERE = "the test is in another module"


def _elsewhere_message(other, test) -> str:
    from optlint.static.model.imported import place_of

    return (
        f"`{other.segment(test.node)}` in {place_of(other.context, test.node.lineno)} decides the weight decay of "
        f"these param groups by a substring of the parameter name: it misses normalization weights and 1-D "
        f"scales; test the shape (`p.squeeze().ndim < 2`) there instead (no automatic fix: {_ELSEWHERE})"
    )


def _message(ctx, test) -> str:
    twin = f" (and its complement on line {test.twin.node.lineno})" if test.twin is not None else ""
    return (
        f"`{ctx.source.short(test.node)}`{twin} decides weight decay by a substring of the parameter name: it misses "
        "normalization weights (norm1, ln_f, layer_norm, RMSNorm) and 1-D scales, and catches names "
        "such as bias_proj or attn_bias_table; test the shape (`p.squeeze().ndim < 2`) instead"
    )


def _fix(ctx, split, test):
    """Add the shape test to the name test, only where that keeps every parameter in the
    optimizer (an if/else that sends each parameter to one of two groups, or two
    complementary comprehensions, rewritten together) and changes nothing but the decay of
    vectors; otherwise say why not.

    The name test stays: `p.squeeze().ndim < 2 or <test>` on the no-decay side,
    `p.squeeze().ndim >= 2 and <test>` on the decayed side. So whatever the code kept
    undecayed by name (a matrix such as an embedding or `relative_position_bias_table`)
    stays undecayed, and vectors the names missed (norm weights, scales) join the no-decay
    group. The names the test reads (a module-level `NO_DECAY` list another module may
    import) are never deleted."""
    from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST
    from optlint.static.fix.dependents import Regroup, review
    from optlint.static.fix.edits import NoFix, RawEdit, RawFix, caveat_note

    if test.var is None:
        return None, "no parameter variable in scope"
    if split.call.kind == "returned":
        return None, (f"the groups are returned by {split.call.display}; optlint does not rewrite groups whose "
                      "optimizer it does not see built here")
    if test.rewrite_to is None:
        return None, test.no_fix or "the test is not the decay split itself"
    differ = _groups_differ(ctx, split.call)
    if differ is not None:
        return None, differ
    try:
        found = review(ctx.resolver, split.call.node, Regroup([1] * len(split.call.groups), moves=True))
    except NoFix as exc:
        return None, str(exc)
    tests = [test] + ([test.partner] if test.partner is not None and test.partner.rewrite_to is not None else [])
    edits = []
    for each in tests:
        edits.append(RawEdit(each.node, _combined(each)))
    edits.extend(found.edits)
    title = "add the shape test (p.squeeze().ndim < 2: vectors) to the name test"
    fix = RawFix(title, edits, applicability="unsafe" if found.caveats else "safe", caveats=found.caveats)
    return fix, None


def _combined(test):
    """The renderer of `test` joined with the shape test (the name test kept as it was)."""
    from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST

    node = test.node
    no_decay = test.rewrite_to == "no-decay"
    shape = (STATIC_NO_DECAY_TEST if no_decay else STATIC_DECAY_TEST).format(p=test.var)
    low = (ast.IfExp, ast.Lambda, ast.NamedExpr) if no_decay else (ast.IfExp, ast.Lambda, ast.NamedExpr, ast.BoolOp)
    wrap = isinstance(node, low) and not (isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And))

    def render(layout, view) -> str:
        text = view.text(node).strip()
        text = f"({text})" if wrap else text
        return f"{shape} or {text}" if no_decay else f"{shape} and {text}"

    return render


def _groups_differ(ctx, call) -> str | None:
    """Why moving vectors between `call`'s groups would change more than their decay: the
    groups differ in another key (lr, betas...). None when they agree on every other key."""
    seen = None
    for group in call.groups:
        if group.params_node is None:
            continue
        if group.node is None:
            return "the param groups are not dicts optlint can read"
        found = ctx.resolver.mapping(group.node, group.where)
        if found is None or not found[1]:
            return f"line {group.node.lineno}: a param group has keys optlint cannot read"
        keys = {key: (value, where) for key, _, value, where in found[0] if key not in ("params", "weight_decay")}
        if seen is None:
            seen = keys
            continue
        for key in sorted(set(keys) | set(seen)):
            if not _same(ctx, keys.get(key), seen.get(key)):
                line = (keys.get(key) or seen.get(key))[0].lineno
                return (f"line {line} gives the param groups different `{key}` values: moving vectors "
                        f"between them would change their `{key}`")
    return None


def _same(ctx, a, b) -> bool:
    if a is None or b is None:
        return a is b
    if ast.dump(a[0]) == ast.dump(b[0]):
        return True
    return ctx.resolver.evaluate(*a).same_as(ctx.resolver.evaluate(*b))


def _decision_key(node) -> str:
    """A name test without its `not`: `any(nd in n for nd in L)` and its negation are one."""
    import ast

    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return ast.dump(node)
