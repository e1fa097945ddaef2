"""A function's parameter judged by what the project's call sites pass it.

A helper's body read as written (no call bound, ``Where.env is None``) sees its parameters'
defaults, and a default can be changed by any caller: ``def train(model, weight_decay=0.01)``
is "0.01, which can be changed at run time". When the project shows every call of the
function, the value is what those calls pass instead:

- every call passes the same value (``train(model, weight_decay=0)`` in ``main.py``): that
  value, as a constant (a zero decay is then clean);
- the calls differ: the first one that passes something other than zero, named in the
  message (``passed by `train(...)` at main.py:40``), as a value that can change;
- no call anywhere in the project (a library's API, an entry point a framework calls) or
  calls optlint cannot all see: the default, as before.

Calls are found by the function's name: only the files whose text names it are read
(``Project.files_mentioning``, which records the search for the cache), only those that name it
outside ``def``/``class``/``import`` lines (and outside quotes and comments) are parsed, at
most ``MAX_CALLER_FILES`` of them and ``MAX_CALLER_BYTES`` in all; past that the default is
kept. A call counts when its callee resolves to this very function: through the bindings of
its own file (``helper(...)``, ``self.helper(...)``, ``Class(...)`` for ``__init__``, ``obj.m(...)``
where ``obj = Class(...)``), through imports from another file (``__init__`` re-exports
followed). The function used any other way (passed as a value: ``callbacks=[f]``,
``partial(f, ...)``, ``REGISTRY["x"] = f``, a decorator optlint does not know, a subclass, an
import under another name, a method called on an object optlint cannot trace) means callers
it cannot see: the default stays "can be changed at run time". Calls that name the function
only in a string (``getattr(module, "train")``, a Hydra ``_target_``, a registry filled from a
config file) are not seen: a class or function built that way may get other values.

An argument that is itself a parameter of the calling function is judged by that function's
callers in turn (at most ``MAX_CALLER_DEPTH`` functions deep, cycles cut).
"""

from __future__ import annotations

import ast
import bisect
import os
import re
import weakref
from dataclasses import dataclass

from optlint.static.model.scopes import BindingKind, Scope, ScopeKind, Site, dotted_name
from optlint.static.model.values import Value, Where, class_of, show, unknown

#: Functions followed through their callers' own parameters (train -> main -> cli).
MAX_CALLER_DEPTH = 3
#: Files parsed to find one function's calls; a name used in more is "callers unknown".
MAX_CALLER_FILES = 16
#: Bytes of those files parsed, at most (a few generated multi-MB modules must not cost seconds).
MAX_CALLER_BYTES = 1_000_000
#: Calls of one function read; more is "callers unknown".
MAX_CALL_SITES = 64
#: `__init__` re-exports followed from an import to the module defining the name.
MAX_REEXPORTS = 6

#: Decorators that leave a function called only where it is written.
HARMLESS_DECORATORS = frozenset({
    "staticmethod", "classmethod", "property", "abstractmethod", "abc.abstractmethod", "overload", "typing.overload",
    "lru_cache", "cache", "functools.lru_cache", "functools.cache", "functools.wraps", "wraps",
    "torch.no_grad", "torch.inference_mode", "torch.enable_grad", "no_grad", "inference_mode",
    "torch.jit.ignore", "torch.jit.unused", "dataclass", "dataclasses.dataclass", "final", "typing.final",
})

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_IMPORT_LINE = re.compile(r"\s*(?:from\s+\S+\s+)?import\b")


@dataclass(frozen=True)
class _Target:
    """The function whose callers are wanted."""

    path: str  # absolute path of its file
    function: Scope
    kind: str  # "function", "nested", "init", "method", "static", "classmethod"
    word: str  # how a call names it: the function's, method's, or (for __init__) class's name
    qualname: str  # its dotted name inside its module: "train", "Trainer", "Trainer.build"
    cls: Scope | None = None

    @property
    def node(self):
        return self.function.node

    @property
    def key(self) -> tuple:
        return (self.path, self.node.lineno, self.node.col_offset)

    @property
    def shown(self) -> str:
        return f"`{self.qualname.rsplit('.', 1)[-1]}()`"


