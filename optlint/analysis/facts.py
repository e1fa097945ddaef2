"""One pass over a module that records what the rules need to resolve names and values.

LibCST's ScopeProvider/QualifiedNameProvider cost 8-9x the parse itself (shared/README.md),
so this visitor records, in the same walk that finds candidate calls, the little scope
model the rules need: which names each scope binds (imports, assignments, definitions,
parameters with their defaults), in what order and under which branch, the attributes
methods set on ``self``, and argparse ``add_argument`` calls. ``tests/test_resolution.py``
checks its answers against LibCST's metadata providers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from optlint.analysis.names import dotted_name
from optlint.analysis.walk import walk


@dataclass(eq=False)
class Binding:
    """One way a name gets a value in a scope."""

    order: int  # position in the walk; a use sees bindings with a smaller order
    path: tuple[int, ...]  # the branches (if/else, loop, try) the binding sits in
    kind: str  # "assign", "augassign", "import", "class", "def", "param", "unknown"
    node: cst.CSTNode | None = None  # the assigned value, or the parameter's default
    qualname: str | None = None  # for imports: the dotted name the binding stands for
    value_scope: "Scope | None" = None  # where `node` must be evaluated


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function", "lambda"
    parent: "Scope | None"
    name: str = ""
    node: cst.CSTNode | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    #: For a class scope: attribute name -> bindings from `self.<attr> = ...` in its methods.
    self_attributes: dict[str, list[Binding]] = field(default_factory=dict)

    def add(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def enclosing_class(self) -> "Scope | None":
        """The class whose method this scope is (for resolving `self.x`)."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent
        return None

    def lookup_chain(self) -> Iterator["Scope"]:
        """This scope, then the enclosing ones Python's name lookup visits (class bodies skipped)."""
        yield self
        scope = self.parent
        while scope is not None:
            if scope.kind != "class":
                yield scope
            scope = scope.parent


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    order: int
    path: tuple[int, ...]
    #: The simple statement line the call sits in (None inside a compound statement's header);
    #: an autofix may insert a statement before it.
    statement: cst.SimpleStatementLine | None = None


@dataclass(eq=False)
class LoopSite:
    """A for statement or a comprehension: where penalties and name splits live."""

    node: cst.CSTNode  # cst.For, or a ListComp / GeneratorExp / SetComp
    scope: Scope
    order: int
    path: tuple[int, ...]
    statement: cst.SimpleStatementLine | None = None


@dataclass(eq=False)
class ArgparseOption:
    dest: str
    flag: str  # the option as the user types it, for messages ("--wd")
    default: cst.BaseExpression | None
    scope: Scope
    order: int


