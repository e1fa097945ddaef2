"""The OPT001 autofix: rewrite a flagged optimizer call into decay / no-decay groups.

The split is the shared policy's static form (``optlint.policy.STATIC_DECAY_TEST``:
``p.ndim >= 2`` decays, the rest gets ``"weight_decay": 0.0``), written into the call itself
so the fixed script needs nothing from optlint. The user's own decay value stays where it
was (keyword, positional slot or the optimizer default) and now reaches the decay group only.

A rewrite is expression-local (it works in ``return``, lambdas and comprehensions): the call
is replaced by a new call. A one-shot iterator is never iterated twice: it is rebuilt from
its side-effect-free source, or materialized once with ``name = list(name)`` before the
statement, or the finding says why there is no fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from optlint.analysis.calls import OptimizerCall, argument
from optlint.analysis.names import dotted_name
from optlint.analysis.resolve import Resolver, Where
from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST

_CODE = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    return _CODE.code_for_node(node)


class NoFix(Exception):
    """No safe rewrite: the message says why."""


@dataclass(frozen=True)
class Layout:
    """How the file around the edit looks: the edited line's indentation and newline."""

    indent: str
    newline: str


@dataclass
class RawEdit:
    node: cst.CSTNode
    render: Callable[[Layout], str]
    kind: str = "replace"  # "replace": the node's text; "insert-before": at its line's start
    #: The content includes the node's own parentheses (LibCST positions leave them out).
    with_parens: bool = False


@dataclass
class RawFix:
    message: str
    edits: list[RawEdit] = field(default_factory=list)
    applicability: str = "unsafe"  # ruff's terms: "safe" keeps behaviour, "unsafe" changes it


# -- what an iterable of parameters is made of -------------------------------------------


@dataclass
class Source:
    """An iterable of parameters as a comprehension: ``[elt for target in iterable if conds]``."""

    iterable: str
    target: str = "p"
    element: str = "p"
    var: str = "p"  # the parameter variable (the tensor), for the ndim test
    conditions: list[str] = field(default_factory=list)

    def split(self) -> tuple[str, str]:
        decay = self._comprehension(STATIC_DECAY_TEST.format(p=self.var))
        no_decay = self._comprehension(STATIC_NO_DECAY_TEST.format(p=self.var))
        return decay, no_decay

    def _comprehension(self, test: str) -> str:
        condition = " and ".join([*self.conditions, test])
        return f"[{self.element} for {self.target} in {self.iterable} if {condition}]"


_LOW_PRECEDENCE = (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr)


def _condition_text(node: cst.BaseExpression) -> str:
    text = code(node).strip()
    if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.And):
        return text
    return f"({text})" if isinstance(node, _LOW_PRECEDENCE) else text


def is_pure(node) -> bool:
    """Re-evaluating `node` has no side effects: names, attributes, literal subscripts."""
    if isinstance(node, cst.Name):
        return True
    if isinstance(node, cst.Attribute):
        return is_pure(node.value)
    if isinstance(node, cst.Subscript):
        return is_pure(node.value) and all(
            isinstance(e.slice, cst.Index) and isinstance(e.slice.value, (cst.Integer, cst.SimpleString, cst.Name))
            for e in node.slice
        )
    return False


def _reiterable(node, resolver: Resolver, where: Where) -> bool:
    """Evaluating `node` again yields the same parameters afresh (so it may appear twice)."""
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            # its arguments are flags (recurse=True, prefix="x"): names and literals
            return is_pure(func.value) and all(
                isinstance(a.value, (cst.Name, cst.Integer, cst.SimpleString)) for a in node.args
            )
        name = resolver.qualname(func, where) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in ("list", "tuple", "itertools.chain", "chain", "filter", "iter", "sorted"):
            return all(isinstance(a.value, cst.Lambda) or _reiterable(a.value, resolver, where) for a in node.args)
        return False
    if isinstance(node, cst.BinaryOperation):
        return _reiterable(node.left, resolver, where) and _reiterable(node.right, resolver, where)
    if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
        return node.for_in.inner_for_in is None and _reiterable(node.for_in.iter, resolver, where)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(_reiterable(e.value, resolver, where) for e in node.elements)
    if isinstance(node, cst.Name):
        return _is_list_binding(node, resolver, where)
    return is_pure(node)


