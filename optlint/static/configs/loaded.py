"""Values that Python code reads from a YAML/JSON config file it loads with a literal path.

``cfg = yaml.safe_load(open("configs/train.yaml"))`` (also ``yaml.load``/``full_load``,
``json.load``, a ``with open(...) as f`` handle, ``OmegaConf.load("conf/x.yaml")``), then
``cfg["optim"]["weight_decay"]`` or ``cfg.optim.weight_decay``: the value is read from the
file, with a source naming it and the line (``from configs/train.yaml:3``). A Hydra entry
point (``@hydra.main(config_path="conf", config_name="config")``) reads its ``cfg``
parameter from the primary config and the config groups its defaults list selects.

A value written in the project's config file is taken as the value (not "can be changed at
run time"), although Hydra can override any key from the command line: what the project
writes down is what it runs. A path is tried relative to the Python file's folder, then to
the project's root; a file that cannot be found or read leaves the value unknown.
"""

from __future__ import annotations

import ast
import os

from optlint.static.model.scopes import BindingKind, dotted_name

_LOADERS = frozenset({
    "yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "json.load", "omegaconf.OmegaConf.load",
})
_OPEN = frozenset({"open", "io.open", "pathlib.Path.open"})


def config_value(resolver, node, where) -> tuple[object, str] | None:
    """(value, source) of `node` (`cfg["optim"]["weight_decay"]`, `cfg.optim.weight_decay`) read
    from the config file `cfg` was loaded from, or None when it is not such a read. (Plain data:
    the resolver, below this module, builds its Value.)"""
    ctx = getattr(resolver, "context", None)
    if ctx is None or ctx.project is None or ctx.path is None:
        return None
    keys = []
    base = node
    while isinstance(base, (ast.Attribute, ast.Subscript)):
        if isinstance(base, ast.Attribute):
            keys.append(base.attr)
        else:
            key = resolver.evaluate(base.slice, where) if not isinstance(base.slice, (ast.Slice, ast.Tuple)) else None
            if key is None or not key.known or not isinstance(key.value, (str, int)):
                return None
            keys.append(key.value)
        base = base.value
    if not isinstance(base, ast.Name) or not keys:
        return None
    keys.reverse()
    loaded = _loaded(resolver, ctx, base.id, where)
    if loaded is None:
        return None
    path, tree = loaded
    found = tree
    for key in keys:
        if found is None:
            return None
        if found.items is not None:
            found = found.get(str(key))
        elif found.elements is not None and isinstance(key, int) and -len(found.elements) <= key < len(found.elements):
            found = found.elements[key]
        else:
            return None
    if found is None or found.items is not None or found.elements is not None:
        return None
    value = found.value
    source = f"{ctx.project.display(found.file or path)}:{found.row}"
    if isinstance(value, (int, float, str)) and not (isinstance(value, str) and "${" in value):
        return value, source
    return None


def _loaded(resolver, ctx, name: str, where):
    bindings = resolver.reaching(name, where)
    if len(bindings) != 1 or not resolver.complete:
        return None
    binding = bindings[0]
    if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Call):
        call_where = type(where).of_binding(binding)
        written = _loaded_path(resolver, ctx, binding.node, call_where)
        return _read(ctx, written) if written else None
    if binding.kind is BindingKind.PARAM:
        return _hydra(ctx, where.scope)
    return None


def _loaded_path(resolver, ctx, call: ast.Call, where) -> str | None:
    qualname = resolver.qualname(call.func, where) if isinstance(call.func, (ast.Name, ast.Attribute)) else None
    if qualname not in _LOADERS or not call.args:
        return None
    argument = call.args[0]
    if qualname == "omegaconf.OmegaConf.load":
        return _literal(resolver, argument, where)
    if isinstance(argument, ast.Call) and dotted_name(argument.func) in _OPEN and argument.args:
        return _literal(resolver, argument.args[0], where)
    if isinstance(argument, ast.Name):
        return _with_open(resolver, ctx, argument.id)
    return None


def _literal(resolver, node, where) -> str | None:
    if isinstance(node, ast.Call) and dotted_name(node.func) in ("Path", "pathlib.Path") and len(node.args) == 1:
        node = node.args[0]
    value = resolver.evaluate(node, where)
    return value.value if value.known and isinstance(value.value, str) and not value.overridable else None


def _with_open(resolver, ctx, name: str) -> str | None:
    """The literal path of the one `with open("...") as name` of the file."""
    memo = resolver.memo.setdefault("config_with_open", {})
    if name not in memo:
        paths = set()
        for node in ast.walk(ctx.tree):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == name:
                        call = item.context_expr
                        if isinstance(call, ast.Call) and dotted_name(call.func) in _OPEN and call.args \
                                and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                            paths.add(call.args[0].value)
                        else:
                            paths.add(None)
        memo[name] = paths.pop() if len(paths) == 1 else None
    return memo[name]


def _read(ctx, written: str):
    """(path, tree) of a config file the code names, read through the project."""
    if not written.endswith((".yaml", ".yml", ".json")):
        return None
    from optlint.static.configs.tree import candidates, load
    from optlint.static.source import SourceError

    for path in candidates(ctx.path, written, ctx.project.root):
        if not os.path.isfile(path):
            continue
        text = ctx.project.read_text(path)
        if text is None:
            return None
        try:
            config = load(path, text)
        except SourceError:
            return None
        return (path, config.root) if config.root is not None else None
    return None


def _hydra(ctx, scope):
    """The config a `@hydra.main(config_path=..., config_name=...)` function receives: the
    primary file with each `group: option` of its defaults list read under its group's key."""
    node = getattr(scope, "node", None)
    for decorator in getattr(node, "decorator_list", ()):
        if not isinstance(decorator, ast.Call) or not (dotted_name(decorator.func) or "").endswith("main"):
            continue
        keywords = {k.arg: k.value for k in decorator.keywords}
        folder, name = keywords.get("config_path"), keywords.get("config_name")
        if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in (folder, name)):
            return None
        config_name = name.value if name.value.endswith((".yaml", ".yml")) else f"{name.value}.yaml"
        primary = _read(ctx, os.path.join(folder.value, config_name))
        if primary is None:
            return None
        path, root = primary
        defaults = root.get("defaults") if root.items is not None else None
        if defaults is not None and defaults.elements is not None:
            from optlint.static.configs.tree import Node

            items = dict(root.items)
            for entry in defaults.elements:
                if entry.items is None or len(entry.items) != 1:
                    continue
                group, (key_node, option) = next(iter(entry.items.items()))
                if not isinstance(option.value, str) or group.startswith("override "):
                    continue
                chosen = _read(ctx, os.path.join(folder.value, group, f"{option.value}.yaml"))
                if chosen is not None and group not in items:
                    items[group] = (key_node, _relocated(chosen))
            root = Node(root.row, root.column, items=items)
        return path, root
    return None


def _relocated(chosen):
    """A config group file's tree, each node remembering its own file (for the source:
    `from conf/optimizer/adamw.yaml:3`)."""
    path, tree = chosen
    stack = [tree]
    while stack:
        node = stack.pop()
        node.file = path
        if node.items is not None:
            stack.extend(value for _, value in node.items.values())
        if node.elements is not None:
            stack.extend(node.elements)
    return tree
