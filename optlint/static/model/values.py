"""Answers to the rules' questions about expressions, from the facts of one walk.

- ``reaching``: which bindings of a name may reach a use (branches that exclude the use
  are left out; a binding that always runs before the use hides the older ones);
- ``qualname``: which dotted name a callee stands for (through imports and aliases);
- ``evaluate``: the value of an expression (literals, bounded constant arithmetic,
  constants, parameter defaults, ``self.x``, argparse defaults, dict items), or "unknown"
  and why;
- ``sequence`` / ``mapping``: list and dict literals reached through local names;
- in-file calls: ``Where.env`` binds a function's parameters to a call site's arguments,
  so a helper's body is read as if inlined there (summaries computed on demand).

Nothing here imports or runs the checked code.
"""

from __future__ import annotations

import ast
import bisect
import math
from dataclasses import dataclass, field, replace

from optlint.static.model.scopes import Binding, BindingKind, FileModel, Scope, ScopeKind, dotted_name

MAX_DEPTH = 24
#: Constant folding stops here: beyond it a value is "not statically known" (a hostile
#: `9**9**9` must not hang the run, a 5,000-digit literal must not crash it).
MAX_INT_BITS = 256
MAX_EXPONENT = 512
#: How deep in-file calls are inlined (a helper calling a helper calling a helper).
MAX_INLINE = 3
#: Value resolution steps (``Resolver.evaluate`` calls) one file may take. Each binding's
#: value is computed once per inlining context and depth (``wd = wd * 0.5`` under 20
#: independent ifs costs hundreds of steps, not 2**20); past this bound every value is
#: "not statically known", so a hostile file costs a bounded time and its unresolved decay
#: is still reported as such. The training scripts of timm, pytorch/examples, OLMo and
#: torchtitan take at most 100.
MAX_STEPS = 50_000
#: At most this many bindings of one name are looked at for one use: a name rebound in
#: thousands of branches, all of which may reach a use, is "not statically known" there
#: (its value, not its qualname: the most recent binding is always among them).
MAX_REACHING = 64
#: A walk order after every binding of a module (`Resolver.at_end`).
END_OF_MODULE = 1 << 62


@dataclass(frozen=True)
class Env:
    """Arguments bound to a function's parameters at one call site (an inlined call)."""

    function: Scope
    arguments: dict = field(compare=False, hash=False)  # name -> (expr or None, Where of the caller)
    call: ast.Call | None = field(default=None, compare=False, hash=False)
    depth: int = 0
    #: the environment of the function that made this one (a lambda or nested function a
    #: factory returns: its free names are the factory's parameters, bound at its call)
    parent: "Env | None" = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Where:
    """A point of use: the scope, walk order and branch path of the expression."""

    scope: Scope
    order: int
    path: tuple[int, ...] = ()
    env: Env | None = field(default=None, compare=False)

    @classmethod
    def of_binding(cls, binding: Binding, env: Env | None = None) -> "Where":
        return cls(binding.value_scope, binding.order, binding.path, env)

    @classmethod
    def of_site(cls, site, env: Env | None = None) -> "Where":
        return cls(site.scope, site.order, site.path, env)


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
        return self.known and isinstance(self.value, (int, float))

    @property
    def provably_zero(self) -> bool:
        return self.is_number and self.value == 0 and not self.overridable

    @property
    def provably_true(self) -> bool:
        return self.known and self.value is True and not self.overridable

    def same_as(self, other: "Value") -> bool:
        """Two groups get the same decay: equal known values that no run can change, or the
        same unknown expression (`weight_decay=hp["wd"]` in both). A default that can be
        changed at run time (`--wd`, even 0.0) is a decay that may differ from a literal 0."""
        if self.known and other.known:
            return self.value == other.value and self.overridable == other.overridable
        return not self.known and not other.known and bool(self.text) and self.text == other.text

    def describe(self, key: str = "weight_decay") -> str:
        """``weight_decay=5e-4 from the --wd default`` or ``weight_decay=args.wd (not statically known)``."""
        if self.known:
            text = f"{key}={self.text or show(self.value)}"
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


#: What every value is once a file has used up its MAX_STEPS.
_EXHAUSTED = Value(False, None, "", "a file too costly to resolve (optlint's bound on value resolution)")


def show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _bounded(value) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, float):
        return math.isfinite(value)
    return False


def _power(a, b):
    if isinstance(b, int) and abs(b) > MAX_EXPONENT:
        raise OverflowError("exponent too large to fold")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
        raise OverflowError("result too large to fold")
    return a**b


_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Pow: _power,
}

#: Parameter names that conventionally hold the parse_args() result when passed around.
ARGS_NAMES = frozenset({"args", "opt", "opts", "hparams", "cfg", "config", "flags", "FLAGS"})


