"""The runtime half: audit a built optimizer against its model (torch is imported here only).

- ``check_optimizer(optimizer, model=None, **options)`` -> findings (OPT101-105, OPT006, OPT003)
- ``assert_optimizer(...)`` raises ``OptimizerConfigError`` with a readable report
- ``param_groups(model, weight_decay, ...)`` builds split groups with the same policy
- ``fix_optimizer(optimizer, model=None, ...)`` splits offending groups in place
- ``install(mode="warn"|"raise", models=...)`` checks every optimizer at its first step()

It reads shapes, ids and names only, never tensor data, so it works on the meta device.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass

import torch

from optlint.policy import (
    NO_DECAY_ROLES,
    ParamInfo,
    PolicyOptions,
    canonical_name,
    classify_with,
    paused_gc,
    shape_only_no_decay,
)
from optlint.rules.unknown_group_key import KNOWN_EXTRA_GROUP_KEYS, suggestion

DEFAULT_RUNTIME_CODES = frozenset({"OPT006", "OPT101", "OPT102", "OPT104", "OPT105"})
ALL_RUNTIME_CODES = DEFAULT_RUNTIME_CODES | {"OPT003", "OPT103"}
_COUPLED_ADAM = tuple(
    getattr(torch.optim, name) for name in ("Adam", "NAdam", "RAdam", "Adamax") if hasattr(torch.optim, name)
)


@dataclass(slots=True, eq=True)
class RuntimeFinding:
    code: str
    message: str
    param: str | None  # canonical dotted name; None when no model (or name) is known
    group: int | None  # param-group index
    index: int | None = None  # position of the parameter in its group
    role: str | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


class OptimizerConfigError(AssertionError):
    """Raised by assert_optimizer (and install(mode="raise")): the message is the report."""

    def __init__(self, report: str, findings: list[RuntimeFinding]) -> None:
        super().__init__(report)
        self.findings = findings


class OptimizerConfigWarning(UserWarning):
    """Emitted by install(mode="warn")."""


def _decay_of(group: dict) -> float:
    value = group.get("weight_decay", 0.0)
    if isinstance(value, torch.Tensor):
        return float(value.detach().cpu()) if value.device.type != "meta" else 1.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _is_flat_param(param) -> bool:
    return type(param).__name__ == "FlatParameter" or getattr(param, "_is_flat_param", False)


def _validate(optimizer) -> list[dict]:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "params" in g for g in groups):
        raise TypeError(
            f"check_optimizer() needs a torch.optim.Optimizer (or an object with a param_groups list "
            f"of dicts with 'params'), got {type(optimizer).__name__}"
        )
    return groups


def _codes(select, ignore) -> frozenset[str]:
    codes = frozenset(select) if select is not None else DEFAULT_RUNTIME_CODES
    unknown = set(codes) - ALL_RUNTIME_CODES
    if unknown:
        raise ValueError(f"unknown runtime rule code(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(ALL_RUNTIME_CODES))}")
    return codes - frozenset(ignore or ())


def _label(name: str | None, group: int, index: int) -> str:
    return f"`{name}`" if name else f"param_groups[{group}]['params'][{index}]"


def check_optimizer(optimizer, model=None, *, select=None, ignore=None, **options) -> list[RuntimeFinding]:
    """Audit `optimizer`'s param groups (against `model` when given). Never reads tensor data."""
    with paused_gc():
        return _check_optimizer(optimizer, model, select, ignore, options)