_LIST_BUILDERS = ("list", "tuple", "sorted")


def _is_list_value(node, resolver: Resolver, where: Where) -> bool:
    if isinstance(node, (cst.ListComp, cst.List, cst.Tuple)):
        return True
    if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
        return resolver.qualname(node.func, where) in _LIST_BUILDERS
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _is_list_value(node.left, resolver, where) or _is_list_value(node.right, resolver, where)
    return False


def _is_list_binding(name: cst.Name, resolver: Resolver, where: Where) -> bool:
    bindings = resolver.reaching(name.value, where)
    return bool(bindings) and all(
        b.kind in ("assign", "augassign") and _is_list_value(b.node, resolver, Where.of_binding(b)) for b in bindings
    )


class Splitter:
    """Turns a parameter iterable into a Source, or says why it cannot."""

    def __init__(self, resolver: Resolver, call: OptimizerCall, edits: list[RawEdit]) -> None:
        self.resolver = resolver
        self.call = call
        self.edits = edits  # extra edits (materialization) are appended here

    def source(self, node, where: Where, depth: int = 0) -> Source:
        if depth > 8:
            raise NoFix("the parameters are built too indirectly")
        if isinstance(node, cst.Call):
            return self._call(node, where, depth)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, where, depth)
        if isinstance(node, cst.Name):
            return self._name(node, where, depth)
        if isinstance(node, cst.BinaryOperation) and _reiterable(node, self.resolver, where):
            return Source(f"{code(node)}")
        raise NoFix(f"`{code(node)}` is not a parameter iterable optlint can rewrite")

    def _call(self, node: cst.Call, where: Where, depth: int) -> Source:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            if not is_pure(func.value):
                raise NoFix(f"`{code(func.value)}` has side effects and would be evaluated twice")
            if func.attr.value == "named_parameters":
                return Source(code(node), target="n, p", element="(n, p)")
            return Source(code(node))
        name = self.resolver.qualname(func, where) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if name in ("list", "tuple", "iter") and len(node.args) == 1:
            return self.source(node.args[0].value, where, depth + 1)
        if name == "filter" and len(node.args) == 2 and isinstance(node.args[0].value, cst.Lambda):
            predicate = node.args[0].value
            inner = self.source(node.args[1].value, where, depth + 1)
            if inner.element != inner.var or len(predicate.params.params) != 1:
                raise NoFix("a filter over named parameters")
            var = predicate.params.params[0].name.value
            if var != inner.var:
                inner = Source(inner.iterable, var, var, var, [c for c in inner.conditions])
                if inner.conditions:
                    raise NoFix("nested filters with different variable names")
            inner.conditions.append(_condition_text(predicate.body))
            return inner
        if _reiterable(node, self.resolver, where):
            return Source(code(node))
        raise NoFix(f"`{code(node)}` would be evaluated twice")

    def _comprehension(self, node, where: Where, depth: int) -> Source:
        comp = node.for_in
        if comp.inner_for_in is not None:
            raise NoFix("a comprehension with several `for` clauses")
        if not _reiterable(comp.iter, self.resolver, where):
            inner = self.source(comp.iter, where, depth + 1)  # may materialize a name
            iterable = inner.iterable if not inner.conditions and inner.element == inner.target else None
            if iterable is None:
                raise NoFix(f"`{code(comp.iter)}` would be iterated twice")
        else:
            iterable = code(comp.iter)
        target = code(comp.target).strip()
        names = [n.strip() for n in target.split(",")]
        return Source(
            iterable,
            target,
            code(node.elt).strip(),
            names[-1],
            [_condition_text(c.test) for c in comp.ifs],
        )

    def _name(self, node: cst.Name, where: Where, depth: int) -> Source:
        bindings = self.resolver.reaching(node.value, where)
        if not bindings:
            raise NoFix(f"`{node.value}` is not bound in this file")
        if _is_list_binding(node, self.resolver, where):
            named = all(_yields_named(b.node) for b in bindings)
            return Source(node.value, "n, p", "(n, p)") if named else Source(node.value)
        if len(bindings) != 1 or bindings[0].kind != "assign":
            raise NoFix(f"`{node.value}` is bound in several places")
        binding = bindings[0]
        value_where = Where.of_binding(binding)
        try:
            if _reiterable(binding.node, self.resolver, value_where):
                return self.source(binding.node, value_where, depth + 1)
        except NoFix:
            pass
        # A one-shot iterator from an impure source: consume it once, before the statement.
        statement = self.call.site.statement
        if statement is None or self.call.site.scope is not binding.value_scope:
            raise NoFix(f"`{node.value}` is a one-shot iterator and the call is not a plain statement")
        name = node.value
        self.edits.append(
            RawEdit(statement, lambda layout: f"{layout.indent}{name} = list({name}){layout.newline}", "insert-before")
        )
        named = _yields_named(binding.node)
        return Source(name, "n, p", "(n, p)") if named else Source(name)