class Resolver:
    """Name, value and container resolution over one file's model."""

    def __init__(self, model: FileModel, source) -> None:
        self.model = model
        self.source = source  # the file's SourceText: exact segments for fixes
        self.segment = source.short  # one-line, shortened text of a node, for messages
        #: evaluate() calls so far in this file (bounded by MAX_STEPS)
        self.steps = 0
        #: bindings looked at by reaching() so far (what a name rebound thousands of times
        #: would cost per use if the scan were not cut at the use)
        self.reach_steps = 0
        self.complete = True  # whether the last reaching() list holds every binding that reaches
        #: (binding, id(env), depth) -> (env, value): each binding is resolved once per
        #: context (the env is kept so its id cannot be reused while the entry lives)
        self._binding_values: dict = {}
        #: per-file results of analyses above the model, computed once (the fix dependents'
        #: FSDP1 wraps): a file with n findings must not pay n times for them
        self.memo: dict = {}
        #: the FileContext of the file (its path and project: imports are followed there)
        self.context = None

    # -- other modules ------------------------------------------------------------------

    def elsewhere(self, scope: Scope | None) -> "Resolver | None":
        """The resolver of the other module `scope` belongs to (None: this file's own).
        Every question about a place is answered by the resolver of its file."""
        model = scope.model if scope is not None else None
        if model is self.model or model is None or model.context is None:
            return None
        return model.context.resolver

    def at_end(self) -> "Where":
        """A use at the end of the module: what an importer sees of its names."""
        return Where(self.model.module_scope, END_OF_MODULE, ())

    @staticmethod
    def at_binding(binding: Binding) -> "Where":
        return Where.of_binding(binding)

    def segment_at(self, node, where: "Where") -> str:
        """`segment` of a node of the file `where` belongs to (this one or another module)."""
        other = self.elsewhere(where.scope) if where is not None else None
        return (other or self).segment(node)

    def imported(self, node, where: "Where", text_test=None):
        """What a Name/Attribute bound by an import stands for in another module of the
        project (optlint.static.model.imported.Target), or None."""
        if self.context is None or getattr(self.context, "project", None) is None:
            return None
        full = dotted_name(node)
        if full is None:
            return None
        bindings = self.reaching(full.partition(".")[0], where)
        if not bindings or bindings[0].kind not in (BindingKind.IMPORT, BindingKind.ASSIGN):
            return None
        qualname = self.qualname(node, where)
        if qualname is None or qualname.startswith("<local>.") or qualname == full and bindings[0].kind is not BindingKind.IMPORT:
            return None
        from optlint.static.model.imported import resolve

        return resolve(self.context, qualname, text_test)

    # -- names --------------------------------------------------------------------------

    def reaching(self, name: str, where: Where) -> list[Binding]:
        """The bindings of `name` that may reach the use, most recent first.

        Sets ``self.complete``: False when the scan stopped at MAX_REACHING bindings of the
        name, so that older ones that may reach are not in the list.
        """
        other = self.elsewhere(where.scope)
        if other is not None:
            found = other.reaching(name, where)
            self.complete = other.complete
            return found
        exclusive = self.model.branches.exclusive
        for depth, scope in enumerate(where.scope.lookup_chain()):
            bindings = scope.bindings.get(name)
            if not bindings:
                continue
            result: list[Binding] = []
            # Bindings are kept in walk order: skip the ones after the use at once (a name
            # rebound thousands of times must not cost thousands of steps per use).
            end = len(bindings)
            if depth == 0 and end > 8:
                end = bisect.bisect_left(bindings, where.order, key=_order)
            self.reach_steps += 1
            last = end - MAX_REACHING if end > MAX_REACHING else 0
            complete = last == 0
            for index in range(end - 1, last - 1, -1):
                self.reach_steps += 1
                binding = bindings[index]
                if depth == 0:
                    if binding.order >= where.order or exclusive(binding.path, where.path):
                        continue
                    result.append(binding)
                    if where.path[: len(binding.path)] == binding.path:
                        complete = True
                        break  # this binding always runs before the use: earlier ones are dead
                else:
                    # An enclosing scope has run to its end before a nested function is called.
                    result.append(binding)
                    if not binding.path:
                        complete = True
                        break
            if result or not complete:
                self.complete = complete
                return result
        self.complete = True
        return []

    def argument_of(self, name: str, binding: Binding, where: Where):
        """For a parameter of an inlined call: (expr, Where) of the argument bound to it."""
        env = where.env
        if binding.kind is not BindingKind.PARAM or env is None:
            return None
        while env is not None:
            if binding in env.function.bindings.get(name, ()):
                return env.arguments.get(name)
            env = env.parent
        return None

    @staticmethod
    def _bound_without(name: str, binding: Binding, where: Where) -> bool:
        """Whether an inlined call binds the function of parameter `name` and passes it
        nothing (``bind_call`` gives no env to calls with ``*args`` or ``**kwargs``)."""
        env = where.env
        while env is not None:
            if binding in env.function.bindings.get(name, ()):
                return name not in env.arguments
            env = env.parent
        return False

    def qualname(self, node: ast.AST, where: Where, depth: int = 0) -> str | None:
        """The dotted name `node` stands for, e.g. ``torch.optim.AdamW``.

        A class or function defined in this file resolves to ``<local>.Name``; a value that
        cannot be followed (``getattr(...)``, ``OPTS[name]``) resolves to None.
        """
        full = dotted_name(node)
        if full is None or depth > MAX_DEPTH:
            return None
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.qualname(node, where, depth)
        head, _, rest = full.partition(".")
        bindings = self.reaching(head, where)
        if not bindings:
            return full  # a global from elsewhere (a builtin, a notebook cell): take it as written
        binding = bindings[0]
        suffix = f".{rest}" if rest else ""
        if binding.kind is BindingKind.IMPORT:
            return binding.qualname + suffix
        if binding.kind in (BindingKind.CLASS, BindingKind.DEF):
            return f"<local>.{full}"
        if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, (ast.Name, ast.Attribute)):
            target = self.qualname(binding.node, Where.of_binding(binding, where.env), depth + 1)
            return None if target is None else target + suffix
        if binding.kind is BindingKind.PARAM:
            argument = self.argument_of(head, binding, where)
            if argument is not None and isinstance(argument[0], (ast.Name, ast.Attribute)):
                target = self.qualname(argument[0], argument[1], depth + 1)
                return None if target is None else target + suffix
        return None

    def local_function(self, node: ast.AST, where: Where, text_test=None) -> Scope | None:
        """The scope of the function or method of this file that `node` names, if any.

        ``helper``, ``self.helper`` / ``cls.helper`` (a method of the enclosing class) and
        ``name = lambda ...`` are followed; anything else is not. Given `text_test` (see
        `imported`), a function imported from another module of the project is that module's
        scope: only callers that answer questions across modules ask for it.
        """
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.local_function(node, where, text_test)
        if isinstance(node, ast.Name):
            for binding in self.reaching(node.id, where)[:1]:
                if binding.kind is BindingKind.DEF:
                    return self.model.function_scopes.get(id(binding.node))
                if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Lambda):
                    return self.model.function_scopes.get(id(binding.node))
                if binding.kind is BindingKind.IMPORT and text_test is not None:
                    return self._imported_function(node, where, text_test)
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            cls = class_of(where.scope)
            while cls is not None:
                for binding in cls.bindings.get(node.attr, ())[-1:]:
                    if binding.kind is BindingKind.DEF:
                        return self.model.function_scopes.get(id(binding.node))
                cls = self._base_class(cls)
            return None
        if isinstance(node, ast.Attribute) and text_test is not None:  # `optim.build(...)`: `from utils import optim`
            return self._imported_function(node, where, text_test)
        return None

    def _imported_function(self, node, where: Where, text_test=None) -> Scope | None:
        """The function (or `name = lambda`) another module of the project defines for an
        imported name (`from utils import build_optimizer`, `optim.build(...)`)."""
        name = node.id if isinstance(node, ast.Name) else node.attr
        if text_test is not None:  # a module that defines no such function is never parsed for it
            test = text_test
            text_test = lambda text: (f"def {name}" in text or f"{name} =" in text) and test(text)  # noqa: E731
        target = self.imported(node, where, text_test)
        if target is None or target.rest or target.binding is None or not target.unique:
            return None
        binding = target.binding
        if binding.kind is BindingKind.DEF or binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Lambda):
            return target.context.model.function_scopes.get(id(binding.node))
        return None

    def _base_class(self, cls: Scope) -> Scope | None:
        """A base class defined in this file (single inheritance is enough for helpers)."""
        node = cls.node
        for base in getattr(node, "bases", ()):
            name = dotted_name(base)
            if name and name in self.model.class_scopes and self.model.class_scopes[name] is not cls:
                return self.model.class_scopes[name]
        return None

    def bind_call(self, function: Scope, call: ast.Call, where: Where) -> Env | None:
        """The environment that inlines `function` at `call` (None when too deep or odd)."""
        depth = where.env.depth + 1 if where.env is not None else 1
        if depth > MAX_INLINE or function.kind not in (ScopeKind.FUNCTION, ScopeKind.LAMBDA):
            return None
        params = list(function.params)
        node = function.node
        is_method = function.enclosing_class is not None and params[:1] in (["self"], ["cls"])
        if is_method and isinstance(call.func, ast.Attribute):
            params = params[1:]  # self.helper(x): x binds the second parameter
            decorators = {dotted_name(d) for d in getattr(node, "decorator_list", ())}
            if "staticmethod" in decorators:
                params = list(function.params)
        arguments: dict = {}
        positional = [a for a in call.args]
        for i, arg in enumerate(positional):
            if isinstance(arg, ast.Starred):
                return None
            if i < len(params):
                arguments[params[i]] = (arg, where)
        for keyword in call.keywords:
            if keyword.arg is None:
                return None
            arguments[keyword.arg] = (keyword.value, where)
        return Env(function, arguments, call, depth)

    # -- values -------------------------------------------------------------------------

    def evaluate(self, node, where: Where, depth: int = 0) -> Value:
        if depth > MAX_DEPTH or node is None:
            return unknown()
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.evaluate(node, where, depth)
        self.steps += 1
        if self.steps > MAX_STEPS:
            return _EXHAUSTED
        if isinstance(node, ast.Constant):
            value = node.value
            if not _bounded(value) or isinstance(value, (bytes, complex)) or value is Ellipsis:
                return unknown(self.segment(node))
            text = self.segment(node) if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
            return Value(True, value, text)
        if isinstance(node, ast.Name):
            return self._evaluate_name(node.id, where, depth)
        if isinstance(node, ast.UnaryOp):
            inner = self.evaluate(node.operand, where, depth + 1)
            if inner.is_number and isinstance(node.op, (ast.USub, ast.UAdd)):
                sign = -1 if isinstance(node.op, ast.USub) else 1
                return replace(inner, value=sign * inner.value, text=self.segment(node))
            if inner.known and isinstance(node.op, ast.Not):
                return replace(inner, value=not inner.value, text=self.segment(node))
            return unknown(self.segment(node))
        if isinstance(node, ast.BinOp):
            return self._evaluate_binop(node, where, depth)
        if isinstance(node, ast.IfExp):
            body = self.evaluate(node.body, where, depth + 1)
            orelse = self.evaluate(node.orelse, where, depth + 1)
            if body.known and orelse.known and body.value == orelse.value:
                return body
            return unknown(self.segment(node))
        if isinstance(node, ast.Call):
            return self._evaluate_call(node, where, depth)
        if isinstance(node, ast.Attribute):
            return self._evaluate_attribute(node, where, depth)
        if isinstance(node, ast.Subscript):
            return self._evaluate_subscript(node, where, depth)
        return unknown(self.segment(node))

    def _evaluate_binop(self, node: ast.BinOp, where: Where, depth: int) -> Value:
        op = _BINOPS.get(type(node.op))
        left = self.evaluate(node.left, where, depth + 1)
        right = self.evaluate(node.right, where, depth + 1)
        if op is None or not (left.is_number and right.is_number):
            return unknown(self.segment(node))
        try:
            result = op(left.value, right.value)
        except (ArithmeticError, ValueError, OverflowError, TypeError):
            return unknown(self.segment(node))
        if not _bounded(result) or isinstance(result, complex):
            return unknown(self.segment(node))
        return Value(
            True,
            result,
            show(result),
            left.source or right.source or f"`{self.segment(node)}`",
            left.overridable or right.overridable,
        )

    def _evaluate_call(self, node: ast.Call, where: Where, depth: int) -> Value:
        name = dotted_name(node.func)
        if name in ("float", "int") and len(node.args) == 1 and not node.keywords:
            inner = self.evaluate(node.args[0], where, depth + 1)
            if inner.known:
                try:
                    converted = (float if name == "float" else int)(inner.value)
                    if _bounded(converted):
                        return replace(inner, value=converted, text=show(converted))
                except (TypeError, ValueError, OverflowError):
                    pass
        return unknown(self.segment(node))

    @staticmethod
    def combine(values: list[Value], text: str, source: str = "") -> Value:
        first = values[0]
        if all(v.known for v in values) and all(v.value == first.value for v in values):
            return Value(True, first.value, first.text, first.source or source, any(v.overridable for v in values))
        return unknown(text, next((v.source for v in values if v.source and not v.known), ""))

    def _evaluate_name(self, name: str, where: Where, depth: int) -> Value:
        if name in ("True", "False", "None"):  # only reachable as Name in very old trees
            return Value(True, {"True": True, "False": False, "None": None}[name], name)
        bindings = self.reaching(name, where)
        if not bindings or not self.complete:
            return unknown(name)  # unbound here, or the scan stopped before the oldest binding
        self.steps += len(bindings)  # every binding that reaches costs a step, remembered or not
        values = [self._evaluate_binding(name, b, where, depth) for b in bindings]
        return self.combine(values, name)

    def _evaluate_binding(self, name: str, binding: Binding, where: Where, depth: int) -> Value:
        key = (binding, id(where.env), depth)
        known = self._binding_values.get(key)
        if known is not None:
            return known[1]
        value = self._resolve_binding(name, binding, where, depth)
        self._binding_values[key] = (where.env, value)
        return value

    def _passed_by_callers(self, name: str, binding: Binding, where: Where) -> Value | None:
        """A parameter no call binds here (the function's body read as written): what the
        project's calls of the function pass it (model/callers.py), or None to keep its
        default."""
        context = getattr(self, "context", None)
        if context is None or where.env is not None and any(
            b is binding for b in where.env.function.bindings.get(name, ())
        ):
            return None  # an inlined call that leaves the argument out: the default is what it gets
        return context.passed_value(name, binding, where)

    def _resolve_binding(self, name: str, binding: Binding, where: Where, depth: int) -> Value:
        if binding.kind is BindingKind.PARAM:
            argument = self.argument_of(name, binding, where)
            if argument is not None:
                return self.evaluate(argument[0], argument[1], depth + 1)
            if binding.node is not None and self._bound_without(name, binding, where):
                # an inlined call that leaves the parameter out: the default is what it gets
                value = self.evaluate(binding.node, Where.of_binding(binding), depth + 1)
                return replace(value, source=f"the default of parameter `{name}`, which the call leaves as it is")
            passed = self._passed_by_callers(name, binding, where)
            if passed is not None:
                return passed
            if binding.node is None:
                return unknown(name, f"parameter `{name}`")
            value = self.evaluate(binding.node, Where.of_binding(binding), depth + 1)
            return replace(value, source=f"the default of parameter `{name}`", overridable=True)
        if binding.kind is BindingKind.ASSIGN:
            value = self.evaluate(binding.node, Where.of_binding(binding, where.env), depth + 1)
            if value.known and not value.source:
                value = replace(value, source=f"`{name}`")
            return value
        if binding.kind is BindingKind.IMPORT:
            return self._imported_value(ast.Name(id=name, ctx=ast.Load()), where, depth, name)
        return unknown(name)

    def _imported_assignment(self, node, where: Where):
        """The module-level assignment another module of the project makes to an imported
        name (`from config import NO_DECAY`, `config.OPTIM_KW`), as a Target, or None."""
        if self.context is None:
            return None
        head = dotted_name(node)
        bindings = self.reaching(head.partition(".")[0], where) if head else ()
        if not bindings or bindings[0].kind is not BindingKind.IMPORT:
            return None
        target = self.imported(node, where)
        if target is None or target.rest or target.binding is None or target.binding.kind is not BindingKind.ASSIGN \
                or not target.unique:
            return None
        return target

    def _imported_value(self, node, where: Where, depth: int, text: str) -> Value:
        """A constant another module of the project defines (`from config import WD`,
        `hparams.WD`), named with its file and line."""
        target = self.imported(node, where)
        if target is None or target.binding is None or target.rest:
            return unknown(text)
        binding = target.binding
        if binding.kind is not BindingKind.ASSIGN or not isinstance(binding.statement, (ast.Assign, ast.AnnAssign)):
            return unknown(text)
        name = text.rsplit(".", 1)[-1]
        # every binding of the name that reaches the end of its module (`if ...: WD = 0.0
        # else: WD = 0.1` is not known)
        value = target.resolver.evaluate(ast.Name(id=target.name, ctx=ast.Load()), target.resolver.at_end(), depth + 1)
        if value.known:
            return replace(value, source=f"`{name}` in {target.place()}")
        return unknown(text, value.source or f"`{name}` in {target.place()}")

    def _evaluate_attribute(self, node: ast.Attribute, where: Where, depth: int) -> Value:
        text = self.segment(node)
        attr = node.attr
        base = node.value
        if isinstance(base, ast.Name) and base.id == "self":
            cls = class_of(where.scope)
            bindings = cls.self_attributes.get(attr) if cls is not None else None
            if bindings:
                values = [self.evaluate(b.node, Where.of_binding(b), depth + 1) for b in bindings]
                value = self.combine(values, text)
                if value.known:
                    return replace(value, source=value.source or f"`{text}`")
                return value
            return unknown(text)
        if dotted_name(base) == "self.hparams":
            return self._hparam(attr, text, where, depth)
        if isinstance(base, ast.Name):
            instance = self._instance_field(base.id, attr, where, depth)
            if instance is not None:
                return instance
            if self._is_parsed_args(base.id, where):
                option = self.model.argparse.get(attr)
                if option is not None:
                    if option.default is None:
                        return unknown(text, f"{option.flag}, which has no default")
                    default = self.evaluate(option.default, Where(option.scope, option.order), depth + 1)
                    return replace(default, source=f"the {option.flag} default", overridable=True)
        if isinstance(base, (ast.Name, ast.Attribute)) and self.context is not None:
            head = self.reaching(dotted_name(base).partition(".")[0], where) if dotted_name(base) else ()
            if head and head[0].kind is BindingKind.IMPORT:  # `hparams.WD`, `config.optim.WD`
                return self._imported_value(node, where, depth, text)
        return self._config_file_value(node, where) or unknown(text)

    def _hparam(self, name: str, text: str, where: Where, depth: int) -> Value:
        """Lightning: ``self.hparams.x`` after ``save_hyperparameters()`` is __init__'s ``x``."""
        cls = class_of(where.scope)
        init = next((b for b in cls.bindings.get("__init__", ()) if b.kind is BindingKind.DEF), None) if cls else None
        if init is None:
            return unknown(text)
        args = init.node.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]
        for param, default in pairs:
            if param.arg == name:
                scope = self.model.function_scopes.get(id(init.node))
                binding = next((b for b in scope.bindings.get(name, ()) if b.kind is BindingKind.PARAM), None)
                passed = self._passed_by_callers(name, binding, Where(scope, 0)) if binding is not None else None
                if passed is not None:
                    return passed  # what every `Model(...)` of the project passes __init__
                if default is None:
                    return unknown(text, f"parameter `{name}` of __init__")
                value = self.evaluate(default, Where(cls, init.order), depth + 1)
                return replace(value, source=f"the default of parameter `{name}` in __init__ (self.hparams)", overridable=True)
        return unknown(text)

    def _instance_field(self, name: str, attr: str, where: Where, depth: int) -> Value | None:
        """``cfg.x`` where ``cfg = Config(...)`` and Config (a dataclass, say) has a default for x."""
        for binding in self.reaching(name, where)[:1]:
            call = binding.node
            if binding.kind is not BindingKind.ASSIGN or not isinstance(call, ast.Call):
                return None
            qualname = self.qualname(call.func, Where.of_binding(binding))
            if not qualname:
                return None
            elsewhere = None  # a config class of another module: (its analysis, how to name it)
            if qualname.startswith("<local>."):
                cls = self.model.class_scopes.get(qualname.rsplit(".", 1)[-1])
            else:
                target = self.imported(call.func, Where.of_binding(binding))
                if target is None or target.rest or target.binding is None or target.binding.kind is not BindingKind.CLASS \
                        or not target.unique:
                    return None
                cls = target.context.model.class_scopes.get(target.binding.node.name)
                elsewhere = (target.context, target.place(target.binding.node))
            if cls is None:
                return None
            call_where = Where.of_binding(binding)
            for keyword in call.keywords:
                if keyword.arg == attr:
                    value = self.evaluate(keyword.value, call_where, depth + 1)
                    return value if value.source else replace(value, source=f"{name} = {cls.name}({attr}=...)")
            fields = [b for b in cls.bindings.get(attr, ()) if b.kind is BindingKind.ASSIGN]
            if not fields:
                return None
            value = self.evaluate(fields[-1].node, Where.of_binding(fields[-1]), depth + 1)
            cache = self.__dict__.setdefault("_constant_fields", {})
            key = (id(cls), attr, name, id(call))
            if key not in cache:
                cache[key] = _constant_field(self.model.tree, cls, attr, name, call) and (
                    elsewhere is None or _only_called(elsewhere[0].model.tree, cls.name))
            constant = cache[key]
            shown = f"{cls.name}.{attr}" + (f" in {elsewhere[1]}" if elsewhere is not None else "")
            return replace(value, source=shown, overridable=value.overridable or not constant)
        return None

    def _evaluate_subscript(self, node: ast.Subscript, where: Where, depth: int) -> Value:
        key = self.evaluate(node.slice, where, depth + 1) if not isinstance(node.slice, (ast.Slice, ast.Tuple)) else None
        if key is not None and dotted_name(node.value) == "self.hparams":
            if key.known and isinstance(key.value, str):
                return self._hparam(key.value, self.segment(node), where, depth)
        if key is not None and key.known:
            items = self.mapping(node.value, where, depth + 1)
            if items is not None:
                for item_key, _, value_node, value_where in items[0]:
                    if item_key == key.value:
                        return self.evaluate(value_node, value_where, depth + 1)
        return self._config_file_value(node, where) or unknown(self.segment(node))

    def _config_file_value(self, node, where: Where) -> Value | None:
        """Hook (helper `cfg`, issue 18): `cfg["optim"]["weight_decay"]` / `cfg.optim.weight_decay`
        where `cfg` was loaded from a YAML/JSON file with a literal path (or is a
        `@hydra.main` function's config): the value written there (optlint.static.configs.loaded)."""
        context = getattr(self, "context", None)
        if context is None or context.project is None:
            return None
        if "loads_configs" not in self.memo:
            self.memo["loads_configs"] = "load" in context.text or "hydra" in context.text
        if not self.memo["loads_configs"]:
            return None
        from optlint.static.configs.loaded import config_value

        found = config_value(self, node, where)
        if found is None:
            return None
        value, source = found
        return Value(True, value, repr(value) if isinstance(value, str) else show(value), source)

    def _is_parsed_args(self, name: str, where: Where) -> bool:
        """Whether `name` holds a ``parse_args()`` result (or is conventionally passed one).

        ``args = parse_args()`` where ``parse_args`` is a function of this file that returns
        ``parser.parse_args()`` counts too (the common ``main()``-local form).
        """
        if not self.model.argparse:
            return False
        for binding in self.reaching(name, where):
            node = binding.node
            if isinstance(node, ast.Call) and self._returns_parsed_args(node, Where.of_binding(binding)):
                return True
            if binding.kind is BindingKind.PARAM and name in ARGS_NAMES:
                argument = self.argument_of(name, binding, where)
                if argument is None and binding.node is None:
                    return True
                if argument is not None and isinstance(argument[0], ast.Name):
                    return self._is_parsed_args(argument[0].id, argument[1])
        return False

    def _returns_parsed_args(self, call: ast.Call, where: Where, depth: int = 0) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("parse_args", "parse_known_args"):
            return True
        if depth > 2:
            return False
        function = self.local_function(func, where)
        if function is None:
            return False
        for site in function.returns:
            value = site.node
            if isinstance(value, ast.Tuple) and value.elts:
                value = value.elts[0]
            if isinstance(value, ast.Call) and self._returns_parsed_args(value, Where.of_site(site), depth + 1):
                return True
            if isinstance(value, ast.Name) and self._is_parsed_args(value.id, Where.of_site(site)):
                return True
        return False

    # -- containers ---------------------------------------------------------------------

    def changed_in_place(self, name: str, binding: Binding, where: Where) -> bool:
        """Whether the container `binding` gave `name` may be changed between it and the use
        (an item set or deleted, a mutating method, the name handed to a function)."""
        other = self.elsewhere(binding.value_scope)
        if other is not None:
            return other.changed_in_place(name, binding, where)
        changes = self.model.mutations.get((id(binding.value_scope), name))
        if not changes:
            return False
        if where.scope is not binding.value_scope:
            return True  # a use in a nested function runs after the scope's changes
        exclusive = self.model.branches.exclusive
        return any(
            binding.order <= order < where.order and not exclusive(path, where.path) and not exclusive(path, binding.path)
            for order, path in changes
        )

    def sequence(self, node, where: Where, depth: int = 0):
        """The elements of a list/tuple literal, following local names; else None."""
        if depth > MAX_DEPTH:
            return None
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.sequence(node, where, depth)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [(element, where) for element in node.elts]
        if isinstance(node, ast.Attribute):
            target = self._imported_assignment(node, where)
            if target is not None:  # `config.NO_DECAY`
                return target.resolver.sequence(target.binding.node, target.where(), depth + 1)
        if isinstance(node, ast.Name):
            for binding in self.reaching(node.id, where):
                if binding.kind is BindingKind.IMPORT:  # `from config import NO_DECAY`
                    target = self._imported_assignment(node, where)
                    return None if target is None else target.resolver.sequence(target.binding.node, target.where(), depth + 1)
                if binding.kind is BindingKind.ASSIGN:
                    found = self.sequence(binding.node, Where.of_binding(binding, where.env), depth + 1)
                    if found is not None:
                        return found
                if binding.kind is BindingKind.PARAM:
                    argument = self.argument_of(node.id, binding, where)
                    if argument is not None:
                        return self.sequence(argument[0], argument[1], depth + 1)
        return None

    def mapping(self, node, where: Where, depth: int = 0):
        """``([(key, key_node, value_node, where)], complete)`` for a dict literal or ``dict(...)``.

        `complete` is False when part of the mapping could not be followed (``**other``).
        Returns None when `node` is not a mapping optlint can read.
        """
        if depth > MAX_DEPTH:
            return None
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.mapping(node, where, depth)
        if isinstance(node, ast.Dict):
            items, complete = [], True
            for key_node, value_node in zip(node.keys, node.values):
                if key_node is None:  # **other
                    complete = _merge(items, self.mapping(value_node, where, depth + 1)) and complete
                    continue
                key = self.evaluate(key_node, where, depth + 1)
                if key.known and isinstance(key.value, str):
                    items.append((key.value, key_node, value_node, where))
                else:
                    complete = False
            return items, complete
        if isinstance(node, ast.Call) and dotted_name(node.func) == "dict":
            items, complete = [], True
            for arg in node.args:
                complete = _merge(items, self.mapping(arg, where, depth + 1)) and complete
            for keyword in node.keywords:
                if keyword.arg is not None:
                    items.append((keyword.arg, keyword, keyword.value, where))
                else:
                    complete = _merge(items, self.mapping(keyword.value, where, depth + 1)) and complete
            return items, complete
        if isinstance(node, ast.Name):
            bindings = self.reaching(node.id, where)
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
                if self.changed_in_place(node.id, bindings[0], where):
                    return None  # `kw["weight_decay"] = ...` or `kw.update(...)`: not the literal any more
                return self.mapping(bindings[0].node, Where.of_binding(bindings[0], where.env), depth + 1)
            if len(bindings) == 1 and bindings[0].kind is BindingKind.PARAM:
                argument = self.argument_of(node.id, bindings[0], where)
                if argument is not None:
                    return self.mapping(argument[0], argument[1], depth + 1)
            if len(bindings) == 1 and bindings[0].kind is BindingKind.IMPORT:  # `from config import OPTIM_KW`
                target = self._imported_assignment(node, where)
                if target is not None:
                    return target.resolver.mapping(target.binding.node, target.where(), depth + 1)
        return None


