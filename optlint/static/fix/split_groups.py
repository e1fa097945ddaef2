"""The OPT001 autofix: rewrite a flagged optimizer call into decay / no-decay groups.

The split is the shared policy's static form (``optlint.policy.STATIC_DECAY_TEST``:
``p.ndim >= 2`` decays, the rest gets ``"weight_decay": 0.0``), written into the call itself
so the fixed script needs nothing from optlint. The user's own decay value stays where it
was (keyword, positional slot or the optimizer default) and now reaches the decay group only.

Deciding is done here, on the ``ast`` model: which iterable, whether it may be evaluated
twice, which groups split. Writing is deferred: texts are *pieces* (strings and nodes) that
``CstView`` turns into code through LibCST only when an edit is rendered. A one-shot
iterator is never iterated twice: it is rebuilt from its side-effect-free source, or
materialized once with ``name = list(name)`` before the statement, or the finding says why
there is no fix.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from typing import Union

from optlint.policy import STATIC_DECAY_TEST, STATIC_NO_DECAY_TEST, is_token_name
from optlint.static.fix.dependents import Regroup, review, scope_node
from optlint.static.fix.edits import CstView, Layout, NoFix, RawEdit, RawFix
from optlint.static.model.optimizers import OptimizerCall
from optlint.static.model.params import PARAMETER_METHODS
from optlint.static.model.scopes import BindingKind, dotted_name
from optlint.static.model.values import Resolver, Where

Piece = Union[str, ast.AST]


def text_of(pieces, view: CstView) -> str:
    return "".join(piece if isinstance(piece, str) else view.text(piece).strip() for piece in pieces)


@dataclass
class Source:
    """An iterable of parameters as a comprehension: ``[elt for target in iterable if conds]``."""

    iterable: list[Piece]
    target: list[Piece] = field(default_factory=lambda: ["p"])
    element: list[Piece] = field(default_factory=lambda: ["p"])
    var: str = "p"  # the parameter variable (the tensor), for the ndim test
    conditions: list[list[Piece]] = field(default_factory=list)
    named: bool = False  # yields (name, parameter) pairs
    #: Token / position parameters of this file's model (`cls_token`, `pos_embed`): no decay
    #: whatever their shape. Needs a name variable, so only set on named iterations.
    tokens: tuple[str, ...] = ()
    name_var: str = "n"

    def split(self) -> tuple[list[Piece], list[Piece]]:
        decay = STATIC_DECAY_TEST.format(p=self.var)
        no_decay = STATIC_NO_DECAY_TEST.format(p=self.var)
        if self.tokens:
            names = "(" + ", ".join(f'"{t}"' for t in self.tokens) + ("," if len(self.tokens) == 1 else "") + ")"
            own = f'{self.name_var}.rsplit(".", 1)[-1]'
            decay = f"{decay} and {own} not in {names}"
            no_decay = f"{no_decay} or {own} in {names}"
            if self.conditions:
                no_decay = f"({no_decay})"
        return self._comprehension(decay), self._comprehension(no_decay)

    def _comprehension(self, test: str) -> list[Piece]:
        pieces: list[Piece] = ["[", *self.element, " for ", *self.target, " in ", *self.iterable, " if "]
        for condition in self.conditions:
            pieces += [*condition, " and "]
        return pieces + [test, "]"]


def _named_source(iterable: list[Piece]) -> Source:
    return Source(iterable, ["n, p"], ["(n, p)"], named=True)


_LOW_PRECEDENCE = (ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr)


def _condition(node: ast.expr) -> list[Piece]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [node]
    return ["(", node, ")"] if isinstance(node, _LOW_PRECEDENCE) else [node]


def is_pure(node) -> bool:
    """Re-evaluating `node` has no side effects: names, attributes, literal subscripts."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return is_pure(node.value)
    if isinstance(node, ast.Subscript):
        index = node.slice
        return is_pure(node.value) and isinstance(index, (ast.Constant, ast.Name))
    return False


