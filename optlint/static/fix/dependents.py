"""What uses an optimizer's param groups: the code a fix that changes the groups must keep right.

A fix that splits a group in two (OPT001) or moves parameters between groups (OPT002)
changes what ``optimizer.param_groups`` holds. Code that reads or writes the groups one by
one would then silently train differently, or stop at start-up: a scheduler given one value
per group (``LambdaLR(opt, [f, g])``, ``OneCycleLR(max_lr=[...])``), a write to
``param_groups[0]["lr"]``, clipping of ``param_groups[0]["params"]``, ``len(param_groups)``,
a ``zip`` or ``enumerate`` over them, a checkpoint loaded with ``load_state_dict``.

``review`` follows the optimizer through names, ``self.`` attributes, returns, aliases
and the in-file functions and classes it is handed to, and looks at each use:

- kept as is: a loop over every group (``for g in opt.param_groups``), ``step()``,
  schedulers that treat every group alike;
- rewritten in the same edit set where that provably keeps every parameter's lr, schedule
  and clipping: a per-group list gets the split group's entry twice, an index after a split
  group is shifted, a write to group 0 of a one-group optimizer becomes a loop over the
  groups;
- a caveat that makes the fix *unsafe* (applied only with ``--unsafe-fixes``): a state dict
  loaded into the optimizer or its scheduler, the optimizer handed to code optlint cannot
  read;
- otherwise the fix is withheld (``NoFix``) and the reason names the line.

A model wrapped by ``FullyShardedDataParallel`` (FSDP1) before the optimizer is built has
1-D parameters only (flat parameters, or with ``use_orig_params=True`` 1-D views of the
local shards), and ZeroRedundancyOptimizer partitions parameters by rank: fixes are withheld
there too. A model set up by Lightning Fabric or accelerate before the optimizer is built is
sharded the same way under an FSDP strategy: withheld when the file names FSDP, unsafe
otherwise.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from optlint.static.fix.edits import NoFix, RawEdit
from optlint.static.model.scopes import BindingKind, dotted_name
from optlint.static.model.values import Where

#: Schedulers that take one value (or callable) per param group, and the arguments that may.
PER_GROUP_ARGUMENTS = {
    "LambdaLR": (("lr_lambda", 1),),
    "MultiplicativeLR": (("lr_lambda", 1),),
    "OneCycleLR": (("max_lr", 1),),
    "CyclicLR": (("base_lr", 1), ("max_lr", 2)),
    "ReduceLROnPlateau": (("min_lr", 7),),
    "SWALR": (("swa_lr", 1),),
}
#: torch schedulers that treat every group alike.
UNIFORM_SCHEDULERS = frozenset({
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "LinearLR", "ConstantLR", "PolynomialLR", "SequentialLR", "ChainedScheduler",
})
#: Callees that only step, scale or log the optimizer, or give it back wrapped (followed).
_HARMLESS = frozenset({"print", "isinstance", "id", "type", "repr", "str", "hasattr", "callable", "step",
                       "unscale_", "register_step_pre_hook", "register_step_post_hook"})
_WRAPPERS = frozenset({"prepare", "initialize"})  # accelerate / apex / deepspeed: hand it back
#: Libraries whose schedule builders treat every group alike (one lambda for all groups).
_UNIFORM_LIBRARIES = ("transformers.", "timm.scheduler", "timm.")
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**", ast.Mod: "%"}
_MAX_DEPTH = 6
#: Set-up calls that shard a model under an FSDP strategy, by the class of their receiver.
_SETUP_RECEIVERS = {"setup": "Fabric", "setup_module": "Fabric", "prepare": "Accelerator", "prepare_model": "Accelerator"}


@dataclass
class Regroup:
    """How a fix changes the groups.

    ``sizes``: for each group as written, how many groups the fix makes of it (1 or 2); None
    when the changed group's position is not known (``add_param_group``: groups after the
    first). ``single``: the optimizer had exactly one group. ``moves``: the number of groups
    stays, parameters move between them (OPT002)."""

    sizes: list[int] | None
    single: bool = False
    moves: bool = False

    def new_index(self, old: int) -> int | None:
        if self.moves:
            return old
        if self.sizes is None:
            return 0 if old == 0 else None
        if old >= len(self.sizes):
            return None
        return sum(self.sizes[:old])

    def changed(self, old: int) -> bool:
        """Whether group `old` holds other parameters after the fix."""
        if self.moves:
            return True
        if self.sizes is None:
            return old != 0
        return old >= len(self.sizes) or self.sizes[old] > 1

    @property
    def count(self) -> str:
        """How many groups the optimizer had, as a message says it."""
        if self.sizes is None:
            return "fewer param groups"
        return f"{len(self.sizes)} param group{'s' if len(self.sizes) != 1 else ''}"


@dataclass
class Review:
    """What a fix must add (edits) and what a user must check before applying it (caveats)."""

    edits: list[RawEdit] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


def review(resolver, call_node: ast.AST, regroup: Regroup, handles=(), group_lists=()) -> Review:
    """The dependents of the optimizer built by `call_node` (or named by `handles`, for
    ``opt.add_param_group``); `group_lists` are names of group lists passed to it (their
    other uses are group uses too). Raises NoFix naming the line of a use that no rewrite
    keeps right."""
    uses = _Uses(resolver, regroup)
    uses.special_cases(call_node)
    if handles:
        for handle in handles:
            uses.handle_expr(handle)
    else:
        uses.value(call_node, 0)
    for name, scope, passed in group_lists:
        uses.group_list_name(name, scope, passed)
    if uses.shared and uses.result.edits:
        # `if a: opt = AdamW(...) else: opt = SGD(...)`, then `LambdaLR(opt, [f])`: a rewrite
        # of the use would be wrong for the optimizer this fix leaves as it is.
        edited = min(edit.node.lineno for edit in uses.result.edits)
        raise NoFix(f"line {edited} also uses what line {uses.shared} builds, which this fix does not change")
    return uses.result


class _Uses:
    def __init__(self, resolver, regroup: Regroup) -> None:
        self.resolver = resolver
        self.model = resolver.model
        self.source = resolver.source
        self.regroup = regroup
        self.result = Review()
        self.done: set = set()
        self._names = None
        #: the line of another value that reaches the same names (another branch's optimizer)
        self.shared: int | None = None

    # -- verdicts -------------------------------------------------------------------------

    def withhold(self, node: ast.AST, what: str) -> None:
        raise NoFix(f"line {node.lineno} {what}")

    def caveat(self, node: ast.AST, what: str) -> None:
        text = f"line {node.lineno} {what}"
        if text not in self.result.caveats:
            self.result.caveats.append(text)

    def seg(self, node: ast.AST) -> str:
        return self.source.short(node)

    # -- where the optimizer lives -----------------------------------------------------------

    def special_cases(self, call_node: ast.AST) -> None:
        """FSDP1 before the optimizer; ZeroRedundancyOptimizer."""
        where = self.where_of(call_node)
        own = self.resolver.qualname(call_node.func, where) if isinstance(call_node, ast.Call) else None
        if own and own.endswith("ZeroRedundancyOptimizer"):
            self.withhold(call_node, "builds a ZeroRedundancyOptimizer, which partitions the parameters by rank: "
                                     "split the groups where they are built and check each rank's share")
        function = self.scope_node(call_node)
        if getattr(function, "name", "") == "configure_optimizers":
            # Lightning builds this optimizer after its strategy has wrapped the model, and any
            # run can resume with `trainer.fit(ckpt_path=...)`: neither is visible in the file
            self.caveat(call_node, "is built in Lightning's configure_optimizers: under an FSDP strategy the model is "
                                   "already sharded there (1-D parameters: the split would remove all decay), and "
                                   "`trainer.fit(ckpt_path=...)` with a checkpoint saved before the fix will not load; "
                                   "check the strategy and start from a fresh optimizer state")
        scope = where.scope
        for site in self.fsdp1_wraps():
            if site.scope is scope and site.node.lineno > call_node.lineno:
                continue  # wrapped after the optimizer is built: its parameters keep their shapes
            self.withhold(site.node, "wraps the model in FullyShardedDataParallel (FSDP1) before the optimizer is built: "
                                     "its parameters are 1-D (flat, or 1-D views of the shards with use_orig_params=True), "
                                     "so a split by shape would remove all weight decay; use optlint.param_groups(model, ...) "
                                     "at run time, which reads FSDP's original shapes")
        for site in self.trainer_setups():
            if site.scope is not scope or site.node.lineno > call_node.lineno:
                continue
            what = f"sets the model up with `{self.seg(site.node.func)}(...)` before the optimizer is built"
            if self.resolver.memo["mentions_fsdp"]:
                self.withhold(site.node, what + ", and this file uses FSDP: sharded parameters are 1-D, so a split "
                                                "by shape would remove all weight decay")
            self.caveat(site.node, what + ": under an FSDP strategy its parameters are 1-D shards and the split "
                                          "would remove all weight decay; check the strategy")

    def fsdp1_wraps(self) -> list:
        """The file's `FullyShardedDataParallel(...)` calls, found once per file (every fix of
        the file asks)."""
        wraps = self.resolver.memo.get("fsdp1")
        if wraps is None:
            wraps = []
            # Every way to reach the class (an import, an alias's source, getattr) spells its
            # name in the file: without it, no call of the file can resolve to it.
            if "FullyShardedDataParallel" in self.source.text:
                for site in self.model.calls:
                    qual = self.resolver.qualname(site.node.func, Where.of_site(site)) or ""
                    if qual.endswith("FullyShardedDataParallel"):
                        wraps.append(site)
            self.resolver.memo["fsdp1"] = wraps
        return wraps

    def trainer_setups(self) -> list:
        """`fabric.setup(model)` / `setup_module`, `accelerator.prepare(model)` /
        `prepare_model` calls whose receiver is bound to a `Fabric(...)` / `Accelerator(...)`
        of this file or named like one (handed in by a caller), found once per file."""
        setups = self.resolver.memo.get("setups")
        if setups is None:
            setups = []
            for site in self.model.calls:
                func = site.node.func
                if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and site.node.args):
                    continue
                wanted = _SETUP_RECEIVERS.get(func.attr)
                if wanted is None:
                    continue
                if wanted.lower() in func.value.id.lower():
                    setups.append(site)  # `fabric` / `accelerator` handed in by the caller
                    continue
                for binding in self.resolver.reaching(func.value.id, Where.of_site(site)):
                    value = binding.node if binding.kind is BindingKind.ASSIGN else None
                    built = dotted_name(value.func) if isinstance(value, ast.Call) else None
                    if built and built.split(".")[-1] == wanted:
                        setups.append(site)
                        break
            self.resolver.memo["setups"] = setups
            text = self.source.text.lower()
            self.resolver.memo["mentions_fsdp"] = "fsdp" in text or "fullyshardeddataparallel" in text
        return setups

    def where_of(self, node: ast.AST) -> Where:
        probe = self.model.parent_of(node)
        while probe is not None:
            if isinstance(probe, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                scope = self.model.function_scopes.get(id(probe))
                if scope is not None:
                    return Where(scope, 1 << 40, ())
            probe = self.model.parent_of(probe)
        return Where(self.model.module_scope, 1 << 40, ())

    def scope_node(self, node: ast.AST):
        return scope_node(self.model, node)

    def handle_expr(self, node: ast.AST) -> None:
        """An expression (a name or attribute) that holds the optimizer."""
        if isinstance(node, ast.Name):
            self.name(node.id, self.scope_node(node), 0)
        elif isinstance(node, ast.Attribute):
            self.attribute(node.attr, 0)

    # -- following the optimizer ---------------------------------------------------------------

    def value(self, node: ast.AST, depth: int) -> None:
        """`node` evaluates to the optimizer: look at what its parent does with it."""
        if id(node) in self.done:
            return
        self.done.add(id(node))
        if depth > _MAX_DEPTH:
            self.caveat(node, "passes the optimizer on further than optlint follows: check that every param group is used alike")
            return
        parent = self.model.parent_of(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            self.attribute_use(parent)
        elif isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
            for target in parent.targets if isinstance(parent, ast.Assign) else [parent.target]:
                self.bind(target, depth, node)
        elif isinstance(parent, ast.NamedExpr):
            self.bind(parent.target, depth, node)
            self.value(parent, depth)
        elif isinstance(parent, ast.Return):
            self.returned(parent, depth)
        elif isinstance(parent, ast.Lambda) and parent.body is node:
            self.returned(parent, depth)
        elif isinstance(parent, ast.keyword):
            self.handed(self.model.parent_of(parent), node, depth)
        elif isinstance(parent, ast.Call):
            if node is not parent.func:
                self.handed(parent, node, depth)
        elif isinstance(parent, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
            outer = parent
            while isinstance(self.model.parent_of(outer), (ast.List, ast.Tuple, ast.Dict, ast.Set)):
                outer = self.model.parent_of(outer)
            holder = self.model.parent_of(outer)
            function = self.scope_node(outer)
            if isinstance(holder, ast.Return) and getattr(function, "name", "") == "configure_optimizers":
                return  # PyTorch Lightning steps every group alike
            self.caveat(node, "puts the optimizer in a container optlint does not follow: check that every param group is used alike")
        elif isinstance(parent, (ast.Expr, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.If, ast.IfExp, ast.FormattedValue,
                                 ast.While, ast.Assert)) or parent is None:
            return
        else:
            self.caveat(node, f"uses the optimizer in `{self.seg(parent)}`, which optlint does not follow")

    def others(self, values, ours: ast.AST) -> None:
        """Note a value other than `ours` bound to the same name or attribute."""
        for value in values:
            if isinstance(value, ast.Constant) and value.value is None:
                continue  # `self.optimizer = None` until it is built
            if value is not None and value is not ours and self.shared is None:
                self.shared = value.lineno

    def bind(self, target: ast.AST, depth: int, value: ast.AST | None = None) -> None:
        if value is not None:
            if isinstance(target, ast.Name):
                scope = self.model.function_scopes.get(id(self.scope_node(target)), self.model.module_scope)
                self.others([b.node if b.node is not None else target for b in scope.bindings.get(target.id, ())], value)
            elif isinstance(target, ast.Attribute):
                self.others(self.attribute_index()[1].get(target.attr, []), value)
        if isinstance(target, ast.Name):
            self.name(target.id, self.scope_node(target), depth + 1)
        elif isinstance(target, ast.Attribute):
            self.attribute(target.attr, depth + 1)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:  # `model, opt = accelerator.prepare(model, opt)`: every name
                self.bind(element.value if isinstance(element, ast.Starred) else element, depth)
        else:
            self.caveat(target, f"stores the optimizer in `{self.seg(target)}`, which optlint does not follow")

    def loads(self, name: str, scope_node: ast.AST):
        """Loads of `name` in `scope_node`, leaving out nested functions that bind it themselves."""
        for node, nested in self.load_index(scope_node).get(name, ()):
            if any(name in self.model.function_scopes[id(f)].bindings for f in nested):
                continue
            yield node

    def load_index(self, scope_node: ast.AST) -> dict:
        """name -> [(load, nested functions around it)] in `scope_node`, built once per scope
        and file: each fix asks, and a walk per fix would cost the file once per finding."""
        key = ("loads", id(scope_node))
        index = self.resolver.memo.get(key)
        if index is None:
            index = {}
            stack = [(child, ()) for child in ast.iter_child_nodes(scope_node)]
            while stack:
                node, nested = stack.pop()
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and id(node) in self.model.function_scopes:
                    nested = (*nested, node)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    index.setdefault(node.id, []).append((node, nested))
                stack.extend((child, nested) for child in ast.iter_child_nodes(node))
            self.resolver.memo[key] = index
        return index

    def attribute_index(self) -> tuple[dict, dict]:
        """attr -> loads of `.attr`, and attr -> values assigned to `.attr`, once per file."""
        index = self.resolver.memo.get("attributes")
        if index is None:
            loads: dict = {}
            stores: dict = {}
            for n in ast.walk(self.model.tree):
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                    loads.setdefault(n.attr, []).append(n)
                elif isinstance(n, (ast.Assign, ast.AnnAssign)):
                    for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                        if isinstance(t, ast.Attribute):
                            stores.setdefault(t.attr, []).append(n.value)
            index = self.resolver.memo["attributes"] = (loads, stores)
        return index

    def name(self, name: str, scope_node: ast.AST, depth: int) -> None:
        key = ("name", name, id(scope_node))
        if key in self.done:
            return
        self.done.add(key)
        for load in sorted(self.loads(name, scope_node), key=lambda n: (n.lineno, n.col_offset)):
            self.value(load, depth)

    def attribute(self, attr: str, depth: int) -> None:
        """`self.optimizer = opt`: every `.optimizer` read in the file (whoever's: conservative)."""
        key = ("attr", attr)
        if key in self.done:
            return
        self.done.add(key)
        found = self.attribute_index()[0].get(attr, [])
        for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
            self.value(node, depth)

    def returned(self, statement: ast.AST, depth: int) -> None:
        """`return opt` (or a lambda's body): what the function's callers do with it."""
        function = statement if isinstance(statement, ast.Lambda) else self.scope_node(statement)
        name = getattr(function, "name", None)
        if isinstance(function, ast.Lambda):
            holder = self.model.parent_of(function)
            if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
                name = holder.targets[0].id
            else:
                self.caveat(function, "builds the optimizer in a lambda optlint does not follow: "
                                      "check that its callers use every param group alike")
                return
        if name is None:
            return
        returns = [n.value for n in ast.walk(function) if isinstance(n, ast.Return) and scope_node(self.model, n) is function]
        self.others([r for r in returns if r is not None and not any(x is statement.value for x in ast.walk(r))]
                    if isinstance(statement, ast.Return) else [], statement)
        if name == "configure_optimizers":
            return  # PyTorch Lightning steps every group alike
        callers = [n for n in ast.walk(self.model.tree) if isinstance(n, ast.Call)
                   and ((isinstance(n.func, ast.Name) and n.func.id == name)
                        or (isinstance(n.func, ast.Attribute) and n.func.attr == name))]
        if not callers:
            self.caveat(statement, f"returns the optimizer from `{name}()`, whose callers optlint cannot see: "
                                   "check that they use every param group alike")
        for caller in callers:
            self.value(caller, depth + 1)

    def handed(self, call: ast.Call, node: ast.AST, depth: int) -> None:
        where = self.where_of(call)
        qual = self.resolver.qualname(call.func, where) or dotted_name(call.func) or ""
        last = qual.rsplit(".", 1)[-1] if qual else getattr(call.func, "attr", "")
        if not qual.startswith("<local>") and (last in PER_GROUP_ARGUMENTS or last in UNIFORM_SCHEDULERS):
            self.scheduler(call, last, where)
            return
        if last in _HARMLESS or qual.startswith(_UNIFORM_LIBRARIES) and "sched" in qual.lower():
            return
        if last in _WRAPPERS:  # what it gives back is the optimizer, wrapped, in its argument's place
            self.wrapper_resumes()
            holder = self.model.parent_of(call)
            targets = holder.targets if isinstance(holder, ast.Assign) else []
            if len(targets) == 1 and isinstance(targets[0], ast.Tuple) and len(targets[0].elts) == len(call.args) \
                    and any(a is node for a in call.args):
                self.bind(targets[0].elts[next(i for i, a in enumerate(call.args) if a is node)], depth)
            elif len(targets) == 1 and isinstance(targets[0], ast.Tuple) and len(targets[0].elts) >= 2 \
                    and qual.endswith("deepspeed.initialize"):
                # (engine, optimizer, dataloader, lr_scheduler): the optimizer comes back second
                # (https://deepspeed.readthedocs.io/en/latest/initialize.html)
                self.bind(targets[0].elts[1], depth)
            else:
                self.value(call, depth + 1)
            return
        function = self.resolver.local_function(call.func, where)
        if function is None and qual.startswith("<local>."):
            cls = self.model.class_scopes.get(qual[len("<local>."):])
            init = cls.bindings.get("__init__") if cls is not None else None
            if init and init[-1].kind is BindingKind.DEF:
                function = self.model.function_scopes.get(id(init[-1].node))
                params = function.params[1:] if function is not None else []
                self.into(function, params, call, node, depth)
                return
        if function is not None:
            params = list(function.params)
            if isinstance(call.func, ast.Attribute) and params[:1] in (["self"], ["cls"]):
                params = params[1:]
            self.into(function, params, call, node, depth)
            return
        shown = dotted_name(call.func) or self.seg(call.func)
        self.caveat(call, f"hands the optimizer to `{shown}(...)`, which optlint cannot read: "
                          "check that it uses every param group alike")
        self.wrapper_resumes()

    def wrapper_resumes(self) -> None:
        """Once the optimizer is inside a wrapper (DeepSpeed's engine, accelerate, Fabric), the
        wrapper restores its state: `engine.load_checkpoint(...)`, `accelerator.load_state(...)`,
        `fabric.load(path, state)`. A checkpoint saved before the fix has fewer groups."""
        loads = self.attribute_index()[0]
        for node in loads.get("load_checkpoint", []) + loads.get("load_state", []) + [
            n for n in loads.get("load", []) if "fabric" in (dotted_name(n.value) or "").lower()
        ]:
            if isinstance(self.model.parent_of(node), ast.Call):
                self.caveat(node, f"restores a checkpoint with `{self.seg(node)}(...)`, which may hold an optimizer "
                                  f"state saved before the fix (with fewer param groups): save it again after the "
                                  f"fix, or start the optimizer afresh")

    def into(self, function, params: list[str], call: ast.Call, node: ast.AST, depth: int) -> None:
        """The optimizer is an argument of an in-file function: follow its parameter."""
        name = None
        for i, arg in enumerate(call.args):
            if arg is node and not isinstance(arg, ast.Starred) and i < len(params):
                name = params[i]
        for keyword in call.keywords:
            if keyword.value is node:
                name = keyword.arg
        if function is None or name is None or name not in function.params:
            self.caveat(call, f"hands the optimizer to `{self.seg(call.func)}(...)` in a way optlint does not follow")
            return
        self.name(name, function.node, depth + 1)

    # -- schedulers ---------------------------------------------------------------------------

    def scheduler(self, call: ast.Call, kind: str, where: Where) -> None:
        for key, position in PER_GROUP_ARGUMENTS.get(kind, ()):
            value = next((k.value for k in call.keywords if k.arg == key), None)
            if value is None and len(call.args) > position and not isinstance(call.args[position], ast.Starred):
                value = call.args[position]
            if value is not None:
                self.per_group_value(call, key, value, where)
        self.state_loaded(call, "scheduler")

    def per_group_value(self, call: ast.Call, key: str, value: ast.AST, where: Where) -> None:
        if isinstance(value, (ast.List, ast.Tuple)):
            self.per_group_list(call, key, value)
            return
        if isinstance(value, (ast.ListComp, ast.Lambda)) or self.resolver.evaluate(value, where).is_number:
            return  # one value for every group, or a list made from the groups themselves
        if isinstance(value, ast.Name):
            bindings = self.resolver.reaching(value.id, where)
            if bindings and all(b.kind is BindingKind.DEF for b in bindings):
                return  # a function: one callable for every group
            if any(isinstance(b.node, (ast.List, ast.Tuple)) for b in bindings):
                self.withhold(call, f"gives `{key}` one value per param group (`{value.id}`): "
                                    "write the list in the call, or add the new group's entry yourself")
        self.caveat(call, f"passes `{key}={self.seg(value)}`: check that it is one value, not one per param group")

    def per_group_list(self, call: ast.Call, key: str, literal) -> None:
        elements = literal.elts
        if any(isinstance(e, ast.Starred) for e in elements):
            self.withhold(call, f"gives `{key}` a list optlint cannot count")
        regroup = self.regroup
        if regroup.moves:
            if len({ast.dump(e) for e in elements}) > 1:
                self.withhold(call, f"gives each param group its own `{key}`: moving vectors between the groups "
                                    "would change their schedule")
            return
        if regroup.sizes is None or len(elements) != len(regroup.sizes):
            self.withhold(call, f"gives `{key}` one value per param group ({len(elements)} values)")
        if not all(_duplicable(e) for e in elements):
            self.withhold(call, f"gives `{key}` values that cannot be written twice")
        sizes = list(regroup.sizes)
        opening, closing = ("[", "]") if isinstance(literal, ast.List) else ("(", ")")

        def render(layout, view) -> str:
            texts = [view.text(e).strip() for e, size in zip(elements, sizes) for _ in range(size)]
            tail = "," if closing == ")" and len(texts) == 1 else ""
            return opening + ", ".join(texts) + tail + closing

        self.result.edits.append(RawEdit(literal, render, with_parens=isinstance(literal, ast.Tuple)))

    def state_loaded(self, built: ast.Call, what: str) -> None:
        """A state dict loaded into what `built` is assigned to."""
        parent = self.model.parent_of(built)
        if not isinstance(parent, (ast.Assign, ast.AnnAssign)):
            return
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        names = {dotted_name(t) for t in targets} - {None}
        attrs = {t.attr for t in targets if isinstance(t, ast.Attribute)}
        for node in self.attribute_index()[0].get("load_state_dict", []):
            owner = node.value
            if dotted_name(owner) in names or (isinstance(owner, ast.Attribute) and owner.attr in attrs):
                self.caveat(node, f"loads a {what} state dict: one saved before the fix holds per-group "
                                  f"values for {self.regroup.count}; save it again after the fix")

    # -- what is done with the optimizer --------------------------------------------------------

    def attribute_use(self, node: ast.Attribute) -> None:
        if node.attr == "param_groups":
            self.groups(node)
        elif node.attr == "load_state_dict":
            self.caveat(node, f"loads an optimizer state dict: one saved before the fix has {self.regroup.count} "
                              "and will not load; save it again after the fix, or start the optimizer afresh")

    def group_list_name(self, name: str, scope_node, passed: ast.AST) -> None:
        """`groups = [...]` passed to the optimizer: its other uses index the same dicts."""
        for load in self.loads(name, scope_node):
            if load is not passed:
                self.groups(load)

    def groups(self, node: ast.AST) -> None:
        """`node` evaluates to the list of param groups."""
        if id(node) in self.done:
            return
        self.done.add(id(node))
        parent = self.model.parent_of(node)
        regroup = self.regroup
        if isinstance(parent, ast.For) and parent.iter is node or isinstance(parent, ast.comprehension) and parent.iter is node:
            return  # every group alike
        if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name):
            func = parent.func.id
            if func == "len":
                if not regroup.moves:
                    self.withhold(parent, f"counts the param groups (`{self.seg(parent)}`)")
                return
            if func == "enumerate" and not self.index_used(parent):
                return
            if func in ("print", "repr", "str"):
                return
            self.withhold(parent, f"uses the param groups one by one (`{self.seg(parent)}`)")
        if isinstance(parent, ast.Subscript) and parent.value is node:
            index = parent.slice
            if isinstance(index, ast.Constant) and type(index.value) is int and index.value >= 0:
                self.group_at(parent, index)
                return
            self.withhold(parent, f"takes `{self.seg(parent)}`, a slice or computed index of the param groups")
        if isinstance(parent, ast.Assign) and parent.value is node:
            for target in parent.targets:
                if not isinstance(target, ast.Name):
                    self.withhold(parent, f"keeps the param groups in `{self.seg(target)}`")
                for load in self.loads(target.id, self.scope_node(target)):
                    self.groups(load)
            return
        self.withhold(node, f"uses the param groups in `{self.seg(parent or node)}`")

    def index_used(self, call: ast.Call) -> bool:
        """`for i, g in enumerate(groups)`: whether `i` is read."""
        loop = self.model.parent_of(call)
        target = getattr(loop, "target", None)
        if not (isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name)):
            return True
        index = target.elts[0].id
        body = loop.body if isinstance(loop, ast.For) else [self.model.parent_of(loop)]
        return any(isinstance(n, ast.Name) and n.id == index and n is not target.elts[0]
                   for statement in body for n in ast.walk(statement))

    def group_at(self, subscript: ast.Subscript, index: ast.Constant) -> None:
        """`groups[k]`: one group."""
        k = index.value
        regroup = self.regroup
        parent = self.model.parent_of(subscript)
        keyed = isinstance(parent, ast.Subscript) and parent.value is subscript
        key = parent.slice.value if keyed and isinstance(parent.slice, ast.Constant) else None
        writes = keyed and not isinstance(parent.ctx, ast.Load)
        shown = self.seg(parent if keyed else subscript)
        if not regroup.changed(k):
            self.shift(index, k)
            return
        if not keyed or key is None:
            self.withhold(subscript, f"uses param group {k} alone (`{shown}`): after the fix its parameters are "
                                     "in two groups")
        if key == "params":
            self.withhold(parent, f"uses only the parameters of param group {k} (`{shown}`)")
        if not writes:
            if regroup.moves or key == "weight_decay" or self.only_read(parent):
                self.shift(index, k)
                return
            self.withhold(parent, f"changes `{shown}` in place")
        if regroup.moves:
            if key == "weight_decay":
                return
            self.withhold(parent, f"sets `{shown}` only: the fix moves vectors between param groups, "
                                  "so their value would change")
        if regroup.single and k == 0 and self.loop_rewrite(parent):
            return
        self.withhold(parent, f"sets `{shown}` only: after the fix param group {k} is two groups")

    def only_read(self, node: ast.AST) -> bool:
        parent = self.model.parent_of(node)
        return not (isinstance(parent, ast.Attribute) and parent.value is node)  # `.append(...)` etc.

    def shift(self, index: ast.Constant, k: int) -> None:
        new = self.regroup.new_index(k)
        if new is None:
            self.withhold(index, f"uses param group {k}, whose position the fix changes in a way optlint cannot tell")
        if new != k:
            self.result.edits.append(RawEdit(index, lambda layout, view: str(new)))

    def loop_rewrite(self, target: ast.Subscript) -> bool:
        """`opt.param_groups[0]["lr"] = x` on a one-group optimizer means every group: write it
        as a loop over the groups. Only for a statement alone on its lines whose value reads
        no group (each twin starts equal and gets the same writes, so they stay equal)."""
        statement = self.model.parent_of(target)
        if isinstance(statement, ast.Assign):
            if statement.targets != [target]:
                return False
            op = "="
        elif isinstance(statement, ast.AugAssign) and statement.target is target and type(statement.op) in _OPS:
            op = _OPS[type(statement.op)] + "="
        else:
            return False
        value = statement.value
        if any(isinstance(n, (ast.Call, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(value)):
            return False
        if any(isinstance(n, ast.Attribute) and n.attr == "param_groups" for n in ast.walk(value)):
            return False
        span = self.source.span(statement)
        before = self.source.line(span.row)[: span.column]
        after = self.source.line(span.end_row)[span.end_column:]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            return False
        groups_node, key_node = target.value.value, target.slice
        var = self.loop_var()

        def render(layout, view) -> str:
            head = f"for {var} in {view.text(groups_node).strip()}:"
            body = f"{var}[{view.text(key_node).strip()}] {op} {view.text(value).strip()}"
            return f"{head}{layout.newline}{layout.indent}    {body}"

        self.result.edits.append(RawEdit(statement, render, "replace-statement"))
        return True

    def loop_var(self) -> str:
        if self._names is None:
            self._names = {n.id for n in ast.walk(self.model.tree) if isinstance(n, ast.Name)}
            self._names |= {a.arg for a in ast.walk(self.model.tree) if isinstance(a, ast.arg)}
        for candidate in ("group", "param_group", "group_"):
            if candidate not in self._names:
                return candidate
        return "group__"


def scope_node(model, node: ast.AST):
    """The function (or lambda) whose body holds `node`, else the module."""
    probe = model.parent_of(node)
    while probe is not None and not isinstance(probe, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        probe = model.parent_of(probe)
    return probe if probe is not None else model.tree


def _duplicable(node: ast.AST) -> bool:
    """Evaluating `node` twice gives equal values and does nothing else."""
    if isinstance(node, (ast.Constant, ast.Name, ast.Lambda)):
        return True
    if isinstance(node, ast.Attribute):
        return _duplicable(node.value)
    if isinstance(node, ast.UnaryOp):
        return _duplicable(node.operand)
    if isinstance(node, ast.BinOp):
        return _duplicable(node.left) and _duplicable(node.right)
    return False
