"""Optimizer constructions: which calls build optimizers, over which groups, with which decay.

Each call the walk recorded becomes zero or more ``OptimizerCall``s, one per optimizer class
it may build: a class reached through any import form, ``functools.partial``, a class
chosen by ``a if c else b`` or a dict lookup (each alternative), ZeroRedundancyOptimizer's
``optimizer_class=``, timm's factories, ``add_param_group``, and optimizers built inside an
in-file helper (read as if inlined at the call site). Each carries its param groups, each
with the modules whose every parameter it holds (if any) and its effective weight decay:
the group's key, else the keyword, else the positional slot, else ``**kwargs``, else the
optimizer's default.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from optlint.optimizers import KNOWN_LAST_NAMES as KNOWN_NAMES
from optlint.optimizers import TIMM_FACTORIES, OptimizerSpec, lookup
from optlint.static.model.params import AllParams, ParamSets, requires_grad_only, target_names
from optlint.static.model.scopes import BindingKind, FileModel, Site, dotted_name
from optlint.static.model.values import Resolver, Value, Where, unknown

ZERO_REDUNDANCY = frozenset({
    "torch.distributed.optim.ZeroRedundancyOptimizer",
    "torch.distributed.optim.zero_redundancy_optimizer.ZeroRedundancyOptimizer",
})
#: Calls that build an optimizer from a config file: what the file decides is the groups.
DEEPSPEED_ENGINES = frozenset({"deepspeed.initialize"})
#: Callees that take a weight_decay= keyword but build no optimizer.
_NOT_OPTIMIZERS = frozenset({"dict", "print", "setattr", "partial", "functools.partial", "update", "add_argument"})
_LIST_METHODS = ("append", "extend", "insert")
#: Words one of which a module must hold to be read for an optimizer it may build.
_BUILD_WORDS = (*sorted(KNOWN_NAMES), "weight_decay", "add_param_group", "ZeroRedundancyOptimizer")


@dataclass
class CallArgs:
    """A call's arguments, each with where it is evaluated (partial() merges two calls)."""

    positional: list[tuple[ast.expr, Where]]
    keywords: list[tuple[str | None, ast.expr, Where]]  # None: **mapping

    @classmethod
    def of(cls, call: ast.Call, where: Where) -> "CallArgs":
        return cls([(a, where) for a in call.args], [(k.arg, k.value, where) for k in call.keywords])

    def keyword(self, name: str):
        for key, value, where in reversed(self.keywords):  # the call site's keywords win
            if key == name:
                return value, where
        return None

    def argument(self, spec: OptimizerSpec, name: str):
        """(expr, where, how) bound to parameter `name`; how in keyword/positional/starred/None."""
        found = self.keyword(name)
        if found is not None:
            return found[0], found[1], "keyword"
        position = spec.position_of(name)
        for i, (value, where) in enumerate(self.positional):
            if isinstance(value, ast.Starred):
                return None, where, "starred"  # `*args` could fill this slot
            if i == position:
                return value, where, "positional"
        return None, None, None


@dataclass(eq=False)
class Group:
    index: int | None  # position in the group list; None when params is not a list of dicts
    node: ast.AST | None  # the dict expression (None for a plain iterable)
    params: AllParams | None  # the modules whose every parameter the group holds
    weight_decay: Value
    keys: list[tuple[str, ast.AST]] = field(default_factory=list)  # literal keys, for OPT006
    params_node: ast.AST | None = None  # the expression giving the group's parameters
    params_where: Where | None = None
    where: Where | None = None  # where the dict is evaluated
    appended: bool = False  # added by `groups.append(...)` rather than written in a literal
    #: A group built once per parameter in a loop (`for n, p in m.named_parameters():
    #: groups.append({"params": [p], ...})`): the loop; `params` then sums the groups.
    per_parameter: ast.For | None = None
    #: the group's own `"weight_decay"` value and where it is evaluated
    decay_source: tuple | None = None

    @property
    def params_of(self) -> str | None:
        return self.params.display if self.params is not None else None


@dataclass(eq=False)
class OptimizerCall:
    site: Site
    kind: str  # "optimizer", "add_param_group", "factory" or "unknown"
    spec: OptimizerSpec | None
    display: str  # the optimizer as the message names it ("AdamW", "opt.add_param_group")
    weight_decay: Value  # optimizer-level effective value
    groups: list[Group]
    explicit_weight_decay: bool  # a `weight_decay=` keyword is present
    args: CallArgs | None = None
    #: How the class was reached when not written at the call: "built by `make()`",
    #: "`opt_cls` may be AdamW", ... (named in messages; such calls get no automatic fix).
    via: str | None = None
    inner: "OptimizerCall | None" = None  # for a call of an in-file helper: the call inside it
    where: Where | None = None
    #: Two groups split by a name test and its negation (for lr, say) that together hold
    #: every parameter of a module: (the modules, the two groups).
    union: "tuple[AllParams, tuple[Group, Group]] | None" = None

    @property
    def node(self) -> ast.Call:
        return self.site.node


