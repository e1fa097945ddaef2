"""Hand-written L1/L2 penalties over parameters, and whether they reach a loss.

A penalty is a norm, ``abs`` or square of the loop's parameter variable accumulated over a
module's parameters (a generator, a comprehension, or ``acc += ...`` in a ``for`` loop).
It matters only if it reaches a loss: the value it is bound to flows into something that
is ``.backward()``-ed (``loss.backward()``, ``accelerator.backward(loss)``,
``scaler.scale(loss).backward()``, ``self.manual_backward(loss)``), or is returned from a
function whose name says it computes a loss or a training step (Lightning backpropagates
what ``training_step`` returns). Norms computed for logging, clipping or monitoring never
reach one and are not penalties.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from optlint.static.model.params import ParamSets, params_module, requires_grad_only, target_names
from optlint.static.model.scopes import FileModel, Site, dotted_name
from optlint.static.model.values import Resolver, Where

_LOSSES = {"L1Loss": "L1", "l1_loss": "L1", "MSELoss": "L2", "mse_loss": "L2"}
#: Methods that return the tensor itself in another dtype or shape: `p.float().norm()`.
_SAME_TENSOR = frozenset({"data", "float", "double", "flatten", "view", "reshape"})
_BACKWARD_FUNCTIONS = frozenset({"backward", "manual_backward"})
_LOSS_FUNCTION_WORDS = ("loss", "training_step", "train_step", "regulari", "penalty")


def loop_parts(node) -> tuple[ast.expr, ast.expr, list] | None:
    """(target, iterable, conditions) of a for statement or a one-`for` comprehension."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return node.target, node.iter, []
    generators = getattr(node, "generators", None)
    if not generators or len(generators) != 1:
        return None
    return generators[0].target, generators[0].iter, list(generators[0].ifs)


def param_var(target) -> str | None:
    """The tensor variable of ``p`` or ``(n, p)`` targets."""
    names = target_names(target)
    return names[-1] if names else None


def name_var(target) -> str | None:
    """The name variable of an ``(n, p)`` target over named_parameters()."""
    names = target_names(target)
    return names[0] if names and len(names) == 2 else None


