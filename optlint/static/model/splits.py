"""Decay splits decided by parameter names: the facts behind OPT002.

A name test is a finding only when it decides which param group a parameter joins, and
those groups get different weight decay: a comprehension's condition in a group's
``params`` (``[p for n, p in m.named_parameters() if not any(nd in n for nd in no_decay)]``),
the ``if`` in a loop over ``named_parameters()`` that appends to one group's list or
another's, or a set of names built earlier that such a condition tests membership in.
Loops that freeze modules, clear gradients, log or pick modules to train feed no group and
are never findings; nor are groups that differ only in learning rate.

For each test, ``Split`` also says whether rewriting it to the shape test keeps every
parameter in the optimizer (the fix's precondition): an if/else that sends every parameter
to one of two lists, or two complementary comprehensions over the same parameters.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from optlint.policy import is_token_name
from optlint.static.model.optimizers import Group, OptimizerCall
from optlint.static.model.penalties import loop_parts, name_var, param_var
from optlint.static.model.scopes import BindingKind, FileModel, dotted_name
from optlint.static.model.values import Resolver, Where


@dataclass(eq=False)
class NameTest:
    """One condition made of substring tests on a parameter name."""

    node: ast.expr  # the whole condition that is replaced by a fix
    tests: list[tuple[ast.expr, bool]]  # each substring test, and whether it selects matches
    words: list[str]  # the literal substrings, where known
    var: str | None  # the parameter variable in scope
    #: "no-decay" or "decay": which group the condition sends matching parameters to,
    #: when a fix may rewrite it; None when there is no safe rewrite.
    rewrite_to: str | None = None
    #: the complementary test of the other group (`not any(...)` / `any(...)`): both are
    #: rewritten by one fix, so no state between the two halves is ever written
    partner: "NameTest | None" = None
    no_fix: str | None = None
    #: the complementary test of another group over the same parameters, fixable or not: the
    #: two are one decision, reported once
    twin: "NameTest | None" = None
    #: the module whose `named_parameters()` the test reads: (expression, where), if known
    module: tuple | None = None
    name: str | None = None  # the name variable the test reads
    where: Where | None = None  # where the test's words are evaluated


@dataclass(eq=False)
class Split:
    call: OptimizerCall
    tests: list[NameTest] = field(default_factory=list)


#: Words that name a parameter's role, the ones a substring test uses to guess "no decay".
_ROLE_WORD = re.compile(r"(?i)bias|norm|(?:^|[._])(?:ln|bn|gn)|gamma|beta|scale|weight|layer_?norm")


def substring_tests(expr, name: str, resolver: Resolver | None = None, where: Where | None = None):
    """If `expr` is made only of substring tests on `name` (joined by and/or/not): each test
    and whether it selects matching names (True for `in`, False for `not in`). Else None."""
    if isinstance(expr, ast.BoolOp):
        found = []
        for value in expr.values:
            inner = substring_tests(value, name, resolver, where)
            if inner is None:
                return None
            found += inner
        return found
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = substring_tests(expr.operand, name, resolver, where)
        return None if inner is None else [(node, not positive) for node, positive in inner]
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        if isinstance(expr.ops[0], (ast.In, ast.NotIn)) and _is_name_text(expr.comparators[0], name):
            if isinstance(expr.left, (ast.Constant, ast.Name)):
                return [(expr, isinstance(expr.ops[0], ast.In))]
    if isinstance(expr, ast.Call) and dotted_name(expr.func) == "any" and len(expr.args) == 1:
        gen = expr.args[0]
        if isinstance(gen, ast.GeneratorExp) and isinstance(gen.elt, ast.Compare):
            inner = substring_tests(gen.elt, name, resolver, where)
            if inner is not None:
                return [(expr, positive) for _, positive in inner]
    return None


def _is_name_text(node, name: str) -> bool:
    """`n`, or `n.lower()` / `n.casefold()` / `n.split(...)`."""
    if isinstance(node, ast.Name):
        return node.id == name
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return isinstance(node.func.value, ast.Name) and node.func.value.id == name and node.func.attr in (
            "lower", "casefold", "upper", "split",
        )
    return False


class Splits:
    def __init__(self, model: FileModel, resolver: Resolver) -> None:
        self.model = model
        self.resolver = resolver

    def elsewhere(self, where: Where | None) -> "Splits | None":
        """The splits of the other module `where` belongs to (None: this file)."""
        other = self.resolver.elsewhere(where.scope) if where is not None else None
        if other is None:
            return None
        found = other.memo.get("splits")
        if found is None:
            found = other.memo["splits"] = Splits(other.model, other)
        return found

    def of(self, call: OptimizerCall, alternatives=()) -> Split | None:
        """The name tests that decide between `call`'s groups of different decay, on every
        group list that may reach it (`alternatives`: those of other branches)."""
        split = None
        for groups in (call.groups, *alternatives):
            found = self._of_groups(call, groups)
            if found is not None:
                if split is None:
                    split = found
                else:
                    split.tests += [t for t in found.tests if all(t.node is not u.node for u in split.tests)]
        return split

    def returned(self, calls) -> list[Split]:
        """Name splits in the param groups a function returns (`def get_parameter_groups(
        model, wd): ... return [{"params": decay, ...}, {"params": no_decay, ...}]`): the
        decision is made there, whichever module's optimizer gets the groups."""
        from optlint.static.model.scopes import ScopeKind
        from optlint.static.model.values import unknown

        found = []
        for scope in self.model.scopes:
            if scope.kind is not ScopeKind.FUNCTION or len(scope.returns) != 1:
                continue
            returned = scope.returns[0]
            if not isinstance(returned.node, (ast.Name, ast.List, ast.Tuple)):
                continue
            where = Where.of_site(returned)
            elements = calls.sequence_with_appends(returned.node, where)
            if not elements or len(elements) < 2 or any(self.resolver.mapping(e, w) is None for e, w, _ in elements):
                continue
            groups = calls._groups(returned.node, where, unknown("weight_decay", "the optimizer the groups are given to"))
            if len(groups) < 2 or not all(any(key == "params" for key, _ in g.keys) for g in groups):
                continue
            call = OptimizerCall(returned, "returned", None, f"`{scope.name}()`", unknown(), groups, False, where=where)
            split = self._of_groups(call, groups)
            if split is not None:
                found.append(split)
        return found

    def _of_groups(self, call: OptimizerCall, groups) -> Split | None:
        groups = [g for g in groups if g.params_node is not None]
        per_parameter = self._per_parameter_tests(call, [g for g in groups if g.per_parameter is not None])
        if per_parameter is not None:
            return per_parameter
        if len(groups) < 2:
            return None
        decays = [g.weight_decay for g in groups]
        if all(d.same_as(decays[0]) for d in decays[1:]):
            return None  # every group decays alike (or they differ in lr only): no decay split
        split = Split(call)
        seen: set[int] = set()
        comprehension_tests: list[tuple[Group, NameTest, ast.AST]] = []
        for group in groups:
            for test, origin in self._tests_feeding(group.params_node, group.params_where, group):
                if id(test.node) in seen:
                    continue
                seen.add(id(test.node))
                split.tests.append(test)
                if origin is not None:
                    comprehension_tests.append((group, test, origin))
        shared = _shared_conjuncts([c for _, _, c in comprehension_tests])
        if shared:
            split.tests = [t for t in split.tests if ast.dump(t.node) not in shared]
            comprehension_tests = [entry for entry in comprehension_tests if ast.dump(entry[1].node) not in shared]
        lr_only = _tests_deciding_no_decay(comprehension_tests)
        if lr_only:
            split.tests = [t for t in split.tests if id(t.node) not in lr_only]
            comprehension_tests = [entry for entry in comprehension_tests if id(entry[1].node) not in lr_only]
        _pair_comprehensions(comprehension_tests, self.resolver)
        by_list = {g.params_node.id: g for g in groups if isinstance(g.params_node, ast.Name)}
        for test in split.tests:
            if isinstance(test.rewrite_to, tuple):
                _, body_list, else_lists = test.rewrite_to
                test.rewrite_to = _loop_rewrite(by_list.get(body_list), [by_list.get(name) for name in sorted(else_lists)])
                if test.rewrite_to is None:
                    test.no_fix = "the two lists do not feed a decayed group and a weight_decay=0 group"
        return split if split.tests else None

    # -- a group per parameter -----------------------------------------------------------------

    def _per_parameter_tests(self, call: OptimizerCall, groups: list) -> Split | None:
        """Groups appended once per parameter in a loop over `named_parameters()`, whose decay
        a name test picks: `wd = 0.0 if "bias" in n else 0.05`, or an if/else that appends a
        group of one decay or another."""
        split = Split(call)
        for group in groups:
            loop = group.per_parameter
            name, var = name_var(loop.target), param_var(loop.target)
            where = group.where
            if name is None or not self._named_parameters(loop.iter, where):
                continue
            candidates = []
            others = [g for g in groups if g.per_parameter is loop and g is not group]
            if any(not g.weight_decay.same_as(group.weight_decay) for g in others):
                candidates += _tests_around(loop.body, group.node)
            decay = next((value for key, value in _dict_items(group.node) if key == "weight_decay"), None)
            for choice, chosen_where in self._decay_choices(decay, loop, where):
                arms = [self.resolver.evaluate(arm, chosen_where) for arm in (choice.body, choice.orelse)]
                if not arms[0].same_as(arms[1]):
                    candidates.append(choice.test)
            for candidate in candidates:
                found = substring_tests(candidate, name)
                test = self._name_test(candidate, found, var, where) if found else None
                if test is not None and all(t.node is not candidate for t in split.tests):
                    test.no_fix = "each parameter gets a group of its own: test `p.ndim < 2` in the loop by hand"
                    test.module, test.name = self._named_root(loop.iter, where), name
                    split.tests.append(test)
        return split if split.tests else None

    def _decay_choices(self, decay, loop: ast.For, where: Where):
        """The if-expressions that pick a per-parameter group's decay: written in the group,
        or assigned in the loop to the name the group reads."""
        other = self.elsewhere(where)
        if other is not None:
            yield from other._decay_choices(decay, loop, where)
            return
        if isinstance(decay, ast.IfExp):
            yield decay, where
        elif isinstance(decay, ast.Name):
            for binding in self.resolver.reaching(decay.id, where):
                if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.IfExp) \
                        and loop.lineno <= binding.node.lineno <= loop.end_lineno:
                    yield binding.node, Where.of_binding(binding, where.env)

    # -- tracing a group's parameters to the tests that chose them ---------------------------

    def _tests_feeding(self, node, where: Where, group: Group, depth: int = 0):
        """(NameTest, comprehension or None) for each name test that decides what `node` holds."""
        other = self.elsewhere(where)
        if other is not None:
            yield from other._tests_feeding(node, where, group, depth)
            return
        if depth > 6 or node is None:
            return
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            yield from self._comprehension_tests(node, where, group, depth)
        elif isinstance(node, ast.Call) and dotted_name(node.func) in ("list", "tuple", "filter", "set"):
            for arg in node.args:
                yield from self._tests_feeding(arg, where, group, depth + 1)
        elif isinstance(node, ast.Name):
            bindings = self.resolver.reaching(node.id, where)
            base = next((b for b in bindings if b.kind is BindingKind.ASSIGN), None)
            if base is None or (isinstance(base.node, (ast.List, ast.Set)) and not base.node.elts):
                # a list filled in a loop (`decay.append(p)` / `bias_p += [p]`)
                scope = base.value_scope if base is not None else where.scope
                yield from self._loop_tests(node.id, scope, base.order if base else 0, where, group)
            for binding in bindings:
                if binding.kind is BindingKind.ASSIGN:
                    yield from self._tests_feeding(binding.node, Where.of_binding(binding, where.env), group, depth + 1)
                elif binding.kind is BindingKind.PARAM:
                    argument = self.resolver.argument_of(node.id, binding, where)
                    if argument is not None:
                        yield from self._tests_feeding(argument[0], argument[1], group, depth + 1)

    def _comprehension_tests(self, node, where: Where, group: Group, depth: int):
        parts = loop_parts(node)
        if parts is None:
            return
        target, iterable, conditions = parts
        name, var = name_var(target), param_var(target)
        if name is None and isinstance(target, ast.Name) and self._names_list(iterable, where):
            name, var = target.id, None  # `[n for n in get_parameter_names(model, [nn.LayerNorm]) if ...]`
        elif name is None or not self._named_parameters(iterable, where):
            return
        split = [c.values if isinstance(c, ast.BoolOp) and isinstance(c.op, ast.And) else [c] for c in conditions]
        if any(_shape_test(conjunct, var) for conjuncts in split for conjunct in conjuncts):
            return  # `p.ndim >= 2 and "bias" not in n`: the shape test already keeps vectors undecayed
        for conjuncts in split:
            for conjunct in conjuncts:
                found = substring_tests(conjunct, name)
                if found:
                    test = self._name_test(conjunct, found, var, where)
                    if test is not None:
                        test.module, test.name = self._named_root(iterable, where), name
                        yield test, node
                elif isinstance(conjunct, ast.Compare) and len(conjunct.ops) == 1 and isinstance(conjunct.ops[0], (ast.In, ast.NotIn)) \
                        and isinstance(conjunct.left, ast.Name) and conjunct.left.id == name:
                    # `n in no_decay_names`: the tests that built that set decide
                    for built in self._tests_feeding(conjunct.comparators[0], where, group, depth + 1):
                        built[0].no_fix = built[0].no_fix or "the names are collected in a set used elsewhere"
                        built[0].rewrite_to = None
                        yield built[0], None

    def _loop_tests(self, list_name: str, scope, after: int, where: Where, group: Group):
        """``for n, p in m.named_parameters(): if <test>: a.append(p) else: b.append(p)``."""
        for site in self.model.loops:
            loop = site.node
            if not isinstance(loop, ast.For) or site.scope is not scope or site.order < after:
                continue
            name, var = name_var(loop.target), param_var(loop.target)
            if name is None or not self._named_parameters(loop.iter, Where.of_site(site, where.env)):
                continue
            for statement in ast.walk(loop):
                chooser = _list_chooser(statement, var)
                if isinstance(statement, ast.If):
                    test_node = statement.test
                    body_lists = _appended_lists(statement.body, var)
                    else_lists, complete = _else_lists(statement.orelse, var)
                elif chooser is not None:  # `(no_decay if test else decay).append(p)`
                    test_node, body_lists, else_lists, complete = chooser
                else:
                    continue
                if list_name not in body_lists | else_lists:
                    continue
                found = substring_tests(test_node, name)
                if not found:
                    # `if name in skip:` -- the tests that built `skip` decide
                    members = _membership(test_node, name)
                    if members is not None:
                        for built, _ in self._tests_feeding(members, Where.of_site(site, where.env), group, 1):
                            built.no_fix = built.no_fix or "the names are collected in a set used elsewhere"
                            built.rewrite_to = None
                            yield built, None
                    continue
                statement = ast.If(test=test_node, body=[], orelse=[])
                test = self._name_test(statement.test, found, var, where)
                if test is None:
                    continue
                test.module, test.name = self._named_root(loop.iter, Where.of_site(site, where.env)), name
                if not (complete and len(body_lists) == 1 and else_lists):
                    test.no_fix = "the test does not send every parameter to one of the groups"
                else:
                    test.rewrite_to = ("body", next(iter(body_lists)), else_lists)
                yield test, None

    def _named_parameters(self, node, where: Where, depth: int = 0) -> bool:
        """Whether `node` iterates ``named_parameters()`` (directly, through a name, or through
        a helper's parameter that the call site fills with it)."""
        other = self.elsewhere(where)
        if other is not None:
            return other._named_parameters(node, where, depth)
        if depth > 6:
            return False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "named_parameters":
                return True
            if dotted_name(func) in ("list", "tuple", "sorted", "filter") and node.args:
                return self._named_parameters(node.args[-1], where, depth + 1)
            if isinstance(func, ast.Attribute) and func.attr == "items" and isinstance(func.value, ast.Name):
                return self._named_parameters(func.value, where, depth + 1)
            if dotted_name(func) == "dict" and node.args:
                return self._named_parameters(node.args[0], where, depth + 1)
            return False
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self._named_parameters(node.generators[0].iter, where, depth + 1)
        if isinstance(node, ast.Name):
            for binding in self.resolver.reaching(node.id, where):
                if binding.kind is BindingKind.ASSIGN and self._named_parameters(binding.node, Where.of_binding(binding, where.env), depth + 1):
                    return True
                if binding.kind is BindingKind.PARAM:
                    argument = self.resolver.argument_of(node.id, binding, where)
                    if argument is not None and self._named_parameters(argument[0], argument[1], depth + 1):
                        return True
                    if argument is None and self._callers_pass_named_parameters(node.id, binding):
                        return True
        return False

    def _names_list(self, node, where: Where, depth: int = 0) -> bool:
        """A list of parameter names: Hugging Face's `get_parameter_names(model, ...)` (the
        names of `named_parameters()` outside the given layer types), or a comprehension
        that keeps some of such names."""
        other = self.elsewhere(where)
        if other is not None:
            return other._names_list(node, where, depth)
        if depth > 6:
            return False
        if isinstance(node, ast.Call):
            return (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "get_parameter_names" or (
                dotted_name(node.func) in ("list", "set", "sorted") and len(node.args) == 1
                and self._names_list(node.args[0], where, depth + 1)
            )
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(node.generators) == 1:
            target = node.generators[0].target
            return isinstance(target, ast.Name) and dotted_name(node.elt) == target.id and \
                self._names_list(node.generators[0].iter, where, depth + 1)
        if isinstance(node, ast.Name):
            bindings = self.resolver.reaching(node.id, where)
            return bool(bindings) and all(
                b.kind is BindingKind.ASSIGN and self._names_list(b.node, Where.of_binding(b, where.env), depth + 1)
                for b in bindings[:1]
            )
        return False

    def _named_root(self, node, where: Where, depth: int = 0):
        """(X, where) for the `X.named_parameters()` that `node` iterates, or None."""
        other = self.elsewhere(where)
        if other is not None:
            return other._named_root(node, where, depth)
        if depth > 6:
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "named_parameters":
                # named_parameters(prefix="", recurse=True): other arguments change the names
                return (func.value, where) if not node.args and not node.keywords else None
            if dotted_name(func) in ("list", "tuple", "sorted") and len(node.args) == 1:
                return self._named_root(node.args[0], where, depth + 1)
            return None
        if isinstance(node, ast.Name):
            bindings = self.resolver.reaching(node.id, where)
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
                return self._named_root(bindings[0].node, Where.of_binding(bindings[0], where.env), depth + 1)
        return None

    def _callers_pass_named_parameters(self, name: str, binding) -> bool:
        """A helper's parameter that some call site in this file fills with named_parameters()."""
        function = next((s for s in self.model.scopes if binding in s.bindings.get(name, ())), None)
        if function is None or binding.param_index is None:
            return False
        for site in self.model.calls:
            if self.resolver.local_function(site.node.func, Where.of_site(site)) is not function:
                continue
            env = self.resolver.bind_call(function, site.node, Where.of_site(site))
            if env is not None and name in env.arguments:
                argument, argument_where = env.arguments[name]
                if self._named_parameters(argument, argument_where, 5):
                    return True
        return False

    def _name_test(self, node, found, var, where: Where) -> NameTest | None:
        words = []
        for test, _ in found:
            words.extend(self._words(test, where))
        # Token and position tables are no-decay by policy: a name test for them is right.
        if words and all(is_token_name(word.strip(".")) or is_token_name(f"x_{word.strip('.')}") for word in words):
            return None
        # A family of parameters given its own group (`"mask_score" in n`, `"vector_bank" in
        # n`, `"backbone" in n`) is a choice about that family, not a guess at roles.
        # (`"position_embeddings.weight"` names a module's table: the module, not a role)
        if words and not any(_ROLE_WORD.search(re.sub(r"(?<=.)\.weight$", "", word)) for word in words):
            return None
        return NameTest(node, found, words, var, where=where)

    def _words(self, test, where: Where) -> list[str]:
        if isinstance(test, ast.Compare):
            value = self.resolver.evaluate(test.left, where)
            if value.known and isinstance(value.value, str):
                return [value.value]
            return []
        if isinstance(test, ast.Call):  # any(nd in n for nd in no_decay)
            gen = test.args[0]
            found = self.resolver.sequence(gen.generators[0].iter, where)
            words = []
            for element, element_where in found or ():
                value = self.resolver.evaluate(element, element_where)
                if value.known and isinstance(value.value, str):
                    words.append(value.value)
            return words
        return []


def _dict_items(node):
    """(key, value) of a dict display or `dict(...)` call with constant keys."""
    if isinstance(node, ast.Dict):
        return [(k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)]
    if isinstance(node, ast.Call) and dotted_name(node.func) == "dict":
        return [(k.arg, k.value) for k in node.keywords if k.arg is not None]
    return []


def _tests_around(body: list, node) -> list:
    """The tests of the ifs (in a loop body) that hold `node`, outermost first."""
    for statement in body:
        if not (statement.lineno <= node.lineno and node.end_lineno <= statement.end_lineno):
            continue
        if isinstance(statement, ast.If):
            inner = statement.body if any(s.lineno <= node.lineno <= s.end_lineno for s in statement.body) else statement.orelse
            return [statement.test] + _tests_around(inner, node)
        return []
    return []


def _membership(test, name: str):
    """`name in S` / `name not in S` (also inside `not`): S, else None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.In, ast.NotIn)) \
            and isinstance(test.left, ast.Name) and test.left.id == name:
        return test.comparators[0]
    return None


def _shape_test(node, var) -> bool:
    """`p.ndim >= 2`, `p.squeeze().ndim < 2`, `p.dim() > 1`, `len(p.shape) >= 2` on the parameter."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return False
    left = node.left
    if isinstance(left, ast.Call) and isinstance(left.func, ast.Attribute) and left.func.attr == "dim":
        left = left.func
    elif isinstance(left, ast.Call) and dotted_name(left.func) == "len" and len(left.args) == 1:
        left = left.args[0]
    if not (isinstance(left, ast.Attribute) and left.attr in ("ndim", "dim", "shape")):
        return False
    base = left.value
    if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "squeeze" and not base.args:
        base = base.func.value
    return var is not None and dotted_name(base) == var


def _list_chooser(statement, var):
    """`(a if test else b).append(p)`: (test, {a}, {b}, True), else None."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.IfExp):
            choice = func.value
            args = statement.value.args
            if args and dotted_name(args[0]) == var and isinstance(choice.body, ast.Name) and isinstance(choice.orelse, ast.Name):
                return choice.test, {choice.body.id}, {choice.orelse.id}, True
    return None


def _loop_rewrite(body_group: Group | None, else_groups: list) -> str | None:
    """Which shape test replaces an if-test whose body feeds `body_group` and whose other
    branches feed `else_groups`: the body is the no-decay side, or the decayed side."""
    if body_group is None or not else_groups or any(g is None for g in else_groups):
        return None
    if body_group.weight_decay.provably_zero and any(not g.weight_decay.provably_zero for g in else_groups):
        return "no-decay"
    if not body_group.weight_decay.provably_zero and all(g.weight_decay.provably_zero for g in else_groups):
        return "decay"
    return None


def _else_lists(orelse: list, var: str | None) -> tuple[set[str], bool]:
    """The lists the other branches of an if/elif chain append `var` to, and whether the
    chain ends in an `else` (so every parameter goes to some list)."""
    if len(orelse) == 1 and isinstance(orelse[0], ast.If):
        inner = orelse[0]
        lists, complete = _else_lists(inner.orelse, var)
        body = _appended_lists(inner.body, var)
        return lists | body, complete and bool(body)
    lists = _appended_lists(orelse, var)
    return lists, bool(lists)


def _appended_lists(body: list, var: str | None) -> set[str]:
    """Names of the lists that `var` (the parameter) is appended or added to in `body`."""
    found = set()
    for statement in body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if isinstance(func, ast.Attribute) and func.attr in ("append", "add") and isinstance(func.value, ast.Name):
                if statement.value.args and dotted_name(statement.value.args[0]) == var:
                    found.add(func.value.id)
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            value = statement.value
            if isinstance(value, ast.List) and len(value.elts) == 1 and dotted_name(value.elts[0]) == var:
                found.add(statement.target.id)
    return found


def _pair_comprehensions(found: list[tuple[Group, NameTest, ast.AST]], resolver: Resolver) -> None:
    """Two comprehensions over the same parameters whose name conditions are each other's
    negation: rewriting both to the shape test keeps every parameter in the optimizer."""
    for group, test, comprehension in found:
        partner = None
        for other_group, other_test, other_comprehension in found:
            if other_test is test or other_group is group:
                continue
            same_iterable = ast.dump(comprehension.generators[0].iter) == ast.dump(other_comprehension.generators[0].iter)
            polarity = {p for _, p in test.tests}
            other_polarity = {p for _, p in other_test.tests}
            complementary = len(polarity) == 1 and len(other_polarity) == 1 and polarity != other_polarity and \
                sorted(_test_key(t) for t, _ in test.tests) == sorted(_test_key(t) for t, _ in other_test.tests)
            if same_iterable and complementary and not group.weight_decay.same_as(other_group.weight_decay):
                partner = other_group
                test.twin = other_test
                break
        if partner is None:
            test.no_fix = test.no_fix or "no complementary group: rewriting the test would drop parameters from the optimizer"
            continue
        lower = group.weight_decay.provably_zero or (
            group.weight_decay.is_number and partner.weight_decay.is_number and group.weight_decay.value < partner.weight_decay.value
        )
        if not (group.weight_decay.provably_zero or partner.weight_decay.provably_zero):
            test.no_fix = test.no_fix or "neither group has weight_decay=0"
            continue
        test.rewrite_to = "no-decay" if lower else "decay"
        test.partner = next((t for g, t, _ in found if g is partner), None)


def _shared_conjuncts(comprehensions: list) -> set[str]:
    """Conjuncts that every group's comprehension holds (`"highway" in n and ...` in both
    halves): they select the parameters of all groups alike and decide no decay."""
    unique = {id(c): c for c in comprehensions}
    if len(unique) < 2:
        return set()
    sets = []
    for comprehension in unique.values():
        conjuncts = set()
        for condition in comprehension.generators[0].ifs:
            values = condition.values if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And) else [condition]
            conjuncts.update(ast.dump(v) for v in values)
        sets.append(conjuncts)
    return set.intersection(*sets)


def _polarities(comprehension) -> dict[str, bool]:
    """Each conjunct of a comprehension's condition, without its `not`, and whether it holds."""
    found = {}
    for condition in comprehension.generators[0].ifs:
        values = condition.values if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And) else [condition]
        for value in values:
            positive = not (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not))
            found[ast.dump(value if positive else value.operand)] = positive
    return found


