"""Where each optimizer keeps its weight decay, read at run time.

torch's optimizers, and the libraries that follow them (timm, bitsandbytes, apex, DeepSpeed,
transformers' Adafactor), keep it under ``"weight_decay"`` in every param group. Others keep
it under another key (``"wd"``, ``"decay"``) or not at all; optlint reads those only once they
are registered with ``register_optimizer`` (as ``extra-optimizers`` tells the static half),
and otherwise reports the optimizer once as OPT106 instead of reading its decay as zero.
"""

from __future__ import annotations

from dataclasses import dataclass

DECAY_KEY = "weight_decay"


@dataclass(frozen=True)
class DecayKnowledge:
    decay_key: str | None  # None: the optimizer never decays
    default: float = 0.0  # the decay of a group that lacks the key


_REGISTERED: dict[type, DecayKnowledge] = {}


def register_optimizer(cls, decay_key: str | None = DECAY_KEY, default: float = 0.0) -> None:
    """Tell optlint where `cls` keeps its weight decay.

    `decay_key`: the param-group key holding the decay (``"wd"``), or None for an optimizer
    that never decays. `default`: the decay of a group that lacks the key (the optimizer's
    own default, if it does not write it into every group). Subclasses inherit the entry.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_optimizer(): cls must be an optimizer class, got {type(cls).__name__}")
    if decay_key is not None and not isinstance(decay_key, str):
        raise TypeError(f"register_optimizer(): decay_key must be a str or None, got {type(decay_key).__name__}")
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise TypeError(f"register_optimizer(): default must be a number, got {type(default).__name__}")
    _REGISTERED[cls] = DecayKnowledge(decay_key, float(default))


def unregister_optimizer(cls) -> None:
    """Forget what ``register_optimizer`` said about `cls` (for tests and notebooks)."""
    _REGISTERED.pop(cls, None)


def _is_torch_own(cls) -> bool:
    return cls.__module__.startswith(("torch.optim", "torch.distributed.optim"))


def decay_knowledge(optimizer) -> DecayKnowledge | None:
    """Where `optimizer` keeps its decay; None when optlint cannot tell (OPT106)."""
    for klass in type(optimizer).__mro__:
        if klass in _REGISTERED:
            return _REGISTERED[klass]
    groups = getattr(optimizer, "param_groups", None) or []
    defaults = getattr(optimizer, "defaults", None) or {}
    if DECAY_KEY in defaults or any(DECAY_KEY in group for group in groups):
        return DecayKnowledge(DECAY_KEY)
    if _is_torch_own(type(optimizer)):
        return DecayKnowledge(None)  # LBFGS, Rprop: torch's optimizers without decay
    return None


def decay_like_keys(optimizer) -> list[str]:
    """Keys of `optimizer`'s groups that read like a decay, for OPT106's message."""
    keys: set[str] = set(getattr(optimizer, "defaults", None) or {})
    for group in getattr(optimizer, "param_groups", None) or []:
        keys.update(group)
    return sorted(k for k in keys if isinstance(k, str) and ("decay" in k.lower() or k.lower() in ("wd", "l2", "l2_reg")))
