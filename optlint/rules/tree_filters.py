"""Second-stage pre-filters on this Python's `ast` tree (see Rule.may_fire_tree).

One walk summarizes what the filters ask about; each filter answers "can this rule
possibly fire?" for a superset of what the LibCST analysis reports, so a False costs
nothing in findings and saves the LibCST parse.
"""

from __future__ import annotations

import ast
from collections import Counter
from functools import cached_property

from optlint.optimizers import KNOWN_LAST_NAMES

PENALTY_CALLS = frozenset({"abs", "pow", "norm", "square", "vector_norm", "L1Loss", "MSELoss", "l1_loss", "mse_loss"})
_ONE_SHOT_CALLS = frozenset({"parameters", "named_parameters", "filter", "map", "iter", "chain"})


def _callee_name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _mentions(node, params_names: set[str]) -> bool:
    """The subtree calls .parameters()/.named_parameters() or loads a name that holds them."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and _callee_name(inner.func) in ("parameters", "named_parameters"):
            return True
        if isinstance(inner, ast.Name) and inner.id in params_names:
            return True
    return False


class TreeSummary:
    """What the tree filters need, from one walk of the module."""

    def __init__(self, tree: ast.AST, optimizer_names: frozenset[str] = KNOWN_LAST_NAMES) -> None:
        self.optimizer_names = optimizer_names  # known optimizers and factories, plus configured ones
        self.calls: dict[str, int] = {}  # callee name -> most positional arguments seen
        self.aliases: list[tuple[str, str]] = []  # (local name, the name it was assigned from)
        self.loads: Counter = Counter()
        self.weight_decay_keyword = False  # some call passes weight_decay=
        self.params_dict = False  # a {"params": ...} or dict(params=...) group
        self.loss_objects: set[str] = set()
        self._assignments: list[tuple[list[str], ast.AST]] = []
        self._loops: list[ast.AST] = []
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Name:
                if isinstance(node.ctx, ast.Load):
                    self.loads[node.id] += 1
            elif kind is ast.Call:
                name = _callee_name(node.func)
                if name is not None:
                    count = sum(1 for a in node.args if not isinstance(a, ast.Starred))
                    if count >= self.calls.get(name, -1):
                        self.calls[name] = count
                for keyword in node.keywords:
                    if keyword.arg == "weight_decay":
                        self.weight_decay_keyword = True
                    elif keyword.arg == "params" and name == "dict":
                        self.params_dict = True
            elif kind is ast.Dict:
                if any(isinstance(k, ast.Constant) and k.value == "params" for k in node.keys):
                    self.params_dict = True
            elif kind in (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.AugAssign):
                value = node.value
                if value is None:
                    continue
                targets = node.targets if kind is ast.Assign else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if isinstance(value, (ast.Name, ast.Attribute)):
                    self.aliases.extend((name, _callee_name(value)) for name in names)
                elif isinstance(value, ast.Call) and _callee_name(value.func) in ("L1Loss", "MSELoss"):
                    self.loss_objects.update(names)  # crit = nn.L1Loss(); crit(p, zeros) in a loop
                self._assignments.append((names, value))
            elif kind in (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.For):
                self._loops.append(node)
            elif kind is ast.ImportFrom:
                # `from torch.optim import AdamW as Opt`: Opt reaches AdamW
                self.aliases.extend((a.asname, a.name) for a in node.names if a.asname)

    @cached_property
    def params_names(self) -> set[str]:
        """Names that may hold parameters: bound (transitively) from a parameters() call."""
        names: set[str] = set()
        changed = True
        while changed:
            changed = False
            for targets, value in self._assignments:
                if targets and not set(targets) <= names and _mentions(value, names):
                    names.update(targets)
                    changed = True
        return names

    def optimizer_call(self) -> bool:
        """A call that may build an optimizer or add a group to one (OPT001's candidates)."""
        callees = self.callees() | {"add_param_group"}
        return self.weight_decay_keyword or self.calls_to(callees)

    def callees(self, names: frozenset[str] | None = None) -> set[str]:
        """Names a call may use to reach one of `names`: the names and local aliases of them."""
        names = self.optimizer_names if names is None else names
        return set(names) | {local for local, source in self.aliases if source in names}

    def calls_to(self, callees: set[str], min_positional: int = 0) -> bool:
        return any(self.calls.get(name, -1) >= min_positional for name in callees)

    @cached_property
    def has_penalty_loop(self) -> bool:
        """A loop or comprehension over parameters whose element or body computes
        abs/pow/norm/square/** ."""
        for node in self._loops:
            iterable = node.iter if isinstance(node, ast.For) else node.generators[0].iter
            if not _mentions(iterable, self.params_names):
                continue
            parts = node.body if isinstance(node, ast.For) else [node.elt]
            for part in parts:
                for inner in ast.walk(part):
                    if isinstance(inner, ast.Call) and (
                        _callee_name(inner.func) in PENALTY_CALLS or _callee_name(inner.func) in self.loss_objects
                    ):
                        return True
                    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow):
                        return True
        return False

    def one_shot_reused(self) -> bool:
        """A name bound to a maybe-one-shot iterator over parameters, and loaded twice."""
        for targets, value in self._assignments:
            if not any(self.loads[name] >= 2 for name in targets):
                continue
            one_shot = isinstance(value, ast.GeneratorExp) or (
                isinstance(value, ast.Call) and _callee_name(value.func) in _ONE_SHOT_CALLS
            )
            if one_shot and _mentions(value, self.params_names):
                return True
        return False
