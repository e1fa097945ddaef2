from __future__ import annotations

import ast
import bisect
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
        or `if ...: return f(params)` / `elif ...: return g(params)` and a use after them)
        consume it once. `next(params)` and `params.__next__()` read the iterator on purpose
        (to peek at a parameter): they are not a consumer.
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
        "binding in `list(...)`. It does not touch any optimizer's groups. No fix is offered where "
        "the code reads the name with `next()`: a list is not an iterator."
    )
    VALID = (
        "params = list(model.parameters())\na = len(params)\nb = sorted(params)\n",
        "params = model.parameters()\nif kind == 'sgd':\n    opt = SGD(params, lr=0.1)\nelse:\n    opt = Adam(params)\n",
        "params = model.parameters()\nfirst = next(params)\nopt = SGD(params, lr=0.1)\n",
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
            candidates: dict[str, list] = {}
            for name, bindings in scope.bindings.items():
                found = [b for b in bindings if b.kind is BindingKind.ASSIGN and _one_shot(b, ctx)]
                if found:
                    candidates[name] = found
            if not candidates:
                continue
            uses = _Uses(set(candidates), scope.node, ctx.model)  # one walk for every name
            for name, found in candidates.items():
                if name in uses.sequence_use:
                    continue  # `parameters()` of a non-module (GradBucket, say) may well return a list
                # Where each binding of the name starts, in source order: a binding's uses end
                # where the next one begins.
                starts = sorted(
                    (b.node.lineno, b.node.col_offset) for b in scope.bindings[name] if b.node is not None
                )
                name_uses = uses.found.get(name, [])
                positions = [use[0] for use in name_uses]
                for binding in found:
                    yield from self._check_binding(ctx, name, binding, starts, name_uses, positions, uses)

    def _check_binding(self, ctx, name, binding, starts, name_uses, positions, uses):
        from optlint.static.fix.edits import RawEdit, RawFix

        start = (binding.node.end_lineno, binding.node.end_col_offset)
        later = bisect.bisect_right(starts, start)
        stop = starts[later] if later < len(starts) else None
        low = bisect.bisect_right(positions, start)
        high = bisect.bisect_left(positions, stop) if stop is not None else len(positions)
        consumed = _Consumed(uses.arm_of, ctx.model)
        for position, node, path in name_uses[low:high]:
            first = consumed.on_a_path_with(path)
            consumed.add(path, position)
            if first is None:
                continue
            value = binding.node
            fix = None
            if name not in uses.iterator_read:
                # A list is no iterator: `next(params)` elsewhere would raise TypeError.
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
                f"`{name}` is a one-shot iterator of parameters, already consumed on line {first[0]}: "
                "this use gets nothing; bind `list(...)` instead",
                fix=fix,
            )
            return


def _unparenthesized(text: str) -> str:
    """`(p for p in x)` -> `p for p in x` (list(p for p in x), not list((p for p in x)))."""
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


class _Consumed:
    """The paths of the uses seen so far, as a trie of blocks, answering "did an earlier use
    run on a path with this one?" in time linear in the path's length (an `elif` chain of
    thousands of arms, one use in each, stays linear, not cubic).

    Two paths are on one run unless they part at two different arms of one statement; so
    at each trie node along the new path, an earlier path that parts there is compatible
    when it ends there (it is a prefix), or when it continues with a block that is not
    another arm of the statement the new path's block belongs to.
    """

    def __init__(self, arm_of, model) -> None:
        self.arm_of = arm_of
        self.model = model
        self.root = _Node()

    def on_a_path_with(self, path: tuple):
        self.model.path_steps += len(path) + 1
        node = self.root
        for block in path:
            if node.first is not None:
                return node.first  # an earlier use's path ends here: it ran before this one
            owner, arm = self.arm_of(block)
            others = len(node.children) - (block in node.children)
            same_statement = node.by_owner.get(owner)
            excluded = sum(same_statement.values()) - same_statement.get(arm, 0) if same_statement else 0
            if others > excluded:
                return node.any_compatible(self.arm_of, owner, arm, block)
            node = node.children.get(block)
            if node is None:
                return None
        return node.first if node.first is not None else node.any_first()

    def add(self, path: tuple, position) -> None:
        self.model.path_steps += len(path) + 1
        node = self.root
        for block in path:
            child = node.children.get(block)
            if child is None:
                child = node.children[block] = _Node()
                owner, arm = self.arm_of(block)
                arms = node.by_owner.setdefault(owner, {})
                arms[arm] = arms.get(arm, 0) + 1
            if child.earliest is None:
                child.earliest = position
            node = child
        if node.first is None:
            node.first = position
        if node.earliest is None:
            node.earliest = position


