"""One walk over CPython's ``ast`` that records what every static rule reads.

The model is pyflakes' and ruff's: scopes hold bindings (which names get which values,
in what order, under which branch); calls, loops and a few statement kinds the rules
ask about are recorded with the scope, order and branch they sit in. Nothing is
resolved here: ``values.py`` answers questions from these facts.

Branches are data: every block (an ``if`` arm, a ``try`` body or handler, a ``match``
case, a loop body) gets an id, and a position's *path* is the list of blocks it sits in.
Two positions whose paths part at two arms of the same statement never run on one path
(``Branches.exclusive``), which is what lets OPT008 and value resolution treat
``if opt == "sgd": ... elif ...`` as alternatives rather than a sequence.

Early exits end a path: what follows an ``if`` whose arms but one end in ``return``,
``raise``, ``continue`` or ``break`` runs only through the arm that falls through, so the
rest of the enclosing block is walked *inside* that arm (its block stays on the path).
``if a: return f(p)`` / ``elif b: return g(p)`` / ``h(p)`` are then three alternatives for
every path question (OPT008's uses, the bindings that reach a use), not a sequence.

CPython's parser builds the tree in C, positions included, about ten times faster than
LibCST's; the walk below dispatches on node type through a dict, once per node.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field
from typing import Iterator


class BindingKind(enum.Enum):
    ASSIGN = "assign"  # name = value (also walrus, annotated assignment)
    AUGASSIGN = "augassign"  # name += value
    UNPACKED = "unpacked"  # a, b = value  (node is the whole value, index is where)
    IMPORT = "import"
    CLASS = "class"
    DEF = "def"
    PARAM = "param"  # a function parameter; node is its default (or None)
    UNKNOWN = "unknown"  # a loop target, a with target, *rest: a value we cannot follow


class ScopeKind(enum.Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"


@dataclass(eq=False)
class Binding:
    """One way a name gets a value in a scope."""

    order: int  # position in the walk; a use sees bindings with a smaller order
    path: tuple[int, ...]  # the blocks (branches, loop bodies) the binding sits in
    kind: BindingKind
    node: ast.AST | None = None  # the assigned value, or the parameter's default
    qualname: str | None = None  # for imports: the dotted name the binding stands for
    value_scope: "Scope | None" = None  # where `node` must be evaluated
    index: int | None = None  # for UNPACKED: the position of the target in the tuple
    param_index: int | None = None  # for PARAM: its position in the signature
    statement: ast.stmt | None = None  # the statement that binds (for fixes that edit it)


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    parent: "Scope | None"
    name: str = ""
    node: ast.AST | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    #: For a class scope: attribute name -> bindings from `self.<attr> = ...` in its methods.
    self_attributes: dict[str, list[Binding]] = field(default_factory=dict)
    #: For a function scope: the `return` values, in order.
    returns: list["Site"] = field(default_factory=list)
    #: Parameter names in signature order (functions and lambdas).
    params: list[str] = field(default_factory=list)
    #: The file model the scope belongs to (questions about another module's scope are
    #: answered by that module's analysis: optlint.static.project)
    model: "FileModel | None" = field(default=None, repr=False)

    def add(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def enclosing_class(self) -> "Scope | None":
        """The class whose method this scope is (for resolving `self.x`)."""
        if self.kind is ScopeKind.FUNCTION and self.parent is not None and self.parent.kind is ScopeKind.CLASS:
            return self.parent
        return None

    def lookup_chain(self) -> Iterator["Scope"]:
        """This scope, then the enclosing ones Python's name lookup visits (class bodies skipped)."""
        yield self
        scope = self.parent
        while scope is not None:
            if scope.kind is not ScopeKind.CLASS:
                yield scope
            scope = scope.parent


@dataclass(eq=False)
class Site:
    """A node with where it sits: its scope, walk order, branch path and statement."""

    node: ast.AST
    scope: Scope
    order: int
    path: tuple[int, ...]
    #: The simple statement the node sits in (None inside a compound statement's header or
    #: a lambda): an autofix may insert a statement before it.
    statement: ast.stmt | None = None