def _order(binding: Binding) -> int:
    return binding.order


def _merge(items: list, inner) -> bool:
    """Add a `**other` mapping's items; whether it could be read completely."""
    if inner is None:
        return False
    items.extend(inner[0])
    return inner[1]


def class_of(scope: Scope | None) -> Scope | None:
    """The class whose method `scope` is (or is nested in)."""
    while scope is not None:
        cls = scope.enclosing_class
        if cls is not None:
            return cls
        scope = scope.parent
    return None


_DATACLASS = frozenset({"dataclass", "dataclasses.dataclass"})


def _only_called(tree: ast.Module, name: str) -> bool:
    """Whether the module defining a config class only ever calls it (never hands it to a
    command-line parser: `tyro.cli(Config)`, `HfArgumentParser(Config)`)."""
    nodes = list(ast.walk(tree))
    called = {id(child.func) for child in nodes if isinstance(child, ast.Call)}
    return not any(
        isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load) and id(child) not in called
        for child in nodes
    )


def _constant_field(tree: ast.Module, cls: Scope, attr: str, instance: str, call: ast.Call) -> bool:
    """Whether a config object's field default is all it can be: a plain dataclass (or
    class) of this file built by keywords only, that nothing hands to a command-line parser
    (the class name is only ever called), whose instance is only ever read field by field,
    and whose field nothing in the file assigns (`x.weight_decay = ...`, setattr, replace)."""
    node = cls.node
    if not isinstance(node, ast.ClassDef) or node.bases or node.keywords or call.args:
        return False  # a base (pydantic settings read the environment), or positional fields
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted_name(target) not in _DATACLASS:
            return False
    if any(keyword.arg is None for keyword in call.keywords):
        return False  # `Config(**vars(args))`
    nodes = list(ast.walk(tree))
    called = {id(child.func) for child in nodes if isinstance(child, ast.Call)}
    uses = reads = stores = 0
    for child in nodes:
        if isinstance(child, ast.Call) and dotted_name(child.func) in (
            "setattr", "vars", "replace", "dataclasses.replace", "asdict", "fields",
        ):
            return False
        if isinstance(child, ast.Attribute):
            if child.attr in (attr, "__dict__") and not isinstance(child.ctx, ast.Load):
                return False
            if isinstance(child.value, ast.Name) and child.value.id == instance:
                if not isinstance(child.ctx, ast.Load) or id(child) in called:
                    return False  # `cfg.update(...)`, `cfg.x = ...`
                reads += 1
        elif isinstance(child, ast.Name):
            if child.id == cls.name and isinstance(child.ctx, ast.Load) and id(child) not in called:
                return False  # `HfArgumentParser(Config)`, `tyro.cli(Config)`, `cfg: Config` in a CLI
            if child.id == instance:
                uses += 1
                stores += not isinstance(child.ctx, ast.Load)
    return stores == 1 and uses == reads + 1  # bound once, and only ever read field by field
