"""Parameter sets as values: which module's parameters an expression yields, and how filtered.

OPT001 asks one question of a param group: does it hold *every* (trainable) parameter of
a module? ``all_params`` answers it through ``X.parameters()``, ``named_parameters()``,
``list``/``tuple``/``filter``/``sorted`` on ``requires_grad`` only, comprehensions filtered
only on ``requires_grad``, ``itertools.chain`` and ``+``, ``a if c else b`` (either arm),
local names, ``self.x`` attributes set in the same class, and parameters of inlined
in-file helpers. Any other predicate (``p.ndim``, a name test, a type test) makes the set
partial, and partial sets are never reported.

``adapters_only`` answers the second question: is the module frozen before the optimizer
is built and given adapters (PEFT, LoRA), so that only 2-D adapter matrices train?
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from optlint.static.model.scopes import BindingKind, FileModel, dotted_name
from optlint.static.model.values import MAX_DEPTH, Resolver, Where, class_of

PARAMETER_METHODS = ("parameters", "named_parameters")
_PASS_THROUGH = ("list", "tuple", "iter", "sorted")


@dataclass(frozen=True)
class AllParams:
    """Every parameter of the modules, as written (``("unet", "text_encoder")`` for a chain)."""

    modules: tuple[str, ...]
    #: the `X` expressions (with where they are evaluated), for the frozen-base question
    roots: tuple[tuple[ast.expr, Where], ...]
    chosen: bool = False  # one arm of `a if c else b`: it holds on some path only

    def __add__(self, other: "AllParams") -> "AllParams":
        modules = self.modules + tuple(m for m in other.modules if m not in self.modules)
        return AllParams(modules, self.roots + other.roots, self.chosen or other.chosen)

    @property
    def display(self) -> str:
        return "`, `".join(self.modules)


class ParamSets:
    def __init__(self, model: FileModel, resolver: Resolver) -> None:
        self.model = model
        self.resolver = resolver
        self.segment = resolver.segment

    def all_params(self, node, where: Where, depth: int = 0) -> AllParams | None:
        """The modules whose every parameter `node` yields, or None."""
        if depth > MAX_DEPTH or node is None:
            return None
        if isinstance(node, ast.Call):
            return self._call(node, where, depth)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._comprehension(node, where, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._union(
                self.all_params(node.left, where, depth + 1), self.all_params(node.right, where, depth + 1)
            )
        if isinstance(node, ast.IfExp):
            for arm in (node.body, node.orelse):
                found = self.all_params(arm, where, depth + 1)
                if found is not None:
                    return AllParams(found.modules, found.roots, True)
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            found = None
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    found = self._union(found, self.all_params(element.value, where, depth + 1))
            return found
        if isinstance(node, ast.Name):
            return self._name(node, where, depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            cls = class_of(where.scope)
            for binding in (cls.self_attributes.get(node.attr, ()) if cls else ()):
                found = self.all_params(binding.node, Where.of_binding(binding), depth + 1)
                if found is not None:
                    return found
        return None

    @staticmethod
    def _union(a: AllParams | None, b: AllParams | None) -> AllParams | None:
        if a is None:
            return b
        if b is None:
            return a
        return a + b

    def _name(self, node: ast.Name, where: Where, depth: int) -> AllParams | None:
        found = None
        for binding in self.resolver.reaching(node.id, where):
            if binding.kind in (BindingKind.ASSIGN, BindingKind.AUGASSIGN):
                value = self.all_params(binding.node, Where.of_binding(binding, where.env), depth + 1)
                found = self._union(found, value) if binding.kind is BindingKind.AUGASSIGN else (found or value)
                if binding.kind is BindingKind.ASSIGN and found is not None:
                    return found
            elif binding.kind is BindingKind.PARAM:
                argument = self.resolver.argument_of(node.id, binding, where)
                if argument is not None:
                    return self.all_params(argument[0], argument[1], depth + 1)
        return found

    def _call(self, node: ast.Call, where: Where, depth: int) -> AllParams | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            # parameters(recurse=True) / named_parameters(prefix="", recurse=True)
            recurse_position = 1 if func.attr == "named_parameters" else 0
            for i, arg in enumerate(node.args):
                if i == recurse_position and not self.resolver.evaluate(arg, where, depth + 1).provably_true:
                    return None
            for keyword in node.keywords:
                if keyword.arg == "recurse" and not self.resolver.evaluate(keyword.value, where, depth + 1).provably_true:
                    return None
            return AllParams((self.segment(func.value),), ((func.value, where),))
        name = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if name in _PASS_THROUGH and node.args:
            return self.all_params(node.args[0], where, depth + 1)
        if name == "filter" and len(node.args) == 2:
            predicate = node.args[0]
            if isinstance(predicate, ast.Lambda) and len(predicate.args.args) == 1:
                if requires_grad_only(predicate.body, predicate.args.args[0].arg):
                    return self.all_params(node.args[1], where, depth + 1)
            return None
        if name in ("itertools.chain", "chain"):
            found = None
            for arg in node.args:
                found = self._union(found, self.all_params(arg, where, depth + 1))
            return found
        if name in ("itertools.chain.from_iterable", "chain.from_iterable") and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, (ast.List, ast.Tuple)):
                found = None
                for element in inner.elts:
                    found = self._union(found, self.all_params(element, where, depth + 1))
                return found
        return None

    def _comprehension(self, node, where: Where, depth: int) -> AllParams | None:
        if len(node.generators) != 1:
            return None
        comp = node.generators[0]
        source = self.all_params(comp.iter, where, depth + 1)
        if source is None:
            return None
        # The element must be the parameter itself (p, or (n, p) over named_parameters()).
        names = target_names(comp.target)
        if not names:
            return None
        param_var = names[-1]
        element = node.elt
        if isinstance(element, ast.Name):
            if element.id != param_var:
                return None
        elif isinstance(element, ast.Tuple):
            if [dotted_name(e) for e in element.elts] != names:
                return None
        else:
            return None
        for condition in comp.ifs:
            if not requires_grad_only(condition, param_var):
                return None
        return source

    # -- frozen bases with adapters -------------------------------------------------------

    def adapters_only(self, root: ast.expr, where: Where, call_order: int) -> bool:
        """Whether only adapters of `root` train: the module (or one that holds it) is frozen
        in this file before the optimizer, or wrapped by PEFT, and nothing re-enables its
        biases or norms (PEFT ``bias="all"`` / ``"lora_only"``, ``modules_to_save``)."""
        name = dotted_name(root)
        if name is None:
            return False
        if _peft_trains_more(self.model):
            return False
        head, _, rest = name.partition(".")
        bindings = self.resolver.reaching(head, where)[:1]
        if head == "self" and rest:
            cls = class_of(where.scope)
            bindings = cls.self_attributes.get(rest.split(".", 1)[0], []) if cls else []
        for binding in bindings:
            if isinstance(binding.node, ast.Call) and _is_peft_wrapper(binding.node):
                return True
        for site in self.model.calls:
            call = site.node
            func = call.func
            if not _same_context(site, where, call_order):
                continue
            target = None
            if isinstance(func, ast.Attribute) and func.attr == "requires_grad_":
                flag = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
                if isinstance(flag, ast.Constant) and flag.value is False:
                    target = dotted_name(func.value)
            elif isinstance(func, ast.Attribute) and func.attr in ("add_adapter", "add_lora", "load_adapter"):
                target = dotted_name(func.value)
            elif _last(func) in _ADAPTER_FUNCTIONS and call.args:
                index = 1 if _last(func) == "inject_adapter_in_model" else 0
                target = dotted_name(call.args[index]) if len(call.args) > index else None
            if target is not None and _covers(target, name):
                return True
        for site in self.model.loops:
            if isinstance(site.node, ast.For) and _same_context(site, where, call_order):
                target = _frozen_by_loop(site.node)
                if target is not None and _covers(target, name):
                    return True
        return False


def _last(func) -> str:
    name = dotted_name(func) or ""
    return name.rsplit(".", 1)[-1]


#: Calls that wrap a model in adapters and freeze its base (PEFT, loralib).
_PEFT_WRAPPERS = frozenset({"get_peft_model", "PeftModel", "LoraModel", "from_pretrained_peft"})
_ADAPTER_FUNCTIONS = frozenset({"inject_adapter_in_model", "mark_only_lora_as_trainable", "get_peft_model"})


def _is_peft_wrapper(call: ast.Call) -> bool:
    name = dotted_name(call.func) or ""
    last = name.rsplit(".", 1)[-1]
    if last in _PEFT_WRAPPERS:
        return True
    return last == "from_pretrained" and "Peft" in name


def _peft_trains_more(model: FileModel) -> bool:
    """An adapter config in the file that trains biases or whole modules too."""
    for site in model.calls:
        call = site.node
        if not _last(call.func).endswith("Config"):
            continue
        for keyword in call.keywords:
            if keyword.arg == "bias" and isinstance(keyword.value, ast.Constant) and keyword.value.value in ("all", "lora_only"):
                return True
            if keyword.arg == "modules_to_save" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                return True
    return False


def _same_context(site, where: Where, call_order: int) -> bool:
    """A freeze counts when it runs before the optimizer in the same function (or at module
    level before a module-level optimizer), or anywhere in another method of the same class
    (``__init__`` freezes, ``configure_optimizers`` builds)."""
    if site.scope is where.scope:
        return site.order < call_order
    cls = class_of(where.scope)
    if cls is not None and class_of(site.scope) is cls:
        return True
    return site.scope.kind.value == "module" and where.scope.kind.value != "module"


def _covers(frozen: str, module: str) -> bool:
    """Freezing `frozen` freezes `module` (the same module, or one that holds it)."""
    return module == frozen or module.startswith(frozen + ".")


def _frozen_by_loop(loop: ast.For) -> str | None:
    """``for p in X.parameters(): p.requires_grad = False`` (unconditional): X."""
    iterable = loop.iter
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr in PARAMETER_METHODS):
        return None
    names = target_names(loop.target)
    if not names:
        return None
    var = names[-1]
    for statement in loop.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant) and statement.value.value is False:
            if any(dotted_name(t) == f"{var}.requires_grad" for t in statement.targets):
                return dotted_name(iterable.func.value)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if dotted_name(call.func) == f"{var}.requires_grad_" and call.args and \
                    isinstance(call.args[0], ast.Constant) and call.args[0].value is False:
                return dotted_name(iterable.func.value)
    return None


def target_names(target) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return None


def requires_grad_only(test, var: str) -> bool:
    """``p.requires_grad`` (or ``is True``/``== True``, or several joined by ``and``)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return all(requires_grad_only(value, var) for value in test.values)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        if isinstance(test.ops[0], (ast.Is, ast.Eq)) and isinstance(test.comparators[0], ast.Constant) \
                and test.comparators[0].value is True:
            test = test.left
    return dotted_name(test) == f"{var}.requires_grad"


def params_module(node, resolver: Resolver, where: Where, depth: int = 0) -> str | None:
    """The module whose parameters (filtered or not) `node` iterates, as written."""
    if depth > 8 or node is None:
        return None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            return resolver.segment(func.value)
        for arg in node.args:  # list(...), filter(f, ...), chain(...)
            found = params_module(arg, resolver, where, depth + 1)
            if found:
                return found
        return None
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return params_module(node.generators[0].iter, resolver, where, depth + 1)
    if isinstance(node, ast.Name):
        for binding in resolver.reaching(node.id, where):
            if binding.kind in (BindingKind.ASSIGN, BindingKind.AUGASSIGN):
                found = params_module(binding.node, resolver, Where.of_binding(binding, where.env), depth + 1)
                if found:
                    return found
            elif binding.kind is BindingKind.PARAM:
                argument = resolver.argument_of(node.id, binding, where)
                if argument is not None:
                    return params_module(argument[0], resolver, argument[1], depth + 1)
    return None
