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
from optlint.group_keys import KNOWN_EXTRA_GROUP_KEYS, suggestion

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


def decay_of(group: dict, index: int) -> float:
    """A group's weight decay as a float; a meta tensor (value unknown) counts as decayed."""
    value = group.get("weight_decay", 0.0)
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"param_groups[{index}]['weight_decay'] is a tensor of shape {tuple(value.shape)}; "
                f"weight decay must be a number or a one-element tensor"
            )
        return float(value.detach().cpu()) if value.device.type != "meta" else 1.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


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


def check_optimizer(optimizer, model=None, *, select=None, ignore=None, **options) -> list[RuntimeFinding]:
    """Audit `optimizer`'s param groups (against `model` when given). Never reads tensor data."""
    with paused_gc():
        return _check_optimizer(optimizer, model, select, ignore, options)


def _check_optimizer(optimizer, model, select, ignore, options) -> list[RuntimeFinding]:
    groups = validate_optimizer(optimizer, "check_optimizer")
    validate_model(model, "check_optimizer")
    codes = selected_codes(select, ignore)
    opts = PolicyOptions.from_kwargs(options, "check_optimizer")
    infos: dict[int, ParamInfo] = classify_with(model, opts) if model is not None else {}
    findings: list[RuntimeFinding] = []
    unshaped: list[str] = []
    seen: set[int] = set()
    opt_name = type(optimizer).__name__
    allowed_keys = set(getattr(optimizer, "defaults", {}) or {}) | KNOWN_EXTRA_GROUP_KEYS

    for g, group in enumerate(groups):
        decay = decay_of(group, g)
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
                    findings.append(RuntimeFinding("OPT104", f"{label(name, g, i)} appears twice in param group {g}; it is updated (and decayed) twice per step", name, g, i))
                continue
            in_group.add(key)
            seen.add(key)
            if is_flat_param(param):
                if "OPT105" in codes and not flat_reported:
                    findings.append(RuntimeFinding("OPT105", f"param group {g} holds FSDP1 FlatParameters: biases and norm weights are flattened together with matrices and share weight_decay={decay:g}; use FSDP(..., use_orig_params=True) or FSDP2 (fully_shard)", name, g, i))
                    flat_reported = True
                continue
            if info is not None:
                no_decay, role, why = info.no_decay, info.role, ", ".join(info.reasons)
                if role == UNSHAPED:
                    no_decay = None
            else:
                no_decay = shape_only_no_decay(param, opts)
                role, why = ("1-d", f"{param.ndim}-D") if no_decay else (None, "")
                if model is not None and no_decay:
                    why += ", and not a parameter of the model"
            if no_decay is None:
                if decay > 0:
                    unshaped.append(label(name, g, i))
                continue
            if not (no_decay and decay > 0):
                continue
            if param.requires_grad:
                if "OPT101" in codes:
                    findings.append(RuntimeFinding("OPT101", f"{label(name, g, i)} ({why}) is in param group {g} with weight_decay={decay:g}", name, g, i, role))
            elif "OPT103" in codes:
                findings.append(RuntimeFinding("OPT103", f"frozen {label(name, g, i)} ({why}) is in param group {g} with weight_decay={decay:g}; it is decayed if it is ever unfrozen", name, g, i, role))

        if "OPT006" in codes and getattr(optimizer, "defaults", None):
            for group_key in group:
                if group_key not in allowed_keys and group_key != "params":
                    findings.append(RuntimeFinding("OPT006", f"param group {g} has key '{group_key}', which {opt_name} does not know; PyTorch keeps it and ignores it{suggestion(group_key, allowed_keys)}", None, g))
        if "OPT003" in codes and type(optimizer) in _COUPLED_ADAM and decay > 0 and not group.get("decoupled_weight_decay", False):
            findings.append(RuntimeFinding("OPT003", f"{opt_name} applies weight_decay={decay:g} of param group {g} as L2 added to the gradient (coupled); use AdamW or decoupled_weight_decay=True", None, g))

    if unshaped and {"OPT101", "OPT103"} & codes:
        raise unshaped_error("check_optimizer", unshaped)
    if "OPT102" in codes and model is not None:
        for key, info in infos.items():
            if info.requires_grad and key not in seen:
                findings.append(RuntimeFinding("OPT102", f"`{info.name}` requires grad but is in no param group: it never trains", info.name, None, None, info.role))
    return findings
