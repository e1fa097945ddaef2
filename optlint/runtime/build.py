"""Build with the policy: param_groups for new code, fix_optimizer for a built optimizer."""

from __future__ import annotations

import difflib
import functools
import inspect
from dataclasses import dataclass

import torch

from optlint.policy import (
    UNSHAPED,
    ParamInfo,
    PolicyOptions,
    classify_with,
    paused_gc,
    shape_only_no_decay,
    unknown_keyword_error,
)
from optlint.group_keys import KNOWN_EXTRA_GROUP_KEYS
from optlint.runtime.check import (
    decay_of,
    group_param_names,
    known_decay,
    is_flat_param,
    label,
    unshaped_error,
    validate_model,
    validate_optimizer,
)


@functools.lru_cache(maxsize=1)
def _torch_group_keys() -> frozenset[str]:
    """Every hyperparameter some torch.optim optimizer takes (the keys its groups may carry)."""
    keys: set[str] = set()
    for value in vars(torch.optim).values():
        if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
            keys.update(inspect.signature(value.__init__).parameters)
    return frozenset(keys - {"self", "params", "args", "kwargs"}) | KNOWN_EXTRA_GROUP_KEYS


def _split_options(options: dict) -> tuple[dict, dict]:
    """(policy options, keys copied into the groups); a near-miss of a policy option is an error.

    Group keys are open-ended (schedulers and libraries add their own), so an unknown key is
    copied; but one that reads like a policy option (``exclude1d``, ``embeddings``) was meant
    as one, and copying it would silently change nothing.
    """
    for key in ("params", "param_names"):
        if key in options:
            raise TypeError(
                f"param_groups(): {key}= is not an option: the groups' parameters come from the model "
                f"(pass the submodule to split as the model, freeze what must not train with "
                f"requires_grad_(False), or add other tensors with optimizer.add_param_group)"
            )
    policy_keys = PolicyOptions.names()
    policy = {k: v for k, v in options.items() if k in policy_keys}
    extra = {k: v for k, v in options.items() if k not in policy_keys}
    group_keys = _torch_group_keys()
    misspelled = {
        key for key in extra if key not in group_keys and difflib.get_close_matches(key, policy_keys, n=1, cutoff=0.8)
    }
    if misspelled:
        raise unknown_keyword_error("param_groups", misspelled, policy_keys)
    return policy, extra


def param_groups(model, weight_decay: float, *, keep_frozen: bool = False, **options) -> list[dict]:
    """Two groups (decay, no-decay) for `model` under the shared policy.

    Keyword arguments that are policy options (exclude_1d, bias, norm, embedding,
    no_weight_decay, force_weight_decay, extra_norm_classes, use_model_hooks) steer the
    split; any other keyword (lr, lr_scale, ...) is copied into both groups, except
    ``params`` / ``param_names``, a TypeError: the parameters come from the model. Frozen
    parameters are left out unless keep_frozen=True. Empty groups are omitted. A lazy
    module's parameter that has no shape yet is a ValueError (run one forward pass first).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"param_groups(): model must be a torch.nn.Module, got {type(model).__name__}")
    policy, extra = _split_options(options)
    with paused_gc():
        infos = classify_with(model, PolicyOptions.from_kwargs(policy, "param_groups"))
    decay, no_decay, unshaped = [], [], []
    for name, param in model.named_parameters():
        if not param.requires_grad and not keep_frozen:
            continue
        info = infos[id(param)]
        if info.role == UNSHAPED:
            unshaped.append(f"`{info.name}`")
        (no_decay if info.no_decay else decay).append(param)
    if unshaped:
        raise unshaped_error("param_groups", unshaped)
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
    set to weight_decay=0.0 instead. Returns what moved. Every argument is checked before
    anything changes.
    """
    groups = validate_optimizer(optimizer, "fix_optimizer")
    validate_model(model, "fix_optimizer")
    opts = PolicyOptions.from_kwargs(options, "fix_optimizer")
    knowledge = known_decay(optimizer)
    if knowledge is None:
        raise ValueError(
            f"fix_optimizer(): optlint cannot read the weight decay of {type(optimizer).__name__} (OPT106); "
            f"register it first: optlint.register_optimizer({type(optimizer).__name__}, decay_key=..., default=...)"
        )
    if knowledge.decay_key is None:
        return []
    decay_key = knowledge.decay_key
    infos: dict[int, ParamInfo] = classify_with(model, opts) if model is not None else {}
    plans, unshaped = [], []
    for g, group in enumerate(groups):
        if decay_of(group, g, knowledge) <= 0:
            continue
        names = group_param_names(group, g, "fix_optimizer")
        keep, move = [], []
        for i, param in enumerate(group["params"]):
            info = infos.get(id(param))
            no_decay = (None if info.role == UNSHAPED else info.no_decay) if info else shape_only_no_decay(param, opts)
            name = info.name if info else (names[i] if names else None)
            if no_decay is None:
                unshaped.append(label(name, g, i))
            (move if no_decay and not is_flat_param(param) else keep).append((i, param, name))
        if move:
            plans.append((g, names, keep, move))
    if unshaped:
        raise unshaped_error("fix_optimizer", unshaped)

    moved: list[Moved] = []
    for g, names, keep, move in plans:
        group = groups[g]
        if not keep:
            current = group.get(decay_key)
            group[decay_key] = torch.zeros_like(current) if isinstance(current, torch.Tensor) else 0.0
            moved += [Moved(name, g, g) for _, _, name in move]
            continue
        # the twin: params first (as add_param_group does), then every other key of the group
        twin = {"params": [p for _, p, _ in move]}
        twin.update((k, v) for k, v in group.items() if k not in ("params", "param_names"))
        twin[decay_key] = 0.0
        if names is not None:
            raw = list(group["param_names"])
            twin["param_names"] = [raw[i] for i, _, _ in move]
            group["param_names"] = [raw[i] for i, _, _ in keep]
        group["params"] = [p for _, p, _ in keep]
        groups.append(twin)
        moved += [Moved(name, g, len(groups) - 1) for _, _, name in move]
    return moved


def classify_parameters(model, **options) -> dict[str, ParamInfo]:
    """The policy's verdict for every parameter of `model`, by canonical name."""
    validate_model(model, "classify_parameters")
    infos = classify_with(model, PolicyOptions.from_kwargs(options, "classify_parameters"))
    return {info.name: info for info in infos.values()}