class OptimizerCalls:
    def __init__(self, model: FileModel, resolver: Resolver, params: ParamSets, extra: dict[str, OptimizerSpec]) -> None:
        self.model = model
        self.resolver = resolver
        self.params = params
        self.extra = extra
        self._sites = {id(site.node): site for site in model.calls}
        self._cache: dict[int, list[OptimizerCall]] = {}
        self._list_edits: dict | None = None
        self._candidate = None
        self._candidates_in: dict[int, list[Site]] | None = None

    def elsewhere(self, scope) -> "OptimizerCalls | None":
        """The optimizer calls of the other module `scope` belongs to (None: this file)."""
        other = self.resolver.elsewhere(scope)
        return other.context._calls if other is not None else None

    def _may_build(self, text: str) -> bool:
        """Whether another module's text could build an optimizer (before it is parsed)."""
        verdicts = self.__dict__.setdefault("_may_build_verdicts", {})
        verdict = verdicts.get(id(text))
        if verdict is None:
            verdict = verdicts[id(text)] = any(word in text for word in _BUILD_WORDS) or any(
                q.rsplit(".", 1)[-1] in text for q in self.extra)
        return verdict

    def all(self) -> list[OptimizerCall]:
        found = []
        for site in self.model.calls:
            if self.is_candidate(site.node, site):
                found.extend(self.at(site))
        return found

    def is_candidate(self, call: ast.Call, site: Site | None = None) -> bool:
        if self._candidate is None:
            self._candidate = self._candidate_test()
        return self._candidate(call, site)

    def _candidate_sites_in(self, function) -> list[Site]:
        """The candidate calls written directly in `function` (what inlining it must read)."""
        other = self.elsewhere(function)
        if other is not None:
            return other._candidate_sites_in(function)
        if self._candidates_in is None:
            self._candidates_in = {}
            for site in self.model.calls:
                if self.is_candidate(site.node, site):
                    self._candidates_in.setdefault(id(site.scope), []).append(site)
        return self._candidates_in.get(id(function), [])

    def _candidate_test(self):
        """A cheap test of whether a call could build an optimizer: its callee's last name is
        a known optimizer or factory, a function or class of this file, or a name bound to a
        class alias (`opt_cls = AdamW if ... else SGD`); or it passes `weight_decay=`. Most of a
        training script's calls (tensor ops, logging) fail it and are never analyzed."""
        names = set(KNOWN_NAMES) | {q.rsplit(".", 1)[-1] for q in self.extra} | {"add_param_group", "ZeroRedundancyOptimizer"}
        names |= {q.rsplit(".", 1)[-1] for q in DEEPSPEED_ENGINES}
        imports: dict[str, str] = {}  # import-bound names -> their qualname
        for scope in self.model.scopes:
            for name, bindings in scope.bindings.items():
                for binding in bindings:
                    if binding.kind is BindingKind.IMPORT and (binding.qualname or "").rsplit(".", 1)[-1] in KNOWN_NAMES:
                        names.add(name)  # `from torch.optim import AdamW as AW`
                        break
                    if binding.kind is BindingKind.IMPORT and binding.qualname:
                        imports.setdefault(name, binding.qualname)
                    if binding.kind in (BindingKind.DEF, BindingKind.CLASS) or (
                        binding.kind is BindingKind.ASSIGN
                        and isinstance(binding.node, (ast.Name, ast.Attribute, ast.IfExp, ast.Subscript, ast.Call, ast.Lambda))
                    ):
                        names.add(name)
                        break

        context = self.resolver.context
        project = getattr(context, "project", None)
        path = getattr(context, "path", None)
        in_project: dict[str, bool] = {}

        def from_project(name: str) -> bool:
            """A name imported from another module of the project (one lookup per name)."""
            found = in_project.get(name)
            if found is None:
                qualname = imports.get(name)
                if qualname and project is not None and path:
                    project.tweaks_from(path, context.text)
                found = in_project[name] = bool(qualname and project is not None and path
                                                and project.resolve(path, qualname) is not None)
            return found

        def candidate(call: ast.Call, site: Site | None) -> bool:
            func = call.func
            if isinstance(func, ast.Name):
                if func.id in names or func.id in imports and _factory_call(func, site) and from_project(func.id):
                    return True
            elif isinstance(func, ast.Attribute):
                if func.attr in names:
                    return True
                head = func.value
                while isinstance(head, ast.Attribute):
                    head = head.value
                if isinstance(head, ast.Name) and head.id in imports and _factory_call(func, site) and from_project(head.id):
                    return True  # `optim.build_optimizer(...)` after `from utils import optim`
            else:
                return True
            return any(keyword.arg == "weight_decay" for keyword in call.keywords)

        return candidate

    def at(self, site: Site) -> list[OptimizerCall]:
        other = self.elsewhere(site.scope)
        if other is not None:
            return other.at(site)
        key = id(site.node)
        if key not in self._cache:
            self._cache[key] = []  # guards against cycles through add_param_group receivers
            self._cache[key] = self.analyze(site, Where.of_site(site))
        return self._cache[key]

    # -- one call -------------------------------------------------------------------------

    def analyze(self, site: Site, where: Where) -> list[OptimizerCall]:
        other = self.elsewhere(site.scope)
        if other is not None:
            return other.analyze(site, where)
        node = site.node
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_param_group":
            found = self._add_param_group(site, where)
            return [found] if found is not None else []
        args = CallArgs.of(node, where)
        if isinstance(func, (ast.Name, ast.Attribute)) and self.resolver.qualname(func, where) in DEEPSPEED_ENGINES:
            return self._engine(site, where, args)
        calls = []
        for spec, extra, via in self._classes(func, where):
            merged = CallArgs(extra.positional + args.positional, extra.keywords + args.keywords) if extra else args
            calls.extend(self._construct(site, where, spec, merged, via))
        if calls:
            return calls
        function = self.resolver.local_function(func, where, self._may_build)
        if function is not None:
            found = self._inlined(site, where, function)
            if found or function.model is self.model:
                return found
            # a function of another module that builds no optimizer optlint can read: judged
            # as before it was read (an unknown callee given `weight_decay=`)
            return self._unknown(site, where, args)
        made = self._made(site, where, args)
        if made:
            return made
        return self._unknown(site, where, args)

    # -- callables other calls return -----------------------------------------------------

    def _made(self, site: Site, where: Where, args: CallArgs) -> list[OptimizerCall]:
        """Optimizers built by a callable that a factory returns: `make_optimizer(lr)(params)`
        or `opt_fn = make_optimizer(lr)` then `opt_fn(params)`, where the factory (of this
        file or another module) returns a lambda, a nested function or a functools.partial;
        and `OPTIMIZERS.get("adamw")(params)`, a registry's builder registered with that
        literal key (optlint.static.model.registry)."""
        found = []
        # a callable given parameters (`make(lr)(model.parameters())`) may build an optimizer,
        # whatever its factory is called
        given = any("param" in (dotted_name(a.func if isinstance(a, ast.Call) else a) or "")
                    for a in [*site.node.args, *(k.value for k in site.node.keywords)])
        for value, value_where, label in self._returned(site.node.func, where, 1 if given else 0):
            scope = value_where.scope.model.function_scopes.get(id(value)) if value_where.scope.model else None
            if scope is not None:  # a lambda or a nested def: inlined, its free names bound at the factory's call
                for call in self._inlined(site, where, scope, parent=value_where.env):
                    if call.via.startswith("built by `lambda()`"):  # the lambda is the factory's own
                        call.via = label + "".join(f", {rest}" for rest in call.via.split(", ", 1)[1:])
                    else:
                        call.via = f"{label}, {call.via}"
                    found.append(call)
                continue
            owner = self.elsewhere(value_where.scope) or self
            for spec, extra, _ in owner._classes(value, value_where):
                if spec == "zero":
                    continue
                merged = CallArgs(extra.positional + args.positional, extra.keywords + args.keywords) if extra else args
                found.extend(self._construct(site, where, spec, merged, label))
        return found

    def _returned(self, func, where: Where, depth: int = 0):
        """(value, where, label) for what the callee `func` is when another call made it: the
        values its factory returns (read with that call's arguments), or a registry's builder."""
        if depth > 2:
            return []
        if isinstance(func, ast.Name):
            bindings = self.resolver.reaching(func.id, where)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or not isinstance(bindings[0].node, ast.Call):
                return []
            if "opt" not in func.id.lower() and "optim" not in (dotted_name(bindings[0].node.func) or "").lower():
                return []  # `norm = get_norm_layer(...)` then `norm(dim)`: no optimizer factory by name
            return self._returned(bindings[0].node, Where.of_binding(bindings[0], where.env), depth + 1)
        if not isinstance(func, (ast.Call, ast.Subscript)):
            return []
        from optlint.static.model.registry import registered

        builder = registered(self.resolver, func, where)
        if builder is not None:
            return [builder]
        if not isinstance(func, ast.Call) or not depth and "optim" not in (dotted_name(func.func) or "").lower():
            return []  # `make_optimizer(lr)(params)`: a factory that says what it makes
        factory = self.resolver.local_function(func.func, where, self._may_build)
        if factory is None or len(factory.returns) != 1:
            return []
        env = self.resolver.bind_call(factory, func, where)
        if env is None:
            return []
        returned = factory.returns[0]
        value = returned.node
        value_where = Where.of_site(returned, env)
        label = f"built by `{factory.name or 'lambda'}()`"
        if factory.model is not self.model:
            from optlint.static.model.imported import place_of

            label += f" in {place_of(factory.model.context, returned.node.lineno)}"
        if isinstance(value, ast.Name):  # `def make(): def build(params): ...; return build`
            nested = self.resolver.local_function(value, value_where)
            if nested is None or nested.parent is not factory:
                return []
            return [(nested.node, value_where, label)]
        if isinstance(value, ast.Lambda) or isinstance(value, ast.Call) and \
                dotted_name(value.func) in ("partial", "functools.partial"):
            return [(value, value_where, label)]
        return []

    def _classes(self, func, where: Where, depth: int = 0):
        """(spec, partial's arguments or None, via) for each optimizer class `func` may be."""
        if depth > 4:
            return []
        if isinstance(func, (ast.Name, ast.Attribute)):
            qualname = self.resolver.qualname(func, where)
            if qualname:
                spec = lookup(qualname, self.extra) or TIMM_FACTORIES.get(qualname)
                if spec is not None:
                    return [(spec, None, None)]
                if qualname in ZERO_REDUNDANCY:
                    return [("zero", None, None)]
                if qualname.startswith("<local>."):
                    return []
            if isinstance(func, ast.Name):
                return self._classes_of_name(func, where, depth)
            return []
        if isinstance(func, ast.IfExp):
            found = []
            for arm in (func.body, func.orelse):
                found.extend(self._classes(arm, where, depth + 1))
            return [(spec, extra, via or f"`{self.resolver.segment(func)}` chooses it") for spec, extra, via in found]
        if isinstance(func, ast.Subscript):
            return self._classes_in_mapping(func, where, depth)
        if isinstance(func, ast.Call) and dotted_name(func.func) not in ("getattr", "partial", "functools.partial") \
                and func.args and self.resolver.local_function(func.func, where) is None:
            # `maybe_add_gradient_clipping(cfg, torch.optim.SGD)(params, ...)`: a wrapper that
            # returns (a subclass of) the optimizer class it is given.
            for arg in func.args:
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    found = [c for c in self._classes(arg, where, depth + 1) if c[0] != "zero"]
                    if found:
                        return [(spec, extra, f"wrapped by `{self.resolver.segment(func.func)}`") for spec, extra, _ in found]
        if isinstance(func, ast.Call) and dotted_name(func.func) == "getattr" and len(func.args) == 2:
            module = self.resolver.qualname(func.args[0], where)
            attribute = self.resolver.evaluate(func.args[1], where)
            if module and attribute.known and isinstance(attribute.value, str):
                spec = lookup(f"{module}.{attribute.value}", self.extra)
                if spec is not None:
                    return [(spec, None, None)]
            return []
        if isinstance(func, ast.Call) and dotted_name(func.func) in ("partial", "functools.partial") and func.args:
            inner = self._classes(func.args[0], where, depth + 1)
            extra = CallArgs.of(func, where)
            extra.positional = extra.positional[1:]
            return [(spec, extra, via) for spec, _, via in inner]
        return []

    def _classes_of_name(self, func: ast.Name, where: Where, depth: int):
        found = []
        for binding in self.resolver.reaching(func.id, where):
            value = binding.node
            value_where = Where.of_binding(binding, where.env)
            if binding.kind is BindingKind.PARAM:
                argument = self.resolver.argument_of(func.id, binding, where)
                if argument is not None:
                    found.extend(self._classes(argument[0], argument[1], depth + 1))
                continue
            if binding.kind is not BindingKind.ASSIGN or value is None:
                continue
            if isinstance(value, ast.Call) and self.resolver.qualname(value.func, value_where) in ("functools.partial", "partial"):
                if value.args:
                    extra = CallArgs.of(value, value_where)
                    extra.positional = extra.positional[1:]
                    for spec, _, _ in self._classes(value.args[0], value_where, depth + 1):
                        found.append((spec, extra, f"through `{func.id}`, a functools.partial"))
            elif isinstance(value, (ast.IfExp, ast.Subscript)):
                for spec, extra, _ in self._classes(value, value_where, depth + 1):
                    found.append((spec, extra, f"`{func.id}` may be {spec.name if spec != 'zero' else 'it'}"))
            elif isinstance(value, (ast.Name, ast.Attribute)):
                found.extend(self._classes(value, value_where, depth + 1))
        return found

    def _classes_in_mapping(self, func: ast.Subscript, where: Where, depth: int):
        items = self.resolver.mapping(func.value, where)
        if items is None:
            return []
        key = self.resolver.evaluate(func.slice, where)
        found = []
        for item_key, _, value_node, value_where in items[0]:
            if key.known and item_key != key.value:
                continue
            for spec, extra, _ in self._classes(value_node, value_where, depth + 1):
                label = f"`{self.resolver.segment(func)}` may be {spec.name}" if not key.known else None
                found.append((spec, extra, label))
        return found

    def _construct(self, site: Site, where: Where, spec, args: CallArgs, via: str | None) -> list[OptimizerCall]:
        if spec == "zero":
            return self._zero_redundancy(site, where, args)
        if spec.qualname in TIMM_FACTORIES or spec.qualname.replace(".optim_factory", "") in TIMM_FACTORIES:
            found = self._factory(site, where, spec, args)
            return [found] if found is not None else []
        decay = self._weight_decay(spec, args)
        params, params_where, _ = args.argument(spec, spec.positional[0])
        groups = self._groups(params, params_where or where, decay)
        explicit = args.keyword("weight_decay") is not None
        return [OptimizerCall(site, "optimizer", spec, spec.name, decay, groups, explicit, args, via, where=where,
                              union=self._union(groups))]

    def _union(self, groups: list[Group]):
        """Two groups whose comprehensions over the same parameters are split by one name
        test and its negation: together they hold every parameter."""
        shapes = []
        for group in groups:
            if group.params is not None or group.params_node is None:
                continue
            found = self._comprehension_of(group.params_node, group.params_where)
            if found is None:
                continue
            comprehension, comprehension_where = found
            generator = comprehension.generators[0]
            names = target_names(generator.target)
            if len(comprehension.generators) != 1 or not names or dotted_name(comprehension.elt) != names[-1]:
                continue
            conjuncts = []
            for condition in generator.ifs:
                values = condition.values if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And) else [condition]
                conjuncts += [v for v in values if not requires_grad_only(v, names[-1])]
            if len(conjuncts) != 1:
                continue
            shapes.append((group, ast.dump(generator.iter), conjuncts[0], generator.iter, comprehension_where))
        for i, (a, iterable_a, test_a, node, node_where) in enumerate(shapes):
            for b, iterable_b, test_b, _, _ in shapes[i + 1:]:
                if iterable_a == iterable_b and _negations(test_a, test_b):
                    found = self.params.all_params(node, node_where)
                    if found is not None:
                        return found, (a, b)
        return None

    def _comprehension_of(self, node, where: Where, depth: int = 0):
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return node, where
        if isinstance(node, ast.Name) and depth < 4:
            bindings = self.resolver.reaching(node.id, where)
            if len(bindings) == 1 and bindings[0].kind is BindingKind.ASSIGN:
                return self._comprehension_of(bindings[0].node, Where.of_binding(bindings[0], where.env), depth + 1)
        return None

    def _engine(self, site: Site, where: Where, args: CallArgs) -> list[OptimizerCall]:
        """``deepspeed.initialize(model=..., model_parameters=groups)``: DeepSpeed builds the
        optimizer from its JSON config, so the decay is not known in the file; the groups it
        is handed (a name split, say) are. An optimizer passed in is read where it is built."""
        if args.keyword("optimizer") is not None or len(args.positional) > 2:
            return []
        params = args.keyword("model_parameters") or (args.positional[3] if len(args.positional) > 3 else None)
        if params is None:
            return []
        decay = unknown("weight_decay", "the DeepSpeed config")
        groups = self._groups(params[0], params[1], decay)
        return [OptimizerCall(site, "engine", None, "deepspeed.initialize", decay, groups, False, args, where=where)]

    def _zero_redundancy(self, site: Site, where: Where, args: CallArgs) -> list[OptimizerCall]:
        """ZeroRedundancyOptimizer(params, optimizer_class=AdamW, **defaults)."""
        cls = args.keyword("optimizer_class")
        if cls is None and len(args.positional) > 1:
            cls = args.positional[1]
        if cls is None:
            return []
        found = []
        for spec, _, _ in self._classes(cls[0], cls[1]):
            if spec == "zero" or spec.qualname in TIMM_FACTORIES:
                continue
            keywords = [k for k in args.keywords if k[0] not in ("params", "optimizer_class")]
            params = args.keyword("params") or (args.positional[0] if args.positional else None)
            inner = CallArgs([params] if params else [], keywords)
            decay = self._weight_decay(spec, inner)
            groups = self._groups(params[0], params[1], decay) if params else []
            display = f"ZeroRedundancyOptimizer({spec.name})"
            found.append(OptimizerCall(site, "optimizer", spec, display, decay, groups,
                                       inner.keyword("weight_decay") is not None, inner, where=where))
        return found

    def _weight_decay(self, spec: OptimizerSpec, args: CallArgs) -> Value:
        """The optimizer-level weight decay: keyword, positional slot, **kwargs, else the default."""
        if not spec.has_weight_decay:
            return Value(True, 0, "0", f"{spec.name}, which has no weight decay")
        expr, where, how = args.argument(spec, "weight_decay")
        if how == "keyword":
            return self.resolver.evaluate(expr, where)
        if how == "positional":
            value = self.resolver.evaluate(expr, where)
            if value.known and not value.source:
                return Value(True, value.value, value.text, f"positional argument {spec.weight_decay_position + 1}")
            return value
        if how == "starred":
            return unknown("*args")
        for key, value_node, value_where in args.keywords:
            if key is None:
                items = self.resolver.mapping(value_node, value_where)
                text = f"**{self.resolver.segment(value_node)}"
                if items is None:
                    return unknown(text)
                for item_key, _, item_value, item_where in items[0]:
                    if item_key == "weight_decay":
                        value = self.resolver.evaluate(item_value, item_where)
                        return value if value.source else Value(value.known, value.value, value.text, text, value.overridable)
                if not items[1]:
                    return unknown(text)
        default = spec.default_weight_decay
        return Value(True, default, repr(default), f"{spec.name}'s default")

    # -- groups -----------------------------------------------------------------------------

    def _groups(self, params, where: Where, decay: Value) -> list[Group]:
        if params is None:
            return []
        elements = self.sequence_with_appends(params, where)
        if elements and all(
            self.resolver.mapping(e, w) is not None for e, w, _ in elements if not isinstance(e, ast.Starred)
        ):
            groups = []
            for index, (element, element_where, appended) in enumerate(elements):
                if isinstance(element, ast.Starred):
                    continue
                group = self._group(element, element_where, index, decay)
                group.appended = appended
                groups.append(group)
            return groups
        if elements is not None and any(self.resolver.mapping(e, w) is not None for e, w, _ in elements):
            return []  # a mix of groups and something else: cannot tell which parameters
        return [Group(None, None, self.params.all_params(params, where), decay, [], params, where, where)]

    def _group(self, node, where: Where, index: int | None, decay: Value) -> Group:
        items, _complete = self.resolver.mapping(node, where)
        params = None
        group_decay = decay
        keys = []
        params_node = params_where = decay_source = None
        for key, key_node, value_node, value_where in items:
            keys.append((key, key_node))
            if key == "params":
                params_node, params_where = value_node, value_where
                params = self.params.all_params(value_node, value_where)
            elif key == "weight_decay":
                group_decay = self.resolver.evaluate(value_node, value_where)
                decay_source = (value_node, value_where)
        group = Group(index, node, params, group_decay, keys, params_node, params_where, where, decay_source=decay_source)
        if params is None and params_node is not None and node is not None:
            loop = self.per_parameter_loop(node, params_node, where)
            if loop is not None:
                group.per_parameter = loop
                group.params = self._every_parameter(loop, node, where, keys, items)
        return group

    def per_parameter_loop(self, node, params_node, where: Where) -> ast.For | None:
        """The loop over `X.parameters()` / `X.named_parameters()` whose parameter the group
        `node` holds alone (`"params": [p]` or `"params": p`), or None."""
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.per_parameter_loop(node, params_node, where)
        element = params_node.elts[0] if isinstance(params_node, (ast.List, ast.Tuple)) and len(params_node.elts) == 1 else params_node
        if not isinstance(element, ast.Name):
            return None
        for site in self.model.loops:
            loop = site.node
            if not isinstance(loop, ast.For) or site.scope is not where.scope:
                continue
            if not (loop.lineno <= node.lineno and node.end_lineno <= loop.end_lineno):
                continue
            names = target_names(loop.target)
            iterable = loop.iter
            if names and names[-1] == element.id and isinstance(iterable, ast.Call) \
                    and isinstance(iterable.func, ast.Attribute) and iterable.func.attr in ("parameters", "named_parameters"):
                return loop
        return None

    def _every_parameter(self, loop: ast.For, node, where: Where, keys, items) -> AllParams | None:
        """The groups the loop appends sum to every parameter of the module with one decay:
        the append is a statement of the loop's own body (no `if` around it; only
        `if not p.requires_grad: continue` before it), and the decay is not computed in the
        loop (a per-name decay is a name split, OPT002's matter)."""
        var = target_names(loop.target)[-1]
        statement = next((s for s in loop.body if s.lineno <= node.lineno and node.end_lineno <= s.end_lineno), None)
        if statement is None or not isinstance(statement, (ast.Expr, ast.AugAssign)):
            return None
        for earlier in loop.body[: loop.body.index(statement)]:
            for child in ast.walk(earlier):
                if isinstance(child, (ast.Continue, ast.Break, ast.Return)):
                    guard = earlier.test if isinstance(earlier, ast.If) else None
                    negated = isinstance(guard, ast.UnaryOp) and isinstance(guard.op, ast.Not)
                    if not (negated and requires_grad_only(guard.operand, var) and earlier.body == [child] and not earlier.orelse):
                        return None
        local = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        for key, _, value_node, _ in items:
            if key == "weight_decay" and any(isinstance(n, ast.Name) and n.id in local for n in ast.walk(value_node)):
                return None
        return self.params.all_params(loop.iter, Where(where.scope, where.order, where.path, where.env))

    def sequence_with_appends(self, node, where: Where):
        """``[(element, where, appended)]`` of a group list: a literal, what in-file helpers
        return, and what ``.append`` / ``.extend`` / ``+=`` add to a list bound to a name
        before the use. None when the list cannot be read."""
        other = self.elsewhere(where.scope)
        if other is not None:
            return other.sequence_with_appends(node, where)
        if isinstance(node, ast.Call):
            function = self.resolver.local_function(node.func, where, _returns_groups)
            if function is not None:
                env = self.resolver.bind_call(function, node, where)
                if env is None or len(function.returns) != 1:
                    return None
                returned = function.returns[0]
                return self.sequence_with_appends(returned.node, Where.of_site(returned, env))
        if not isinstance(node, ast.Name):
            found = self.resolver.sequence(node, where)
            return None if found is None else [(e, w, False) for e, w in found]
        bindings = self.resolver.reaching(node.id, where)
        base = next((b for b in bindings if b.kind is BindingKind.ASSIGN), None)
        if base is None:
            if bindings and bindings[0].kind is BindingKind.PARAM:
                argument = self.resolver.argument_of(node.id, bindings[0], where)
                if argument is not None:
                    return self.sequence_with_appends(argument[0], argument[1])
            return None
        base_where = Where.of_binding(base, where.env)
        if isinstance(base.node, ast.Call):
            from_helper = self.sequence_with_appends(base.node, base_where)
            found = None if from_helper is None else [(e, w) for e, w, _ in from_helper]
        else:
            found = self.resolver.sequence(base.node, base_where)
        if found is None:
            return None
        elements = [(e, w, False) for e, w in found]
        for binding in reversed(bindings):
            if binding.kind is BindingKind.AUGASSIGN and binding.order > base.order:
                added = self.resolver.sequence(binding.node, Where.of_binding(binding, where.env))
                if added is None:
                    return None
                elements.extend((e, w, True) for e, w in added)
        for site in self._list_edits_of(node.id, where.scope):
            if not base.order < site.order < where.order:
                continue
            call = site.node
            if not call.args:
                continue
            value = call.args[-1]
            site_where = Where.of_site(site, where.env)
            if call.func.attr == "extend":
                added = self.resolver.sequence(value, site_where)
                if added is None:
                    return None
                elements.extend((e, w, True) for e, w in added)
            else:
                elements.append((value, site_where, True))
        return elements

    def alternative_groups(self, call: OptimizerCall) -> list[list[Group]]:
        """The group lists of the other branches (`if train_highway: groups = [...] else:
        groups = [...]`): each is a path the optimizer can be built on."""
        if call.kind != "optimizer" or call.args is None:
            return []
        params, where, _ = call.args.argument(call.spec, call.spec.positional[0])
        if not isinstance(params, ast.Name) or where is None:
            return []
        bindings = [b for b in self.resolver.reaching(params.id, where) if b.kind is BindingKind.ASSIGN]
        found = []
        for binding in bindings[1:]:
            groups = self._groups(binding.node, Where.of_binding(binding, where.env), call.weight_decay)
            if groups and groups[0].index is not None:
                found.append(groups)
        return found

    def _list_edits_of(self, name: str, scope) -> list[Site]:
        if self._list_edits is None:
            self._list_edits = {}
            for site in self.model.calls:
                func = site.node.func
                if isinstance(func, ast.Attribute) and func.attr in _LIST_METHODS and isinstance(func.value, ast.Name):
                    self._list_edits.setdefault((func.value.id, id(site.scope)), []).append(site)
        return self._list_edits.get((name, id(scope)), [])

    # -- other construction forms ------------------------------------------------------------

    def _add_param_group(self, site: Site, where: Where) -> OptimizerCall | None:
        node = site.node
        if not node.args:
            return None
        receiver = node.func.value
        owner = self._owner(receiver, where)
        decay = owner.weight_decay if owner is not None else None
        group_node = node.args[0]
        if self.resolver.mapping(group_node, where) is None:
            return None
        group = self._group(group_node, where, None, decay if decay is not None else unknown())
        if decay is None and not any(key == "weight_decay" for key, _ in group.keys):
            return None  # unknown optimizer and no explicit decay: nothing to say
        spec = owner.spec if owner is not None else None
        display = f"{self.resolver.segment(receiver)}.add_param_group"
        return OptimizerCall(site, "add_param_group", spec, display, group.weight_decay, [group], False,
                             CallArgs.of(node, where), where=where)

    def _owner(self, receiver, where: Where) -> OptimizerCall | None:
        """The optimizer call a receiver name was bound to (``opt = AdamW(...)``)."""
        if not isinstance(receiver, ast.Name):
            return None
        for binding in self.resolver.reaching(receiver.id, where):
            if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Call):
                site = self._sites.get(id(binding.node))
                if site is not None:
                    found = self.at(site)
                    return found[0] if found else None
        return None

    def _factory(self, site: Site, where: Where, spec: OptimizerSpec, args: CallArgs) -> OptimizerCall | None:
        """timm's create_optimizer(_v2) given ``X.parameters()``: timm skips its bias/norm split."""
        v2 = spec.name.endswith("_v2")
        params, params_where, _ = args.argument(spec, spec.positional[0] if v2 else "model")
        if params is None:
            return None
        found = self.params.all_params(params, params_where)
        if found is None and self._no_split(spec, args):
            # filter_bias_and_bn=False: timm decays every parameter of the module it is given.
            found = AllParams((self.resolver.segment(params),), ((params, params_where),))
        if found is None:
            return None
        if v2:
            decay = self._weight_decay(spec, args)
        else:
            args_expr, args_where, _ = args.argument(spec, "args")
            decay = unknown("args.weight_decay")
            if args_expr is not None:
                synthetic = ast.Attribute(value=args_expr, attr="weight_decay", ctx=ast.Load())
                ast.copy_location(synthetic, args_expr)
                synthetic.end_lineno, synthetic.end_col_offset = args_expr.end_lineno, args_expr.end_col_offset
                decay = self.resolver.evaluate(synthetic, args_where)
                if not decay.known and not decay.source:
                    decay = unknown(f"{self.resolver.segment(args_expr)}.weight_decay")
        groups = [Group(None, None, found, decay, [], params, params_where, params_where)]
        return OptimizerCall(site, "factory", spec, spec.name, decay, groups, True, args, where=where)

    def _no_split(self, spec: OptimizerSpec, args: CallArgs) -> bool:
        expr, where, how = args.argument(spec, "filter_bias_and_bn")
        return how in ("keyword", "positional") and self.resolver.evaluate(expr, where).known and \
            self.resolver.evaluate(expr, where).value is False

    def _inlined(self, site: Site, where: Where, function, parent=None) -> list[OptimizerCall]:
        """Optimizers built inside an in-file helper, read with the call site's arguments."""
        if not self._candidate_sites_in(function):
            return []  # nothing in it could build an optimizer: not worth binding the call
        env = self.resolver.bind_call(function, site.node, where)
        if env is None:
            return []
        if parent is not None:
            env = replace(env, parent=parent)
        found = []
        name = function.name or "lambda"
        for inner_site in self._candidate_sites_in(function):
            for inner in self.analyze(inner_site, Where.of_site(inner_site, env)):
                if inner.kind == "unknown":
                    continue
                via = f"built by `{name}()`"
                if function.model is not self.model:  # a factory of another module: name its file and line
                    from optlint.static.model.imported import place_of

                    via += f" in {place_of(function.model.context, inner_site.node.lineno)}"
                via += f", {inner.via}" if inner.via else ""
                found.append(OptimizerCall(site, inner.kind, inner.spec, inner.display, inner.weight_decay,
                                           inner.groups, inner.explicit_weight_decay, inner.args, via,
                                           inner=OptimizerCall(inner_site, inner.kind, inner.spec, inner.display,
                                                               inner.weight_decay, inner.groups,
                                                               inner.explicit_weight_decay, inner.args, inner.via),
                                           where=where))
        return found

    def _unknown(self, site: Site, where: Where, args: CallArgs) -> list[OptimizerCall]:
        """A callee optlint cannot resolve (`getattr(torch.optim, name)(...)`, a factory from
        another module) counts only when it passes ``weight_decay=`` explicitly and is given
        bare parameters: given ``named_parameters()`` it can split by name, and an in-file
        helper is read through its body instead (never reported as an optimizer)."""
        node = site.node
        found = args.keyword("weight_decay")
        if found is None:
            return []
        name = dotted_name(node.func)
        qualname = self.resolver.qualname(node.func, where) if name else None
        if qualname in _NOT_OPTIMIZERS or (qualname or "").startswith("<local>.") and \
                self.resolver.local_function(node.func, where) is not None:
            return []
        if name is None:
            name = self._getattr_name(node.func, where)
            if name is None:
                return []
        params = args.keyword("params") or (args.positional[0] if args.positional else None)
        if params is not None and _yields_names(params[0]):
            return []
        if self._splits_in_step(node.func, where, name):
            return []
        decay = self.resolver.evaluate(found[0], found[1])
        groups = self._groups(params[0], params[1], decay) if params is not None else []
        return [OptimizerCall(site, "unknown", None, name, decay, groups, True, args, where=where)]

    def _splits_in_step(self, func, where: Where, name: str) -> bool:
        """An optimizer class that skips 1-D parameters itself: a class of this file whose
        `step()` tests the parameter's ndim, or a LARS (its recipes, from the paper to MoCo v3
        and MAE, exclude biases and norms from decay and adaptation inside `step()`)."""
        if name.rsplit(".", 1)[-1].upper() in ("LARS", "LARSSGD", "LARC"):
            return True
        qualname = self.resolver.qualname(func, where) or ""
        cls = self.model.class_scopes.get(qualname.rsplit(".", 1)[-1]) if qualname.startswith("<local>.") else None
        if cls is None:
            return False
        for binding in cls.bindings.get("step", ()):
            if binding.kind is BindingKind.DEF and any(
                isinstance(n, ast.Attribute) and n.attr in ("ndim", "dim") for n in ast.walk(binding.node)
            ):
                return True
        return False

    def _getattr_name(self, func, where: Where) -> str | None:
        """``getattr(torch.optim, name)``: how the message names the class."""
        if isinstance(func, ast.Call) and dotted_name(func.func) == "getattr" and len(func.args) >= 2:
            module = self.resolver.qualname(func.args[0], where) or self.resolver.segment(func.args[0])
            attribute = self.resolver.evaluate(func.args[1], where)
            return f"{module}.{attribute.value}" if attribute.known else f"an optimizer of {module}"
        return None


