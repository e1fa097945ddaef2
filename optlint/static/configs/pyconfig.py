"""Python config files: mmengine/mmcv dict configs and detectron2 LazyConfigs.

They are read as data, never run: module-level assignments of ``dict(...)`` / ``{...}``
literals, with ``_base_`` files merged as mmengine merges them (a child's dict keys override
the base's, recursively; ``_delete_=True`` replaces the base's dict). Base files are read
through the project, so the cache records them. A file in a ``_base_`` folder is a fragment
meant to be inherited: it is not judged on its own; each config that inherits it is.

mmengine (https://mmengine.readthedocs.io/en/latest/api/generated/mmengine.optim.DefaultOptimWrapperConstructor.html):
with no ``paramwise_cfg``, ``DefaultOptimWrapperConstructor`` hands ``model.parameters()``
to the optimizer as one group. ``norm_decay_mult`` covers the weight and bias of norm layers,
``bias_decay_mult`` other biases, ``dwconv_decay_mult`` depthwise convolutions,
``flat_decay_mult`` every other 1-D parameter; ``custom_keys`` (substring of the name,
longest first) take precedence over all of them.

detectron2 (https://detectron2.readthedocs.io/en/latest/modules/solver.html):
``get_default_optimizer_params(weight_decay_norm=None, weight_decay_bias=None, ...)`` leaves
norm parameters and biases at the optimizer's decay unless those are set.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

from optlint.optimizers import lookup
from optlint.static.model.scopes import dotted_name
from optlint.static.model.values import Value, Where, show

#: mmengine's paramwise_cfg that keeps every vector from decay (flat_decay_mult: any 1-D
#: parameter; the norm and bias multipliers for the norm layers' and biases' own branches).
#: bypass_duplicate: with paramwise_cfg mmengine lists parameters module by module, so a weight
#: two modules share (a decoder tied to its embeddings) would come twice and torch would refuse
#: the groups; without paramwise_cfg, `model.parameters()` had listed it once.
PARAMWISE_FIX = "dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True)"
_MULTS = ("norm_decay_mult", "bias_decay_mult", "flat_decay_mult", "dwconv_decay_mult")
_DEFAULT_CONSTRUCTORS = frozenset({"DefaultOptimWrapperConstructor", "DefaultOptimizerConstructor"})
LAZY_CALL = frozenset({"detectron2.config.LazyCall", "detectron2.config.lazy.LazyCall"})
MAX_BASES = 8


@dataclass
class Item:
    """One key of a config, with the file and node it is written in."""

    ctx: object  # the FileContext of the file that writes it
    key: ast.AST  # the key's node (an Assign target, a keyword, a dict key)
    value: ast.AST
    where: Where
    mapping: dict[str, "Item"] | None = None  # for dict values: their (merged) keys
    complete: bool = True  # the dict could be read whole (no `**other`)


@dataclass
class PyFinding:
    node: ast.AST  # where to report (in the checked file)
    message: str
    fix_target: ast.AST | None = None  # the optim_wrapper dict to insert paramwise_cfg into
    no_fix: str | None = None


def _module_where(ctx) -> Where:
    return Where(ctx.model.module_scope, 1 << 30, ())


def _mapping(ctx, node, where: Where, depth: int = 0) -> tuple[dict[str, Item], bool] | None:
    found = ctx.resolver.mapping(node, where)
    if found is None:
        return None
    items, complete = found
    out: dict[str, Item] = {}
    for key, key_node, value_node, value_where in items:
        item = Item(ctx, key_node, value_node, value_where)
        if depth < 8:
            inner = _mapping(ctx, value_node, value_where, depth + 1)
            if inner is not None:
                item.mapping, item.complete = inner
        out[key] = item
    return out, complete


def _merge(base: dict[str, Item], child: dict[str, Item]) -> dict[str, Item]:
    merged = dict(base)
    for key, item in child.items():
        old = merged.get(key)
        if old is not None and old.mapping is not None and item.mapping is not None and not _deletes(item):
            item = Item(item.ctx, item.key, item.value, item.where, _merge(old.mapping, item.mapping), old.complete and item.complete)
        merged[key] = item
    return merged


def _deletes(item: Item) -> bool:
    flag = item.mapping.get("_delete_") if item.mapping else None
    if flag is None:
        return False
    value = flag.ctx.resolver.evaluate(flag.value, flag.where)
    return bool(value.known and value.value)


def module_config(ctx, depth: int = 0, seen: frozenset = frozenset()) -> tuple[dict[str, Item], ast.AST | None]:
    """The file's module-level keys merged over its `_base_` files; and the `_base_` node."""
    where = _module_where(ctx)
    own: dict[str, Item] = {}
    base_node = None
    for statement in ctx.tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            if name == "_base_":
                base_node = statement
                continue
            item = Item(ctx, statement.targets[0], statement.value, where)
            inner = _mapping(ctx, statement.value, where)
            if inner is not None:
                item.mapping, item.complete = inner
            own[name] = item
        else:
            for changed in _changed_names(statement):
                if changed in own:  # `optim_wrapper['paramwise_cfg'] = ...`, `.update(...)`: not followed
                    own[changed].complete = False
    merged: dict[str, Item] = {}
    if base_node is not None and ctx.path and ctx.project is not None and depth < MAX_BASES:
        for written in _base_paths(ctx, base_node.value, where):
            path = os.path.normpath(os.path.join(os.path.dirname(ctx.path), written))
            if path in seen or not path.endswith(".py"):
                continue
            base_ctx = ctx.project.context(path)
            if base_ctx is None:
                continue
            base, _ = module_config(base_ctx, depth + 1, seen | {path, ctx.path})
            merged = _merge(merged, base)
    return _merge(merged, own), base_node