@dataclass(eq=False)
class ArgparseOption:
    dest: str
    flag: str  # the option as the user types it, for messages ("--wd")
    default: ast.expr | None
    scope: Scope
    order: int


@dataclass
class Branches:
    """Which blocks are arms of the same statement: the data behind `exclusive`."""

    #: block id -> (id of the statement it is an arm of, arm number)
    arms: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: id of an if statement -> its test (what decides which arm runs)
    tests: dict[int, ast.expr] = field(default_factory=dict)

    def conditions(self, path: tuple[int, ...]) -> set[tuple[str, int]]:
        """The if-tests (as text-free dumps) and arms that hold for code on `path`: two
        blocks under `if args.use_lora:` in different statements run on the same path."""
        found = set()
        for block in path:
            arm = self.arms.get(block)
            if arm is not None and arm[0] in self.tests:
                found.add((ast.dump(self.tests[arm[0]]), arm[1]))
        return found

    def guards(self, path: tuple[int, ...], outside: tuple[int, ...] = ()) -> list[ast.expr]:
        """The if-tests that decide whether code on `path` runs, beyond the blocks it shares
        with `outside` (the use it reaches)."""
        shared = 0
        while shared < min(len(path), len(outside)) and path[shared] == outside[shared]:
            shared += 1
        found = []
        for block in path[shared:]:
            arm = self.arms.get(block)
            if arm is not None and arm[0] in self.tests:
                found.append(self.tests[arm[0]])
        return found

    def exclusive(self, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
        """Whether code on path `a` and code on path `b` can never both run (one pass of the
        enclosing code): they part at two different arms of one if/try/match statement."""
        for x, y in zip(a, b):
            if x == y:
                continue
            arm_x, arm_y = self.arms.get(x), self.arms.get(y)
            return arm_x is not None and arm_y is not None and arm_x[0] == arm_y[0] and arm_x[1] != arm_y[1]
        return False


#: Nodes with nothing inside that the walk needs (names are read by their parents).
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.alias})
_NOT_CODE = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores", "kind", "is_async", "level",
                       "conversion", "lineno", "col_offset", "end_lineno", "end_col_offset"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    """The fields of an ast node type that can hold other nodes (strings and ints skipped)."""
    fields = tuple(name for name in kind._fields if name not in _NOT_CODE and name not in ("name", "id", "attr", "arg", "module", "asname"))
    _CHILD_FIELDS[kind] = fields
    return fields


#: Methods that change a dict (or list) in place.
_MUTATING_METHODS = frozenset({
    "update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__", "append", "extend", "insert",
    "remove",
})
#: Callees known not to change the containers they are given (printing, copying, reading).
_READ_ONLY_CALLEES = frozenset({
    "print", "len", "repr", "str", "dict", "list", "tuple", "set", "sorted", "isinstance", "type", "id", "bool",
    "dumps", "dump", "copy", "deepcopy", "info", "debug", "warning", "error", "log", "format", "pprint", "items",
    "keys", "values", "get", "enumerate", "zip", "iter", "any", "all", "sum", "min", "max", "filter", "map",
})

_SIMPLE_STATEMENTS = (
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Return, ast.Delete, ast.Raise, ast.Assert,
)