@dataclass
class _Call:
    ctx: object  # the calling file's FileContext
    site: Site
    skip: int  # leading parameters bound implicitly (`self` of `obj.m(...)`, `Class(...)`)


#: Per project: the (function, parameter) pairs being judged now, innermost last (a caller's
#: own parameter is judged by its callers in turn; a pair met again is a cycle).
_STACKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _stack(project) -> list:
    stack = _STACKS.get(project)
    if stack is None:
        stack = _STACKS[project] = []
    return stack


def passed_value(ctx, name: str, binding, where: Where) -> Value | None:
    """What the project's calls pass parameter `name` (`binding`) of the function it belongs
    to, or None when optlint cannot see every call, or there is none (keep the default)."""
    project = getattr(ctx, "project", None)
    if project is None or not getattr(ctx, "path", None):
        return None
    target = _target(ctx, name, binding, where)
    if target is None:
        return None
    stack = _stack(project)
    key = (target.key, name)
    if key in stack or len(stack) >= MAX_CALLER_DEPTH:
        return None
    # Remembered with the file's analysis (another module's analysis serves every file checked
    # in this process: what it read is recorded again for each)
    values = ctx.resolver.memo.setdefault("callers.values", {})
    memo = (key, len(stack))
    if memo not in values:
        recorder = project.begin()
        stack.append(key)
        try:
            value = _judge(ctx, project, target, name, binding)
        finally:
            stack.pop()
            project.end()
        values[memo] = (value, recorder)
    value, recorder = values[memo]
    _replay(project, recorder)
    return value


def _replay(project, recorder) -> None:
    """Record again, for the file being checked now, what a remembered answer read."""
    for word in recorder.queries:
        project.files_mentioning(word)
    for path in recorder.files:
        project.read_text(path)


# -- the function a parameter belongs to ---------------------------------------------------


def _target(ctx, name: str, binding, where: Where) -> _Target | None:
    function = next((s for s in where.scope.lookup_chain() if any(b is binding for b in s.bindings.get(name, ()))), None)
    if function is None or function.kind is not ScopeKind.FUNCTION:
        return None
    node = function.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    resolver = ctx.resolver
    decorators = [_decorator_name(resolver, d, Where(function.parent, 0)) for d in node.decorator_list]
    if any(d not in HARMLESS_DECORATORS for d in decorators):
        return None  # a registry, a CLI, a framework hook: called where optlint cannot see
    path = os.path.abspath(ctx.path)
    parent = function.parent
    if parent.kind is ScopeKind.MODULE:
        return _Target(path, function, "function", node.name, node.name)
    if parent.kind is ScopeKind.FUNCTION:
        return _Target(path, function, "nested", node.name, node.name)
    if parent.kind is not ScopeKind.CLASS or parent.parent is None or parent.parent.kind is not ScopeKind.MODULE:
        return None
    cls = parent
    class_decorators = [_decorator_name(resolver, d, Where(cls.parent, 0)) for d in cls.node.decorator_list]
    if any(d not in HARMLESS_DECORATORS for d in class_decorators):
        return None  # `@MODELS.register_module()`: built from a config
    if node.name == "__init__":
        if _builds_itself(cls.node):
            return None
        return _Target(path, function, "init", cls.name, cls.name, cls)
    if node.name.startswith("__") or "property" in decorators:
        return None  # `__call__`, `forward` through it, ...: called by Python or a framework
    if not _plain_class(ctx, cls):
        return None  # a method of an `nn.Module` or `LightningModule` subclass may be a hook its base calls
    kind = "static" if "staticmethod" in decorators else "classmethod" if "classmethod" in decorators else "method"
    return _Target(path, function, kind, node.name, f"{cls.name}.{node.name}", cls)


def _decorator_name(resolver, decorator, where: Where) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not isinstance(target, (ast.Name, ast.Attribute)):
        return None
    return resolver.qualname(target, where)