def _changed_names(statement: ast.stmt) -> set[str]:
    """Names a module-level statement may change in place: item or attribute assignment,
    augmented assignment, `del`, a method call (`optim_wrapper.update(...)`), anything nested."""
    if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
        return set()
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return set()
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}


def _base_paths(ctx, node, where: Where) -> list[str]:
    elements = ctx.resolver.sequence(node, where)
    nodes = [e for e, _ in elements] if elements is not None else [node]
    out = []
    for element in nodes:
        value = ctx.resolver.evaluate(element, where)
        if value.known and isinstance(value.value, str):
            out.append(value.value)
    return out


# -- mmengine / mmcv -----------------------------------------------------------------------------


def looks_like_mmengine(ctx) -> bool:
    names = {s.targets[0].id for s in ctx.tree.body if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)}
    return "optim_wrapper" in names or ("optimizer" in names and bool(names & {"_base_", "optimizer_config", "lr_config", "runner", "model", "param_scheduler"})) or "_base_" in names


def _value(item: Item) -> Value:
    return item.ctx.resolver.evaluate(item.value, item.where)


def _written_at(ctx, item: Item) -> str:
    """`` from configs/_base_/x.py:5`` for an item written in another file, else ""."""
    if item.ctx is ctx or item.ctx.project is None or item.ctx.path is None:
        return ""
    return f"{item.ctx.project.display(item.ctx.path)}:{item.key.lineno}"


@dataclass
class MMOptimizer:
    """The optimizer an mmengine/mmcv config describes, merged over its bases."""

    spec: object
    decay: Value
    paramwise: Item | None
    style: str  # "optim_wrapper" (mmengine) or "optimizer" (mmcv 1.x)
    at: ast.AST  # where to report in the checked file


