from __future__ import annotations

import ast
from typing import Iterator

from optlint.rules.base import RawFinding, Rule
from optlint.rules.patterns import OPTIMIZER_OR_FACTORY

_ADVICE = "put vector parameters (biases, norm weights: `p.squeeze().ndim < 2`) in a group with weight_decay=0.0"


class DecayAllParams(Rule):
    code = "OPT001"
    name = "decay-all-params"
    summary = "Weight decay applied to every parameter of a module"
    fixable = True
    what_it_does = """
        Finds optimizers built over all parameters of a module (`model.parameters()`, an
        unfiltered `named_parameters()` comprehension, a list, `filter` or `chain` of them,
        or a param group holding them) with weight decay that is nonzero or not statically
        known: an explicit `weight_decay=`, the positional slot (SGD's 5th argument), a
        group's own `"weight_decay"`, or the optimizer's default (AdamW 0.01, Muon 0.1).
    """
    why_bad = """
        Weight decay pulls every decayed parameter toward zero. For biases this pins each
        decision hyperplane near the origin; for LayerNorm/BatchNorm/RMSNorm weights it
        fights the normalization's scale, and it shrinks position embeddings and class
        tokens. Every major codebase (timm, Hugging Face, nanoGPT, Megatron) gives these
        parameters no decay. `AdamW(model.parameters())` decays them at 0.01 by default.
    """
    known_problems = """
        Factories, helpers, constants and config defaults in other modules of the project are
        followed (see the README's "Across modules"); a callee outside the project (an
        installed package) is reported only when the call passes `weight_decay=` and bare
        parameters. When the factory's own text decides (its call over all parameters with
        its own decay), the factory's file reports it and its callers stay silent. A module frozen and given adapters is
        trusted to train adapters only; modules unfrozen again after the freeze (a final
        norm, the last block, norms chosen by name) train in full and are reported. An
        optimizer class that skips 1-D parameters in its own `step()` is recognized when it is
        defined in the file (or is a LARS). A model class of this file whose parameters are
        provably all matrices (embedding tables, bias-free linear layers, 2-D `nn.Parameter`s)
        has nothing to protect and is not reported; one optlint cannot read in full is.
        When an `if` picks the parameters, the decay is read on that path. Groups appended
        once per parameter in a loop count as one group over the module. The optimizer
        `deepspeed.initialize` builds takes its decay from a config file: not reported here.
    """
    example = """
        import torch

        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """
    use_instead = """
        import torch

        decay = [p for p in model.parameters() if p.squeeze().ndim >= 2]
        no_decay = [p for p in model.parameters() if p.squeeze().ndim < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=1e-3,
            weight_decay=0.05,
        )
    """
    fix_safety = """
        Safe when its only effect is the decay of vectors (tensors with at most one dimension
        larger than 1): `optlint check --fix` rewrites the call into a decay group
        (`p.squeeze().ndim >= 2`) and a no-decay group (`p.squeeze().ndim < 2`,
        `"weight_decay": 0.0`), keeping the decay value where it was, every other argument,
        and existing filters and group keys. A one-shot iterator is never iterated twice: it
        is rebuilt from its source or materialized with `list(...)`, inserted before the
        statement (on its own row when the statement starts one).

        The fix first finds every use of the optimizer's groups the file shows (through
        names, `self.` attributes, returns and in-file helpers). Per-group scheduler lists
        (`LambdaLR(opt, [f, g])`, `OneCycleLR(max_lr=[...])`, `CyclicLR`) get the split
        group's entry twice; an index after a split group moves with it; a write to group 0
        of a one-group optimizer becomes a loop over the groups. A write to one group of
        several, clipping one group's `params`, `len(opt.param_groups)`, a `zip` or
        `enumerate` over the groups, FSDP1 wrapping (flat 1-D parameters) before the
        optimizer and ZeroRedundancyOptimizer stop the fix: the finding says why, naming the
        line. The fix is unsafe (only `--unsafe-fixes` applies it, and the finding says what
        to check) when the file loads an optimizer or scheduler state dict (a checkpoint
        saved before the fix has fewer groups) or hands the optimizer to code optlint cannot
        read. At run time, `optlint.param_groups(model, weight_decay)` applies the full policy.
    """
    references = (
        "Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019)",
        "timm `param_groups_weight_decay`; nanoGPT `configure_optimizers`",
        "https://docs.pytorch.org/docs/stable/optim.html#per-parameter-options",
    )
    VALID = (
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n",
        "import torch\nopt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)\n",
        "import torch\nopt = torch.optim.AdamW([p for p in model.parameters() if p.ndim >= 2], lr=1e-3)\n",
        "from torch import optim\nopt = optim.SGD([{'params': model.base.parameters()},\n"
        "    {'params': model.classifier.parameters(), 'lr': 1e-3}], lr=1e-2, momentum=0.9)\n",
        "def make(params):\n    import torch\n    return torch.optim.AdamW(params)\n",
        "import torch\nopt = torch.optim.AdamW(model.parameters())  # noqa: OPT001\n",
        # PEFT freezes the base: only 2-D adapter matrices train
        "import torch\nfrom peft import LoraConfig, get_peft_model\nmodel = get_peft_model(base, LoraConfig(r=8))\n"
        "opt = torch.optim.AdamW(model.parameters(), lr=1e-4)\n",
        # a model of this file with matrices only (embedding tables): nothing to protect
        "import torch\nfrom torch import nn\nclass KG(nn.Module):\n    def __init__(self, n, d):\n        super().__init__()\n"
        "        self.ent = nn.Embedding(n, d)\n        self.rel = nn.Embedding(n, d)\n"
        "opt = torch.optim.AdamW(KG(1000, 64).parameters(), lr=1e-3)\n",
        # a config field default that nothing in the file changes is a constant
        "import torch\nfrom dataclasses import dataclass\n@dataclass\nclass Config:\n    weight_decay: float = 0.0\n"
        "cfg = Config()\nopt = torch.optim.AdamW(model.parameters(), weight_decay=cfg.weight_decay)\n",
        # the parameters of the whole module are taken only when the decay is 0 (or a caller
        # turns the split off): the decay is read on that path, through `**opt_args`
        "import torch\ndef create(model, weight_decay, filter_bias_and_bn=True):\n"
        "    if weight_decay and filter_bias_and_bn:\n        parameters = split(model)\n        weight_decay = 0.0\n"
        "    else:\n        parameters = model.parameters()\n    opt_args = dict(lr=0.1, weight_decay=weight_decay)\n"
        "    opt_args.setdefault('betas', (0.9, 0.99))\n    return torch.optim.AdamW(parameters, **opt_args)\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n",
        "from torch import optim\nopt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-5)\n",
        "import torch.optim as o\nopt = o.SGD(net.parameters(), 0.1, 0.9, 0, 5e-4)\n",
        "from torch.optim import SGD\nopt = SGD([{'params': model.parameters(), 'weight_decay': 1e-4}], lr=0.1)\n",
        # frozen, then the final norm unfrozen: the norm's weight and bias are decayed
        "import torch\nmodel.requires_grad_(False)\nfor p in model.final_norm.parameters():\n    p.requires_grad = True\n"
        "opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)\n",
        # one group per parameter, every one decayed
        "import torch\ngroups = []\nfor n, p in model.named_parameters():\n    groups.append({'params': [p], 'weight_decay': 0.05})\n"
        "opt = torch.optim.AdamW(groups, lr=1e-3)\n",
    )
    # `parameters()` here, or a helper of another module that gathers them and says so
    # (`trainable_params(model)`, `get_param_groups(...)`)
    REQUIRES = ("param", r"param\w*\s*\(", OPTIMIZER_OR_FACTORY)

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.fix.edits import NoFix, caveat_note
        from optlint.static.fix.split_groups import build_fix

        reported: set[int] = set()
        for call in ctx.optimizer_calls:
            if id(call.site) in reported or call.kind == "engine":
                continue  # one finding per call; DeepSpeed's decay is in its config, not the file
            offending = offending_groups(ctx, call)
            if not offending:
                continue
            if call.inner is not None and any(
                offending_groups(ctx, inner) for inner in ctx.optimizer_calls_at(call.inner.site)
            ):
                continue  # the helper's own call is reported where it is written
            reported.add(id(call.site))
            fix, reason = None, None
            if any(group.per_parameter is not None for group, _ in offending):
                reason = "each parameter gets a group of its own; give the groups of vectors weight_decay=0.0 in the loop"
            elif any(group.params is not None and group.params.chosen for group, _ in offending):
                # A rewrite of the shared expression runs on every path: on another one it may
                # hold param groups (dicts have no ndim) or a set that is already split.
                reason = "the parameters are chosen at run time, and the rewrite would run on every path (another may hold param groups or an already split set); split them where each path builds them"
            else:
                try:
                    fix = build_fix(call, ctx.resolver)
                except NoFix as exc:
                    reason = str(exc)
            message = _message(call, offending) + (f" (no automatic fix: {reason})" if reason else "") + caveat_note(fix)
            yield self.finding(call.node, message, fix=fix, no_fix=reason)