def has_comment(source_segment: str) -> bool:
    """Whether code holds a comment token (a `#` inside a string does not count)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source_segment).readline):
            if token.type == tokenize.COMMENT:
                return True
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return True  # cannot tell: behave as if it had one (the safer, smaller edit)
    return False


_LIST_BUILDERS = ("list", "tuple", "sorted")


class Splitter:
    """Turns a parameter iterable into a Source, or says why it cannot."""

    def __init__(self, resolver: Resolver, call: OptimizerCall, edits: list[RawEdit]) -> None:
        self.resolver = resolver
        self.call = call
        self.edits = edits  # extra edits (materialization) are appended here

    def reiterable(self, node, where: Where) -> bool:
        """Evaluating `node` again yields the same parameters afresh (so it may appear twice)."""
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
                # its arguments are flags (recurse=True, prefix="x"): names and literals
                return is_pure(func.value) and all(
                    isinstance(a, (ast.Name, ast.Constant)) for a in [*node.args, *(k.value for k in node.keywords)]
                )
            name = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
            if name in ("list", "tuple", "itertools.chain", "chain", "filter", "iter", "sorted"):
                return not node.keywords and all(
                    isinstance(a, ast.Lambda) or self.reiterable(a, where) for a in node.args
                )
            return False
        if isinstance(node, ast.BinOp):
            return self.reiterable(node.left, where) and self.reiterable(node.right, where)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return len(node.generators) == 1 and self.reiterable(node.generators[0].iter, where)
        if isinstance(node, (ast.List, ast.Tuple)):
            return all(self.reiterable(e, where) for e in node.elts)
        if isinstance(node, ast.Name):
            return self._is_list_binding(node, where)
        return is_pure(node)

    def _is_list_value(self, node, where: Where) -> bool:
        if isinstance(node, (ast.ListComp, ast.List, ast.Tuple)):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            return self.resolver.qualname(node.func, where) in _LIST_BUILDERS
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._is_list_value(node.left, where) or self._is_list_value(node.right, where)
        return False

    def _is_list_binding(self, name: ast.Name, where: Where) -> bool:
        bindings = self.resolver.reaching(name.id, where)
        return bool(bindings) and all(
            b.kind in (BindingKind.ASSIGN, BindingKind.AUGASSIGN) and self._is_list_value(b.node, Where.of_binding(b))
            for b in bindings
        )

    def source(self, node, where: Where, depth: int = 0) -> Source:
        if depth > 8:
            raise NoFix("the parameters are built too indirectly")
        if isinstance(node, ast.Call):
            return self._call(node, where, depth)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self._comprehension(node, where, depth)
        if isinstance(node, ast.Name):
            return self._name(node, where, depth)
        if isinstance(node, ast.BinOp) and self.reiterable(node, where):
            return Source([node])
        raise NoFix(f"`{self.resolver.segment(node)}` is not a parameter iterable optlint can rewrite")

    def _call(self, node: ast.Call, where: Where, depth: int) -> Source:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            if not is_pure(func.value):
                raise NoFix(f"`{self.resolver.segment(func.value)}` has side effects and would be evaluated twice")
            if func.attr == "named_parameters":
                return _named_source([node])
            return Source([node])
        name = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if name in ("list", "tuple", "iter") and len(node.args) == 1 and not node.keywords:
            return self.source(node.args[0], where, depth + 1)
        if name == "filter" and len(node.args) == 2 and isinstance(node.args[0], ast.Lambda):
            predicate = node.args[0]
            inner = self.source(node.args[1], where, depth + 1)
            if inner.named or len(predicate.args.args) != 1:
                raise NoFix("a filter over named parameters")
            var = predicate.args.args[0].arg
            if var != inner.var:
                if inner.conditions:
                    raise NoFix("nested filters with different variable names")
                inner = Source(inner.iterable, [var], [var], var)
            inner.conditions.append(_condition(predicate.body))
            return inner
        if self.reiterable(node, where):
            return Source([node])
        raise NoFix(f"`{self.resolver.segment(node)}` would be evaluated twice")

    def _comprehension(self, node, where: Where, depth: int) -> Source:
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise NoFix("a comprehension with several `for` clauses")
        comp = node.generators[0]
        if not self.reiterable(comp.iter, where):
            inner = self.source(comp.iter, where, depth + 1)  # may materialize a name
            if inner.conditions or inner.element != inner.target:
                raise NoFix(f"`{self.resolver.segment(comp.iter)}` would be iterated twice")
            iterable = inner.iterable
        else:
            iterable = [comp.iter]
        names = [n.id for n in ast.walk(comp.target) if isinstance(n, ast.Name)]
        if not names:
            raise NoFix("an unusual comprehension target")
        target = [comp.target] if not isinstance(comp.target, ast.Tuple) else [", ".join(names)]
        return Source(iterable, target, [node.elt], names[-1], [_condition(c) for c in comp.ifs])

    def _name(self, node: ast.Name, where: Where, depth: int) -> Source:
        bindings = self.resolver.reaching(node.id, where)
        if not bindings:
            raise NoFix(f"`{node.id}` is not bound in this file")
        if self._is_list_binding(node, where):
            named = all(_yields_named(b.node) for b in bindings)
            return _named_source([node.id]) if named else Source([node.id])
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
            raise NoFix(f"`{node.id}` is bound in several places")
        binding = bindings[0]
        value_where = Where.of_binding(binding)
        try:
            if self.reiterable(binding.node, value_where):
                return self.source(binding.node, value_where, depth + 1)
        except NoFix:
            pass
        # A one-shot iterator from an impure source: consume it once, before the statement.
        statement = self.call.site.statement
        if statement is None or self.call.site.scope is not binding.value_scope:
            raise NoFix(f"`{node.id}` is a one-shot iterator and the call is not a plain statement")
        name = node.id
        self.edits.append(RawEdit(statement, lambda layout, view: _materialize(name, layout), "insert-before"))
        return _named_source([name]) if _yields_named(binding.node) else Source([name])


def _materialize(name: str, layout: Layout) -> str:
    if layout.inline:  # the statement does not start its row: `name = list(name); ` right before it
        return f"{name} = list({name}); "
    return f"{layout.indent}{name} = list({name}){layout.newline}"


def _yields_named(node) -> bool:
    """Whether `node` yields (name, parameter) pairs: named_parameters(), a list of it,
    or a comprehension whose element is a tuple."""
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return isinstance(node.elt, ast.Tuple)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "named_parameters":
            return True
        if dotted_name(node.func) in ("list", "tuple", "iter") and len(node.args) == 1:
            return _yields_named(node.args[0])
    return False


# -- rendering ------------------------------------------------------------------------------


def _dict_twins(node, where: Where, resolver: Resolver, splitter: Splitter) -> tuple[list[Piece], list[Piece]]:
    """The decay and no-decay twins of one group dict, other keys kept in order."""
    if isinstance(node, ast.Dict):
        items = []
        for key, value in zip(node.keys, node.values):
            if key is None:
                raise NoFix("a group dict with `**` unpacking")
            items.append((resolver.evaluate(key, where).value, [key], value))
        pair, opening, closing, new_key = ": ", "{", "}", '"weight_decay"'
    elif isinstance(node, ast.Call) and dotted_name(node.func) == "dict":
        if node.args or any(k.arg is None for k in node.keywords):
            raise NoFix("a dict(...) group with positional arguments")
        items = [(k.arg, [k.arg], k.value) for k in node.keywords]
        pair, opening, closing, new_key = "=", "dict(", ")", "weight_decay"
    else:
        raise NoFix("the param group is not a dict literal")
    decay: list[Piece] = [opening]
    no_decay: list[Piece] = [opening]
    for i, (key, key_pieces, value) in enumerate(items):
        if i:
            decay.append(", ")
            no_decay.append(", ")
        if key == "params":
            decay_value, no_decay_value = splitter.source(value, where).split()
        elif key == "weight_decay":
            decay_value, no_decay_value = [value], ["0.0"]
        else:
            decay_value = no_decay_value = [value]
        decay += [*key_pieces, pair, *decay_value]
        no_decay += [*key_pieces, pair, *no_decay_value]
    if not any(key == "weight_decay" for key, _, _ in items):
        no_decay += [", ", new_key, pair, "0.0"]
    return decay + [closing], no_decay + [closing]


def _arg_pieces(arg) -> list[Piece]:
    if isinstance(arg, ast.Starred):
        return ["*", arg.value]
    if isinstance(arg, ast.keyword):
        return [f"{arg.arg}=", arg.value] if arg.arg is not None else ["**", arg.value]
    return [arg]


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


def _is_argument_of(node, call: ast.Call) -> bool:
    return any(node is a for a in call.args) or any(node is k.value for k in call.keywords)


def build_fix(call: OptimizerCall, resolver: Resolver) -> RawFix:
    """The fix for an OPT001 finding at `call`, with the rewrites of the code that uses the
    optimizer's groups (``dependents``); raises NoFix with the reason."""
    fix, regroup, extra = _build_fix(call, resolver)
    if call.kind == "add_param_group":
        found = review(resolver, call.node, regroup, handles=[call.node.func.value])
    else:
        found = review(resolver, call.node, regroup, group_lists=extra)
    fix.edits.extend(found.edits)
    if found.caveats:
        fix.applicability = "unsafe"
        fix.caveats = found.caveats
    return fix


