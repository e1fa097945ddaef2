from __future__ import annotations

import difflib
from typing import Iterator

from optlint.rules.base import RawFinding, Rule, register
from optlint.rules.decay_all_params import OPTIMIZER_NAMES

#: Keys that schedulers and well-known libraries add to param groups on purpose
#: (shared/DOMAIN.md 2.2 and 5.3): PyTorch keeps them and step() ignores them.
KNOWN_EXTRA_GROUP_KEYS = frozenset(
    {
        "params",
        "param_names",  # torch >= 2.6 named parameters
        "initial_lr",  # every LR scheduler
        "max_lr", "min_lr", "base_lr", "base_momentum", "max_momentum",  # OneCycleLR, CyclicLR
        "lr_scale",  # timm layer decay
        "use_fallback",  # timm Muon
        "group_name", "name", "names",
        "wd_mult", "lr_mult", "decay_mult",  # Megatron, mmengine
    }
)


def suggestion(key: str, allowed) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@register
class UnknownGroupKey(Rule):
    code = "OPT006"
    name = "unknown-group-key"
    summary = "A param-group key the optimizer does not know"
    where = "both"
    what_it_does = """
        Checks the keys of param-group dicts passed to a known optimizer (or to its
        `add_param_group`) against that optimizer's hyperparameters and the keys schedulers
        and common libraries add (`initial_lr`, `lr_scale`, `param_names`, ...), and suggests
        the nearest valid key.
    """
    why_bad = """
        `torch.optim.Optimizer.add_param_group` keeps unknown keys and `step()` ignores them.
        A typo such as `"weight_deacy": 0.0` silently leaves the group at the optimizer's
        default decay: the biases you meant to exclude are decayed after all.
    """
    example = """
        import torch

        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_deacy": 0.0}])
    """
    use_instead = """
        import torch

        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}])
    """
    references = ("https://docs.pytorch.org/docs/stable/optim.html#per-parameter-options",)
    VALID = (
        "import torch\nopt = torch.optim.SGD([{'params': a, 'lr': 0.1, 'initial_lr': 0.1}], lr=1)\n",
        "opt = make_optimizer([{'params': a, 'anything': 1}], weight_decay=0)\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.AdamW([{'params': a}, {'params': b, 'weight_deacy': 0.0}])\n",
        "import torch\nopt = torch.optim.SGD(w, lr=0.1)\nopt.add_param_group({'params': h, 'lr_mul': 2})\n",
    )
    # a group dict always spells its "params" key (literal key or dict(params=...))
    REQUIRES = ("params", r"""["']params["']|\bparams\s*=""", OPTIMIZER_NAMES)

    def may_fire_tree(self, summary) -> bool:
        return summary.params_dict and summary.calls_to(summary.callees() | {"add_param_group"})

    def check(self, ctx) -> Iterator[RawFinding]:
        for call in ctx.optimizer_calls:
            spec = call.spec
            if spec is None or not spec.complete or call.kind == "factory":
                continue
            allowed = spec.hyperparameters | KNOWN_EXTRA_GROUP_KEYS
            for group in call.groups:
                for key, key_node in group.keys:
                    if key in allowed:
                        continue
                    yield RawFinding(
                        self.code,
                        f"param-group key '{key}' is not a hyperparameter of {spec.name}; PyTorch "
                        f"keeps it and ignores it{suggestion(key, allowed)}",
                        key_node,
                        call.node,
                    )
