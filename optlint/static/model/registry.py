"""Registries with literal keys: which builder `OPTIMIZERS.get("adamw")` stands for.

Training code often registers optimizer builders in a registry object and looks them up by
a key from a config: ``@OPTIMIZERS.register("adamw")`` on a builder function (or
``@OPTIMIZERS.register()`` / ``register_module()``, keyed by the function's name, as mmengine
does), or ``OPTIMIZERS.register("adamw")(torch.optim.AdamW)`` /
``OPTIMIZERS.register("adamw", torch.optim.AdamW)`` for a class. A lookup
``OPTIMIZERS.get(key)`` or ``OPTIMIZERS[key]`` is resolved only when it is exact: the key is
a literal (or a value optlint can compute), the registry is one object of the project (an
assignment of a call of a registry class, ``OPTIMIZERS = Registry("optimizer")``), and exactly one registration
anywhere in the project has that key. Anything else stays unresolved (silent).

The registering modules are found through ``project.files_mentioning`` (the registry's name),
so a result that used them is invalidated when a file starts or stops mentioning it.
"""

from __future__ import annotations

import ast

from optlint.static.model.scopes import BindingKind, dotted_name

#: Method names that register a builder, and those that look one up.
REGISTER = frozenset({"register", "register_module", "register_optimizer"})
LOOKUP = frozenset({"get", "get_module"})


def registered(resolver, func, where):
    """(value, where, label) for the builder a registry lookup `func` names (`X.get("k")`
    called, or `X["k"]`), or None when it is not exactly one registration."""
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr in LOOKUP \
            and len(func.args) == 1 and not func.keywords:
        receiver, key_node = func.func.value, func.args[0]
    elif isinstance(func, ast.Subscript) and not isinstance(func.slice, (ast.Slice, ast.Tuple)):
        receiver, key_node = func.value, func.slice
    else:
        return None
    registry = _registry(resolver, receiver, where)
    if registry is None:
        return None
    key = resolver.evaluate(key_node, where)
    if not key.known or not isinstance(key.value, str) or key.overridable:
        return None
    context = resolver.context
    project = getattr(context, "project", None)
    if project is None:
        return None
    found = []
    for path in project.files_mentioning(registry[2]):
        other = project.context(path)
        if other is not None:
            found.extend(_registrations(other, registry, key.value))
        if len(found) > 1:
            return None  # two builders under one key: which one runs is not known here
    if len(found) != 1:
        return None
    return found[0]


def _registry(resolver, receiver, where):
    """(model, binding, name) of the registry object `receiver` names: a module-level
    assignment of a call, in this module or imported from another of the project."""
    name = dotted_name(receiver)
    if name is None:
        return None
    bindings = resolver.reaching(name.partition(".")[0], where)
    if not bindings:
        return None
    if bindings[0].kind is BindingKind.IMPORT:
        target = resolver.imported(receiver, where)
        if target is None or target.rest or target.binding is None or not target.unique:
            return None
        model, binding = target.context.model, target.binding
    elif "." not in name and bindings[0].value_scope is not None and bindings[0].value_scope.parent is None:
        model, binding = resolver.model, bindings[0]
    else:
        return None
    if binding.kind is not BindingKind.ASSIGN or not isinstance(binding.node, ast.Call) \
            or "regist" not in (dotted_name(binding.node.func) or "").lower():
        return None  # a registry object is built by a Registry class (`Registry("optimizer")`)
    return model, binding, name.rsplit(".", 1)[-1]


def _same_registry(context, node, where, registry) -> bool:
    found = _registry(context.resolver, node, where)
    return found is not None and found[0] is registry[0] and found[1] is registry[1]


def _literal_key(call: ast.Call, resolver, where):
    """The key a register call names (its first argument or `name=`), if literal."""
    node = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
    if node is None:
        return None
    value = resolver.evaluate(node, where)
    return value.value if value.known and isinstance(value.value, str) and not value.overridable else None


def _registrations(context, registry, key: str):
    """The builders registered under `key` in one module: decorated functions, and classes
    handed to a register call."""
    from optlint.static.model.imported import place_of
    from optlint.static.model.values import Where

    model, resolver = context.model, context.resolver
    label = f"registered as {key!r} in the `{registry[2]}` registry"
    for scope in model.scopes:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if binding.kind is not BindingKind.DEF:
                    continue
                for decorator in getattr(binding.node, "decorator_list", ()):
                    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                            and decorator.func.attr in REGISTER):
                        continue
                    where = Where.of_binding(binding)
                    if not _same_registry(context, decorator.func.value, where, registry):
                        continue
                    named = _literal_key(decorator, resolver, where) if (decorator.args or decorator.keywords) else name
                    if named == key:
                        yield binding.node, where, f"{label} ({place_of(context, binding.node.lineno)})"
    for site in model.calls:
        call = site.node
        func = call.func
        # `X.register("k")(cls)` or `X.register("k", cls)` / `register_module(name="k", module=cls)`
        inner = func if isinstance(func, ast.Attribute) else (func.func if isinstance(func, ast.Call) else None)
        if not isinstance(inner, ast.Attribute) or inner.attr not in REGISTER:
            continue
        where = Where.of_site(site)
        register_call = call if isinstance(func, ast.Attribute) else func
        if isinstance(func, ast.Attribute):
            value = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "module"), None)
        else:
            value = call.args[0] if len(call.args) == 1 else None
        if value is None or not _same_registry(context, inner.value, where, registry):
            continue
        if _literal_key(register_call, resolver, where) == key:
            yield value, where, f"{label} ({place_of(context, call.lineno)})"