def _yields_named(node) -> bool:
    """Whether `node` yields (name, parameter) pairs: named_parameters(), a list of it,
    or a comprehension whose element is a tuple."""
    if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
        return isinstance(node.elt, cst.Tuple)
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "named_parameters":
            return True
        if dotted_name(node.func) in ("list", "tuple", "iter") and len(node.args) == 1:
            return _yields_named(node.args[0].value)
    return False


# -- rendering ------------------------------------------------------------------------------


def _dict_twins(node, where: Where, resolver: Resolver, splitter: Splitter) -> tuple[str, str]:
    """The decay and no-decay twins of one group dict, other keys kept in order."""
    if isinstance(node, cst.Dict):
        items = []
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                raise NoFix("a group dict with `**` unpacking")
            items.append((resolver.evaluate(element.key, where).value, code(element.key).strip(), element.value))
        pair, opening, closing, new_key = "{}: {}", "{", "}", '"weight_decay"'
    elif isinstance(node, cst.Call) and dotted_name(node.func) == "dict":
        if any(arg.keyword is None for arg in node.args):
            raise NoFix("a dict(...) group with positional arguments")
        items = [(arg.keyword.value, arg.keyword.value, arg.value) for arg in node.args]
        pair, opening, closing, new_key = "{}={}", "dict(", ")", "weight_decay"
    else:
        raise NoFix("the param group is not a dict literal")
    decay_parts, no_decay_parts = [], []
    for key, key_text, value in items:
        value_text = code(value).strip()
        if key == "params":
            decay, no_decay = splitter.source(value, where).split()
        elif key == "weight_decay":
            decay, no_decay = value_text, "0.0"
        else:
            decay = no_decay = value_text
        decay_parts.append(pair.format(key_text, decay))
        no_decay_parts.append(pair.format(key_text, no_decay))
    if not any(key == "weight_decay" for key, _, _ in items):
        no_decay_parts.append(pair.format(new_key, "0.0"))
    return opening + ", ".join(decay_parts) + closing, opening + ", ".join(no_decay_parts) + closing


def _arg_text(arg: cst.Arg) -> str:
    text = code(arg.value).strip()
    if arg.star:
        return f"{arg.star}{text}"
    if arg.keyword is not None:
        return f"{arg.keyword.value}={text}"
    return text


def _layout_call(func: str, args: list[str], layout: Layout) -> str:
    """black's layout: one argument per line, trailing commas."""
    inner = layout.indent + "    "
    lines = [f"{func}("]
    for arg in args:
        lines.append(f"{inner}{arg},")
    lines.append(f"{layout.indent})")
    return layout.newline.join(lines)


def _group_list(groups: list[str], layout: Layout, level: int) -> str:
    outer = layout.indent + "    " * level
    inner = outer + "    "
    nl = layout.newline
    return "[" + nl + "".join(f"{inner}{g},{nl}" for g in groups) + f"{outer}]"


