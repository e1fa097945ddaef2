from __future__ import annotations

from typing import Iterator

from optlint.rules.base import RawFinding, Rule
from optlint.rules.patterns import COUPLED_NAMES


class AdamCoupledL2(Rule):
    code = "OPT003"
    name = "adam-coupled-l2"
    summary = "Adam-family weight decay applied as coupled L2"
    where = "both"
    default_enabled = False
    what_it_does = """
        Finds Adam-family optimizers that add the weight decay to the gradient (coupled L2)
        with a decay that may be nonzero: `torch.optim.Adam`, `NAdam`, `RAdam` and `Adamax`
        without `decoupled_weight_decay=True`; apex and DeepSpeed `FusedAdam` with
        `adam_w_mode=False`; timm's `Nadam`/`NAdamLegacy`, and `Adopt` without
        `decoupled=True`; torch-optimizer's `DiffGrad`, `AdaBound`, `Yogi`, and `AdaBelief`/
        `QHAdam` without their decoupling flag. Classes that decay the parameter itself
        (timm and torch-optimizer `AdamP`, `RAdamLegacy`, `AdaMod`) are not reported.
    """
    why_bad = """
        These optimizers add `weight_decay * p` to the gradient before the adaptive scaling,
        so parameters with large gradient history are barely regularized: this is L2
        regularization, not the decoupled weight decay of AdamW (Loshchilov & Hutter).
        It is a legitimate choice, which is why this rule is off by default.
    """
    example = """
        import torch

        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    """
    use_instead = """
        import torch

        optimizer = torch.optim.AdamW(param_groups, lr=1e-3, weight_decay=1e-4)
        # or, on torch >= 2.7: torch.optim.Adam(..., decoupled_weight_decay=True)
    """
    references = (
        "Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019)",
        "https://github.com/huggingface/pytorch-image-models/tree/main/timm/optim",
        "https://github.com/jettify/pytorch-optimizer/tree/master/torch_optimizer",
    )
    VALID = (
        "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)\n",
        "import torch\nopt = torch.optim.Adam(w, lr=1e-3, weight_decay=1e-4, decoupled_weight_decay=True)\n",
        "import torch\nopt = torch.optim.AdamW(w, lr=1e-3, weight_decay=1e-4)\n",
        # AdamP scales the parameter itself: decoupled
        "from timm.optim import AdamP\nopt = AdamP(w, lr=1e-3, weight_decay=1e-2)\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.Adam(w, lr=1e-3, weight_decay=1e-4)\n",
        "from torch.optim import NAdam\nopt = NAdam(w, 2e-3, (0.9, 0.999), 1e-8, 1e-2)\n",
        "from timm.optim import Nadam\nopt = Nadam(w, lr=2e-3, weight_decay=1e-4)\n",
    )
    REQUIRES = (COUPLED_NAMES,)

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.optimizers import COUPLED_ADAM_FAMILY

        reported: set[int] = set()
        for call in ctx.optimizer_calls:
            if call.kind != "optimizer" or id(call.site) in reported:
                continue
            switch = COUPLED_ADAM_FAMILY.get(call.spec.qualname)
            if switch is None:
                continue
            flag, decoupling = switch
            if flag is not None and flag not in call.spec.hyperparameters:
                flag = None  # Adamax: no switch to decoupled decay exists
            decayed = _coupled_decay(ctx, call, flag, decoupling)
            if decayed is None:
                continue
            if call.inner is not None and any(
                _coupled_decay(ctx, inner, flag, decoupling) is not None for inner in ctx.optimizer_calls_at(call.inner.site)
            ):
                continue  # the helper's own call is reported where it is written
            reported.add(id(call.site))
            hint = f" or pass {flag}={decoupling!r}" if flag is not None else ""
            display = f"{call.display} ({call.via})" if call.via else call.display
            yield self.finding(
                call.node,
                f"{display} adds its weight decay to the gradient as L2 (coupled, not decoupled "
                f"weight decay): {decayed.describe()}; use AdamW{hint}",
            )


def _coupled_decay(ctx, call, flag, decoupling):
    """The decay `call` applies as coupled L2, or None (decoupled, or no decay at all)."""
    from optlint.optimizers import COUPLED_ADAM_FAMILY

    if call.kind != "optimizer" or COUPLED_ADAM_FAMILY.get(call.spec.qualname) is None:
        return None
    if flag is not None and flag in call.spec.hyperparameters:
        expr, where, how = call.args.argument(call.spec, flag)
        if how in ("keyword", "positional"):
            value = ctx.resolver.evaluate(expr, where)
            if value.known and value.value == decoupling and not value.overridable:
                return None
        elif call.spec.defaults.get(flag) == decoupling:
            return None  # decoupled by default (apex FusedAdam's adam_w_mode=True)
    decays = [g.weight_decay for g in call.groups] or [call.weight_decay]
    return next((v for v in decays if not v.provably_zero), None)
