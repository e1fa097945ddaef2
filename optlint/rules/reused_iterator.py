from __future__ import annotations

import ast
from typing import Iterator

from optlint.rules.base import RawFinding, Rule


class ReusedParamIterator(Rule):
    code = "OPT008"
    name = "reused-param-iterator"
    summary = "A one-shot iterator of parameters consumed twice"
    fixable = True
    what_it_does = """
        Finds a one-shot iterator of parameters (`X.parameters()`, `X.named_parameters()`,
        `filter(...)`, `map(...)`, a generator expression) bound to a name and used twice on
        one path of the same scope: two optimizers, a `len(list(params))` or a logging loop
        first. Uses in branches that exclude each other (`if opt == "sgd": ... else: ...`,
        or after an `if` that returns) consume it once.
    """
    why_bad = """
        The first consumer exhausts the iterator and the second receives nothing: an optimizer
        built second gets `ValueError: optimizer got an empty parameter list`, or an empty
        group that silently trains nothing.
    """
    example = """
        params = model.parameters()
        print(sum(p.numel() for p in params))
        optimizer = torch.optim.AdamW(params)
    """
    use_instead = """
        params = list(model.parameters())
    """
    fix_safety = (
        "Unsafe (the second consumer now gets the parameters it silently never got, so an optimizer "
        "that trained nothing starts training them; applied only with `--unsafe-fixes`): wraps the "
        "binding in `list(...)`. It does not touch any optimizer's groups."
    )
    VALID = (
        "params = list(model.parameters())\na = len(params)\nb = sorted(params)\n",
        "params = model.parameters()\nif kind == 'sgd':\n    opt = SGD(params, lr=0.1)\nelse:\n    opt = Adam(params)\n",
    )
    INVALID = ("params = model.parameters()\nn = len(list(params))\nopt = SGD(params, lr=0.1)\n",)
    # A one-shot iterator bound to a name: `x = <...>.parameters(`, `x = filter(` / `map(` /
    # `iter(` / `chain(`, or `x = (` (a generator), also through `:=` and line continuations.
    REQUIRES = (
        "parameters",
        r"parameters\s*\(",
        r"=\s*(?:\\\s*)*(?:\(|[^\n]*?\.(?:named_)?parameters\s*\(|(?:\w+\.)*(?:filter|map|iter|chain)\s*\()",
    )

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.model.scopes import BindingKind

        for scope in ctx.model.scopes:
            for name, bindings in scope.bindings.items():
                candidates = [b for b in bindings if b.kind is BindingKind.ASSIGN and _one_shot(b, ctx)]
                if not candidates:
                    continue
                uses = _Uses(name, scope.node)
                if uses.sequence_use:
                    continue  # `parameters()` of a non-module (GradBucket, say) may well return a list
                for binding in candidates:
                    yield from self._check_binding(ctx, name, binding, bindings, uses)

    def _check_binding(self, ctx, name, binding, bindings, uses):
        from optlint.static.fix.edits import RawEdit, RawFix

        start = (binding.node.end_lineno, binding.node.end_col_offset)
        later = [
            (b.node.lineno, b.node.col_offset) for b in bindings
            if b is not binding and b.node is not None and (b.node.lineno, b.node.col_offset) > start
        ]
        stop = min(later) if later else None
        found = [u for u in uses.found if u[0] > start and (stop is None or u[0] < stop)]
        for i, (position, node, path) in enumerate(found):
            first = next((f for f in found[:i] if not _exclusive(f[2], path)), None)
            if first is None:
                continue
            value = binding.node
            # Unsafe: the use on this line starts getting parameters it never got (an
            # optimizer that trained nothing now trains them), which the user must want.
            fix = RawFix(
                f"materialize `{name}` with list(...)",
                [RawEdit(value, lambda layout, view: f"list({_unparenthesized(view.text(value).strip())})", with_parens=True)],
                applicability="unsafe",
                caveats=[f"line {node.lineno} starts getting the parameters it got none of before"],
            )
            yield self.finding(
                node,
                f"`{name}` is a one-shot iterator of parameters, already consumed on line {first[0][0]}: "
                "this use gets nothing; bind `list(...)` instead",
                fix=fix,
            )
            return