def build_fix(call: OptimizerCall, resolver: Resolver) -> RawFix:
    """The fix for an OPT001 finding at `call`; raises NoFix with the reason."""
    site = call.site
    where = Where(site.scope, site.order, site.path)
    node = call.node
    edits: list[RawEdit] = []
    splitter = Splitter(resolver, call, edits)

    if call.kind == "unknown":
        raise NoFix("the callee is not a known optimizer, so it may not accept param groups")
    if call.kind == "factory":
        params, _ = argument(node, call.spec, call.spec.positional[0] if call.spec.name.endswith("_v2") else "model")
        if (
            isinstance(params, cst.Call)
            and isinstance(params.func, cst.Attribute)
            and params.func.attr.value == "parameters"
            and not params.args
            and is_pure(params.func.value)
        ):
            module_text = code(params.func.value)
            return RawFix("pass the module, so timm splits biases and norms itself", [RawEdit(params, lambda _: module_text)])
        raise NoFix("timm was given something other than `module.parameters()`")
    if call.kind == "add_param_group":
        return _add_param_group_fix(call, resolver, where, splitter, edits)

    params, how = argument(node, call.spec, call.spec.positional[0])
    if params is None or how not in ("keyword", "positional"):
        raise NoFix("the parameters are not passed as a plain argument")
    if call.groups and call.groups[0].index is not None:
        if isinstance(params, cst.Name):
            return _group_list_binding_fix(call, params, resolver, splitter, edits)
        if not isinstance(params, (cst.List, cst.Tuple)):
            raise NoFix("the param groups are built outside the call")
        group_texts = _split_groups(params, call, where, resolver, splitter)
    else:
        decay, no_decay = splitter.source(params, where).split()
        group_texts = [f'{{"params": {decay}}}', f'{{"params": {no_decay}, "weight_decay": 0.0}}']

    func_text = code(node.func).strip()
    has_comment = "#" in code(node)

    if has_comment:
        # Keep every other argument byte for byte (comments included): replace the value only.
        edits.append(RawEdit(params, lambda layout: _group_list(group_texts, layout, 0)))
    else:
        def render(layout: Layout) -> str:
            args = []
            for arg in node.args:
                if arg.value is params:
                    text = _group_list(group_texts, layout, 1)
                    args.append(f"params={text}" if arg.keyword is not None else text)
                else:
                    args.append(_arg_text(arg))
            return _layout_call(func_text, args, layout)

        edits.append(RawEdit(node, render))
    return RawFix("split into decay and no-decay (ndim < 2) param groups", edits)


def _split_groups(literal, call: OptimizerCall, where: Where, resolver: Resolver, splitter: Splitter) -> list[str]:
    """The group list's elements, each offending group replaced by its twins."""
    texts = []
    for element, group in zip(literal.elements, call.groups):
        if isinstance(element, cst.StarredElement):
            raise NoFix("a starred element in the group list")
        if group.params_of is not None and not group.weight_decay.provably_zero:
            texts.extend(_dict_twins(element.value, where, resolver, splitter))
        else:
            texts.append(code(element.value).strip())
    return texts


def _group_list_binding_fix(call, name: cst.Name, resolver, splitter, edits) -> RawFix:
    """``groups = [{...}, ...]`` then ``AdamW(groups)``: split the groups where the list is written."""
    site = call.site
    bindings = resolver.reaching(name.value, Where(site.scope, site.order, site.path))
    if len(bindings) != 1 or bindings[0].kind != "assign" or not isinstance(bindings[0].node, (cst.List, cst.Tuple)):
        raise NoFix(f"the param groups in `{name.value}` are not one list literal in this file")
    literal = bindings[0].node
    if "#" in code(literal):
        raise NoFix(f"the group list `{name.value}` holds comments")
    texts = _split_groups(literal, call, Where.of_binding(bindings[0]), resolver, splitter)
    edits.append(RawEdit(literal, lambda layout: _group_list(texts, layout, 0), with_parens=True))
    return RawFix(f"split the groups of `{name.value}` into decay and no-decay (ndim < 2) twins", edits)


def _add_param_group_fix(call, resolver, where, splitter, edits) -> RawFix:
    node = call.node
    receiver = node.func.value
    if not is_pure(receiver):
        raise NoFix(f"`{code(receiver)}` has side effects")
    statement = call.site.statement
    if statement is None or len(statement.body) != 1 or not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not node:
        raise NoFix("add_param_group(...) is not a statement of its own, so it cannot become two calls")
    decay, no_decay = _dict_twins(node.args[0].value, where, resolver, splitter)
    func_text = code(node.func).strip()

    def render(layout: Layout) -> str:
        return f"{func_text}({decay}){layout.newline}{layout.indent}{func_text}({no_decay})"

    edits.append(RawEdit(node, render))
    return RawFix("split into two add_param_group calls: decay and no-decay (ndim < 2)", edits)