def mmengine_optimizer(ctx) -> MMOptimizer | None:
    """The config's optimizer with a decay that is not provably 0 and the default
    constructor; None for anything else (a fragment in a `_base_` folder included)."""
    if ctx.path is not None and "_base_" in ctx.path.replace("\\", "/").split("/")[:-1]:
        return None  # a fragment meant to be inherited: judged in the configs that inherit it
    if not looks_like_mmengine(ctx):
        return None
    config, base_node = module_config(ctx)
    wrapper = config.get("optim_wrapper")
    if wrapper is not None and wrapper.mapping is not None:
        holder, style = wrapper, "optim_wrapper"
        optimizer = wrapper.mapping.get("optimizer")
        if optimizer is None or optimizer.mapping is None:
            return None
    else:
        optimizer = config.get("optimizer")
        if optimizer is None or optimizer.mapping is None or "type" not in optimizer.mapping:
            return None
        holder, style = optimizer, "optimizer"
    paramwise = holder.mapping.get("paramwise_cfg")
    constructor = holder.mapping.get("constructor")
    if not holder.complete or not optimizer.complete:
        return None
    if constructor is not None:
        name = _value(constructor)
        if not (name.known and name.value in _DEFAULT_CONSTRUCTORS):
            return None  # a constructor of its own (layer-wise decay, say) decides the groups
    kind = optimizer.mapping.get("type")
    spec = _spec_of(kind) if kind is not None else None
    if spec is None or not spec.has_weight_decay:
        return None
    decay_item = optimizer.mapping.get("weight_decay")
    if decay_item is not None:
        decay = _value(decay_item)
        where = _written_at(ctx, decay_item)
        if where:
            decay = Value(decay.known, decay.value, decay.text, where, decay.overridable)
    else:
        decay = Value(True, spec.default_weight_decay, repr(spec.default_weight_decay), f"{spec.name}'s default")
    if decay.provably_zero:
        return None
    # Report where the decision is written in this file: the weight_decay key, else the
    # optimizer's, else the optim_wrapper's, else the `_base_` line.
    at = next((item.key for item in (decay_item, optimizer, holder) if item is not None and item.ctx is ctx), base_node)
    if at is None:
        return None
    return MMOptimizer(spec, decay, paramwise, style, at)


def mmengine_findings(ctx) -> list[PyFinding]:
    """OPT010: the described optimizer decays every parameter."""
    found = mmengine_optimizer(ctx)
    if found is None:
        return []
    what, no_fix = _what_decays(found.paramwise, found.style)
    if what is None:
        return []
    message = (
        f"mmengine config: {found.spec.name} decays every parameter, biases and norm weights included: "
        f"{found.decay.describe()}; {what}"
    )
    fix_target = None
    if no_fix is None:
        # the last assignment is the one the config holds (module_config reads them in order)
        own = next((s for s in reversed(ctx.tree.body) if isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name) and s.targets[0].id == "optim_wrapper"), None)
        if own is not None and (isinstance(own.value, ast.Dict) or (isinstance(own.value, ast.Call) and dotted_name(own.value.func) == "dict")):
            fix_target = own.value
        else:
            no_fix = f"`optim_wrapper` is not written in this file; add `optim_wrapper = dict(paramwise_cfg={PARAMWISE_FIX})`"
    return [PyFinding(found.at, message, fix_target, no_fix)]


