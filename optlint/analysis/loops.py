"""Loops and comprehensions over parameters: hand-written penalties and name-substring splits."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from optlint.analysis.facts import LoopSite
from optlint.analysis.names import _EMPTY_MODULE as _CODE
from optlint.analysis.names import dotted_name, source_text
from optlint.analysis.resolve import Resolver, Where, _requires_grad_only


def loop_parts(node) -> tuple[cst.BaseExpression, cst.BaseExpression, list] | None:
    """(target, iterable, conditions) of a for statement or a one-`for` comprehension."""
    if isinstance(node, cst.For):
        return node.target, node.iter, []
    comp = getattr(node, "for_in", None)
    if comp is None or comp.inner_for_in is not None:
        return None
    return comp.target, comp.iter, [c.test for c in comp.ifs]


def param_var(target) -> str | None:
    """The tensor variable of ``p`` or ``(n, p)`` targets."""
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Tuple) and target.elements and isinstance(target.elements[-1].value, cst.Name):
        return target.elements[-1].value.value
    return None


def name_var(target) -> str | None:
    """The name variable of an ``(n, p)`` target over named_parameters()."""
    if isinstance(target, cst.Tuple) and len(target.elements) == 2 and isinstance(target.elements[0].value, cst.Name):
        return target.elements[0].value.value
    return None


def params_module(node, resolver: Resolver, where: Where, depth: int = 0) -> str | None:
    """The module whose parameters (filtered or not) `node` iterates, as written."""
    if depth > 8 or node is None:
        return None
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            return source_text(func.value)
        for arg in node.args:  # list(...), filter(f, ...), chain(...)
            found = params_module(arg.value, resolver, where, depth + 1)
            if found:
                return found
        return None
    if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return params_module(node.for_in.iter, resolver, where, depth + 1)
    if isinstance(node, cst.Name):
        for binding in resolver.reaching(node.value, where):
            if binding.kind in ("assign", "augassign"):
                found = params_module(binding.node, resolver, Where.of_binding(binding), depth + 1)
                if found:
                    return found
    return None


# -- penalties ----------------------------------------------------------------------------


def penalty_kind(expr, var: str, losses: dict[str, str] | None = None) -> str | None:
    """"L1" or "L2" if `expr` is a norm/abs/square of the variable `var`, else None.

    `losses` maps names bound to loss objects (``crit = nn.L1Loss()``) to their class name.
    """
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and losses and expr.func.value in losses:
        return _loss_against_zeros(losses[expr.func.value], expr.args, var)  # crit(p, zeros)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Call):
        # nn.L1Loss(reduction="sum")(p, torch.zeros_like(p)), nn.MSELoss()(p, zeros)
        loss = (dotted_name(expr.func.func) or "").rsplit(".", 1)[-1]
        return _loss_against_zeros(loss, expr.args, var)
    if isinstance(expr, cst.Call):
        func = dotted_name(expr.func) or ""
        if func.rsplit(".", 1)[-1] in ("l1_loss", "mse_loss"):  # F.l1_loss(p, torch.zeros_like(p))
            return _loss_against_zeros(func.rsplit(".", 1)[-1], expr.args, var)
        args = expr.args
        first = dotted_name(args[0].value) if args else None
        method_on_var = isinstance(expr.func, cst.Attribute) and _is_var_expr(expr.func.value, var)
        last = expr.func.attr.value if isinstance(expr.func, cst.Attribute) else func
        if isinstance(expr.func, cst.Attribute) and last in ("sum", "mean") and not args:
            return penalty_kind(expr.func.value, var, losses)  # p.abs().sum(), (p ** 2).sum()
        if method_on_var and last == "abs":
            return "L1"
        if method_on_var and last in ("square",):
            return "L2"
        if method_on_var and last == "pow" and args and _number(args[0].value) == 2:
            return "L2"
        if method_on_var and last == "norm":
            return "L1" if args and _number(args[0].value) == 1 else "L2"
        if func in ("torch.norm", "torch.linalg.norm", "torch.linalg.vector_norm") and first == var:
            order = _number(args[1].value) if len(args) > 1 else None
            for arg in args[1:]:
                if arg.keyword is not None and arg.keyword.value in ("p", "ord"):
                    order = _number(arg.value)
            return "L1" if order == 1 else "L2"
        if func in ("torch.sum", "torch.mean") and args:
            return penalty_kind(args[0].value, var, losses)
        if func == "torch.abs" and first == var:
            return "L1"
        if func == "torch.square" and first == var:
            return "L2"
        if func in ("torch.pow",) and first == var and len(args) > 1 and _number(args[1].value) == 2:
            return "L2"
        return None
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Power) and _is_var_expr(expr.left, var) and _number(expr.right) == 2:
            return "L2"
        return penalty_kind(expr.left, var, losses) or penalty_kind(expr.right, var, losses)
    return None


_LOSSES = {"L1Loss": "L1", "l1_loss": "L1", "MSELoss": "L2", "mse_loss": "L2"}


def _loss_against_zeros(loss: str, args, var: str) -> str | None:
    if loss not in _LOSSES or len(args) < 2 or dotted_name(args[0].value) != var:
        return None
    target = next((a.value for a in args[1:] if a.keyword is not None and a.keyword.value == "target"), args[1].value)
    text = _CODE.code_for_node(target)
    zero = "zero" in text or (isinstance(target, (cst.Integer, cst.Float)) and target.evaluated_value == 0)
    return _LOSSES[loss] if zero else None


def _is_var_expr(node, var: str) -> bool:
    while isinstance(node, (cst.Call, cst.Attribute)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return isinstance(node, cst.Name) and node.value == var


def _number(node):
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    return None


@dataclass
class Penalty:
    site: LoopSite
    kind: str  # "L1" or "L2"
    module: str | None  # module whose parameters it iterates
    all_params: bool  # every parameter (no ndim / name filter)
    node: cst.CSTNode  # where to report
    var: str


def loss_objects(facts) -> dict[str, str]:
    """Names bound to ``nn.L1Loss(...)`` / ``nn.MSELoss(...)`` anywhere in the file."""
    losses = {}
    for scope in facts.scopes:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if binding.kind == "assign" and isinstance(binding.node, cst.Call):
                    cls = (dotted_name(binding.node.func) or "").rsplit(".", 1)[-1]
                    if cls in ("L1Loss", "MSELoss"):
                        losses[name] = cls
    return losses


def find_penalties(loops: list[LoopSite], resolver: Resolver) -> list[Penalty]:
    found = []
    losses = loss_objects(resolver.facts)
    for site in loops:
        parts = loop_parts(site.node)
        if parts is None:
            continue
        target, iterable, conditions = parts
        var = param_var(target)
        where = Where(site.scope, site.order, site.path)
        module = params_module(iterable, resolver, where)
        if var is None or module is None:
            continue
        if isinstance(site.node, cst.For):
            kind, node = _loop_penalty(site.node, var, losses)
            filtered = _loop_filtered(site.node, var)
        else:
            kind, node = penalty_kind(site.node.elt, var, losses), site.node
            filtered = not all(_requires_grad_only(c, var) for c in conditions)
        if kind is None:
            continue
        everything = resolver.all_params(iterable, where) is not None and not filtered
        found.append(Penalty(site, kind, module, everything, node, var))
    return found


def _loop_penalty(loop: cst.For, var: str, losses: dict[str, str]):
    """An accumulation `acc += f(p)` / `acc = acc + f(p)` directly in the loop body."""
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            value = None
            if isinstance(small, cst.AugAssign) and isinstance(small.operator, cst.AddAssign):
                value = small.value
            elif isinstance(small, cst.Assign) and isinstance(small.value, cst.BinaryOperation):
                value = small.value
            if value is not None:
                kind = penalty_kind(value, var, losses)
                if kind:
                    return kind, statement
    return None, None


def _loop_filtered(loop: cst.For, var: str) -> bool:
    """A loop whose body starts by skipping or selecting parameters (`if p.ndim < 2: continue`)."""
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []
    return any(isinstance(statement, cst.If) for statement in body[:2])


# -- name-substring splits -------------------------------------------------------------------


def substring_tests(expr, name: str) -> list[tuple[cst.CSTNode, bool]] | None:
    """If `expr` is made only of substring tests on `name` (joined by and/or/not): each test
    and whether it selects matching names (True for `in`, False for `not in`). Else None."""
    if isinstance(expr, cst.BooleanOperation):
        left, right = substring_tests(expr.left, name), substring_tests(expr.right, name)
        return None if left is None or right is None else left + right
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        inner = substring_tests(expr.expression, name)
        return None if inner is None else [(node, not positive) for node, positive in inner]
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        target = expr.comparisons[0]
        if isinstance(target.operator, (cst.In, cst.NotIn)) and _is_name_text(target.comparator, name):
            if isinstance(expr.left, (cst.SimpleString, cst.Name, cst.ConcatenatedString)):
                return [(expr, isinstance(target.operator, cst.In))]
    if isinstance(expr, cst.Call) and dotted_name(expr.func) == "any" and len(expr.args) == 1:
        gen = expr.args[0].value
        if isinstance(gen, cst.GeneratorExp) and isinstance(gen.elt, cst.Comparison):
            inner = substring_tests(gen.elt, name)
            if inner is not None:
                return [(expr, positive) for _, positive in inner]
    return None


def _is_name_text(node, name: str) -> bool:
    """`n`, or `n.lower()` / `n.casefold()` / `n.split(...)`."""
    if isinstance(node, cst.Name):
        return node.value == name
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return isinstance(node.func.value, cst.Name) and node.func.value.value == name and node.func.attr.value in (
            "lower", "casefold", "upper", "split",
        )
    return False