def _number(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    return None


def _is_var_expr(node, var: str) -> bool:
    """`p`, or `p.data` / `p.float()` / `p.view(-1)`: the parameter itself, not `p.grad`."""
    while True:
        if isinstance(node, ast.Name):
            return node.id == var
        if isinstance(node, ast.Attribute) and node.attr in _SAME_TENSOR:
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SAME_TENSOR:
            node = node.func.value
        else:
            return False


def penalty_kind(expr, var: str, losses: dict[str, str] | None = None) -> str | None:
    """"L1" or "L2" if `expr` is a norm/abs/square of the variable `var`, else None.

    `losses` maps names bound to loss objects (``crit = nn.L1Loss()``) to their class name.
    """
    if isinstance(expr, ast.Call):
        func_name = dotted_name(expr.func) or ""
        last = expr.func.attr if isinstance(expr.func, ast.Attribute) else func_name.rsplit(".", 1)[-1]
        args = expr.args
        if isinstance(expr.func, ast.Name) and losses and expr.func.id in losses:
            return _loss_against_zeros(losses[expr.func.id], expr, var)  # crit(p, zeros)
        if isinstance(expr.func, ast.Call):
            # nn.L1Loss(reduction="sum")(p, torch.zeros_like(p)), nn.MSELoss()(p, zeros)
            loss = (dotted_name(expr.func.func) or "").rsplit(".", 1)[-1]
            return _loss_against_zeros(loss, expr, var)
        if last in ("l1_loss", "mse_loss"):  # F.l1_loss(p, torch.zeros_like(p))
            return _loss_against_zeros(last, expr, var)
        first_is_var = bool(args) and _is_var_expr(args[0], var)
        method_on_var = isinstance(expr.func, ast.Attribute) and _is_var_expr(expr.func.value, var)
        if isinstance(expr.func, ast.Attribute) and last in ("sum", "mean") and not args:
            return penalty_kind(expr.func.value, var, losses)  # p.abs().sum(), (p ** 2).sum()
        if method_on_var and last == "abs":
            return "L1"
        if method_on_var and last == "square":
            return "L2"
        if method_on_var and last == "pow" and args and _number(args[0]) == 2:
            return "L2"
        if method_on_var and last == "norm":
            order = _number(args[0]) if args else None
            for keyword in expr.keywords:
                if keyword.arg == "p":
                    order = _number(keyword.value)
            return "L1" if order == 1 else "L2"
        if func_name in ("torch.norm", "torch.linalg.norm", "torch.linalg.vector_norm") and first_is_var:
            order = _number(args[1]) if len(args) > 1 else None
            for keyword in expr.keywords:
                if keyword.arg in ("p", "ord"):
                    order = _number(keyword.value)
            return "L1" if order == 1 else "L2"
        if func_name in ("torch.sum", "torch.mean") and args:
            return penalty_kind(args[0], var, losses)
        if func_name == "torch.abs" and first_is_var:
            return "L1"
        if func_name == "torch.square" and first_is_var:
            return "L2"
        if func_name == "torch.pow" and first_is_var and len(args) > 1 and _number(args[1]) == 2:
            return "L2"
        return None
    if isinstance(expr, ast.BinOp):
        if isinstance(expr.op, ast.Pow) and _is_var_expr(expr.left, var) and _number(expr.right) == 2:
            return "L2"
        return penalty_kind(expr.left, var, losses) or penalty_kind(expr.right, var, losses)
    return None


def _loss_against_zeros(loss: str, call: ast.Call, var: str) -> str | None:
    args = call.args
    if loss not in _LOSSES or not args or not _is_var_expr(args[0], var):
        return None
    target = next((k.value for k in call.keywords if k.arg == "target"), args[1] if len(args) > 1 else None)
    if target is None:
        return None
    zero = _number(target) == 0 or any(
        isinstance(n, ast.Call) and "zero" in (dotted_name(n.func) or "") for n in ast.walk(target)
    )
    return _LOSSES[loss] if zero else None


@dataclass
class Penalty:
    site: Site  # the loop or comprehension
    kind: str  # "L1" or "L2"
    module: str | None  # module whose parameters it iterates
    all_params: bool  # every parameter (no ndim / name filter)
    node: ast.AST  # where to report: the comprehension, or the accumulating statement
    var: str


def loss_objects(model: FileModel) -> dict[str, str]:
    """Names bound to ``nn.L1Loss(...)`` / ``nn.MSELoss(...)`` anywhere in the file."""
    losses = {}
    for scope in model.scopes:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if isinstance(binding.node, ast.Call):
                    cls = (dotted_name(binding.node.func) or "").rsplit(".", 1)[-1]
                    if cls in ("L1Loss", "MSELoss"):
                        losses[name] = cls
    return losses


class Penalties:
    def __init__(self, model: FileModel, resolver: Resolver, params: ParamSets) -> None:
        self.model = model
        self.resolver = resolver
        self.params = params
        self._loss_flow: _LossFlow | None = None

    def find(self) -> list[Penalty]:
        found = []
        losses = loss_objects(self.model)
        for site in self.model.loops:
            parts = loop_parts(site.node)
            if parts is None:
                continue
            target, iterable, conditions = parts
            var = param_var(target)
            where = Where.of_site(site)
            if var is None:
                continue
            module = params_module(iterable, self.resolver, where)
            if module is None:
                continue
            if isinstance(site.node, (ast.For, ast.AsyncFor)):
                kind, node, accumulator = _loop_penalty(site.node, var, losses)
                filtered = _loop_filtered(site.node)
            else:
                element = site.node.value if isinstance(site.node, ast.DictComp) else site.node.elt
                kind, node, accumulator = penalty_kind(element, var, losses), site.node, None
                filtered = not all(requires_grad_only(c, var) for c in conditions)
            if kind is None:
                continue
            if not self._reaches_loss(site, node, accumulator):
                continue
            everything = self.params.all_params(iterable, where) is not None and not filtered
            found.append(Penalty(site, kind, module, everything, node, var))
        return found

    def _reaches_loss(self, site: Site, node: ast.AST, accumulator: str | None) -> bool:
        if self._loss_flow is None:
            self._loss_flow = _LossFlow(self.model)
        flow = self._loss_flow
        if accumulator is not None:
            return flow.reaches(accumulator, node)
        # The comprehension's value: the statement it sits in binds it, returns it, or adds it.
        statement = site.statement
        if statement is None:
            return False
        if isinstance(statement, ast.Return):
            return flow.returned_into_loss(site.scope)
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [dotted_name(t) for t in targets]
            return any(name is not None and flow.reaches(name, statement) for name in names)
        if isinstance(statement, ast.Expr):
            return flow.is_backward_arg(statement.value)
        return False


def _loop_penalty(loop: ast.For, var: str, losses: dict[str, str]):
    """An accumulation `acc += f(p)` / `acc = acc + f(p)` directly in the loop body."""
    for statement in loop.body:
        value = target = None
        if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Add):
            value, target = statement.value, statement.target
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp) and len(statement.targets) == 1:
            value, target = statement.value, statement.targets[0]
        if value is not None:
            kind = penalty_kind(value, var, losses)
            if kind:
                return kind, statement, dotted_name(target)
    return None, None, None