def offending_groups(ctx, call) -> list:
    """[(group, modules)] for every group that decays every trainable parameter of some
    module (two groups split by a name test and its negation count as the first of them).
    Modules whose base is frozen and given adapters train only adapters; a module of this
    file whose parameters are all matrices has nothing to protect."""
    from optlint.static.model.params import is_embedding_table

    def decayed(modules, roots, assumed=frozenset()):
        return [
            module
            for module, (root, where) in zip(modules, roots)
            if not is_embedding_table(root)
            and not ctx.params.adapters_only(root, where, call.site.order, assumed)
            and not ctx.params.only_matrices(root, where)
        ]

    found = []
    union_groups = ()
    if call.union is not None:
        union, (a, b) = call.union
        if not (a.weight_decay.provably_zero or b.weight_decay.provably_zero):
            modules = decayed(union.modules, union.roots)
            if modules:
                found.append((a, modules))
                union_groups = (a, b)
    for group in call.groups:
        if group.params is None or group.weight_decay.provably_zero or group in union_groups:
            continue
        if group.params.on_path is not None:
            group = _on_path(ctx, call, group)
            if group is None:
                continue
        modules = decayed(group.params.modules, group.params.roots, group.params.assumed)
        if modules:
            found.append((group, modules))
    return found


def _on_path(ctx, call, group):
    """The group with its decay read on the path that chose its parameters (`if ...: params
    = split(m) else: params = m.parameters()`), or None when that path has no decay."""
    from dataclasses import replace

    from optlint.static.model.params import path_without_decay
    from optlint.static.model.values import Where

    source = group.decay_source
    if source is None and call.kind == "optimizer" and call.spec is not None and call.args is not None:
        expr, where, how = call.args.argument(call.spec, "weight_decay")
        source = (expr, where) if how in ("keyword", "positional") else _double_star_item(ctx, call.args, "weight_decay")
    if source is None:
        return group  # the optimizer's default: the same on every path
    expr, where = source
    path = group.params.on_path
    if path_without_decay(ctx.model.branches, path, where.path, expr):
        return None
    value = ctx.resolver.evaluate(expr, Where(where.scope, where.order, path, where.env))
    return None if value.provably_zero else replace(group, weight_decay=value)