def _tests_deciding_no_decay(entries: list) -> set[int]:
    """Name tests that only pick another lr (DeepSpeed-Chat's four groups: `no_decay` x
    `small_learning_rate_list`): two groups that differ in this test alone have the same
    decay, and no two groups that differ in it alone have different decays."""
    if len(entries) < 3:
        return set()
    rows = [(group, test, _polarities(comprehension)) for group, test, comprehension in entries]
    dropped = set()
    for _, test, polarity in rows:
        key = next((k for k in polarity if k in ast.dump(test.node) or ast.dump(test.node) in k), None)
        if key is None:
            continue
        isolating = [
            (a, b) for a, _, pa in rows for b, _, pb in rows
            if a is not b and set(pa) == set(pb) and pa[key] != pb[key] and all(pa[k] == pb[k] for k in pa if k != key)
        ]
        if isolating and all(a.weight_decay.same_as(b.weight_decay) for a, b in isolating):
            dropped.add(id(test.node))
    return dropped


def _test_key(node) -> str:
    """A test without its polarity: `'bias' in n` and `'bias' not in n` give one key."""
    if isinstance(node, ast.Compare):
        return ast.dump(node.left) + ast.dump(node.comparators[0])
    return ast.dump(node)


# -- a split that is exact for the model the file builds --------------------------------------