def _builds_itself(cls_node) -> bool:
    """`cls(...)`, `type(self)(...)`, `self.__class__(...)` inside the class: calls of its
    `__init__` that name no class."""
    for node in ast.walk(cls_node):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "cls":
                return True
            if isinstance(func, ast.Call) and dotted_name(func.func) == "type":
                return True
            if dotted_name(func) == "self.__class__":
                return True
    return False


def _plain_class(ctx, cls: Scope, depth: int = 0) -> bool:
    """A class whose bases are all classes of this file with the same property (no base whose
    code may call the method: a hook)."""
    if depth > 4:
        return False
    for base in cls.node.bases:
        name = dotted_name(base)
        if name == "object":
            continue
        other = ctx.model.class_scopes.get(name) if name else None
        if other is None or other is cls or not _plain_class(ctx, other, depth + 1):
            return False
    return not cls.node.keywords


# -- the calls ---------------------------------------------------------------------------


def _call_sites(ctx, project, target: _Target) -> list[_Call] | None:
    """Every call of `target` in the project, or None when optlint cannot see them all."""
    sites = ctx.resolver.memo.setdefault("callers.calls", {})
    if target.key not in sites:
        recorder = project.begin()
        try:
            found = _search(ctx, project, target)
        finally:
            project.end()
        sites[target.key] = (found, recorder)
    found, recorder = sites[target.key]
    _replay(project, recorder)
    return found


def _search(ctx, project, target: _Target) -> list[_Call] | None:
    if target.kind == "nested":
        return _calls_in(ctx, ctx, project, target)
    word = target.word
    mentioning = [os.path.abspath(path) for path in project.files_mentioning(target.word)]
    others, size = [], 0
    for path in mentioning:
        if path != target.path:
            text = project.read_text(path)
            if text is not None and _named_outside_definitions(text, word):
                others.append(path)
                size += len(text)
    if len(others) > MAX_CALLER_FILES or size > MAX_CALLER_BYTES:
        return None  # a name used in too many files (or too large ones) to parse them all: keep the default
    calls: list[_Call] = []
    # the checked file's own calls: its text may not be what is on disk (an editor's buffer)
    for there in [ctx, *(project.context(path) for path in others)]:
        if there is None:
            continue  # a file that does not parse calls nothing
        found = _calls_in(there, ctx, project, target)
        if found is None:
            return None
        calls.extend(found)
        if len(calls) > MAX_CALL_SITES:
            return None
    return calls


def _named_outside_definitions(text: str, word: str) -> bool:
    """Whether the name occurs as code anywhere but in its own `def`/`class` line or a plain
    import (a cheap test before parsing: a quoted `"adamw"` or a comment is no use either)."""
    index = text.find(word)
    while index >= 0:
        end = index + len(word)
        before = text[index - 1] if index else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_\"'" or after.isalnum() or after in "_\"'"):
            start = text.rfind("\n", 0, index) + 1
            head = text[start:index]
            stripped = head.strip()
            if stripped not in ("def", "async def", "class") and not ("#" in head and not any(q in head for q in "\"'")):
                stop = text.find("\n", end)
                line = text[start:stop if stop >= 0 else len(text)]
                if not _IMPORT_LINE.match(line) or " as " in line:
                    return True
        index = text.find(word, end)
    return False