class FileFacts:
    """Collects scopes, bindings, candidate calls and argparse options in one walk."""

    def __init__(self, candidate_names: frozenset[str]) -> None:
        self._candidate_names = candidate_names
        self.module_scope = Scope("module", None, node=None)
        self._scope = self.module_scope
        self._order = 0
        self._path: list[int] = []
        self._block_ids = 0
        self.calls: list[CallSite] = []
        self.loops: list[LoopSite] = []
        self.class_scopes: dict[str, Scope] = {}
        self.scopes: list[Scope] = [self.module_scope]
        self.argparse: dict[str, ArgparseOption] = {}
        self._saved_paths: list[list[int]] = []  # the branch path outside each open scope
        self._statement: cst.SimpleStatementLine | None = None

    # -- bookkeeping --------------------------------------------------------------------

    def _tick(self) -> int:
        self._order += 1
        return self._order

    def _bind(self, name: str, kind: str, node=None, qualname=None, scope=None) -> None:
        self._scope.add(
            name,
            Binding(self._tick(), tuple(self._path), kind, node, qualname, scope or self._scope),
        )

    def _push_block(self) -> None:
        self._block_ids += 1
        self._path.append(self._block_ids)

    def _pop_block(self) -> None:
        self._path.pop()

    # Branches: a binding inside one does not kill the bindings before it.
    def visit_If_body(self, node) -> None:
        self._push_block()

    def leave_If_body(self, node) -> None:
        self._pop_block()

    def visit_If_orelse(self, node) -> None:
        self._push_block()

    def leave_If_orelse(self, node) -> None:
        self._pop_block()

    visit_For_body = visit_While_body = visit_Try_body = visit_TryStar_body = visit_If_body
    leave_For_body = leave_While_body = leave_Try_body = leave_TryStar_body = leave_If_body
    visit_For_orelse = visit_While_orelse = visit_Try_orelse = visit_TryStar_orelse = visit_If_body
    leave_For_orelse = leave_While_orelse = leave_Try_orelse = leave_TryStar_orelse = leave_If_body
    visit_ExceptHandler_body = visit_ExceptStarHandler_body = visit_MatchCase_body = visit_If_body
    leave_ExceptHandler_body = leave_ExceptStarHandler_body = leave_MatchCase_body = leave_If_body

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statement = node

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statement = None

    # -- scopes -------------------------------------------------------------------------

    def _bind_parameters(self, params: cst.Parameters, outer: Scope) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._bind(param.name.value, "param", param.default, scope=outer)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, "unknown")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, "def", node)
        outer = self._scope
        self._scope = Scope("function", outer, node.name.value, node=node)
        self.scopes.append(self._scope)
        self._saved_paths.append(self._path)
        self._path = []
        self._bind_parameters(node.params, outer)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scope = self._scope.parent
        self._path = self._saved_paths.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        outer = self._scope
        self._scope = Scope("lambda", outer, node=node)
        self.scopes.append(self._scope)
        self._saved_paths.append(self._path)
        self._path = []
        self._bind_parameters(node.params, outer)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._scope = self._scope.parent
        self._path = self._saved_paths.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, "class", node)
        self._scope = Scope("class", self._scope, node.name.value, node=node)
        self.scopes.append(self._scope)
        self.class_scopes[node.name.value] = self._scope
        self._saved_paths.append(self._path)
        self._path = []

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._scope = self._scope.parent
        self._path = self._saved_paths.pop()

    # -- imports ------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, "import", qualname=full)
            else:
                head = full.split(".", 1)[0]
                self._bind(head, "import", qualname=head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = dotted_name(node.module) if node.module is not None else ""
        prefix = "." * len(node.relative) + (module or "")
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            qualname = f"{prefix}.{name}" if prefix and not prefix.endswith(".") else prefix + name
            self._bind(local, "import", qualname=qualname)

    # -- assignments (recorded on leave, so the value's own calls come first) -----------

    def _bind_target(self, target: cst.BaseExpression, value, kind: str = "assign") -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, kind, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = None
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
                values = [e.value for e in value.elements]
            for i, element in enumerate(target.elements):
                sub = element.value
                if values is not None and not isinstance(element, cst.StarredElement):
                    self._bind_target(sub, values[i], kind)
                else:
                    # `args, _ = parser.parse_known_args()`: remember the call for argparse lookups.
                    self._bind_target(sub, _Unpacked(value, i) if value is not None else None, "unpacked")
        elif isinstance(target, cst.Attribute):
            self._bind_self_attribute(target, value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None, "unknown")

    def _bind_self_attribute(self, target: cst.Attribute, value) -> None:
        cls = self._scope.enclosing_class
        if cls is None or not isinstance(target.value, cst.Name) or target.value.value != "self":
            return
        cls.self_attributes.setdefault(target.attr.value, []).append(
            Binding(self._tick(), tuple(self._path), "assign", value, None, self._scope)
        )

    def leave_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, node.value)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            kind = "augassign" if isinstance(node.operator, cst.AddAssign) else "unknown"
            self._bind(node.target.value, kind, node.value)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, "assign", node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, None, "unknown")
        self.loops.append(LoopSite(node, self._scope, self._tick(), tuple(self._path), self._statement))

    def _comprehension(self, node) -> None:
        self.loops.append(LoopSite(node, self._scope, self._tick(), tuple(self._path), self._statement))

    visit_ListComp = visit_GeneratorExp = visit_SetComp = _comprehension

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, None, "unknown")

    # -- calls --------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            last = func.attr.value
            if last == "add_argument":
                self._record_argparse(node)
                return
        elif isinstance(func, cst.Name):
            last = func.value
        else:
            last = ""
        if (
            isinstance(func, cst.Name)  # a bare name may be a local alias of an optimizer
            or last in self._candidate_names
            or any(arg.keyword is not None and arg.keyword.value == "weight_decay" for arg in node.args)
        ):
            statement = self._statement if self._scope.kind != "lambda" else None
            self.calls.append(CallSite(node, self._scope, self._tick(), tuple(self._path), statement))

    def _record_argparse(self, node: cst.Call) -> None:
        flags: list[str] = []
        dest = None
        default = None
        for arg in node.args:
            if arg.keyword is None:
                if isinstance(arg.value, cst.SimpleString):
                    flag = arg.value.evaluated_value
                    if isinstance(flag, str):
                        flags.append(flag)
            elif arg.keyword.value == "dest" and isinstance(arg.value, cst.SimpleString):
                dest = arg.value.evaluated_value
            elif arg.keyword.value == "default":
                default = arg.value
        if not flags:
            return
        longs = [f for f in flags if f.startswith("--")]
        shown = longs[0] if longs else flags[0]
        if dest is None:
            dest = shown.lstrip("-").replace("-", "_")
        self.argparse[dest] = ArgparseOption(dest, shown, default, self._scope, self._tick())


@dataclass(frozen=True, eq=False)
class _Unpacked:
    """The i-th item of an unpacked value (``a, b = value``)."""

    value: cst.BaseExpression
    index: int


def collect_facts(module: cst.Module, candidate_names: frozenset[str]) -> FileFacts:
    facts = FileFacts(candidate_names)
    walk(facts, module)
    return facts