def _loop_filtered(loop: ast.For) -> bool:
    """A loop whose body starts by skipping or selecting parameters (`if p.ndim < 2: continue`)."""
    return any(isinstance(statement, ast.If) for statement in loop.body[:2])


class _LossFlow:
    """Which names (file-wide, by name) carry a value into a backward pass.

    Deliberately coarse: names are followed by their text across scopes, which can only
    make a penalty *more* likely to count; the precision comes from requiring a backward
    call (or a loss-named function's return) at the end of the flow.
    """

    def __init__(self, model: FileModel) -> None:
        self.model = model
        self.backward_names: set[str] = set()
        self.backward_nodes: list[ast.AST] = []
        for site in model.calls:
            call = site.node
            func = call.func
            last = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
            if last in _BACKWARD_FUNCTIONS:
                receiver = func.value if isinstance(func, ast.Attribute) else None
                for part in (receiver, *call.args):
                    if part is not None:
                        self.backward_nodes.append(part)
                        self.backward_names.update(_names(part))
        # Names a loss-like function returns feed Lightning's (or a trainer's) backward pass.
        for scope in model.scopes:
            if any(word in scope.name.lower() for word in _LOSS_FUNCTION_WORDS):
                for returned in scope.returns:
                    self.backward_names.update(_names(returned.node))
        self._assignments = [
            (name, binding.node)
            for scope in model.scopes
            for name, bindings in scope.bindings.items()
            for binding in bindings
            if binding.node is not None and binding.kind.value in ("assign", "augassign")
        ]
        # A value added to something named like a loss is part of that loss.
        self.backward_names.update(name for name, _ in self._assignments if "loss" in name.lower())
        self._sinks: set[str] | None = None

    def sinks(self) -> set[str]:
        """Every name whose value reaches a backward pass (fixpoint over assignments)."""
        if self._sinks is None:
            sinks = set(self.backward_names)
            changed = True
            rounds = 0
            while changed and rounds < 20:
                changed, rounds = False, rounds + 1
                for name, value in self._assignments:
                    if name in sinks:
                        for used in _names(value):
                            if used not in sinks:
                                sinks.add(used)
                                changed = True
                for scope in self.model.scopes:  # a helper whose result reaches the loss
                    if scope.name in sinks:
                        for returned in scope.returns:
                            for used in _names(returned.node) - sinks:
                                sinks.add(used)
                                changed = True
            self._sinks = sinks
        return self._sinks

    def reaches(self, name: str, statement: ast.AST) -> bool:
        if name in self.sinks():
            return True
        # `loss = loss + lam * reg` inside a backward argument's own expression
        return any(name in _names(node) for node in self.backward_nodes)

    def returned_into_loss(self, scope) -> bool:
        if any(word in scope.name.lower() for word in _LOSS_FUNCTION_WORDS):
            return True
        sinks = self.sinks()
        for site in self.model.calls:
            func = site.node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == scope.name and site.statement is not None:
                statement = site.statement
                targets = statement.targets if isinstance(statement, ast.Assign) else (
                    [statement.target] if isinstance(statement, (ast.AugAssign, ast.AnnAssign)) else [])
                if any(dotted_name(t) in sinks for t in targets):
                    return True
                if isinstance(statement, ast.Return) and any(w in site.scope.name.lower() for w in _LOSS_FUNCTION_WORDS):
                    return True
        return False

    def is_backward_arg(self, expr: ast.AST) -> bool:
        return any(expr is node or any(n is expr for n in ast.walk(node)) for node in self.backward_nodes)


def _names(node: ast.AST) -> set[str]:
    """Names and ``self.x`` attributes an expression reads."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == "self":
            found.add(f"self.{child.attr}")
    return found