class FileModel:
    """Scopes, bindings and the sites rules ask about, collected in one walk of the tree."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.module_scope = Scope(ScopeKind.MODULE, None, node=tree)
        self.module_scope.model = self
        #: the FileContext this model belongs to (set by it): other modules reach this file's
        #: analyses through it
        self.context = None
        self.scopes: list[Scope] = [self.module_scope]
        self.class_scopes: dict[str, Scope] = {}
        self.function_scopes: dict[int, Scope] = {}  # id(FunctionDef/Lambda node) -> its scope
        self.calls: list[Site] = []  # every call whose callee is a name or an attribute
        self.loops: list[Site] = []  # for statements and comprehensions
        self.argparse: dict[str, ArgparseOption] = {}
        self.branches = Branches()
        self.parents: dict[int, ast.AST] = {}  # filled lazily by `parent_of`
        #: id(statement or match_case) -> its branch path (what OPT008 reads for its uses)
        self.statement_paths: dict[int, tuple[int, ...]] = {}
        #: blocks visited by path questions asked of many uses at once (OPT008's): a work
        #: count, so tests can bound the work on hostile shapes without timing it
        self.path_steps = 0
        #: (id(scope), name) -> [(order, path)] where the container the name holds may be
        #: changed in place: `kw["k"] = v`, `del kw["k"]`, `kw.update(...)`, `f(kw)`
        self.mutations: dict[tuple[int, str], list[tuple[int, tuple[int, ...]]]] = {}
        self._scope = self.module_scope
        self._order = 0
        self._path: list[int] = []
        self._block_ids = 0
        self._statement: ast.stmt | None = None
        self._statement_path: tuple[int, ...] = ()
        self._saved: list[tuple[list[int], ast.stmt | None]] = []
        self._dispatch = {
            ast.FunctionDef: self._function, ast.AsyncFunctionDef: self._function,
            ast.Lambda: self._lambda, ast.ClassDef: self._class,
            ast.Import: self._import, ast.ImportFrom: self._import_from,
            ast.Assign: self._assign, ast.AnnAssign: self._ann_assign, ast.AugAssign: self._aug_assign,
            ast.NamedExpr: self._named_expr,
            ast.For: self._for, ast.AsyncFor: self._for, ast.While: self._while,
            ast.If: self._if, ast.Try: self._try, ast.With: self._with, ast.AsyncWith: self._with,
            ast.Match: self._match, ast.Call: self._call, ast.Return: self._return, ast.Delete: self._delete,
            ast.ListComp: self._comprehension, ast.SetComp: self._comprehension,
            ast.GeneratorExp: self._comprehension, ast.DictComp: self._comprehension,
        }
        if hasattr(ast, "TryStar"):
            self._dispatch[ast.TryStar] = self._try
        self._visit_body(tree.body)

    # -- bookkeeping --------------------------------------------------------------------

    def _tick(self) -> int:
        self._order += 1
        return self._order

    def _bind(self, name: str, kind: BindingKind, node=None, qualname=None, scope=None, **extra) -> None:
        self._scope.add(
            name,
            Binding(self._tick(), tuple(self._path), kind, node, qualname, scope or self._scope,
                    statement=self._statement, **extra),
        )

    def _mutated(self, node: ast.AST) -> None:
        """`node` (a name, or the base of a subscript) may be changed in place here."""
        while isinstance(node, ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name):
            self._changes(node.id)

    def _changes(self, name: str) -> None:
        # The last order given out (no tick of its own: this runs for many call arguments),
        # and the path of the statement it sits in.
        self.mutations.setdefault((id(self._scope), name), []).append((self._order, self._statement_path))

    def site(self, node: ast.AST) -> Site:
        statement = self._statement if self._scope.kind is not ScopeKind.LAMBDA else None
        return Site(node, self._scope, self._tick(), tuple(self._path), statement)

    def _open(self, owner: int, arm: int) -> int:
        """Put a new block (arm `arm` of statement `owner`) on the path; the path's length
        before it, to close it with `_close`."""
        self._block_ids += 1
        self.branches.arms[self._block_ids] = (owner, arm)
        base = len(self._path)
        self._path.append(self._block_ids)
        return base

    def _block(self, owner: int, arm: int, body: list) -> None:
        base = self._open(owner, arm)
        self._visit_body(body)
        del self._path[base:]  # the block, and any early-exit extension made inside it

    def _arm(self, owner: int, arm: int, body: list) -> tuple[int, ...] | None:
        """An if arm: the path at its end when control can fall out of it, None when it
        always leaves (return, raise, continue, break)."""
        base = self._open(owner, arm)
        self._visit_body(body)
        end = tuple(self._path) if _falls_through(body) else None
        del self._path[base:]
        return end

    def _continue_in(self, ends: list) -> None:
        """After a statement whose arms end at `ends` (None: the arm always leaves), the
        rest of the enclosing block runs only through the one arm that falls through, if
        exactly one does: walk it on that arm's path."""
        open_ends = [end for end in ends if end is not None]
        if len(open_ends) == 1 and len(ends) > 1:
            self._path[:] = open_ends[0]

    # -- the walk -----------------------------------------------------------------------

    def _visit_body(self, body: list) -> None:
        paths = self.statement_paths
        for statement in body:
            paths[id(statement)] = self._statement_path = tuple(self._path)
            outer = self._statement
            if isinstance(statement, _SIMPLE_STATEMENTS):
                self._statement = statement
            else:
                self._statement = None
            self.visit(statement)
            self._statement = outer

    def visit(self, node: ast.AST) -> None:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.generic(node)

    def generic(self, node: ast.AST) -> None:
        # The hot loop of the walk: fields that may hold code are looked up once per node
        # type (_CHILD_FIELDS), leaves (names, constants, operators) are never entered.
        dispatch = self._dispatch
        fields = _CHILD_FIELDS.get(type(node))
        if fields is None:
            fields = _child_fields(type(node))
        for name in fields:
            value = getattr(node, name)
            if type(value) is list:
                for child in value:
                    kind = type(child)
                    if kind in _LEAVES or not isinstance(child, ast.AST):
                        continue
                    handler = dispatch.get(kind)
                    if handler is not None:
                        handler(child)
                    else:
                        self.generic(child)
            elif isinstance(value, ast.AST):
                kind = type(value)
                if kind in _LEAVES:
                    continue
                handler = dispatch.get(kind)
                if handler is not None:
                    handler(value)
                else:
                    self.generic(value)

    def visit_all(self, nodes) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    # -- scopes -------------------------------------------------------------------------

    def _enter(self, scope: Scope, node: ast.AST) -> None:
        scope.model = self
        self.scopes.append(scope)
        self._saved.append((self._path, self._statement))
        self._path = []
        self._scope = scope

    def _leave(self) -> None:
        self._scope = self._scope.parent
        self._path, self._statement = self._saved.pop()

    def _parameters(self, args: ast.arguments, outer: Scope) -> None:
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        index = 0
        for arg, default in zip(positional, defaults):
            self._scope.params.append(arg.arg)
            self._bind(arg.arg, BindingKind.PARAM, default, scope=outer, param_index=index)
            index += 1
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            self._scope.params.append(arg.arg)
            self._bind(arg.arg, BindingKind.PARAM, default, scope=outer, param_index=None)
        for star in (args.vararg, args.kwarg):
            if star is not None:
                self._bind(star.arg, BindingKind.UNKNOWN)

    def _function(self, node) -> None:
        self.visit_all(node.decorator_list)
        self.visit_all([*node.args.defaults, *node.args.kw_defaults])
        self._bind(node.name, BindingKind.DEF, node)
        outer = self._scope
        scope = Scope(ScopeKind.FUNCTION, outer, node.name, node=node)
        self.function_scopes[id(node)] = scope
        self._enter(scope, node)
        self._parameters(node.args, outer)
        self._visit_body(node.body)
        self._leave()

    def _lambda(self, node: ast.Lambda) -> None:
        self.visit_all([*node.args.defaults, *node.args.kw_defaults])
        outer = self._scope
        scope = Scope(ScopeKind.LAMBDA, outer, node=node)
        self.function_scopes[id(node)] = scope
        self._enter(scope, node)
        self._parameters(node.args, outer)
        scope.returns.append(self.site(node.body))
        self.visit(node.body)
        self._leave()

    def _class(self, node: ast.ClassDef) -> None:
        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        self._bind(node.name, BindingKind.CLASS, node)
        scope = Scope(ScopeKind.CLASS, self._scope, node.name, node=node)
        self.class_scopes[node.name] = scope
        self._enter(scope, node)
        self._visit_body(node.body)
        self._leave()

    # -- imports ------------------------------------------------------------------------

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self._bind(alias.asname, BindingKind.IMPORT, qualname=alias.name)
            else:
                head = alias.name.split(".", 1)[0]
                self._bind(head, BindingKind.IMPORT, qualname=head)

    def _import_from(self, node: ast.ImportFrom) -> None:
        prefix = "." * (node.level or 0) + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                continue
            qualname = f"{prefix}.{alias.name}" if prefix and not prefix.endswith(".") else prefix + alias.name
            self._bind(alias.asname or alias.name, BindingKind.IMPORT, qualname=qualname)

    # -- assignments (the value is walked first: its calls come before the binding) -----

    def _bind_target(self, target: ast.expr, value, kind: BindingKind = BindingKind.ASSIGN) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, kind, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = None
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                if not any(isinstance(e, ast.Starred) for e in (*value.elts, *target.elts)):
                    values = value.elts
            for i, element in enumerate(target.elts):
                if values is not None:
                    self._bind_target(element, values[i], kind)
                elif isinstance(element, ast.Starred):
                    self._bind_target(element.value, None, BindingKind.UNKNOWN)
                elif isinstance(element, ast.Name):
                    # `args, _ = parser.parse_known_args()`: remember the call for argparse lookups.
                    self._bind(element.id, BindingKind.UNPACKED, value, index=i)
                else:
                    self._bind_target(element, None, BindingKind.UNKNOWN)
        elif isinstance(target, ast.Attribute):
            self._bind_self_attribute(target, value)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, None, BindingKind.UNKNOWN)
        else:  # a subscript target: walk it for the calls it holds
            self.visit(target)
            self._mutated(target)

    def _bind_self_attribute(self, target: ast.Attribute, value) -> None:
        self.visit(target.value)
        cls = self._class_of_method()
        if cls is None or not isinstance(target.value, ast.Name) or target.value.id != "self":
            return
        cls.self_attributes.setdefault(target.attr, []).append(
            Binding(self._tick(), tuple(self._path), BindingKind.ASSIGN, value, None, self._scope,
                    statement=self._statement)
        )

    def _class_of_method(self) -> Scope | None:
        scope = self._scope
        while scope is not None:
            if scope.enclosing_class is not None:
                return scope.enclosing_class
            scope = scope.parent
        return None

    def _assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind_target(target, node.value)

    def _ann_assign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind_target(node.target, node.value)
        elif isinstance(node.target, ast.Name) and self._scope.kind is ScopeKind.CLASS:
            # A dataclass field without a default: known to exist, value unknown.
            self._bind(node.target.id, BindingKind.UNKNOWN)

    def _aug_assign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            kind = BindingKind.AUGASSIGN if isinstance(node.op, ast.Add) else BindingKind.UNKNOWN
            self._bind(node.target.id, kind, node.value)
        else:
            self.visit(node.target)
            self._mutated(node.target)

    def _named_expr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._bind(node.target.id, BindingKind.ASSIGN, node.value)

    # -- blocks -------------------------------------------------------------------------

    def _for(self, node) -> None:
        self.visit(node.iter)
        self.loops.append(self.site(node))
        owner = id(node)
        base = self._open(owner, 0)
        self._bind_target(node.target, None, BindingKind.UNKNOWN)
        self._visit_body(node.body)
        del self._path[base:]
        if node.orelse:
            self._block(owner, 0, node.orelse)

    def _while(self, node: ast.While) -> None:
        self.visit(node.test)
        self._block(id(node), 0, node.body)
        if node.orelse:
            self._block(id(node), 0, node.orelse)

    def _if(self, node: ast.If) -> None:
        self.visit(node.test)
        self.branches.tests[id(node)] = node.test
        ends = [self._arm(id(node), 0, node.body)]
        if node.orelse:
            ends.append(self._arm(id(node), 1, node.orelse))
        elif ends[0] is None:
            # `if c: return ...` with no else: what follows is the else arm.
            self._open(id(node), 1)
            return
        else:
            return
        self._continue_in(ends)

    def _try(self, node) -> None:
        owner = id(node)
        self._block(owner, 0, node.body + node.orelse)
        for arm, handler in enumerate(node.handlers, 1):
            base = self._open(owner, arm)
            if handler.type is not None:
                self.visit(handler.type)
            if handler.name:
                self._bind(handler.name, BindingKind.UNKNOWN)
            self._visit_body(handler.body)
            del self._path[base:]
        self._visit_body(node.finalbody)

    def _with(self, node) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, None, BindingKind.UNKNOWN)
        self._visit_body(node.body)

    def _match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        for arm, case in enumerate(node.cases):
            base = self._open(id(node), arm)
            self.statement_paths[id(case)] = tuple(self._path)
            for child in ast.walk(case.pattern):
                name = getattr(child, "name", None) or getattr(child, "rest", None)
                if isinstance(name, str):
                    self._bind(name, BindingKind.UNKNOWN)
            if case.guard is not None:
                self.visit(case.guard)
            self._visit_body(case.body)
            del self._path[base:]

    def _return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._scope.returns.append(self.site(node.value))

    def _delete(self, node: ast.Delete) -> None:
        self.generic(node)
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                self._mutated(target)

    def _comprehension(self, node) -> None:
        # Comprehension targets live in their own scope; the loop is recorded for the rules,
        # which read its target and conditions directly.
        self.generic(node)
        self.loops.append(self.site(node))

    # -- calls --------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> None:
        self.generic(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_argument":
            self._record_argparse(node)
        if isinstance(func, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.IfExp)):
            self.calls.append(self.site(node))
        # What the call may change comes after the call's own site: the call reads `kw` as
        # it was.
        callee = func.attr if type(func) is ast.Attribute else getattr(func, "id", None)
        if callee in _MUTATING_METHODS:
            if type(func) is ast.Attribute:
                self._mutated(func.value)
        elif callee not in _READ_ONLY_CALLEES:
            # A container handed to a function may come back changed (`kw` in `f(kw)`;
            # `**kw` is a copy).
            for arg in node.args:
                if type(arg) is ast.Name:
                    self._changes(arg.id)
            for keyword in node.keywords:
                if keyword.arg is not None and type(keyword.value) is ast.Name:
                    self._changes(keyword.value.id)

    def _record_argparse(self, node: ast.Call) -> None:
        flags: list[str] = []
        dest = None
        default = None
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                flags.append(arg.value)
        for keyword in node.keywords:
            if keyword.arg == "dest" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                dest = keyword.value.value
            elif keyword.arg == "default":
                default = keyword.value
        if not flags:
            return
        longs = [f for f in flags if f.startswith("--")]
        shown = longs[0] if longs else flags[0]
        if dest is None:
            dest = shown.lstrip("-").replace("-", "_")
        self.argparse[dest] = ArgparseOption(dest, shown, default, self._scope, self._tick())

    # -- questions about the tree ---------------------------------------------------------

    def parent_of(self, node: ast.AST) -> ast.AST | None:
        """The parent of `node` (the parent map is built on first use: few files need it)."""
        if not self.parents:
            for parent in ast.walk(self.tree):
                for child in ast.iter_child_nodes(parent):
                    self.parents[id(child)] = parent
        return self.parents.get(id(node))


_LEAVING = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _falls_through(body: list) -> bool:
    """Whether control can run off the end of `body` (it does not end in return, raise,
    continue or break, nor in an if whose every arm does)."""
    while body:
        last = body[-1]
        if isinstance(last, _LEAVING):
            return False
        if not isinstance(last, ast.If) or not last.orelse:
            return True
        if _falls_through(last.body):
            return True
        body = last.orelse
    return True


def dotted_name(node: ast.AST | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