def _calls_in(there, home, project, target: _Target) -> list[_Call] | None:
    """The calls of `target` in one file (`there`), or None when the file uses the function in
    a way that hides calls (as a value, a base class, an alias)."""
    memo = there.resolver.memo
    if "callers.index" not in memo:
        memo["callers.index"] = ({id(site.node): site for site in there.model.calls},
                                 {id(scope.node): scope for scope in there.model.scopes})
    sites, scopes = memo["callers.index"]
    word = target.word
    lines = _lines_naming(there.text, word)
    found: list[_Call] = []
    stack = [(there.model.tree, there.model.module_scope, None)]
    while stack:
        node, scope, parent = stack.pop()
        start = getattr(node, "lineno", None)
        if lines is not None and start is not None:
            at = bisect.bisect_left(lines, start)
            if at == len(lines) or lines[at] > (getattr(node, "end_lineno", None) or start):
                continue  # no line of this node names the function: nothing in it can call it
        hit = (isinstance(node, ast.Name) and node.id == word and target.kind in ("function", "nested", "init")) or \
            (isinstance(node, ast.Attribute) and node.attr == word)
        if hit:
            verdict = _use(there, home, project, target, node, scope, parent, sites)
            if verdict is None:
                return None
            if verdict is not False:
                found.append(verdict)
        elif isinstance(node, ast.ImportFrom) and target.kind in ("function", "init"):
            prefix = "." * (node.level or 0) + (node.module or "")
            for alias in node.names:
                if alias.asname and alias.asname != word and alias.name == word:
                    qualname = f"{prefix}.{word}" if prefix and not prefix.endswith(".") else prefix + word
                    if _defined(project, there.path, qualname) == (target.path, target.qualname):
                        return None  # imported under another name: its calls name no `word`
            continue
        inner = scopes.get(id(node), scope) if isinstance(node, _SCOPES) else scope
        for name, child in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment"):
                continue  # a type hint names the class, it calls nothing
            owner = inner if name == "body" else scope  # decorators, defaults, bases: the enclosing scope
            for item in child if isinstance(child, list) else (child,):
                if isinstance(item, ast.AST):
                    stack.append((item, owner, node))
    return found


def _lines_naming(text: str, word: str) -> list[int] | None:
    """The rows (as `ast` counts them) of the text holding `word`, sorted; None when rows cannot
    be counted by newlines alone (a lone carriage return ends a row too)."""
    if "\r" in text.replace("\r\n", ""):
        return None
    rows, row, position = [], 1, 0
    index = text.find(word)
    while index >= 0:
        row += text.count("\n", position, index)
        position = index
        if not rows or rows[-1] != row:
            rows.append(row)
        index = text.find(word, index + len(word))
    return rows


def _use(there, home, project, target: _Target, node, scope: Scope, parent, sites) -> "_Call | bool | None":
    """One occurrence of the name: a call of the target (_Call), something else (False), or a
    use that may hide calls (None)."""
    called = isinstance(parent, ast.Call) and parent.func is node
    if isinstance(parent, ast.Call) and not called and dotted_name(parent.func) in ("isinstance", "issubclass") \
            and node in parent.args[1:]:
        return False
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return False  # `train = ...` rebinds the name here; its uses are judged by their own bindings
    verdict = _refers(there, home, project, target, node, scope)
    if verdict is False:
        return False
    if isinstance(parent, ast.ClassDef) and node in parent.bases:
        return None  # a subclass: its instances and `super().__init__(...)` call the target too
    if not called or verdict is None:
        return None
    site = sites.get(id(parent))
    if site is None:
        return None
    return _Call(there, site, verdict)


