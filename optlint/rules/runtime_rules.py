"""Rules checked at run time by ``optlint.runtime.check_optimizer`` (docs and codes only here)."""

from optlint.rules.base import Rule


class DecayedNoDecayParam(Rule):
    code = "OPT101"
    name = "decayed-no-decay-param"
    summary = "A bias, norm weight, 1-D or token/position parameter in a decayed group"
    where = "runtime"
    what_it_does = """
        Inspects a built optimizer's `param_groups` against the model and names every
        parameter whose role says "no decay" while its group has weight decay > 0: a bias
        (`bias`, `*_bias`, `bias_k`/`bias_v`, whatever its shape), any parameter of a
        normalization module (torch's, or a module classed or named like a norm that holds an
        affine: `LlamaRMSNorm`, per-head `q_norm`/`k_norm`), any other vector (at most one
        dimension larger than 1: `(C,)`, `(1, 1, C)`, `(H, 1, 1)`), a token or position table
        (listed by any module's `no_weight_decay()`, named like `cls_token`,
        `distillation_token`, `detection_tokens`, `time_embeddings`, `attention_biases`, a
        `(1, N, C)` table, or a relative-position table however it is stored), and tensors
        that their authors mark `_no_weight_decay` (mamba_ssm's `A_log` and `D`). An
        `nn.Embedding` word or absolute-position table is decayed unless `embedding=True`.
    """
    why_bad = "See OPT001: these parameters must not be pulled toward zero."
    example = """
        opt = torch.optim.AdamW(model.parameters())
        optlint.assert_optimizer(opt, model)  # raises: OPT101 on every bias and norm weight
    """
    use_instead = """
        opt = torch.optim.AdamW(optlint.param_groups(model, weight_decay=0.05))
    """
    fix_safety = "`optlint.fix_optimizer(opt, model)` splits the offending groups in place (unsafe: it changes training, on purpose)."


class UntrainedParam(Rule):
    code = "OPT102"
    name = "untrained-param"
    summary = "A trainable parameter that is in no param group"
    where = "runtime"
    what_it_does = """
        Names every parameter with `requires_grad=True` that no param group holds. Given the
        optimizers that together train a model (`check_optimizer([muon, adamw], model)`;
        `install()` collects them itself), it is judged on their union.
    """
    why_bad = """
        It never trains: a head or adapter forgotten by the optimizer keeps its random
        initialization while the loss still goes down through the rest of the model.
    """
    example = "opt = torch.optim.SGD(model.backbone.parameters(), lr=0.1)  # model.head is never updated"
    use_instead = "opt = torch.optim.SGD(model.parameters(), lr=0.1)"


class FrozenParamDecayed(Rule):
    code = "OPT103"
    name = "frozen-param-decayed"
    summary = "A frozen parameter in a decayed group"
    where = "runtime"
    default_enabled = False
    what_it_does = "Names parameters with `requires_grad=False` that sit in a group with weight decay > 0."
    why_bad = """
        Frozen parameters get no gradient, so PyTorch skips them; but if they are unfrozen
        later (or their grads are zeroed rather than None) decoupled decay shrinks them.
    """


class DuplicateParam(Rule):
    code = "OPT104"
    name = "duplicate-param"
    summary = "The same tensor twice in one param group"
    where = "runtime"
    what_it_does = "Finds a tensor listed more than once in one group (PyTorch only warns)."
    why_bad = "The tensor is updated twice per step, with twice its decay."


class FlatParam(Rule):
    code = "OPT105"
    name = "flat-param"
    summary = "FSDP1 FlatParameters hide names and shapes"
    where = "runtime"
    what_it_does = "Detects FSDP1 `FlatParameter`s in the optimizer (FSDP without `use_orig_params=True`)."
    why_bad = """
        A FlatParameter concatenates many tensors into one 1-D buffer: biases and weights
        share one group and one decay, and no checker can tell them apart.
    """
    use_instead = "Wrap with `FSDP(model, use_orig_params=True)`, or use FSDP2 (`fully_shard`)."


class UnknownDecay(Rule):
    code = "OPT106"
    name = "unknown-decay"
    summary = "An optimizer whose weight decay optlint cannot read"
    where = "runtime"
    what_it_does = """
        Reports, once per optimizer, an optimizer whose param groups have no `weight_decay`
        key and that optlint does not know (not one of torch's, not registered), when it
        holds parameters that must not be decayed: optlint cannot tell whether they are.
    """
    why_bad = """
        Reading an unknown decay as zero would pass an optimizer that decays every bias and
        norm weight under its own key (`"wd"`, `"decay"`); this rule says that the check did
        not happen instead.
    """
    example = """
        class MyAdam(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, wd=0.01):
                super().__init__(params, {"lr": lr, "wd": wd})

        optlint.check_optimizer(MyAdam(model.parameters()), model)  # OPT106
    """
    use_instead = """
        optlint.register_optimizer(MyAdam, decay_key="wd", default=0.01)
        optlint.check_optimizer(MyAdam(model.parameters()), model)  # OPT101 on the biases
    """
    references = ("https://pytorch.org/docs/stable/optim.html#per-parameter-options",)


#: In code order; optlint.registry adds them to the static rules.
RUNTIME_RULES = (DecayedNoDecayParam, UntrainedParam, FrozenParamDecayed, DuplicateParam, FlatParam, UnknownDecay)
