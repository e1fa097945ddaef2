from __future__ import annotations

from typing import Iterator

import libcst as cst

from optlint.analysis.loops import params_module
from optlint.analysis.names import source_text
from optlint.analysis.resolve import Where
from optlint.analysis.walk import walk
from optlint.fixes import RawEdit, RawFix, code
from optlint.rules.base import RawFinding, Rule, register


class _Uses:
    """Loads of one name in one scope (nested functions, classes and lambdas excluded)."""

    def __init__(self, name: str, root) -> None:
        self.name, self.root = name, root
        self.found: list[cst.Name] = []
        self.sequence_use = False  # len(x) or x[i]: only a sequence allows that, not an iterator
        self._targets: set[int] = set()

    def _skip_targets(self, target) -> None:
        for node in _names_in(target):
            self._targets.add(id(node))

    def visit_FunctionDef(self, node) -> bool:
        return node is self.root

    def visit_ClassDef(self, node) -> bool:
        return node is self.root

    def visit_Lambda(self, node) -> bool:
        return node is self.root

    def visit_AssignTarget(self, node) -> None:
        self._skip_targets(node.target)

    def visit_For(self, node) -> None:
        self._skip_targets(node.target)

    def visit_CompFor(self, node) -> None:
        self._skip_targets(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "len" and len(node.args) == 1:
            arg = node.args[0].value
            if isinstance(arg, cst.Name) and arg.value == self.name:
                self.sequence_use = True

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.sequence_use = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._targets:
            self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.visit_Name(node.value) if isinstance(node.value, cst.Name) else None
        return not isinstance(node.value, cst.Name)  # never count the `.attr` part


def _names_in(target):
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_in(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names_in(target.value)


@register
class ReusedParamIterator(Rule):
    code = "OPT008"
    name = "reused-param-iterator"
    summary = "A one-shot iterator of parameters consumed twice"
    fixable = True
    what_it_does = """
        Finds a one-shot iterator of parameters (`X.parameters()`, `X.named_parameters()`,
        `filter(...)`, `map(...)`, a generator expression) bound to a name and used twice in
        the same scope: two optimizers, a `len(list(params))` or a logging loop first.
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
    fix_safety = "Unsafe (the second consumer now gets the parameters): wraps the binding in `list(...)`."
    VALID = ("params = list(model.parameters())\na = len(params)\nb = sorted(params)\n",)
    INVALID = ("params = model.parameters()\nn = len(list(params))\nopt = SGD(params, lr=0.1)\n",)
    REQUIRES = ("parameters", r"parameters\s*\(")

    def may_fire_tree(self, summary) -> bool:
        """Some name is bound to a call or generator that may be one-shot, and loaded twice."""
        return summary.one_shot_reused()

    def check(self, ctx) -> Iterator[RawFinding]:
        for scope in ctx.facts.scopes:
            for name, bindings in scope.bindings.items():
                for binding in bindings:
                    if binding.kind != "assign" or not _one_shot(binding, ctx):
                        continue
                    yield from self._check_binding(ctx, scope, name, binding, bindings)

    def _check_binding(self, ctx, scope, name, binding, bindings):
        root = scope.node if scope.node is not None else ctx.module
        visitor = _Uses(name, root)
        walk(visitor, root)
        if len(visitor.found) < 2 or visitor.sequence_use:
            return  # `parameters()` of a non-module (GradBucket, say) may well return a list
        positions = ctx.positions

        def at(node, end=False):
            point = positions[node].end if end else positions[node].start
            return point.line, point.column

        start = at(binding.node, end=True)
        later = [at(b.node) for b in bindings if b is not binding and b.node is not None and at(b.node) > start]
        stop = min(later) if later else None
        uses = [n for n in visitor.found if at(n) > start and (stop is None or at(n) < stop)]
        if len(uses) < 2:
            return
        first = positions[uses[0]].start.line
        value_text = code(binding.node).strip()
        if isinstance(binding.node, cst.GeneratorExp) and value_text.startswith("("):
            value_text = value_text[1:-1]  # list(p for p in ...) rather than list((p for p in ...))
        fix = RawFix(f"materialize `{name}` with list(...)", [RawEdit(binding.node, lambda _: f"list({value_text})", with_parens=True)])
        yield RawFinding(
            self.code,
            f"`{name}` is a one-shot iterator of parameters, already consumed on line {first}: "
            "this use gets nothing; bind `list(...)` instead",
            uses[1],
            uses[1],
            fix,
        )


def _one_shot(binding, ctx) -> bool:
    node = binding.node
    where = Where.of_binding(binding)
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            return True
        name = ctx.resolver.qualname(func, where) if isinstance(func, (cst.Name, cst.Attribute)) else None
        return name in ("filter", "map", "iter", "itertools.chain", "chain") and params_module(node, ctx.resolver, where) is not None
    if isinstance(node, cst.GeneratorExp):
        return params_module(node, ctx.resolver, where) is not None
    return False