def _build_fix(call: OptimizerCall, resolver: Resolver):
    """(fix, how it changes the groups, group lists passed by name) for `call`."""
    node = call.node
    where = call.where or Where.of_site(call.site)
    edits: list[RawEdit] = []
    splitter = Splitter(resolver, call, edits)

    if call.kind == "unknown":
        raise NoFix("the callee is not a known optimizer, so it may not accept param groups")
    if call.inner is not None:
        raise NoFix(f"the optimizer is {call.via}; split the groups where it is built")
    if call.union is not None and all(group.params is None for group in call.groups):
        raise NoFix("the groups are chosen by name: split each of them by ndim too")
    if call.kind == "factory":
        params, _, _ = call.args.argument(call.spec, call.spec.positional[0] if call.spec.name.endswith("_v2") else "model")
        if (
            isinstance(params, ast.Call)
            and isinstance(params.func, ast.Attribute)
            and params.func.attr == "parameters"
            and not params.args
            and not params.keywords
            and is_pure(params.func.value)
            and _is_argument_of(params, node)
        ):
            module = params.func.value
            fix = RawFix("pass the module, so timm splits biases and norms itself",
                         [RawEdit(params, lambda layout, view: view.text(module).strip())])
            return fix, Regroup([2], single=True), ()
        raise NoFix("timm was given something other than `module.parameters()`")
    if call.kind == "add_param_group":
        return _add_param_group_fix(call, resolver, where, splitter, edits), Regroup(None), ()

    params, params_where, how = call.args.argument(call.spec, call.spec.positional[0])
    if params is None or how not in ("keyword", "positional") or not _is_argument_of(params, node):
        raise NoFix("the parameters are not passed as a plain argument of this call")
    if any(group.appended for group in call.groups):
        raise NoFix("the param groups are added with .append(...)")
    if call.groups and call.groups[0].index is not None:
        sizes = [2 if _splits(group) else 1 for group in call.groups]
        regroup = Regroup(sizes, single=len(sizes) == 1)
        if isinstance(params, ast.Name):
            fix, literal = _group_list_binding_fix(call, params, resolver, splitter, edits)
            return fix, regroup, [(params.id, scope_node(resolver.model, literal), params)]
        if not isinstance(params, (ast.List, ast.Tuple)):
            raise NoFix("the param groups are built outside the call")
        group_pieces = _split_groups(params, call, where, resolver, splitter)
    else:
        regroup = Regroup([2], single=True)
        source = with_tokens(splitter.source(params, where), token_names(resolver.model), params)
        decay, no_decay = source.split()
        group_pieces = [['{"params": ', *decay, "}"], ['{"params": ', *no_decay, ', "weight_decay": 0.0}']]

    if has_comment(resolver.source.segment(node)):
        # Keep every other argument byte for byte (comments included): replace the value only.
        edits.append(RawEdit(params, lambda layout, view: _group_list([text_of(g, view) for g in group_pieces], layout, 0)))
    else:
        arguments = sorted([*node.args, *node.keywords], key=lambda a: (a.lineno, a.col_offset))
        func = node.func

        def render(layout: Layout, view: CstView) -> str:
            texts = []
            for arg in arguments:
                value = arg.value if isinstance(arg, ast.keyword) else arg
                if value is params:
                    text = _group_list([text_of(g, view) for g in group_pieces], layout, 1)
                    texts.append(f"params={text}" if isinstance(arg, ast.keyword) else text)
                else:
                    texts.append(text_of(_arg_pieces(arg), view))
            return _layout_call(view.text(func).strip(), texts, layout)

        edits.append(RawEdit(node, render))
    return RawFix(_split_message(resolver.model, group_pieces), edits), regroup, ()


