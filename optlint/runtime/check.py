"""check_optimizer: audit a built optimizer's param groups against the shared policy."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from optlint.policy import (
    UNSHAPED,
    ParamInfo,
    PolicyOptions,
    canonical_name,
    classify_with,
    paused_gc,
    shape_only_no_decay,
)
from optlint.group_keys import KNOWN_EXTRA_GROUP_KEYS, ZERO_GROUP_KEYS, suggestion
from optlint.runtime.knowledge import DecayKnowledge, decay_knowledge, decay_like_keys

DEFAULT_RUNTIME_CODES = frozenset({"OPT006", "OPT101", "OPT102", "OPT104", "OPT105", "OPT106"})
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
    optimizer: int | None = None  # which optimizer, when several were checked together

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


def validate_optimizer(optimizer, function: str) -> list[dict]:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "params" in g for g in groups):
        raise TypeError(
            f"{function}(): optimizer must be a torch.optim.Optimizer (or an object with a param_groups "
            f"list of dicts with 'params'), got {type(optimizer).__name__}; check_optimizer() needs a "
            f"torch.optim.Optimizer"
        )
    return groups


def validate_model(model, function: str) -> None:
    if model is not None and not isinstance(model, torch.nn.Module):
        raise TypeError(f"{function}(): model must be a torch.nn.Module or None, got {type(model).__name__}")


def decay_of(group: dict, index: int, knowledge: DecayKnowledge | None = None) -> float:
    """A group's weight decay as a float; a meta tensor (value unknown) counts as decayed.

    `knowledge` says where the optimizer keeps it (``optlint.register_optimizer``); by
    default under ``"weight_decay"``.
    """
    key = knowledge.decay_key if knowledge is not None else "weight_decay"
    if key is None:
        return 0.0
    value = group.get(key, knowledge.default if knowledge is not None else 0.0)
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"param_groups[{index}][{key!r}] is a tensor of shape {tuple(value.shape)}; "
                f"weight decay must be a number or a one-element tensor"
            )
        return float(value.detach().cpu()) if value.device.type != "meta" else 1.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def is_zero_redundancy(optimizer) -> bool:
    """torch's ZeroRedundancyOptimizer: global param_groups, a rank's shard in ``.optim``."""
    return type(optimizer).__name__ == "ZeroRedundancyOptimizer" and hasattr(optimizer, "optim")


def known_decay(optimizer) -> DecayKnowledge | None:
    """Where `optimizer` keeps its decay (ZeroRedundancyOptimizer: where its inner class does)."""
    if is_zero_redundancy(optimizer):
        inner = decay_knowledge(optimizer.optim)
        if inner is not None and inner.decay_key is not None:
            default = (getattr(optimizer.optim, "defaults", None) or {}).get(inner.decay_key, inner.default)
            return DecayKnowledge(inner.decay_key, float(default) if not isinstance(default, torch.Tensor) else default)
        return inner
    return decay_knowledge(optimizer)


def allowed_group_keys(optimizer) -> set[str]:
    """The keys `optimizer`'s groups may hold (its hyperparameters, and well-known extras)."""
    keys = set(getattr(optimizer, "defaults", {}) or {}) | KNOWN_EXTRA_GROUP_KEYS
    if is_zero_redundancy(optimizer):
        keys |= set(getattr(optimizer.optim, "defaults", {}) or {}) | ZERO_GROUP_KEYS
    knowledge = known_decay(optimizer)
    if knowledge is not None and knowledge.decay_key:
        keys.add(knowledge.decay_key)
    return keys


def group_param_names(group: dict, index: int, function: str) -> list[str] | None:
    """The group's ``param_names`` (torch >= 2.6 named optimizers), validated, canonical."""
    names = group.get("param_names")
    if names is None:
        return None
    names = list(names)
    where = f"param_groups[{index}]['param_names']"
    for position, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"{function}(): {where}[{position}] must be a str, got {type(name).__name__}")
    count = len(group["params"]) if hasattr(group["params"], "__len__") else len(list(group["params"]))
    if len(names) != count:
        raise ValueError(f"{function}(): {where} has {len(names)} names for {count} parameters")
    return [canonical_name(name) for name in names]