def _unparenthesized(text: str) -> str:
    """`(p for p in x)` -> `p for p in x` (list(p for p in x), not list((p for p in x)))."""
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _exclusive(a: tuple, b: tuple) -> bool:
    """Two uses part at two arms of one if/try/match statement: never both on one path."""
    for x, y in zip(a, b):
        if x != y:
            return x[0] == y[0] and x[1] != y[1]
    return False


class _Uses:
    """Loads of one name in one scope (nested functions, classes and lambdas excluded), each
    with its position and branch path (a tuple of (statement id, arm) pairs)."""

    def __init__(self, name: str, root) -> None:
        self.name = name
        self.found: list[tuple[tuple[int, int], ast.Name, tuple]] = []
        self.sequence_use = False  # len(x) or x[i]: only a sequence allows that, not an iterator
        body = root.body if isinstance(root, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else [root.body]
        self._block(body, ())
        self.found.sort(key=lambda use: use[0])

    def _block(self, statements, path) -> None:
        for statement in statements:
            self._node(statement, path)
            if isinstance(statement, ast.If) and not statement.orelse and _leaves(statement.body):
                # `if c: return SGD(params)` then `return AdamW(params)`: what follows runs
                # only when the branch did not, as if it were the `else`.
                path = path + ((id(statement), 1),)

    def _node(self, node, path) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, ast.If):
            self._node(node.test, path)
            self._block(node.body, path + ((id(node), 0),))
            if not node.orelse and _leaves(node.body):
                return
            self._block(node.orelse, path + ((id(node), 1),))
            return
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._block(node.body + node.orelse, path + ((id(node), 0),))
            for arm, handler in enumerate(node.handlers, 1):
                self._block(handler.body, path + ((id(node), arm),))
            self._block(node.finalbody, path)
            return
        if isinstance(node, ast.Match):
            self._node(node.subject, path)
            for arm, case in enumerate(node.cases):
                if case.guard is not None:
                    self._node(case.guard, path + ((id(node), arm),))
                self._block(case.body, path + ((id(node), arm),))
            return
        if isinstance(node, ast.IfExp):
            self._node(node.test, path)
            self._node(node.body, path + ((id(node), 0),))
            self._node(node.orelse, path + ((id(node), 1),))
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" \
                and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id == self.name:
            self.sequence_use = True
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == self.name:
            self.sequence_use = True
        if isinstance(node, ast.Name):
            if node.id == self.name and isinstance(node.ctx, ast.Load):
                self.found.append(((node.lineno, node.col_offset), node, path))
            return
        for child in ast.iter_child_nodes(node):
            self._node(child, path)


def _leaves(body: list) -> bool:
    """The block never falls through: it ends in return, raise, continue or break."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


_ONE_SHOT_CALLEES = frozenset({"parameters", "named_parameters", "filter", "map", "iter", "chain"})


def _one_shot(binding, ctx) -> bool:
    from optlint.static.model.params import PARAMETER_METHODS, params_module
    from optlint.static.model.values import Where

    node = binding.node
    if isinstance(node, ast.Call):  # cheap first: most assignments call something else
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
        if last not in _ONE_SHOT_CALLEES:
            return False
    elif not isinstance(node, ast.GeneratorExp):
        return False
    where = Where.of_binding(binding)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            return True
        name = ctx.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        return name in ("filter", "map", "iter", "itertools.chain", "chain") and params_module(node, ctx.resolver, where) is not None
    if isinstance(node, ast.GeneratorExp):
        return params_module(node, ctx.resolver, where) is not None
    return False