def _refers(there, home, project, target: _Target, node, scope: Scope):
    """Whether `node` stands for the target: False (no), None (cannot tell), else the number
    of leading parameters a call through it binds implicitly."""
    kind = target.kind
    if isinstance(node, ast.Name):
        return _name_refers(there, home, project, target, node.id, scope)
    base = node.value
    if kind in ("function", "init"):
        # `module.train(...)`, `pkg.trainer.Trainer(...)`
        name = dotted_name(node)
        if name is None:
            return False
        head = name.split(".", 1)[0]
        bindings = _bindings(scope, head)
        if not bindings or any(b.kind is not BindingKind.IMPORT for b in bindings):
            return False
        refers = {_defined(project, there.path, b.qualname + name[len(head):]) == (target.path, target.qualname)
                  for b in bindings}
        if refers == {True}:
            return 1 if kind == "init" else 0
        return False if refers == {False} else None
    if kind == "nested":
        return False
    # a method: `self.m(...)`, `obj.m(...)` with `obj = Class(...)`, `Class.m(...)`
    instance = 0 if kind == "static" else 1
    if isinstance(base, ast.Name) and base.id in ("self", "cls"):
        cls = class_of(scope)
        if cls is None:
            return None
        if there is home and cls is target.cls:
            return instance
        if any(b.kind is BindingKind.DEF for b in cls.bindings.get(target.word, ())):
            return False  # its own method of that name
        return None
    if isinstance(base, ast.Name) or isinstance(base, ast.Attribute) and dotted_name(base):
        name = dotted_name(base)
        head = name.split(".", 1)[0]
        bindings = _bindings(scope, head)
        if bindings and all(b.kind is BindingKind.IMPORT for b in bindings) or \
                there is home and bindings and all(b.kind is BindingKind.CLASS for b in bindings):
            # `Trainer.build(...)`: the class itself (a method called unbound takes its `self`)
            verdicts = {_is_target_class(there, home, project, target, b, name[len(head):]) for b in bindings}
            if verdicts == {True}:
                return 1 if kind == "classmethod" else 0
            return False if verdicts == {False} else None
        if isinstance(base, ast.Name) and bindings and all(
            b.kind is BindingKind.ASSIGN and isinstance(b.node, ast.Call) for b in bindings
        ):
            # `obj = Trainer(...)` then `obj.build(...)`
            verdicts = set()
            for b in bindings:
                func = b.node.func
                func_name = dotted_name(func)
                if func_name is None:
                    return None
                func_head = func_name.split(".", 1)[0]
                classes = _bindings(b.value_scope, func_head)
                if not classes:
                    return None
                for c in classes:
                    verdicts.add(_is_target_class(there, home, project, target, c, func_name[len(func_head):]))
            if verdicts == {True}:
                return instance
            if verdicts == {False}:
                return False
            return None
    return None


def _is_target_class(there, home, project, target: _Target, binding, rest: str):
    """Whether `binding` (plus attribute path `rest`) is the target's class: True, False, or
    None (a class of the project that may derive from it)."""
    if binding.kind is BindingKind.CLASS:
        if rest:
            return False
        if there is home and binding.node is target.cls.node:
            return True
        return False if not binding.node.bases else None
    if binding.kind is not BindingKind.IMPORT:
        return None
    defined = _defined(project, there.path, binding.qualname + rest)
    if defined is None:
        return False  # a library's class: never a subclass of a project class
    if defined == (target.path, target.cls.name):
        return True
    return None


def _name_refers(there, home, project, target: _Target, name: str, scope: Scope):
    bindings = _bindings(scope, name)
    if not bindings:
        # a builtin or a name from `import *`
        return None if "import *" in there.text else False
    verdicts = set()
    for b in bindings:
        if there is home and b.kind in (BindingKind.DEF, BindingKind.CLASS):
            ours = target.cls.node if target.kind == "init" else target.node
            verdicts.add(b.node is ours)
        elif b.kind is BindingKind.IMPORT:
            verdicts.add(_defined(project, there.path, b.qualname) == (target.path, target.qualname))
        else:
            verdicts.add(False)
    if verdicts == {True}:
        return 1 if target.kind == "init" else 0
    return False if verdicts == {False} else None


def _bindings(scope: Scope, name: str) -> list:
    """The bindings of `name` in the first scope of the lookup chain that binds it."""
    for s in scope.lookup_chain():
        found = s.bindings.get(name)
        if found:
            return found
    return []


def _defined(project, importer: str | None, qualname: str | None, hops: int = 0):
    """(absolute file, dotted name inside it) of the definition an imported name stands for,
    following re-exports (`from .trainer import train` in a package's `__init__`)."""
    if importer is None or not qualname:
        return None
    found = project.resolve(importer, qualname)
    if found is None:
        return None
    path, rest = found
    path = os.path.abspath(path)
    head = rest.split(".", 1)[0]
    if head and hops < MAX_REEXPORTS:
        module = project.context(path)
        bindings = module.model.module_scope.bindings.get(head) if module is not None else None
        if bindings and bindings[-1].kind is BindingKind.IMPORT:
            return _defined(project, path, bindings[-1].qualname + rest[len(head):], hops + 1)
    return path, rest


# -- what they pass ----------------------------------------------------------------------


