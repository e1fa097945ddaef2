"""What a param group may hold besides an optimizer's own hyperparameters, and near misses.

Shared by both halves (OPT006 runs statically and at run time), so it sits below both.
"""

from __future__ import annotations

import difflib

#: Keys that schedulers and well-known libraries add to param groups on purpose (torch's
#: LR schedulers and SWA, timm's layer decay and Muon, Megatron, mmengine): PyTorch keeps them
#: and step() ignores them, and the scheduler that wrote them reads them back.
#: torch's own: https://github.com/pytorch/pytorch/blob/main/torch/optim/lr_scheduler.py and
#: https://github.com/pytorch/pytorch/blob/main/torch/optim/swa_utils.py
KNOWN_EXTRA_GROUP_KEYS = frozenset(
    {
        "params",
        "param_names",  # torch >= 2.6 named parameters
        "initial_lr",  # every LR scheduler
        "max_lr", "min_lr", "base_lr", "base_momentum", "max_momentum",  # OneCycleLR, CyclicLR
        "swa_lr",  # torch.optim.swa_utils.SWALR
        "lr_scale",  # timm layer decay
        "use_fallback",  # timm Muon
        "group_name", "name", "names",
        "wd_mult", "lr_mult", "decay_mult",  # Megatron, mmengine
    }
)


#: What torch.distributed.optim.ZeroRedundancyOptimizer's global param groups hold besides
#: its inner optimizer's hyperparameters (it copies the inner groups' keys into them at each
#: step): https://github.com/pytorch/pytorch/blob/main/torch/distributed/optim/zero_redundancy_optimizer.py
ZERO_GROUP_KEYS = frozenset({"params", "initial_lr"})


def suggestion(key: str, allowed) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, stopping early once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def near_miss(key: str, hyperparameters) -> str | None:
    """The optimizer's own key that `key` misspells: edit distance <= 2, or the same letters
    up to case and underscores (`weightDecay`, `weight_deacy`). None if there is none."""
    folded = key.lower().replace("_", "")
    best = None
    for name in sorted(hyperparameters):
        if name.lower().replace("_", "") == folded:
            return name
        distance = _edit_distance(key, name)
        if distance <= 2 and len(name) > 3 and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best else None
