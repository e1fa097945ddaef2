from __future__ import annotations

import ast
from typing import Iterator

from optlint.rules.base import RawFinding, Rule
from optlint.group_keys import KNOWN_EXTRA_GROUP_KEYS, near_miss
from optlint.rules.patterns import OPTIMIZER_NAMES

def escapes(ctx, call) -> bool:
    """Whether the optimizer leaves what this file shows: it is returned, stored on an
    object, or handed to a call outside torch (a scheduler or trainer of another module may
    read a custom group key there). Only an optimizer bound to a local name and used only
    here can prove that a key is read nowhere."""
    statement = call.site.statement
    if call.kind == "add_param_group":
        receiver = call.node.func.value
        if not isinstance(receiver, ast.Name):
            return True
        name = receiver.id
    elif isinstance(statement, ast.Assign) and statement.value is call.node and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Name):
        name = statement.targets[0].id
    else:
        return True
    scope = call.site.scope.node
    for node in ast.walk(scope):
        if isinstance(node, ast.Return) and node.value is not None and any(
            isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)
        ):
            return True
        if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in
                                              [*node.args, *(k.value for k in node.keywords)]):
            callee = ctx.resolver.qualname(node.func, call.where) if isinstance(node.func, (ast.Name, ast.Attribute)) else None
            if not (callee or "").startswith("torch."):
                return True
    return False


def keys_read(tree: ast.AST) -> frozenset[str]:
    """String keys the file reads back from some mapping: `group["k"]`, `.get("k")`,
    `"k" in group`. A custom group key read this way is bookkeeping, not a typo."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            found.add(node.slice.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop", "setdefault"):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                found.add(node.left.value)
    return frozenset(found)


class UnknownGroupKey(Rule):
    code = "OPT006"
    name = "unknown-group-key"
    summary = "A param-group key the optimizer does not know"
    where = "both"
    what_it_does = """
        Checks the keys of param-group dicts passed to a known optimizer (or to its
        `add_param_group`) against that optimizer's hyperparameters and the keys schedulers
        and common libraries add (`initial_lr`, `lr_scale`, `param_names`, ...). It reports a
        near miss of the optimizer's own keys (edit distance 2 or less, or the same letters up
        to case and underscores) with "did you mean", and a custom key the file reads nowhere.
    """
    known_problems = """
        A custom key on an optimizer that is returned, stored on an object or handed to code
        outside torch is reported only when it misspells a real key: a scheduler elsewhere may
        read it.
    """
    why_bad = """
        `torch.optim.Optimizer.add_param_group` keeps unknown keys and `step()` ignores them.
        A typo such as `"weight_deacy": 0.0` silently leaves the group at the optimizer's
        default decay: the biases you meant to exclude are decayed after all.
    """
    example = """
        import torch

        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_deacy": 0.0}])
    """
    use_instead = """
        import torch

        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}])
    """
    references = ("https://docs.pytorch.org/docs/stable/optim.html#per-parameter-options",)
    VALID = (
        "import torch\nopt = torch.optim.SGD([{'params': a, 'lr': 0.1, 'initial_lr': 0.1}], lr=1)\n",
        "opt = make_optimizer([{'params': a, 'anything': 1}], weight_decay=0)\n",
        # a bookkeeping key the code reads back
        "import torch\nopt = torch.optim.SGD([{'params': a, 'fix_lr': True}], lr=1)\n"
        "for g in opt.param_groups:\n    if g['fix_lr']:\n        g['lr'] = 0.1\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.AdamW([{'params': a}, {'params': b, 'weight_deacy': 0.0}])\n",
        "import torch\nopt = torch.optim.SGD(w, lr=0.1)\nopt.add_param_group({'params': h, 'lr_mul': 2})\n",
    )
    # a group dict always spells its "params" key (literal key or dict(params=...))
    REQUIRES = ("params", r"""'params'|"params"|\bparams\s*=""", OPTIMIZER_NAMES)

    def check(self, ctx) -> Iterator[RawFinding]:
        read = None
        reported: set[int] = set()
        for call in ctx.optimizer_calls:
            spec = call.spec
            if spec is None or not spec.complete or call.kind == "factory":
                continue
            allowed = spec.hyperparameters | KNOWN_EXTRA_GROUP_KEYS
            for group in call.groups:
                if group.where is not None and ctx.resolver.elsewhere(group.where.scope) is not None:
                    continue  # a group written in another module: its keys are that module's text
                for key, key_node in group.keys:
                    if key in allowed or id(key_node) in reported:
                        continue
                    close = near_miss(key, spec.hyperparameters)
                    if close is None:
                        if read is None:
                            read = keys_read(ctx.tree)
                        if key in read:
                            continue  # bookkeeping the code reads back (`if group["fix_lr"]`)
                        if escapes(ctx, call):
                            continue  # a scheduler elsewhere may read it (ijepa's WD_exclude)
                    reported.add(id(key_node))
                    hint = f" (did you mean '{close}'?)" if close else ""
                    yield self.finding(
                        key_node,
                        f"param-group key '{key}' is not a hyperparameter of {spec.name}; PyTorch "
                        f"keeps it and ignores it{hint}",
                        span=call.node,
                    )