def _double_star_item(ctx, args, key: str):
    """(expr, where) of `key` in the one dict literal a `**name` argument holds
    (`opt_args = dict(lr=lr, weight_decay=weight_decay)` ... `SGD(params, **opt_args)`), when
    nothing in the function writes that key again; else None."""
    import ast

    from optlint.static.model.scopes import BindingKind
    from optlint.static.model.values import Where

    starred = [(value, where) for name, value, where in args.keywords if name is None]
    if len(starred) != 1 or not isinstance(starred[0][0], ast.Name):
        return None
    node, where = starred[0]
    bindings = ctx.resolver.reaching(node.id, where)
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
        return None
    literal = bindings[0].node
    if isinstance(literal, ast.Call) and isinstance(literal.func, ast.Name) and literal.func.id == "dict" and not literal.args:
        items = {k.arg: k.value for k in literal.keywords}
        if None in items:
            return None
    elif isinstance(literal, ast.Dict) and all(isinstance(k, ast.Constant) for k in literal.keys):
        items = {k.value: v for k, v in zip(literal.keys, literal.values)}
    else:
        return None
    if key not in items or where.scope.node is None:
        return None
    for inner in ast.walk(where.scope.node):  # `opt_args["weight_decay"] = 0`, `opt_args.update(...)`
        if isinstance(inner, ast.Subscript) and isinstance(inner.ctx, (ast.Store, ast.Del)) \
                and isinstance(inner.value, ast.Name) and inner.value.id == node.id \
                and not (isinstance(inner.slice, ast.Constant) and inner.slice.value != key):
            return None
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in ("update", "setdefault", "__setitem__") \
                and isinstance(inner.func.value, ast.Name) and inner.func.value.id == node.id:
            named = [a.value for a in inner.args[:1] if isinstance(a, ast.Constant)] if inner.func.attr != "update" else []
            keys = [k.arg for k in inner.keywords] if inner.func.attr == "update" and not inner.args else None
            if not (named and named[0] != key) and not (keys is not None and None not in keys and key not in keys):
                return None
    return items[key], Where.of_binding(bindings[0], where.env)