def mmengine_name_splits(ctx) -> list[PyFinding]:
    """OPT011: `custom_keys` keep parameters from decay by substrings of their names, and no
    multiplier keeps the other 1-D parameters (norms or biases the keys miss) out."""
    found = mmengine_optimizer(ctx)
    if found is None or found.paramwise is None or found.paramwise.mapping is None or not found.paramwise.complete:
        return []
    paramwise = found.paramwise.mapping
    custom = paramwise.get("custom_keys")
    if custom is None or custom.mapping is None or not custom.complete:
        return []
    keys = []
    for key, item in custom.mapping.items():
        mult = item.mapping.get("decay_mult") if item.mapping is not None else None
        if mult is not None:
            value = _value(mult)
            if value.is_number and value.value == 0:
                keys.append(key)
    if not keys:
        return []
    zero = {}
    for name in _MULTS:
        item = paramwise.get(name)
        if item is not None:
            value = _value(item)
            if not value.is_number:
                return []  # a multiplier optlint cannot read
            zero[name] = value.value == 0
    if zero.get("flat_decay_mult") or (zero.get("norm_decay_mult") and zero.get("bias_decay_mult")):
        return []  # every 1-D parameter (or every norm and bias) is kept out by its kind
    left = [what for what, name in (("norm weights", "norm_decay_mult"), ("biases", "bias_decay_mult")) if not zero.get(name)]
    shown = ", ".join(f"'{k}'" for k in keys)
    message = (
        f"mmengine config: `custom_keys` decide which parameters of {found.spec.name} skip the decay by substrings of "
        f"their names ({shown} with decay_mult=0); {' and '.join(left)} whose names hold none of them keep "
        f"{found.decay.describe()}; add flat_decay_mult=0.0 (every 1-D parameter), norm_decay_mult=0.0 and "
        "bias_decay_mult=0.0 to `paramwise_cfg`, and keep custom keys for tokens and tables"
    )
    return [PyFinding(found.at, message, None, "custom_keys match before the multipliers, so where a key matches they do not apply")]


def _spec_of(item: Item):
    node = item.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualname = item.ctx.resolver.qualname(node, item.where)
        if qualname and not qualname.startswith("<local>"):
            return lookup(qualname)
    value = _value(item)
    if value.known and isinstance(value.value, str):
        return lookup(value.value if "." in value.value else f"torch.optim.{value.value}")
    return None


def _what_decays(paramwise: Item | None, style: str) -> tuple[str | None, str | None]:
    """(what leaves every parameter decayed, or None when something keeps vectors out or
    optlint cannot tell; why inserting paramwise_cfg is no exact fix, or None when it is)."""
    if paramwise is None:
        if style != "optim_wrapper":
            return (
                "`paramwise_cfg` missing: add paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0) to `optimizer`",
                "mmcv 1.x's constructor has no flat_decay_mult, so no inserted key keeps every vector from decay",
            )
        return f"`paramwise_cfg` missing: add paramwise_cfg={PARAMWISE_FIX} to `optim_wrapper`", None
    if paramwise.mapping is None or not paramwise.complete:
        return None, None
    for name in _MULTS:
        item = paramwise.mapping.get(name)
        if item is None:
            continue
        value = _value(item)
        if not value.is_number or value.value == 0:
            return None, None  # a multiplier that is 0 (or unknown): some vectors keep out
    custom = paramwise.mapping.get("custom_keys")
    if custom is not None:
        if custom.mapping is None or not custom.complete:
            return None, None
        for key in custom.mapping.values():
            if key.mapping is None or not key.complete or "decay_mult" in key.mapping:
                return None, None  # a name-based decay split (OPT011's), not "every parameter"
    written = [n for n in _MULTS if n in paramwise.mapping]
    why = "`paramwise_cfg` is there already: set its multipliers by hand"
    if written:
        return f"`paramwise_cfg` leaves them at the decay ({', '.join(written)} nonzero); set norm_decay_mult, bias_decay_mult and flat_decay_mult to 0.0", why
    return "`paramwise_cfg` sets no decay multiplier; set norm_decay_mult, bias_decay_mult and flat_decay_mult to 0.0 in it", why


# -- detectron2 LazyConfig -----------------------------------------------------------------------


