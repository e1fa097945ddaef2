"""Answers the rules' questions about expressions, from the facts one walk recorded.

- ``qualname``: which dotted name a callee stands for (through imports and aliases);
- ``evaluate``: the value of an expression (literals, constant arithmetic, constants,
  parameter defaults, ``self.x``, argparse defaults, dict items), or "unknown" and why;
- ``all_params``: whether an iterable yields every parameter of a module;
- ``sequence`` / ``mapping``: list and dict literals reached through local names.

Nothing here imports or runs the checked code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import libcst as cst

from optlint.analysis.facts import Binding, FileFacts, Scope, _Unpacked
from optlint.analysis.names import dotted_name, source_text

_MAX_DEPTH = 24


@dataclass(frozen=True)
class Where:
    """A point of use: the scope, walk order and branch path of the expression."""

    scope: Scope
    order: int
    path: tuple[int, ...] = ()

    @classmethod
    def of_binding(cls, binding: Binding) -> "Where":
        return cls(binding.value_scope, binding.order, binding.path)


@dataclass(frozen=True)
class Value:
    """What is statically known about a value."""

    known: bool
    value: object = None
    text: str = ""  # how to show it: "5e-4", or the expression when unknown ("args.wd")
    source: str = ""  # where it came from: "the --wd default", "AdamW's default"
    #: The value can differ at run time (a command-line or function-parameter default).
    overridable: bool = False

    @property
    def is_number(self) -> bool:
        return self.known and isinstance(self.value, (int, float)) and not isinstance(self.value, complex)

    @property
    def provably_zero(self) -> bool:
        return self.is_number and self.value == 0 and not self.overridable

    @property
    def provably_true(self) -> bool:
        return self.known and self.value is True and not self.overridable

    def describe(self, key: str = "weight_decay") -> str:
        """``weight_decay=5e-4 from the --wd default`` or ``weight_decay=args.wd (not statically known)``."""
        if self.known:
            text = f"{key}={self.text or _show(self.value)}"
            if self.source:
                text += f" from {self.source}"
            if self.overridable:
                text += ", which can be changed at run time"
            return text
        text = f"{key}={self.text}" if self.text else key
        if self.source:
            text += f" from {self.source}"
        return text + ", not statically known"


def unknown(text: str = "", source: str = "") -> Value:
    return Value(False, None, text, source)


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


_BINOPS = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.FloorDivide: lambda a, b: a // b,
    cst.Power: lambda a, b: a**b,
}

#: Parameter names that conventionally hold the parse_args() result when passed around.
_ARGS_NAMES = frozenset({"args", "opt", "opts", "hparams", "cfg", "config", "flags", "FLAGS"})


class Resolver:
    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts

    # -- names --------------------------------------------------------------------------

    def reaching(self, name: str, where: Where) -> list[Binding]:
        """The bindings of `name` that may reach the use, most recent first."""
        for depth, scope in enumerate(where.scope.lookup_chain()):
            bindings = scope.bindings.get(name)
            if not bindings:
                continue
            result: list[Binding] = []
            for binding in reversed(bindings):
                if depth == 0:
                    if binding.order >= where.order:
                        continue
                    result.append(binding)
                    if where.path[: len(binding.path)] == binding.path:
                        break  # this binding always runs before the use: earlier ones are dead
                else:
                    # An enclosing scope has run to its end before a nested function is called.
                    result.append(binding)
                    if not binding.path:
                        break
            if result:
                return result
        return []

    def qualname(self, node: cst.BaseExpression, where: Where, depth: int = 0) -> str | None:
        """The dotted name `node` stands for, e.g. ``torch.optim.AdamW``.

        A class or function defined in this file resolves to ``<local>.Name``; a value that
        cannot be followed (``getattr(...)``, ``OPTS[name]``) resolves to None.
        """
        full = dotted_name(node)
        if full is None or depth > _MAX_DEPTH:
            return None
        head, _, rest = full.partition(".")
        bindings = self.reaching(head, where)
        if not bindings:
            return full  # a global from elsewhere (a builtin, a notebook cell): take it as written
        binding = bindings[0]
        suffix = f".{rest}" if rest else ""
        if binding.kind == "import":
            return binding.qualname + suffix
        if binding.kind in ("class", "def"):
            return f"<local>.{full}"
        if binding.kind == "assign" and isinstance(binding.node, (cst.Name, cst.Attribute)):
            target = self.qualname(binding.node, Where.of_binding(binding), depth + 1)
            return None if target is None else target + suffix
        return None

    # -- values -------------------------------------------------------------------------

    def evaluate(self, node, where: Where, depth: int = 0) -> Value:
        if depth > _MAX_DEPTH or node is None:
            return unknown()
        if isinstance(node, (cst.Integer, cst.Float)):
            return Value(True, node.evaluated_value, node.value)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                return Value(True, node.evaluated_value, source_text(node))
            except Exception:  # an f-string part or an odd prefix
                return unknown(source_text(node))
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Value(True, {"True": True, "False": False, "None": None}[node.value], node.value)
            return self._evaluate_name(node.value, where, depth)
        if isinstance(node, cst.UnaryOperation):
            inner = self.evaluate(node.expression, where, depth + 1)
            if inner.is_number and isinstance(node.operator, (cst.Minus, cst.Plus)):
                sign = -1 if isinstance(node.operator, cst.Minus) else 1
                return replace(inner, value=sign * inner.value, text=source_text(node))
            if inner.known and isinstance(node.operator, cst.Not):
                return replace(inner, value=not inner.value, text=source_text(node))
            return unknown(source_text(node))
        if isinstance(node, cst.BinaryOperation):
            return self._evaluate_binop(node, where, depth)
        if isinstance(node, cst.IfExp):
            body = self.evaluate(node.body, where, depth + 1)
            orelse = self.evaluate(node.orelse, where, depth + 1)
            if body.known and orelse.known and body.value == orelse.value:
                return body
            return unknown(source_text(node))
        if isinstance(node, cst.Call):
            return self._evaluate_call(node, where, depth)
        if isinstance(node, cst.Attribute):
            return self._evaluate_attribute(node, where, depth)
        if isinstance(node, cst.Subscript):
            return self._evaluate_subscript(node, where, depth)
        return unknown(source_text(node))

    def _evaluate_binop(self, node: cst.BinaryOperation, where: Where, depth: int) -> Value:
        op = _BINOPS.get(type(node.operator))
        left = self.evaluate(node.left, where, depth + 1)
        right = self.evaluate(node.right, where, depth + 1)
        if op is None or not (left.is_number and right.is_number):
            return unknown(source_text(node))
        try:
            result = op(left.value, right.value)
        except (ArithmeticError, ValueError, OverflowError):
            return unknown(source_text(node))
        if isinstance(result, float) and not math.isfinite(result):
            return unknown(source_text(node))
        return Value(
            True,
            result,
            _show(result),
            left.source or right.source or f"`{source_text(node)}`",
            left.overridable or right.overridable,
        )

    def _evaluate_call(self, node: cst.Call, where: Where, depth: int) -> Value:
        name = dotted_name(node.func)
        if name in ("float", "int") and len(node.args) == 1 and node.args[0].keyword is None:
            inner = self.evaluate(node.args[0].value, where, depth + 1)
            if inner.known:
                try:
                    converted = (float if name == "float" else int)(inner.value)
                    return replace(inner, value=converted, text=_show(converted))
                except (TypeError, ValueError):
                    pass
        return unknown(source_text(node))

    def _combine(self, values: list[Value], text: str, source: str) -> Value:
        first = values[0]
        if all(v.known for v in values) and all(v.value == first.value for v in values):
            return Value(
                True,
                first.value,
                first.text,
                first.source or source,
                any(v.overridable for v in values),
            )
        return unknown(text, next((v.source for v in values if v.source and not v.known), ""))

    def _evaluate_name(self, name: str, where: Where, depth: int) -> Value:
        bindings = self.reaching(name, where)
        if not bindings:
            return unknown(name)
        values = [self._evaluate_binding(name, b, depth) for b in bindings]
        return self._combine(values, name, "")

    def _evaluate_binding(self, name: str, binding: Binding, depth: int) -> Value:
        if binding.kind == "param":
            if binding.node is None:
                return unknown(name, f"parameter `{name}`")
            value = self.evaluate(binding.node, Where.of_binding(binding), depth + 1)
            return replace(
                value, source=f"the default of parameter `{name}`", overridable=True
            )
        if binding.kind == "assign":
            value = self.evaluate(binding.node, Where.of_binding(binding), depth + 1)
            if value.known and not value.source:
                value = replace(value, source=f"`{name}`")
            return value
        return unknown(name)

    def _evaluate_attribute(self, node: cst.Attribute, where: Where, depth: int) -> Value:
        text = source_text(node)
        attr = node.attr.value
        base = node.value
        if isinstance(base, cst.Name) and base.value == "self":
            cls = self._class_of(where.scope)
            bindings = cls.self_attributes.get(attr) if cls is not None else None
            if bindings:
                values = [self.evaluate(b.node, Where.of_binding(b), depth + 1) for b in bindings]
                value = self._combine(values, text, "")
                if value.known:
                    return replace(value, source=value.source or f"`{text}`")
                return value
            return unknown(text)
        if dotted_name(base) == "self.hparams":
            return self._hparam(attr, text, where, depth)
        if isinstance(base, cst.Name):
            instance = self._instance_field(base.value, attr, where, depth)
            if instance is not None:
                return instance
        if isinstance(base, cst.Name) and self._is_parsed_args(base.value, where):
            option = self.facts.argparse.get(attr)
            if option is not None:
                if option.default is None:
                    return unknown(text, f"{option.flag}, which has no default")
                default = self.evaluate(option.default, Where(option.scope, option.order), depth + 1)
                return replace(default, source=f"the {option.flag} default", overridable=True)
        return unknown(text)

    def _hparam(self, name: str, text: str, where: Where, depth: int) -> Value:
        """Lightning: ``self.hparams.x`` after ``save_hyperparameters()`` is __init__'s ``x``."""
        cls = self._class_of(where.scope)
        init = next((b for b in cls.bindings.get("__init__", ()) if b.kind == "def"), None) if cls else None
        if init is None:
            return unknown(text)
        for param in (*init.node.params.posonly_params, *init.node.params.params, *init.node.params.kwonly_params):
            if param.name.value == name:
                if param.default is None:
                    return unknown(text, f"parameter `{name}` of __init__")
                value = self.evaluate(param.default, Where(cls, init.order), depth + 1)
                return replace(value, source=f"the default of parameter `{name}` in __init__ (self.hparams)", overridable=True)
        return unknown(text)

    def _instance_field(self, name: str, attr: str, where: Where, depth: int) -> Value | None:
        """``cfg.x`` where ``cfg = Config(...)`` and Config (a dataclass, say) has a default for x."""
        for binding in self.reaching(name, where)[:1]:
            call = binding.node
            if binding.kind != "assign" or not isinstance(call, cst.Call):
                return None
            qualname = self.qualname(call.func, Where.of_binding(binding))
            if not qualname or not qualname.startswith("<local>."):
                return None
            cls = self.facts.class_scopes.get(qualname.rsplit(".", 1)[-1])
            if cls is None:
                return None
            call_where = Where.of_binding(binding)
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == attr:
                    value = self.evaluate(arg.value, call_where, depth + 1)
                    return value if value.source else replace(value, source=f"{name} = {cls.name}({attr}=...)")
            fields = [b for b in cls.bindings.get(attr, ()) if b.kind == "assign"]
            if not fields:
                return None
            value = self.evaluate(fields[-1].node, Where.of_binding(fields[-1]), depth + 1)
            return replace(value, source=f"{cls.name}.{attr}", overridable=True)
        return None

    def _evaluate_subscript(self, node: cst.Subscript, where: Where, depth: int) -> Value:
        if dotted_name(node.value) == "self.hparams" and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = self.evaluate(node.slice[0].slice.value, where, depth + 1)
            if key.known and isinstance(key.value, str):
                return self._hparam(key.value, source_text(node), where, depth)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = self.evaluate(node.slice[0].slice.value, where, depth + 1)
            items = self.mapping(node.value, where, depth + 1)
            if key.known and items is not None:
                for item_key, _, value_node, value_where in items[0]:
                    if item_key == key.value:
                        return self.evaluate(value_node, value_where, depth + 1)
        return unknown(source_text(node))

    @staticmethod
    def _class_of(scope: Scope) -> Scope | None:
        while scope is not None:
            cls = scope.enclosing_class
            if cls is not None:
                return cls
            scope = scope.parent
        return None

    def _is_parsed_args(self, name: str, where: Where) -> bool:
        """Whether `name` holds a ``parse_args()`` result (or is conventionally passed one)."""
        if not self.facts.argparse:
            return False
        for binding in self.reaching(name, where):
            node = binding.node
            if isinstance(node, _Unpacked) and node.index == 0:
                node = node.value
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                if node.func.attr.value in ("parse_args", "parse_known_args"):
                    return True
            if binding.kind == "param" and binding.node is None and name in _ARGS_NAMES:
                return True
        return False

    # -- containers ---------------------------------------------------------------------

    def sequence(self, node, where: Where, depth: int = 0):
        """The elements of a list/tuple literal, following local names; else None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, (cst.List, cst.Tuple)):
            return [(element, where) for element in node.elements]
        if isinstance(node, cst.Name):
            for binding in self.reaching(node.value, where):
                if binding.kind == "assign":
                    found = self.sequence(binding.node, Where.of_binding(binding), depth + 1)
                    if found is not None:
                        return found
        return None

    def mapping(self, node, where: Where, depth: int = 0):
        """``([(key, key_node, value_node, where)], complete)`` for a dict literal or ``dict(...)``.

        `complete` is False when part of the mapping could not be followed (``**other``).
        Returns None when `node` is not a mapping optlint can read.
        """
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, cst.Dict):
            items, complete = [], True
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    key = self.evaluate(element.key, where, depth + 1)
                    if key.known and isinstance(key.value, str):
                        items.append((key.value, element.key, element.value, where))
                    else:
                        complete = False
                else:
                    inner = self.mapping(element.value, where, depth + 1)
                    if inner is None:
                        complete = False
                    else:
                        items.extend(inner[0])
                        complete = complete and inner[1]
            return items, complete
        if isinstance(node, cst.Call) and dotted_name(node.func) == "dict":
            items, complete = [], True
            for arg in node.args:
                if arg.keyword is not None:
                    items.append((arg.keyword.value, arg.keyword, arg.value, where))
                else:
                    inner = self.mapping(arg.value, where, depth + 1)
                    if inner is None:
                        complete = False
                    else:
                        items.extend(inner[0])
                        complete = complete and inner[1]
            return items, complete
        if isinstance(node, cst.Name):
            bindings = self.reaching(node.value, where)
            if len(bindings) == 1 and bindings[0].kind == "assign":
                return self.mapping(bindings[0].node, Where.of_binding(bindings[0]), depth + 1)
        return None

    # -- parameter iterables ------------------------------------------------------------

    def all_params(self, node, where: Where, depth: int = 0) -> str | None:
        """The module (as written) whose every parameter `node` yields, or None.

        Recognises ``X.parameters()``, ``X.named_parameters()``, ``list``/``tuple``/``filter``
        on requires_grad only, comprehensions filtered only on requires_grad,
        ``itertools.chain`` and ``+`` of such, and local names bound to any of these.
        """
        if depth > _MAX_DEPTH or node is None:
            return None
        if isinstance(node, cst.Call):
            return self._all_params_call(node, where, depth)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self._all_params_comprehension(node, where, depth)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self.all_params(node.left, where, depth + 1) or self.all_params(
                node.right, where, depth + 1
            )
        if isinstance(node, (cst.List, cst.Tuple)):
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    found = self.all_params(element.value, where, depth + 1)
                    if found:
                        return found
            return None
        if isinstance(node, cst.Name):
            for binding in self.reaching(node.value, where):
                if binding.kind in ("assign", "augassign"):
                    found = self.all_params(binding.node, Where.of_binding(binding), depth + 1)
                    if found:
                        return found
        return None

    def _all_params_call(self, node: cst.Call, where: Where, depth: int) -> str | None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            # parameters(recurse=True) / named_parameters(prefix="", recurse=True)
            recurse_position = 1 if func.attr.value == "named_parameters" else 0
            for i, arg in enumerate(node.args):
                keyword = arg.keyword.value if arg.keyword is not None else None
                if keyword == "recurse" or (keyword is None and i == recurse_position):
                    if not self.evaluate(arg.value, where, depth + 1).provably_true:
                        return None
            return source_text(func.value)
        name = self.qualname(func, where) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in ("list", "tuple", "iter", "sorted") and node.args:
            return self.all_params(node.args[0].value, where, depth + 1)
        if name == "filter" and len(node.args) == 2:
            predicate = node.args[0].value
            if isinstance(predicate, cst.Lambda) and len(predicate.params.params) == 1:
                var = predicate.params.params[0].name.value
                if _requires_grad_only(predicate.body, var):
                    return self.all_params(node.args[1].value, where, depth + 1)
            return None
        if name in ("itertools.chain", "chain"):
            for arg in node.args:
                found = self.all_params(arg.value, where, depth + 1)
                if found:
                    return found
        return None

    def _all_params_comprehension(self, node, where: Where, depth: int) -> str | None:
        comp = node.for_in
        if comp.inner_for_in is not None:
            return None
        source = self.all_params(comp.iter, where, depth + 1)
        if source is None:
            return None
        # The element must be the parameter itself (p, or (n, p) over named_parameters()).
        names = _target_names(comp.target)
        if not names:
            return None
        param_var = names[-1]
        element = node.elt
        if isinstance(element, cst.Name):
            if element.value != param_var:
                return None
        elif isinstance(element, cst.Tuple):
            if [dotted_name(e.value) for e in element.elements] != names:
                return None
        else:
            return None
        for condition in comp.ifs:
            if not _requires_grad_only(condition.test, param_var):
                return None
        return source


def _target_names(target) -> list[str] | None:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple) and all(isinstance(e.value, cst.Name) for e in target.elements):
        return [e.value.value for e in target.elements]
    return None


def _requires_grad_only(test, var: str) -> bool:
    """``p.requires_grad`` (or ``is True``/``== True``, or several joined by ``and``)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _requires_grad_only(test.left, var) and _requires_grad_only(test.right, var)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, (cst.Is, cst.Equal)) and dotted_name(target.comparator) == "True":
            test = test.left
    return dotted_name(test) == f"{var}.requires_grad"