def _splits(group) -> bool:
    """Whether the fix makes decay and no-decay twins of `group`."""
    return group.params is not None and not group.weight_decay.provably_zero


_RUN_TIME = "; token and position parameters are decided at run time: optlint.param_groups(model, weight_decay)"


def _split_message(model, group_pieces) -> str:
    """The fix title; it says when tokens are left to run time: the model's class is not in
    this file (so its tokens are unknown), or its tokens could not be named in the rewrite."""
    tokens = token_names(model)
    if tokens and any('rsplit(".", 1)[-1] in' in str(piece) for g in group_pieces for piece in g):
        return "split into decay and no-decay (ndim < 2, tokens and position tables) param groups"
    known = not tokens and any(
        (dotted_name(base) or "").endswith("Module") for cls in model.class_scopes.values() for base in cls.node.bases
    )
    return "split into decay and no-decay (ndim < 2) param groups" + ("" if known else _RUN_TIME)


def token_names(model) -> tuple[str, ...]:
    """Names of token / position parameters that the file's own model classes define: a
    ``self.X = nn.Parameter(...)`` whose name the shared policy calls a token
    (``cls_token``, ``pos_embed``), and the names a ``no_weight_decay()`` method returns
    as a literal. These are no-decay whatever their shape."""
    cached = getattr(model, "_token_names", None)
    if cached is not None:
        return cached
    found: set[str] = set()
    for cls in model.class_scopes.values():
        for attribute, bindings in cls.self_attributes.items():
            if any(_is_parameter(b.node) for b in bindings) and is_token_name(attribute):
                found.add(attribute)
        for binding in cls.bindings.get("no_weight_decay", ()):
            scope = model.function_scopes.get(id(binding.node))
            for returned in scope.returns if scope is not None else ():
                if isinstance(returned.node, (ast.Set, ast.List, ast.Tuple)):
                    for element in returned.node.elts:
                        if isinstance(element, ast.Constant) and isinstance(element.value, str) and "." not in element.value:
                            found.add(element.value)
    model._token_names = tuple(sorted(found))
    return model._token_names