def detectron2_findings(ctx) -> list[PyFinding]:
    out = []
    for site in ctx.model.calls:
        call = site.node
        if not (isinstance(call.func, ast.Call) and call.func.args and len(call.func.args) == 1):
            continue
        where = Where.of_site(site)
        lazy = call.func.func
        if not isinstance(lazy, (ast.Name, ast.Attribute)) or ctx.resolver.qualname(lazy, where) not in LAZY_CALL:
            continue
        target = call.func.args[0]
        qualname = ctx.resolver.qualname(target, where) if isinstance(target, (ast.Name, ast.Attribute)) else None
        spec = lookup(qualname) if qualname else None
        if spec is None or not spec.has_weight_decay:
            continue
        keywords = {k.arg: k for k in call.keywords if k.arg}
        params = keywords.get("params")
        if params is None or not _is_default_params(ctx, params.value, where):
            continue
        inner = {k.arg: k for k in params.value.keywords if k.arg}
        if any(k.arg is None for k in params.value.keywords) or any(k.arg is None for k in call.keywords):
            continue
        overrides = _assigned_overrides(ctx, call)
        if overrides is None:
            continue
        decay_node = overrides.get("params.weight_decay") or _value_of(inner.get("weight_decay")) \
            or overrides.get("weight_decay") or _value_of(keywords.get("weight_decay"))
        if decay_node is not None:
            decay = ctx.resolver.evaluate(decay_node, where)
        else:
            decay = Value(True, spec.default_weight_decay, repr(spec.default_weight_decay), f"{spec.name}'s default")
        if decay.provably_zero:
            continue
        norm = overrides.get("params.weight_decay_norm") or _value_of(inner.get("weight_decay_norm"))
        bias = overrides.get("params.weight_decay_bias") or _value_of(inner.get("weight_decay_bias"))
        if "params.overrides" in overrides or "overrides" in inner:
            continue  # name overrides (`{"bias": {...}}`) may keep some vectors out: not judged
        left = []
        for name, node in (("weight_decay_norm", norm), ("weight_decay_bias", bias)):
            if node is None:
                left.append(f"`{name}` left unset")
                continue
            value = ctx.resolver.evaluate(node, where)
            if not (value.is_number and decay.is_number and value.value == decay.value):
                break  # set apart from the decay (or unknown): some vectors keep out
            left.append(f"`{name}` left at the decay ({show(value.value)})")
        else:
            at = keywords.get("weight_decay") or params
            message = (
                f"detectron2 LazyConfig: {spec.name} decays every parameter, biases and norm weights included: "
                f"{decay.describe()}; {' and '.join(left)} in `get_default_optimizer_params`, so norms and biases "
                "keep the decay; set weight_decay_norm=0.0 and weight_decay_bias=0.0"
            )
            out.append(PyFinding(at, message, None, "edit `get_default_optimizer_params`'s arguments"))
    return out


def _value_of(keyword):
    return keyword.value if keyword is not None else None


def _is_default_params(ctx, node, where: Where) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and len(node.func.args) == 1):
        return False
    lazy = node.func.func
    if not isinstance(lazy, (ast.Name, ast.Attribute)) or ctx.resolver.qualname(lazy, where) not in LAZY_CALL:
        return False
    inner = node.func.args[0]
    name = ctx.resolver.qualname(inner, where) if isinstance(inner, (ast.Name, ast.Attribute)) else None
    return bool(name) and name.rsplit(".", 1)[-1] == "get_default_optimizer_params"


def _assigned_overrides(ctx, call: ast.Call) -> dict[str, ast.AST] | None:
    """Module-level `optimizer.params.weight_decay_norm = 0.0`-style assignments to the name
    the LazyCall is bound to ({"params.weight_decay_norm": value}); None when the object is
    changed in a way optlint does not follow."""
    name = None
    for statement in ctx.tree.body:
        if isinstance(statement, ast.Assign) and statement.value is call and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
    out: dict[str, ast.AST] = {}
    if name is None:
        return out
    for statement in ctx.tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        for target in targets:
            dotted = dotted_name(target) if isinstance(target, ast.Attribute) else None
            if dotted and dotted.startswith(name + "."):
                out[dotted[len(name) + 1:]] = statement.value
        if isinstance(statement, (ast.Expr, ast.AugAssign)) and name in {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}:
            return None
    if "params" in out:
        return None  # the whole params replaced
    return out