def _check_optimizer(optimizer, model, select, ignore, options) -> list[RuntimeFinding]:
    groups = _validate(optimizer)
    codes = _codes(select, ignore)
    opts = PolicyOptions.from_kwargs(options)
    infos: dict[int, ParamInfo] = classify_with(model, opts) if model is not None else {}
    findings: list[RuntimeFinding] = []
    seen: set[int] = set()
    opt_name = type(optimizer).__name__
    allowed_keys = set(getattr(optimizer, "defaults", {}) or {}) | KNOWN_EXTRA_GROUP_KEYS

    for g, group in enumerate(groups):
        decay = _decay_of(group)
        params = list(group["params"])
        names = group.get("param_names")
        in_group: set[int] = set()
        flat_reported = False
        for i, param in enumerate(params):
            key = id(param)
            info = infos.get(key)
            name = info.name if info else (canonical_name(names[i]) if names and i < len(names) else None)
            if key in in_group:
                if "OPT104" in codes:
                    findings.append(RuntimeFinding("OPT104", f"{_label(name, g, i)} appears twice in param group {g}; it is updated (and decayed) twice per step", name, g, i))
                continue
            in_group.add(key)
            seen.add(key)
            if _is_flat_param(param):
                if "OPT105" in codes and not flat_reported:
                    findings.append(RuntimeFinding("OPT105", f"param group {g} holds FSDP1 FlatParameters: biases and norm weights are flattened together with matrices and share weight_decay={decay:g}; use FSDP(..., use_orig_params=True) or FSDP2 (fully_shard)", name, g, i))
                    flat_reported = True
                continue
            if info is not None:
                no_decay, role, why = info.no_decay, info.role, ", ".join(info.reasons)
            else:
                no_decay = shape_only_no_decay(param, opts)
                role, why = ("1-d", f"{param.ndim}-D") if no_decay else (None, "")
                if model is not None and no_decay:
                    why += ", and not a parameter of the model"
            if not (no_decay and decay > 0):
                continue
            if param.requires_grad:
                if "OPT101" in codes:
                    findings.append(RuntimeFinding("OPT101", f"{_label(name, g, i)} ({why}) is in param group {g} with weight_decay={decay:g}", name, g, i, role))
            elif "OPT103" in codes:
                findings.append(RuntimeFinding("OPT103", f"frozen {_label(name, g, i)} ({why}) is in param group {g} with weight_decay={decay:g}; it is decayed if it is ever unfrozen", name, g, i, role))

        if "OPT006" in codes and getattr(optimizer, "defaults", None):
            for group_key in group:
                if group_key not in allowed_keys and group_key != "params":
                    findings.append(RuntimeFinding("OPT006", f"param group {g} has key '{group_key}', which {opt_name} does not know; PyTorch keeps it and ignores it{suggestion(group_key, allowed_keys)}", None, g))
        if "OPT003" in codes and type(optimizer) in _COUPLED_ADAM and decay > 0 and not group.get("decoupled_weight_decay", False):
            findings.append(RuntimeFinding("OPT003", f"{opt_name} applies weight_decay={decay:g} of param group {g} as L2 added to the gradient (coupled); use AdamW or decoupled_weight_decay=True", None, g))

    if "OPT102" in codes and model is not None:
        for key, info in infos.items():
            if info.requires_grad and key not in seen:
                findings.append(RuntimeFinding("OPT102", f"`{info.name}` requires grad but is in no param group: it never trains", info.name, None, None, info.role))
    return findings


def _report(optimizer, findings: list[RuntimeFinding], model) -> str:
    name = type(optimizer).__name__
    lines = [f"optlint: {len(findings)} problem{'s' if len(findings) != 1 else ''} in {name}'s param groups:"]
    lines += [f"  {f.code} {f.message}" for f in findings]
    decays = sorted({_decay_of(g) for g in optimizer.param_groups if _decay_of(g) > 0})
    wd = f"{decays[-1]:g}" if decays else "0.01"
    model_arg = "model" if model is not None else "model"
    lines += [
        "Fix new code by building the groups with the shared policy:",
        f"    optimizer = torch.optim.{name}(optlint.param_groups({model_arg}, weight_decay={wd}), ...)",
        "or split this optimizer's groups in place (before creating an LR scheduler):",
        f"    optlint.fix_optimizer(optimizer, {model_arg})",
    ]
    return "\n".join(lines)


def assert_optimizer(optimizer, model=None, **options) -> None:
    """Raise OptimizerConfigError with a report if check_optimizer finds anything."""
    findings = check_optimizer(optimizer, model, **options)
    if findings:
        raise OptimizerConfigError(_report(optimizer, findings, model), findings)


_POLICY_KEYS = frozenset(PolicyOptions.__dataclass_fields__)


def param_groups(model, weight_decay: float, *, keep_frozen: bool = False, **options) -> list[dict]:
    """Two groups (decay, no-decay) for `model` under the shared policy.

    Keyword arguments that are policy options (exclude_1d, bias, norm, embedding,
    no_weight_decay, force_weight_decay, extra_norm_classes, use_model_hooks) steer the
    split; any other keyword (lr, lr_scale, ...) is copied into both groups. Frozen
    parameters are left out unless keep_frozen=True. Empty groups are omitted.
    """
    policy = {k: v for k, v in options.items() if k in _POLICY_KEYS}
    extra = {k: v for k, v in options.items() if k not in _POLICY_KEYS}
    with paused_gc():
        infos = classify_with(model, PolicyOptions.from_kwargs(policy))
    decay, no_decay = [], []
    for _, param in model.named_parameters():
        if not param.requires_grad and not keep_frozen:
            continue
        (no_decay if infos[id(param)].no_decay else decay).append(param)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay, **extra})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0, **extra})
    return groups


