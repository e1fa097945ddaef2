"""Rules checked at run time by ``optlint.runtime.check_optimizer`` (docs and codes only here)."""

from optlint.rules.base import Rule


class DecayedNoDecayParam(Rule):
    code = "OPT101"
    name = "decayed-no-decay-param"
    summary = "A bias, norm weight, 1-D or token/position parameter in a decayed group"
    where = "runtime"
    what_it_does = """
        Inspects a built optimizer's `param_groups` against the model and names every bias,
        normalization affine parameter, other parameter with ndim <= 1, or token/position
        parameter (listed by a module's `no_weight_decay()`, or a bare `nn.Parameter` named
        like `*pos_embed*` or `*cls_token`) whose group has weight decay > 0. An `nn.Embedding`
        table is an embedding whatever its name, decayed unless `embedding=True`.
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
    what_it_does = "Names every parameter with `requires_grad=True` that no param group holds."
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


#: In code order; optlint.registry adds them to the static rules.
RUNTIME_RULES = (DecayedNoDecayParam, UntrainedParam, FrozenParamDecayed, DuplicateParam, FlatParam)
