"""Optimizer construction sites: which calls build optimizers, with which groups and decay.

Each candidate call recorded by the facts walk is turned into an ``OptimizerCall``: the
resolved optimizer (or None for an unknown callee), its optimizer-level effective weight
decay, and its param groups, each with the module whose every parameter it holds (if any)
and its own effective weight decay (group key, else keyword, else positional slot, else
the optimizer's default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from optlint.analysis.facts import CallSite
from optlint.analysis.names import dotted_name, source_text
from optlint.analysis.resolve import Resolver, Value, Where, unknown
from optlint.optimizers import TIMM_FACTORIES, OptimizerSpec, lookup


@dataclass(eq=False)
class Group:
    index: int | None  # position in the group list; None when params is not a list of dicts
    node: cst.CSTNode | None  # the dict expression (None for a plain iterable)
    params_of: str | None  # module whose every parameter the group holds, as written
    weight_decay: Value
    keys: list[tuple[str, cst.CSTNode]] = field(default_factory=list)  # literal keys, for OPT006
    params_node: cst.CSTNode | None = None  # the expression giving the group's parameters
    params_where: Where | None = None


@dataclass(eq=False)
class OptimizerCall:
    site: CallSite
    kind: str  # "optimizer", "add_param_group", "factory" or "unknown"
    spec: OptimizerSpec | None
    display: str  # the optimizer as the message names it ("AdamW", "opt.add_param_group")
    weight_decay: Value  # optimizer-level effective value
    groups: list[Group]
    explicit_weight_decay: bool  # a `weight_decay=` keyword is present

    @property
    def node(self) -> cst.Call:
        return self.site.node


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def argument(call: cst.Call, spec: OptimizerSpec, name: str):
    """The expression bound to parameter `name`: keyword, then positional slot.

    Returns (expr, how) with how in {"keyword", "positional", "starred"}, or (None, None).
    """
    arg = _keyword(call, name)
    if arg is not None:
        return arg.value, "keyword"
    position = spec.position_of(name)
    positional = [a for a in call.args if a.keyword is None and a.star != "**"]
    for i, a in enumerate(positional):
        if a.star == "*":
            return None, "starred"  # `*args` could fill this slot
        if i == position:
            return a.value, "positional"
    return None, None


#: Callees that take a weight_decay= keyword but build no optimizer.
_NOT_OPTIMIZERS = frozenset({"dict", "print", "setattr", "partial", "functools.partial"})


class CallAnalyzer:
    def __init__(
        self, resolver: Resolver, extra: dict[str, OptimizerSpec], sites: list[CallSite]
    ) -> None:
        self.resolver = resolver
        self.extra = extra
        self.sites = sites
        self._cache: dict[int, OptimizerCall | None] = {}
        self._sites_by_node = {id(site.node): site for site in sites}

    def analyze_all(self) -> list[OptimizerCall]:
        found = []
        for site in self.sites:
            call = self.analyze(site)
            if call is not None:
                found.append(call)
        return found

    def analyze(self, site: CallSite) -> OptimizerCall | None:
        key = id(site.node)
        if key not in self._cache:
            self._cache[key] = None  # guards against cycles through add_param_group receivers
            self._cache[key] = self._analyze(site)
        return self._cache[key]

    def _analyze(self, site: CallSite) -> OptimizerCall | None:
        node = site.node
        where = Where(site.scope, site.order, site.path)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_param_group":
            return self._add_param_group(site, where)
        qualname = self.resolver.qualname(func, where)
        spec = lookup(qualname, self.extra) if qualname else None
        if spec is None and qualname in TIMM_FACTORIES:
            return self._factory(site, where, TIMM_FACTORIES[qualname])
        explicit = _keyword(node, "weight_decay") is not None
        if spec is None:
            if not explicit or qualname in _NOT_OPTIMIZERS:
                return None
            # An unknown callee counts only with an explicit weight_decay= keyword.
            arg = node.args[0] if node.args and node.args[0].keyword is None else _keyword(node, "params")
            decay = self.resolver.evaluate(_keyword(node, "weight_decay").value, where)
            groups = self._groups(arg.value if arg is not None else None, where, decay, None)
            return OptimizerCall(site, "unknown", None, source_text(func), decay, groups, explicit)
        decay = self._weight_decay(node, spec, where)
        params, _ = argument(node, spec, spec.positional[0])
        groups = self._groups(params, where, decay, spec)
        return OptimizerCall(site, "optimizer", spec, spec.name, decay, groups, explicit)

    def _weight_decay(self, node: cst.Call, spec: OptimizerSpec, where: Where) -> Value:
        """The optimizer-level weight decay: keyword, positional slot, **kwargs, else the default."""
        if not spec.has_weight_decay:
            return Value(True, 0, "0", f"{spec.name}, which has no weight decay")
        expr, how = argument(node, spec, "weight_decay")
        if how == "keyword":
            return self.resolver.evaluate(expr, where)
        if how == "positional":
            value = self.resolver.evaluate(expr, where)
            position = spec.weight_decay_position
            if value.known and not value.source:
                return Value(True, value.value, value.text, f"positional argument {position + 1}")
            return value
        if how == "starred":
            return unknown("*args")
        for arg in node.args:
            if arg.star == "**":
                items = self.resolver.mapping(arg.value, where)
                text = f"**{source_text(arg.value)}"
                if items is None:
                    return unknown(text)
                for key, _, value_node, value_where in items[0]:
                    if key == "weight_decay":
                        value = self.resolver.evaluate(value_node, value_where)
                        return value if value.source else Value(
                            value.known, value.value, value.text, text, value.overridable
                        )
                if not items[1]:
                    return unknown(text)
        default = spec.default_weight_decay
        return Value(True, default, repr(default), f"{spec.name}'s default")

    def _groups(self, params, where: Where, decay: Value, spec: OptimizerSpec | None) -> list[Group]:
        elements = self.resolver.sequence(params, where) if params is not None else None
        if elements and all(
            self.resolver.mapping(e.value, w) is not None
            for e, w in elements
            if not isinstance(e, cst.StarredElement)
        ):
            groups = []
            for index, (element, element_where) in enumerate(elements):
                if isinstance(element, cst.StarredElement):
                    continue
                groups.append(self._group(element.value, element_where, index, decay))
            return groups
        if params is None:
            return []
        return [Group(None, None, self.resolver.all_params(params, where), decay, [], params, where)]

    def _group(self, node, where: Where, index: int | None, decay: Value) -> Group:
        items, _complete = self.resolver.mapping(node, where)
        params_of = None
        group_decay = decay
        keys = []
        params_node = params_where = None
        for key, key_node, value_node, value_where in items:
            keys.append((key, key_node))
            if key == "params":
                params_node, params_where = value_node, value_where
                params_of = self.resolver.all_params(value_node, value_where)
            elif key == "weight_decay":
                group_decay = self.resolver.evaluate(value_node, value_where)
        return Group(index, node, params_of, group_decay, keys, params_node, params_where)

    def _add_param_group(self, site: CallSite, where: Where) -> OptimizerCall | None:
        node = site.node
        if not node.args:
            return None
        receiver = site.node.func.value
        owner = self._owner(receiver, where)
        decay = owner.weight_decay if owner is not None else None
        group_node = node.args[0].value
        if self.resolver.mapping(group_node, where) is None:
            return None
        group = self._group(group_node, where, None, decay if decay is not None else unknown())
        if decay is None and not any(key == "weight_decay" for key, _ in group.keys):
            return None  # unknown optimizer and no explicit decay: nothing to say
        spec = owner.spec if owner is not None else None
        display = f"{source_text(receiver)}.add_param_group"
        return OptimizerCall(site, "add_param_group", spec, display, group.weight_decay, [group], False)

    def _owner(self, receiver, where: Where) -> OptimizerCall | None:
        """The optimizer call a receiver name was bound to (``opt = AdamW(...)``)."""
        if not isinstance(receiver, cst.Name):
            return None
        for binding in self.resolver.reaching(receiver.value, where):
            if binding.kind == "assign" and isinstance(binding.node, cst.Call):
                site = self._sites_by_node.get(id(binding.node))
                if site is not None:
                    return self.analyze(site)
        return None

    def _factory(self, site: CallSite, where: Where, spec: OptimizerSpec) -> OptimizerCall | None:
        """timm's create_optimizer(_v2) given ``X.parameters()``: timm skips its bias/norm split."""
        node = site.node
        params, _ = argument(node, spec, spec.positional[0] if spec.name.endswith("_v2") else "model")
        if params is None:
            return None
        params_of = self.resolver.all_params(params, where)
        if params_of is None:
            return None
        if spec.name.endswith("_v2"):
            decay = self._weight_decay(node, spec, where)
        else:
            args_expr, _ = argument(node, spec, "args")
            decay = unknown("args.weight_decay")
            if args_expr is not None:
                synthetic = cst.Attribute(value=args_expr, attr=cst.Name("weight_decay"))
                decay = self.resolver.evaluate(synthetic, where)
        groups = [Group(None, None, params_of, decay, [], params, where)]
        return OptimizerCall(site, "factory", spec, spec.name, decay, groups, True)