@dataclass(frozen=True)
class Moved:
    param: str | None
    from_group: int
    to_group: int


def fix_optimizer(optimizer, model=None, **options) -> list[Moved]:
    """Split each decayed group holding no-decay parameters into decay / no-decay twins.

    The twin keeps every other key of its group and is appended after the existing groups
    (LR schedulers index groups by position: create them after this call). Optimizer
    state is keyed by tensor, so it is kept. A group made only of no-decay parameters is
    set to weight_decay=0.0 instead. Returns what moved.
    """
    groups = _validate(optimizer)
    opts = PolicyOptions.from_kwargs(options)
    infos = classify_with(model, opts) if model is not None else {}
    moved: list[Moved] = []
    for g in range(len(groups)):
        group = groups[g]
        if _decay_of(group) <= 0:
            continue
        names = group.get("param_names")
        keep, move = [], []
        for i, param in enumerate(group["params"]):
            info = infos.get(id(param))
            no_decay = info.no_decay if info else shape_only_no_decay(param, opts)
            name = info.name if info else (names[i] if names else None)
            (move if no_decay and not _is_flat_param(param) else keep).append((i, param, name))
        if not move:
            continue
        if not keep:
            group["weight_decay"] = 0.0 if not isinstance(group["weight_decay"], torch.Tensor) else torch.zeros_like(group["weight_decay"])
            moved += [Moved(name, g, g) for _, _, name in move]
            continue
        twin = {k: v for k, v in group.items() if k not in ("params", "param_names")}
        twin["params"] = [p for _, p, _ in move]
        twin["weight_decay"] = 0.0
        if names is not None:
            twin["param_names"] = [names[i] for i, _, _ in move]
            group["param_names"] = [names[i] for i, _, _ in keep]
        group["params"] = [p for _, p, _ in keep]
        # rebuild the twin in key order of the original (params first, as add_param_group does)
        ordered = {"params": twin.pop("params")}
        ordered.update(twin)
        groups.append(ordered)
        moved += [Moved(name, g, len(groups) - 1) for _, _, name in move]
    return moved


class _Handle:
    def __init__(self, hook_handle) -> None:
        self._hook = hook_handle

    def remove(self) -> None:
        self._hook.remove()


def install(mode: str = "warn", models=None, **options) -> _Handle:
    """Check each optimizer once, at its first step(), everywhere in the process.

    `models`: a module or modules to name parameters by; an optimizer is checked against
    the registered model that owns its parameters, by shapes alone otherwise.
    """
    if mode not in ("warn", "raise"):
        raise ValueError("mode must be 'warn' or 'raise'")
    if models is None:
        models = []
    elif isinstance(models, torch.nn.Module):
        models = [models]
    model_refs = [weakref.ref(m) for m in models]
    checked: weakref.WeakSet = weakref.WeakSet()

    def owner(optimizer):
        ids = {id(p) for g in optimizer.param_groups for p in g["params"]}
        for ref in model_refs:
            model = ref()
            if model is not None and any(id(p) in ids for p in model.parameters()):
                return model
        return None

    def hook(optimizer, args, kwargs):
        if optimizer in checked:
            return
        checked.add(optimizer)
        model = owner(optimizer)
        findings = check_optimizer(optimizer, model, **options)
        if not findings:
            return
        report = _report(optimizer, findings, model)
        if mode == "raise":
            raise OptimizerConfigError(report, findings)
        warnings.warn(report, OptimizerConfigWarning, stacklevel=3)

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    return _Handle(register_optimizer_step_pre_hook(hook))


def classify_parameters(model, **options) -> dict[str, ParamInfo]:
    """The policy's verdict for every parameter of `model`, by canonical name."""
    infos = classify_with(model, PolicyOptions.from_kwargs(options))
    return {info.name: info for info in infos.values()}


__all__ = [
    "check_optimizer", "assert_optimizer", "param_groups", "fix_optimizer", "install",
    "classify_parameters", "RuntimeFinding", "OptimizerConfigError", "OptimizerConfigWarning",
    "Moved", "NO_DECAY_ROLES",
]