def _is_parameter(node) -> bool:
    return isinstance(node, ast.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "Parameter"


def with_tokens(source: Source, tokens: tuple[str, ...], params) -> Source:
    """The source iterated by name so that tokens can join the no-decay group, where that is
    a plain rewrite (``X.parameters()`` -> ``X.named_parameters()``); else unchanged."""
    if not tokens:
        return source
    if source.named and source.target == ["n, p"]:
        return Source(source.iterable, source.target, source.element, source.var, source.conditions, True, tokens)
    node = source.iterable[0] if len(source.iterable) == 1 else None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parameters"
            and not node.args and not node.keywords and source.element == ["p"] and source.var == "p"):
        return Source([node.func.value, ".named_parameters()"], ["n, p"], ["p"], "p", source.conditions, True, tokens)
    return source


def _split_groups(literal, call: OptimizerCall, where: Where, resolver: Resolver, splitter: Splitter) -> list[list[Piece]]:
    """The group list's elements, each offending group replaced by its twins."""
    pieces = []
    if len(literal.elts) != len(call.groups):
        raise NoFix("a starred element in the group list")
    for element, group in zip(literal.elts, call.groups):
        if isinstance(element, ast.Starred):
            raise NoFix("a starred element in the group list")
        if _splits(group):
            pieces.extend(_dict_twins(element, where, resolver, splitter))
        else:
            pieces.append([element])
    return pieces


def _group_list_binding_fix(call, name: ast.Name, resolver, splitter, edits) -> RawFix:
    """``groups = [{...}, ...]`` then ``AdamW(groups)``: split the groups where the list is written."""
    where = call.where or Where.of_site(call.site)
    bindings = resolver.reaching(name.id, where)
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or not isinstance(bindings[0].node, (ast.List, ast.Tuple)):
        raise NoFix(f"the param groups in `{name.id}` are not one list literal in this file")
    literal = bindings[0].node
    if has_comment(resolver.source.segment(literal)):
        raise NoFix(f"the group list `{name.id}` holds comments")
    pieces = _split_groups(literal, call, Where.of_binding(bindings[0]), resolver, splitter)
    edits.append(RawEdit(literal, lambda layout, view: _group_list([text_of(g, view) for g in pieces], layout, 0),
                         with_parens=True))
    return RawFix(f"split the groups of `{name.id}` into decay and no-decay (ndim < 2) twins", edits), literal


def _add_param_group_fix(call, resolver, where, splitter, edits) -> RawFix:
    node = call.node
    receiver = node.func.value
    if not is_pure(receiver):
        raise NoFix(f"`{resolver.segment(receiver)}` has side effects")
    statement = call.site.statement
    if not (isinstance(statement, ast.Expr) and statement.value is node):
        raise NoFix("add_param_group(...) is not a statement of its own, so it cannot become two calls")
    decay, no_decay = _dict_twins(node.args[0], where, resolver, splitter)
    func = node.func
    span = resolver.source.span(statement)
    # `for h in heads: opt.add_param_group(...)`: the second call must stay in the same block,
    # so a statement that does not start its row gets its twin on the same row.
    own_row = not resolver.source.line(span.row)[: span.column].strip()

    def render(layout: Layout, view: CstView) -> str:
        func_text = view.text(func).strip()
        between = f"{layout.newline}{layout.indent}" if own_row else "; "
        return f"{func_text}({text_of(decay, view)}){between}{func_text}({text_of(no_decay, view)})"

    edits.append(RawEdit(node, render))
    return RawFix("split into two add_param_group calls: decay and no-decay (ndim < 2)", edits)