def _judge(ctx, project, target: _Target, name: str, binding) -> Value | None:
    calls = _call_sites(ctx, project, target)
    if not calls:
        return None  # callers optlint cannot all see, or none: the default, which any caller may change
    passed = []
    for call in calls:
        found = _argument(ctx, project, target, call, name, binding)
        if found is None:
            return None  # `train(*args)`, `train(**options)`: what it passes is hidden
        passed.append(found)
    return _combine(passed, target, name)


def _argument(ctx, project, target: _Target, call: _Call, name: str, binding):
    """(where, call text, Value, omitted) for one call; None when `*args`/`**kwargs` may hold
    the argument."""
    node = call.site.node
    there = call.ctx
    where_text = f"{project.display(there.path)}:{node.lineno}"
    call_text = f"`{there.resolver.segment(node.func)}(...)`"
    args = target.node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)][call.skip:]
    expr = None
    for keyword in node.keywords:
        if keyword.arg == name and name not in [a.arg for a in args.posonlyargs]:
            expr = keyword.value
    if expr is None and name in positional:
        index = positional.index(name)
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                if i <= index:
                    return None
                break
            if i == index:
                expr = arg
    if expr is not None:
        value = there.resolver.evaluate(expr, Where.of_site(call.site))
        if not value.known and not value.text:
            value = unknown(there.resolver.segment(expr), value.source)
        return where_text, call_text, value, False
    if any(keyword.arg is None for keyword in node.keywords):
        return None
    if binding.node is None:
        return where_text, call_text, unknown(name), True
    value = ctx.resolver.evaluate(binding.node, Where.of_binding(binding))
    return where_text, call_text, Value(value.known, value.value, value.text, f"the default of parameter `{name}`",
                                        value.overridable), True


def _combine(passed: list, target: _Target, name: str) -> Value:
    values = [value for _, _, value, _ in passed]
    first = values[0]
    same = all(v.known for v in values) and all(
        v.value == first.value and isinstance(v.value, bool) == isinstance(first.value, bool) for v in values
    )
    if same or len(passed) == 1:
        where = ", ".join(w for w, _, _, _ in passed)
        if len(passed) == 1:
            via = f"{passed[0][1]} at {where}"
        else:
            via = f"every call of {target.shown} ({where})"
        if all(omitted for *_, omitted in passed):
            source = f"the default of parameter `{name}`, which {via} leaves as it is"
        else:
            base = next(v.source for v, (*_, omitted) in zip(values, passed) if not omitted)
            source = _passed_by(base, via, name)
        if not first.known:
            return unknown(first.text, _quoted(first.text, source))
        return Value(True, first.value, first.text, source, any(v.overridable for v in values))
    # the calls differ: name the first that passes something other than zero
    index = next((i for i, v in enumerate(values) if v.known and not v.provably_zero), None)
    if index is None:
        index = next((i for i, v in enumerate(values) if not v.provably_zero), 0)
    where, call_text, value, omitted = passed[index]
    if omitted:
        source = f"the default of parameter `{name}`, which {call_text} at {where} leaves as it is"
    else:
        source = _passed_by(value.source, f"{call_text} at {where}", name)
    others = [f"{w} passes {_shown(v, o)}" for i, (w, _, v, o) in enumerate(passed) if i != index][:3]
    source += f" (calls differ: {'; '.join(others)})"
    if value.known:
        return Value(True, value.value, value.text, source, True)
    return unknown(value.text, _quoted(value.text, source))


def _passed_by(base: str, via: str, name: str) -> str:
    """`the --wd default, passed by `train(...)` at main.py:40`; through a caller's own
    parameter: `parameter `wd`, passed by `run(...)` at main.py:5, then by `train(...)` at cli.py:3`."""
    if not base:
        return f"parameter `{name}`, passed by {via}"
    return f"{base}, then by {via}" if ", passed by " in base else f"{base}, passed by {via}"


def _quoted(text: str, source: str) -> str:
    """An unknown value's source naming the expression the caller passes (a name that reads
    the parameter shows the parameter's name, not the caller's expression)."""
    return f"`{text}` ({source})" if text else source


def _shown(value: Value, omitted: bool) -> str:
    if omitted:
        return "nothing (the default)"
    if value.known:
        return value.text or show(value.value)
    return value.text or "a value not statically known"