class _Node:
    __slots__ = ("children", "by_owner", "first", "earliest")

    def __init__(self) -> None:
        self.children: dict = {}
        self.by_owner: dict = {}  # owner statement -> {arm: number of children blocks}
        self.first = None  # the first use whose path ends at this node
        self.earliest = None  # the first use whose path passes through this node

    def any_first(self):
        return next((child.earliest for child in self.children.values()), None)

    def any_compatible(self, arm_of, owner, arm, block):
        for other, child in self.children.items():
            if other == block:
                continue
            other_owner, other_arm = arm_of(other)
            if other_owner != owner or other_arm == arm:
                return child.earliest
        return None


class _Uses:
    """Loads of the given names in one scope (nested functions, classes and lambdas
    excluded), each with its position and branch path: the flow model's path of the
    statement it sits in (early exits included), plus an arm of each `a if c else b` it
    sits in (pseudo-blocks with negative ids, known only here)."""

    def __init__(self, names: set, root, model) -> None:
        self.names = names
        self.model = model
        self.found: dict[str, list] = {}
        self.sequence_use: set[str] = set()  # len(x) or x[i]: only a sequence allows that, not an iterator
        self.iterator_read: set[str] = set()  # next(x) or x.__next__(): read as an iterator on purpose
        self._arms: dict[int, tuple[int, int]] = {}
        self._paths = model.statement_paths
        if isinstance(root, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for statement in root.body:
                self._statement(statement)
        else:  # a lambda
            self._expression(root.body, ())
        for uses in self.found.values():
            uses.sort(key=lambda use: use[0])

    def arm_of(self, block: int) -> tuple[int, int]:
        return self.model.branches.arms.get(block) or self._arms.get(block) or (block, 0)

    def _statement(self, statement) -> None:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        path = self._paths.get(id(statement), ())
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                self._statement(child)
            elif isinstance(child, ast.excepthandler):
                for inner in child.body:
                    self._statement(inner)
            elif isinstance(child, ast.match_case):
                if child.guard is not None:
                    self._expression(child.guard, self._paths.get(id(child), path))
                for inner in child.body:
                    self._statement(inner)
            else:
                self._expression(child, path)

    def _expression(self, node, path) -> None:
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.IfExp):
            self._expression(node.test, path)
            for arm, branch in enumerate((node.body, node.orelse)):
                block = -(len(self._arms) + 1)
                self._arms[block] = (id(node), arm)
                self._expression(branch, path + (block,))
            return
        if isinstance(node, ast.Name):
            if node.id in self.names and isinstance(node.ctx, ast.Load):
                self.found.setdefault(node.id, []).append(((node.lineno, node.col_offset), node, path))
            return
        if isinstance(node, ast.Call):
            read = _iterator_read(node)
            if read is not None and read in self.names:
                self.iterator_read.add(read)
                for arg in node.args[1:]:
                    self._expression(arg, path)
                return  # `next(params)` peeks or consumes on purpose: not a second consumer
            func = node.func
            if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1 \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in self.names:
                self.sequence_use.add(node.args[0].id)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in self.names:
            self.sequence_use.add(node.value.id)
        for child in ast.iter_child_nodes(node):
            self._expression(child, path)


def _iterator_read(call: ast.Call) -> str | None:
    """The name `next(name[, default])` or `name.__next__()` reads as an iterator."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "next" and 1 <= len(call.args) <= 2 and not call.keywords:
        arg = call.args[0]
        return arg.id if isinstance(arg, ast.Name) else None
    if isinstance(func, ast.Attribute) and func.attr == "__next__" and not call.args and isinstance(func.value, ast.Name):
        return func.value.id
    return None


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