def is_flat_param(param) -> bool:
    return type(param).__name__ == "FlatParameter" or getattr(param, "_is_flat_param", False)


def selected_codes(select, ignore) -> frozenset[str]:
    if isinstance(select, str):
        select = [select]
    if isinstance(ignore, str):
        ignore = [ignore]
    codes = frozenset(select) if select is not None else DEFAULT_RUNTIME_CODES
    unknown = set(codes) - ALL_RUNTIME_CODES
    if unknown:
        raise ValueError(f"check_optimizer(): select has unknown runtime rule code(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(ALL_RUNTIME_CODES))}")
    return codes - frozenset(ignore or ())


def label(name: str | None, group: int, index: int) -> str:
    return f"`{name}`" if name else f"param_groups[{group}]['params'][{index}]"


def unshaped_error(function: str, unshaped: list[str]) -> ValueError:
    return ValueError(
        f"{function}(): {', '.join(unshaped)} not yet shaped (a lazy module before its first forward), so "
        f"the policy cannot judge {'them' if len(unshaped) > 1 else 'it'}: run one forward pass first "
        f"(optlint.install() checks at the first step(), after it)"
    )


def unwrap_optimizer(optimizer):
    """The torch optimizer inside a trainer's wrapper (accelerate's AcceleratedOptimizer, itself
    an Optimizer subclass; Lightning's LightningOptimizer), or `optimizer` itself."""
    for _ in range(4):
        inner = getattr(optimizer, "optimizer", None) or getattr(optimizer, "_optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer) or inner is optimizer:
            return optimizer
        optimizer = inner
    return optimizer


def as_optimizers(optimizers, function: str) -> list:
    """One optimizer or a list/tuple of them, trainer wrappers unwrapped, each validated."""
    listed = list(optimizers) if isinstance(optimizers, (list, tuple)) else [optimizers]
    if not listed:
        raise ValueError(f"{function}(): no optimizer given (an empty list)")
    listed = [unwrap_optimizer(optimizer) for optimizer in listed]
    for optimizer in listed:
        validate_optimizer(optimizer, function)
    return listed


def check_optimizer(optimizer, model=None, *, select=None, ignore=None, **options) -> list[RuntimeFinding]:
    """Audit the param groups of `optimizer` (against `model` when given). Never reads tensor data.

    `optimizer` may be a list of the optimizers that together train `model` (Muon for the
    matrices and AdamW for the rest): each is checked, and OPT102 (a parameter no optimizer
    trains) is judged on their union. Findings then carry the optimizer's position.
    """
    with paused_gc():
        return _check_optimizers(optimizer, model, select, ignore, options)


class _Run:
    """What one check_optimizer call shares between the optimizers it checks."""

    def __init__(self, model, codes, opts, many: bool) -> None:
        self.model, self.codes, self.opts, self.many = model, codes, opts, many
        self.infos: dict[int, ParamInfo] = classify_with(model, opts) if model is not None else {}
        self.findings: list[RuntimeFinding] = []
        self.unshaped: list[str] = []
        self.seen: set[int] = set()


def _check_optimizers(optimizers, model, select, ignore, options) -> list[RuntimeFinding]:
    listed = as_optimizers(optimizers, "check_optimizer")
    validate_model(model, "check_optimizer")
    codes = selected_codes(select, ignore)
    run = _Run(model, codes, PolicyOptions.from_kwargs(options, "check_optimizer"), len(listed) > 1)
    for k, optimizer in enumerate(listed):
        _check_one(run, optimizer, k if run.many else None)
    if run.unshaped and {"OPT101", "OPT103"} & codes:
        raise unshaped_error("check_optimizer", run.unshaped)
    if "OPT102" in codes and model is not None:
        trained_by = "no optimizer's param groups" if run.many else "no param group"
        for key, info in run.infos.items():
            if info.requires_grad and key not in run.seen:
                run.findings.append(RuntimeFinding("OPT102", f"`{info.name}` requires grad but is in {trained_by}: it never trains", info.name, None, None, info.role))
    return run.findings


def _check_one(run: _Run, optimizer, k: int | None) -> None:
    groups = optimizer.param_groups
    codes, infos, findings, model = run.codes, run.infos, run.findings, run.model
    opt_name = type(optimizer).__name__
    where = f" of {opt_name} (optimizer {k})" if k is not None else ""
    knowledge = known_decay(optimizer)
    unknown_decay: list[str] = []  # no-decay parameters whose decay optlint cannot read

    def finding(code, message, name=None, g=None, i=None, role=None):
        findings.append(RuntimeFinding(code, message, name, g, i, role, k))

    for g, group in enumerate(groups):
        decay = decay_of(group, g, knowledge) if knowledge is not None else None
        params = list(group["params"])
        names = group_param_names(group, g, "check_optimizer")
        in_group: set[int] = set()
        flat_reported = False
        for i, param in enumerate(params):
            key = id(param)
            info = infos.get(key)
            name = info.name if info else (names[i] if names else None)
            if key in in_group:
                if "OPT104" in codes:
                    finding("OPT104", f"{label(name, g, i)} appears twice in param group {g}{where}; it is updated (and decayed) twice per step", name, g, i)
                continue
            in_group.add(key)
            run.seen.add(key)
            if is_flat_param(param):
                if "OPT105" in codes and not flat_reported:
                    finding("OPT105", f"param group {g}{where} holds FSDP1 FlatParameters: biases and norm weights are flattened together with matrices and share weight_decay={decay or 0:g}; use FSDP(..., use_orig_params=True) or FSDP2 (fully_shard)", name, g, i)
                    flat_reported = True
                continue
            if info is not None:
                no_decay, role, why = info.no_decay, info.role, ", ".join(info.reasons)
                if role == UNSHAPED:
                    no_decay = None
            else:
                no_decay = shape_only_no_decay(param, run.opts)
                role, why = ("vector", f"shape {tuple(param.shape)}") if no_decay else (None, "")
                if model is not None and no_decay:
                    why += ", and not a parameter of the model"
            if decay is None:
                if no_decay and len(unknown_decay) < 3:
                    unknown_decay.append(label(name, g, i))
                continue
            if no_decay is None:
                if decay > 0:
                    run.unshaped.append(label(name, g, i))
                continue
            if not (no_decay and decay > 0):
                continue
            if param.requires_grad:
                if "OPT101" in codes:
                    finding("OPT101", f"{label(name, g, i)} ({why}) is in param group {g}{where} with weight_decay={decay:g}", name, g, i, role)
            elif "OPT103" in codes:
                finding("OPT103", f"frozen {label(name, g, i)} ({why}) is in param group {g}{where} with weight_decay={decay:g}; it is decayed if it is ever unfrozen", name, g, i, role)

        if "OPT006" in codes and getattr(optimizer, "defaults", None):
            allowed_keys = allowed_group_keys(optimizer)
            for group_key in group:
                if group_key not in allowed_keys and group_key != "params":
                    finding("OPT006", f"param group {g}{where} has key '{group_key}', which {opt_name} does not know; PyTorch keeps it and ignores it{suggestion(group_key, allowed_keys)}", None, g)
        if "OPT003" in codes and decay and type(optimizer) in _COUPLED_ADAM and not group.get("decoupled_weight_decay", False):
            finding("OPT003", f"{opt_name} applies weight_decay={decay:g} of param group {g}{where} as L2 added to the gradient (coupled); use AdamW or decoupled_weight_decay=True", None, g)

    if unknown_decay and "OPT106" in codes:
        keys = decay_like_keys(optimizer)
        hint = f" (its groups have {', '.join(repr(key) for key in keys)})" if keys else ""
        finding("OPT106", f"optlint cannot read the weight decay of {opt_name}{where}: its groups have no 'weight_decay' key{hint}, so it cannot tell whether {', '.join(unknown_decay)} and the other no-decay parameters are decayed; register it: optlint.register_optimizer({opt_name}, decay_key=..., default=...)")