def exact_for_model(test: NameTest, shapes, resolver: Resolver) -> bool:
    """Whether `test`, on the model class of this file that it reads the names of, selects
    exactly its vector parameters (or exactly the others): then it decides by role, whatever
    words it uses (`["bias", "LayerNorm.weight"]` on a model whose norms are all called
    `LayerNorm`). Unknown when the model is chosen at run time."""
    if test.module is None or test.name is None or test.where is None:
        return False
    params = shapes.parameters_of(*test.module)
    if not params or not any(p.vector for p in params):
        return False
    matched = set()
    for param in params:
        verdict = _name_matches(test.node, test.name, param.name, resolver, test.where)
        if verdict is None:
            return False
        if verdict:
            matched.add(param.name)
    vectors = {p.name for p in params if p.vector}
    return matched == vectors or matched == {p.name for p in params} - vectors


def _name_matches(node, name: str, text: str, resolver: Resolver, where: Where, bound=None):
    """The value of a substring test on parameter name `text`, or None when not known."""
    bound = bound or {}
    if isinstance(node, ast.BoolOp):
        values = [_name_matches(v, name, text, resolver, where, bound) for v in node.values]
        if any(v is None for v in values):
            return None
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _name_matches(node.operand, name, text, resolver, where, bound)
        return None if inner is None else not inner
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        if isinstance(node.left, ast.Name) and node.left.id in bound:
            word = bound[node.left.id]
        else:
            value = resolver.evaluate(node.left, where)
            word = value.value if value.known and isinstance(value.value, str) else None
        haystack = _name_text(node.comparators[0], name, text)
        if word is None or haystack is None:
            return None
        found = word in haystack
        return found if isinstance(node.ops[0], ast.In) else not found
    if isinstance(node, ast.Call) and dotted_name(node.func) == "any" and len(node.args) == 1:
        gen = node.args[0]
        if not isinstance(gen, ast.GeneratorExp) or len(gen.generators) != 1 or gen.generators[0].ifs:
            return None
        target = gen.generators[0].target
        elements = resolver.sequence(gen.generators[0].iter, where)
        if not isinstance(target, ast.Name) or elements is None:
            return None
        verdicts = []
        for element, element_where in elements:
            value = resolver.evaluate(element, element_where)
            if not (value.known and isinstance(value.value, str)):
                return None
            verdicts.append(_name_matches(gen.elt, name, text, resolver, where, {**bound, target.id: value.value}))
        return None if any(v is None for v in verdicts) else any(verdicts)
    return None


def _name_text(node, name: str, text: str):
    """What a test searches: the name, `name.lower()`, or `name.split(".")`."""
    if isinstance(node, ast.Name) and node.id == name:
        return text
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted_name(node.func.value) == name:
        method = node.func.attr
        if method in ("lower", "casefold") and not node.args:
            return text.lower()
        if method == "upper" and not node.args:
            return text.upper()
        if method == "split" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and not node.keywords:
            return text.split(node.args[0].value)
    return None