def _returns_groups(text: str) -> bool:
    """Whether another module may return param groups (read before it is parsed)."""
    return "params" in text


def _factory_call(func, site: Site | None) -> bool:
    """Whether a call of a function imported from the project may be an optimizer factory
    worth reading that module for: its name says so (`build_optimizer`, `optim.create`), or
    what it is bound to or returned from does (`optimizer = create(...)`, `self.opt = ...`,
    `return make(...)` in `configure_optimizers`). Model code calls imported helpers
    thousands of times (`Mlp(...)`, `trunc_normal_(...)`): none of them costs a module read."""
    if "optim" in (dotted_name(func) or "").lower():
        return True
    statement = site.statement if site is not None else None
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return any("opt" in (dotted_name(t) or "").lower() for t in targets)
    if isinstance(statement, ast.Return) and site is not None:
        return "optim" in (site.scope.name or "").lower()
    return False


def _yields_names(node) -> bool:
    """``X.named_parameters()`` (or a list of it): a callee given names can split by them."""
    while isinstance(node, ast.Call) and dotted_name(node.func) in ("list", "tuple") and node.args:
        node = node.args[0]
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "named_parameters"


def _negations(a, b) -> bool:
    """`t` and `not t`: `x in n` and `x not in n`, or (De Morgan) `"a" in n or "b" in n`
    and `"a" not in n and "b" not in n`."""
    return _canonical(a, negate=True) == _canonical(b)


_FLIPPED = {ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


def _canonical(node, negate: bool = False):
    """A hashable form of a condition with `not` pushed inward, for comparing tests."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _canonical(node.operand, not negate)
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And) != negate
        return ("and" if is_and else "or", frozenset(_canonical(v, negate) for v in node.values))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIPPED:
        op = _FLIPPED[type(node.ops[0])] if negate else type(node.ops[0])
        return ("compare", ast.dump(node.left), op.__name__, ast.dump(node.comparators[0]))
    return ("not" if negate else "is", ast.dump(node))