def _message(call, offending: list) -> str:
    group, modules = offending[0]
    groups = [g for g, _ in offending]
    decays = [g.weight_decay.describe() for g in groups]
    decay = decays[0] if len(set(decays)) == 1 else ", ".join(
        f"{d} (group {g.index})" if g.index is not None else d for g, d in zip(groups, decays)
    )
    unknown = "" if all(g.weight_decay.known for g in groups) else "; if it is always 0, add `# noqa: OPT001`"
    modules = list(dict.fromkeys(m for _, ms in offending for m in ms))
    shown = "`, `".join(modules)
    display = f"{call.display} ({call.via})" if call.via else call.display
    chosen = " (on the path that chooses them)" if any(g.params is not None and g.params.chosen for g in groups) else ""
    if call.kind == "factory":
        if group.params_node is not None and not _is_parameters_call(group.params_node):
            return (
                f"{display} is told not to split biases and norms (filter_bias_and_bn=False), so it "
                f"decays every parameter of `{shown}` with {decay}; drop the flag{unknown}"
            )
        return (
            f"{display} got `{shown}`'s parameters, not the module, so it skips "
            f"timm's bias/norm split and decays them all with {decay}; pass the module itself{unknown}"
        )
    if call.union is not None and call.union[1][0] is group:
        a, b = call.union[1]
        others = "".join(f", and param group {g.index}" for g in groups[1:] if g.index is not None)
        return (
            f"param groups {a.index} and {b.index}{others} of {display} are split by name, not by role, and "
            f"together decay every parameter of `{shown}`, biases and norm weights included: {decay}; "
            f"{_ADVICE}{unknown}"
        )
    loops = [g.per_parameter for g in groups if g.per_parameter is not None]
    if loops:
        return (
            f"the per-parameter groups of {display} (one for each parameter of `{shown}`, appended in the "
            f"loop on line {loops[0].lineno}) decay every parameter, biases and norm weights included: "
            f"{decay}; {_ADVICE}{unknown}"
        )
    indexes = [g.index for g in groups if g.index is not None]
    if indexes:
        named = f"param group {indexes[0]}" if len(indexes) == 1 else (
            "param groups " + ", ".join(str(i) for i in indexes[:-1]) + f" and {indexes[-1]}"
        )
        verb = "decays" if len(indexes) == 1 else "decay"
        return (
            f"{named} of {display} {verb} every parameter of "
            f"`{shown}`{chosen}, biases and norm weights included: {decay}; {_ADVICE}{unknown}"
        )
    return (
        f"{display} decays every parameter of `{shown}`{chosen}, biases and norm weights "
        f"included: {decay}; {_ADVICE}{unknown}"
    )


def _is_parameters_call(node) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in ("parameters", "named_parameters") for n in ast.walk(node))
