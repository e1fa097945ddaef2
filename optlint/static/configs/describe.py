"""Optimizers that YAML and JSON config files describe, and the weight decay each one sets.

- Hydra / OmegaConf: a mapping with ``_target_: torch.optim.AdamW`` (any key, any depth);
- torchtune: a mapping with ``_component_: torch.optim.AdamW``;
- Lightning CLI: the top-level ``optimizer: {class_path: ..., init_args: {...}}``, as
  ``LightningCLI`` reads it (a bare ``optimizer: AdamW`` is left alone: other tools use it);
- DeepSpeed: a JSON file's top-level ``"optimizer": {"type": "AdamW", "params": {...}}``.

The decay is the written ``weight_decay``, else the optimizer's default (AdamW 0.01). For
DeepSpeed, a missing ``weight_decay`` is 0: DeepSpeed builds its fused Adam (default 0.0)
unless ``"torch_adam": true`` asks for torch's AdamW (default 0.01), see
https://www.deepspeed.ai/docs/config-json/#optimizer-parameters.

A value written in the project's config file is taken as the value: Hydra can override any
key from the command line, but what the project writes down is what it runs (ruff's
pragmatism; an interpolation such as ``${optim.wd}`` is followed within the file, anything
else is "not statically known").
"""

from __future__ import annotations

from dataclasses import dataclass

from optlint.optimizers import OptimizerSpec, lookup
from optlint.static.configs.tree import ConfigFile, Node, numeric
from optlint.static.model.values import Value, show, unknown


@dataclass
class Described:
    """One optimizer a config file describes."""

    kind: str  # "hydra", "torchtune", "lightning" or "deepspeed"
    spec: OptimizerSpec | None  # None for DeepSpeed's own optimizer names
    name: str  # as messages show it ("AdamW")
    node: Node  # the optimizer's mapping
    key: str  # the key it sits under ("optimizer"); for a Hydra config group file, the group
    path: tuple[str, ...]  # the keys leading to it
    decay: Value
    #: where a finding goes: the `weight_decay` key when written, else the class key
    at: Node
    #: the key that holds the optimizer's mapping (a `# noqa` on its line counts too)
    holder: Node | None = None


#: DeepSpeed optimizer names (https://www.deepspeed.ai/docs/config-json/#optimizer-parameters).
DEEPSPEED_TYPES = frozenset({
    "adam", "adamw", "lamb", "onebitadam", "zerooneadam", "onebitlamb", "lion", "adagrad", "muadam", "muadamw", "musgd",
})


def describe(config: ConfigFile, display: str) -> list[Described]:
    """Every optimizer description in the file (the decay's source names `display`:line)."""
    root = config.root
    if root is None or not root.is_mapping:
        return []
    found: list[Described] = []
    if config.kind == "json":
        deepspeed = _deepspeed(root, display)
        if deepspeed is not None:
            found.append(deepspeed)
    lightning = _lightning(root, display)
    if lightning is not None:
        found.append(lightning)
    _targets(root, (), root, display, found)
    return found


def _targets(node: Node, path: tuple[str, ...], root: Node, display: str, found: list[Described], holder: Node | None = None,
             seen: set[int] | None = None) -> None:
    # A node reached twice (a YAML alias shares it) is described once: at its first path,
    # in time linear in the file however the aliases nest, and a node that holds itself ends.
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.items is not None:
        for marker, kind in (("_target_", "hydra"), ("_component_", "torchtune")):
            target = node.get(marker)
            if target is not None and isinstance(target.value, str):
                spec = lookup(target.value)
                if spec is not None:
                    decay = _decay(node, spec, display, root)
                    at = node.key_node("weight_decay") or node.key_node(marker)
                    key = path[-1] if path else ""
                    found.append(Described(kind, spec, spec.name, node, key, path, decay, at, holder))
                    return
        for key, (key_node, child) in node.items.items():
            _targets(child, (*path, key), root, display, found, key_node, seen)
    elif node.elements is not None:
        for index, child in enumerate(node.elements):
            _targets(child, (*path, str(index)), root, display, found, holder, seen)


def _lightning(root: Node, display: str) -> Described | None:
    optimizer = root.get("optimizer")
    if optimizer is None:
        return None
    # A bare `optimizer: AdamW` is LightningCLI's shorthand too, but just as often a plain
    # setting that a project's own code reads (ultralytics' `optimizer: AdamW` builds its
    # own groups): only the `class_path` form is Lightning's for sure.
    if optimizer.is_mapping and isinstance((optimizer.get("class_path") or Node(0, 0)).value, str):
        class_path, init_args = optimizer.get("class_path").value, optimizer.get("init_args")
        at = optimizer.key_node("class_path")
    else:
        return None
    spec = lookup(class_path if "." in class_path else f"torch.optim.{class_path}")
    if spec is None:
        return None
    holder = init_args if init_args is not None and init_args.is_mapping else Node(0, 0, items={})
    decay = _decay(holder, spec, display, root)
    at = holder.key_node("weight_decay") or at
    return Described("lightning", spec, spec.name, optimizer, "optimizer", ("optimizer",), decay, at, root.key_node("optimizer"))


def _deepspeed(root: Node, display: str) -> Described | None:
    optimizer = root.get("optimizer")
    if optimizer is None or not optimizer.is_mapping:
        return None
    kind = optimizer.get("type")
    if kind is None or not isinstance(kind.value, str) or kind.value.lower() not in DEEPSPEED_TYPES:
        return None
    params = optimizer.get("params")
    params = params if params is not None and params.is_mapping else Node(0, 0, items={})
    written = params.get("weight_decay")
    if written is not None:
        decay = _written(written, display, root)
        at = params.key_node("weight_decay")
    else:
        torch_adamw = kind.value.lower() == "adamw" and (params.get("torch_adam") or Node(0, 0)).value is True
        default = 0.01 if torch_adamw else 0.0
        decay = Value(True, default, show(default), "torch's AdamW default" if torch_adamw else "DeepSpeed's default")
        at = optimizer.key_node("type")
    return Described("deepspeed", None, kind.value, optimizer, "optimizer", ("optimizer",), decay, at, root.key_node("optimizer"))


def _decay(holder: Node, spec: OptimizerSpec, display: str, root: Node) -> Value:
    written = holder.get("weight_decay")
    if written is not None:
        return _written(written, display, root)
    if not spec.has_weight_decay:
        return Value(True, 0, "0", f"{spec.name}, which has no weight decay")
    default = spec.default_weight_decay
    return Value(True, default, repr(default), f"{spec.name}'s default")


def _written(node: Node, display: str, root: Node, depth: int = 0) -> Value:
    """A written value: a number, or an interpolation (`${optimizer.wd}`) within the file."""
    where = f"{display}:{node.row}"
    value = numeric(node.value)
    if isinstance(value, str) and value.startswith("${") and value.endswith("}") and depth < 8:
        target = _interpolated(root, value[2:-1])
        if target is not None:
            return _written(target, display, root, depth + 1)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return unknown(str(value) if value is not None else "", where)
    return Value(True, value, show(value), where)


def _interpolated(root: Node, reference: str) -> Node | None:
    """An absolute OmegaConf interpolation's node (`${optimizer.wd}`); relative ones and
    resolvers (`${oc.env:WD}`) are not followed."""
    if reference.startswith(".") or ":" in reference:
        return None
    node = root
    for part in reference.split("."):
        node = node.get(part) if node is not None else None
    return node if node is not None and node.items is None and node.elements is None else None
