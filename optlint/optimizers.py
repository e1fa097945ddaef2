"""What optlint knows about optimizer classes: their signatures and weight-decay defaults.

Each entry is the constructor signature as written in the library (``params`` first), read
as data: the position of every hyperparameter (for positional calls), its default (for
calls that leave it out) and the set of keys a param group may carry. Sources: the
constructors' own signatures in torch 2.11-2.13 (``torch/optim/*.py``), bitsandbytes 0.50,
apex, DeepSpeed 0.19, lion-pytorch 0.2, transformers, timm and torch-optimizer 0.3.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field

#: L2 added to the gradient (coupled), unless `decoupled_weight_decay=True` is passed.
COUPLED_UNLESS_FLAG = "coupled-unless-flag"


@dataclass(frozen=True)
class OptimizerSpec:
    qualname: str  # canonical dotted name, e.g. "torch.optim.AdamW"
    positional: tuple[str, ...]  # parameter names that may be passed positionally, params first
    keyword_only: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict, compare=False, hash=False)
    decay_style: str = "decoupled"  # "decoupled", "l2", COUPLED_UNLESS_FLAG, or "none"
    #: False for user-declared optimizers: their other hyperparameters are unknown, so
    #: group keys cannot be checked against them (OPT006).
    complete: bool = True

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def has_weight_decay(self) -> bool:
        return "weight_decay" in self.positional or "weight_decay" in self.keyword_only

    @property
    def weight_decay_position(self) -> int | None:
        try:
            return self.positional.index("weight_decay")
        except ValueError:
            return None

    @property
    def default_weight_decay(self):
        return self.defaults.get("weight_decay", 0.0)

    @property
    def hyperparameters(self) -> frozenset[str]:
        return frozenset(self.positional[1:]) | frozenset(self.keyword_only)

    def position_of(self, name: str) -> int | None:
        try:
            return self.positional.index(name)
        except ValueError:
            return None


def _spec(qualname: str, signature: str, decay_style: str = "decoupled") -> OptimizerSpec:
    """Build a spec from a signature written like Python: ``"params, lr=1e-3, *, fused=None"``."""
    fn = ast.parse(f"def f({signature}): pass").body[0]
    args = fn.args
    positional = tuple(a.arg for a in args.posonlyargs + args.args)
    keyword_only = tuple(a.arg for a in args.kwonlyargs)
    defaults = {}
    pos_args = args.posonlyargs + args.args
    for arg, default in zip(pos_args[len(pos_args) - len(args.defaults) :], args.defaults):
        defaults[arg.arg] = ast.literal_eval(default)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        if default is not None:
            defaults[arg.arg] = ast.literal_eval(default)
    if "weight_decay" not in positional + keyword_only:
        decay_style = "none"
    return OptimizerSpec(qualname, positional, keyword_only, defaults, decay_style)


_ADAM_BETAS = "betas=(0.9, 0.999)"

# torch.optim (signatures of torch 2.13; Muon and Adafactor are private modules re-exported).
_TORCH = [
    ("SGD", "params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None", "l2"),
    ("Adam", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False", COUPLED_UNLESS_FLAG),
    ("AdamW", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None", "decoupled"),
    ("Adamax", f"params, lr=2e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, foreach=None, *, maximize=False, differentiable=False, capturable=False", COUPLED_UNLESS_FLAG),
    ("NAdam", f"params, lr=2e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False", COUPLED_UNLESS_FLAG),
    ("RAdam", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False", COUPLED_UNLESS_FLAG),
    ("RMSprop", "params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, capturable=False, foreach=None, maximize=False, differentiable=False", "l2"),
    ("Adagrad", "params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None", "l2"),
    ("Adadelta", "params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False, maximize=False, differentiable=False", "l2"),
    ("ASGD", "params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False, differentiable=False, capturable=False", "l2"),
    ("Rprop", "params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None, maximize=False, differentiable=False", "none"),
    ("LBFGS", "params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100, line_search_fn=None", "none"),
    ("SparseAdam", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, maximize=False", "none"),
    ("Adafactor", "params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, foreach=None, maximize=False", "decoupled"),
    ("Muon", "params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None", "decoupled"),
]

_BNB_ADAM = f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay={{wd}}, amsgrad=False, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True, is_paged=False"
_BNB = [
    *[(n, _BNB_ADAM.format(wd=0)) for n in ("Adam", "Adam8bit", "Adam32bit", "PagedAdam", "PagedAdam8bit", "PagedAdam32bit")],
    *[(n, _BNB_ADAM.format(wd=1e-2)) for n in ("AdamW", "AdamW8bit", "AdamW32bit", "PagedAdamW", "PagedAdamW8bit", "PagedAdamW32bit")],
    *[(n, "params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True, is_paged=False") for n in ("Lion", "Lion8bit", "Lion32bit", "PagedLion", "PagedLion8bit", "PagedLion32bit")],
    *[(n, f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, amsgrad=False, adam_w_mode=True, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=False, max_unorm=1.0") for n in ("LAMB", "LAMB8bit", "LAMB32bit")],
    *[(n, "params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True") for n in ("SGD", "SGD8bit", "SGD32bit")],
    *[(n, "params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, max_unorm=0.02") for n in ("LARS", "LARS8bit", "LARS32bit", "PytorchLARS")],
    *[(n, "params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True") for n in ("RMSprop", "RMSprop8bit", "RMSprop32bit")],
    *[(n, "params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, optim_bits=32, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True") for n in ("Adagrad", "Adagrad8bit", "Adagrad32bit")],
    *[(n, "params, lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=5.0, t_alpha=None, t_beta3=None, eps=1e-8, weight_decay=1e-2, optim_bits=32, min_8bit_size=4096, is_paged=False") for n in ("AdEMAMix", "AdEMAMix8bit", "AdEMAMix32bit", "PagedAdEMAMix", "PagedAdEMAMix8bit", "PagedAdEMAMix32bit")],
]

_THIRD_PARTY = [
    ("apex.optimizers.FusedAdam", f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-8, adam_w_mode=True, weight_decay=0.0, amsgrad=False, set_grad_none=True, capturable=False, use_master=False"),
    ("apex.optimizers.FusedLAMB", f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-6, weight_decay=0.01, amsgrad=False, adam_w_mode=True, grad_averaging=True, set_grad_none=True, max_grad_norm=1.0, use_nvlamb=False"),
    ("apex.optimizers.FusedSGD", "params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, wd_after_momentum=False, materialize_master_grads=True, set_grad_none=False"),
    ("apex.optimizers.FusedNovoGrad", "params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, reg_inside_moment=False, grad_averaging=True, norm_type=2, init_zero=False, set_grad_none=True"),
    ("deepspeed.ops.adam.FusedAdam", f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-8, adam_w_mode=True, weight_decay=0.0, amsgrad=False, set_grad_none=True"),
    ("deepspeed.ops.adam.DeepSpeedCPUAdam", f"model_params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, amsgrad=False, adamw_mode=True, fp32_optimizer_states=True"),
    ("deepspeed.ops.lamb.FusedLamb", f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-8, eps_inside_sqrt=False, weight_decay=0.0, max_grad_norm=0.0, max_coeff=10.0, min_coeff=0.01, amsgrad=False"),
    ("deepspeed.ops.lion.FusedLion", "params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0, set_grad_none=True"),
    ("lion_pytorch.Lion", "params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, use_triton=False, decoupled_weight_decay=False"),
    ("transformers.AdamW", "params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, correct_bias=True, no_deprecation_warning=False"),
    ("transformers.Adafactor", "params, lr=None, eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8, beta1=None, weight_decay=0.0, scale_parameter=True, relative_step=True, warmup_init=False"),
    # timm.optim
    ("timm.optim.AdamWLegacy", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=1e-2, amsgrad=False"),
    ("timm.optim.NAdamW", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=1e-2"),
    ("timm.optim.Lamb", f"params, lr=1e-3, bias_correction=True, {_ADAM_BETAS}, eps=1e-6, weight_decay=0.01, grad_averaging=True, max_grad_norm=1.0, trust_clip=False, always_adapt=False"),
    ("timm.optim.Lars", "params, lr=1.0, momentum=0, dampening=0, weight_decay=0, nesterov=False, trust_coeff=0.001, eps=1e-8, trust_clip=False, always_adapt=False"),
    ("timm.optim.AdaBelief", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-16, weight_decay=0, amsgrad=False, decoupled_decay=True, fixed_decay=False, rectify=True, degenerated_to_sgd=True"),
    ("timm.optim.Lion", "params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0"),
    ("timm.optim.Adan", "params, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False"),
    # timm >= 1.0.12 (https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/adopt.py):
    # L2 added to the gradient unless `decoupled=True`.
    ("timm.optim.Adopt", "params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_exp=0.333, weight_decay=0.0, decoupled=False, corrected_weight_decay=False, *, caution=False, foreach=False, maximize=False, capturable=False, differentiable=False"),
    # timm's own Nadam (`timm.optim.Nadam` before 1.0.12, `NAdamLegacy` since;
    # https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/nadam.py):
    # `grad = grad.add(p, alpha=weight_decay)`, always coupled.
    ("timm.optim.NAdamLegacy", f"params, lr=2e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, schedule_decay=4e-3"),
    # timm's RAdam (`timm.optim.RAdam` before 1.0.12, `RAdamLegacy` since): the decay is
    # applied to the parameter, `p.add_(p, alpha=-weight_decay * lr)`: decoupled.
    ("timm.optim.RAdamLegacy", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0"),
    ("timm.optim.LaProp", "params, lr=4e-4, betas=(0.9, 0.999), eps=1e-15, weight_decay=0.0"),
    ("timm.optim.MADGRAD", "params, lr=1e-2, momentum=0.9, weight_decay=0, eps=1e-6, decoupled_decay=False"),
    ("timm.optim.SGDW", "params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False"),
    ("timm.optim.SGDP", "params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, eps=1e-8, delta=0.1, wd_ratio=0.1"),
    ("timm.optim.AdamP", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, delta=0.1, wd_ratio=0.1, nesterov=False"),
    ("timm.optim.RMSpropTF", "params, lr=1e-2, alpha=0.9, eps=1e-10, weight_decay=0, momentum=0.0, centered=False, decoupled_decay=False, lr_in_momentum=True"),
    ("timm.optim.NvNovoGrad", "params, lr=1e-3, betas=(0.95, 0.98), eps=1e-8, weight_decay=0, grad_averaging=False, amsgrad=False"),
    ("timm.optim.Adafactor", "params, lr=None, eps=1e-30, eps_scale=1e-3, clip_threshold=1.0, decay_rate=-0.8, betas=None, weight_decay=0.0, scale_parameter=True, warmup_init=False"),
    ("timm.optim.Muon", "params, lr=0.02, weight_decay=0, momentum=0.95, nesterov=False"),
    # torch-optimizer (jettify): every default is 0
    ("torch_optimizer.Lamb", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-6, weight_decay=0, clamp_value=10, adam=False, debias=False"),
    ("torch_optimizer.RAdam", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0"),
    ("torch_optimizer.DiffGrad", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0"),
    ("torch_optimizer.AdaBelief", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-3, weight_decay=0, amsgrad=False, weight_decouple=False, fixed_decay=False, rectify=False"),
    ("torch_optimizer.AdaBound", f"params, lr=1e-3, {_ADAM_BETAS}, final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0, amsbound=False"),
    ("torch_optimizer.AdamP", f"params, lr=1e-3, {_ADAM_BETAS}, eps=1e-8, weight_decay=0, delta=0.1, wd_ratio=0.1, nesterov=False"),
    ("torch_optimizer.SGDP", "params, lr=1e-3, momentum=0, dampening=0, eps=1e-8, weight_decay=0, delta=0.1, wd_ratio=0.1, nesterov=False"),
    ("torch_optimizer.SGDW", "params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False"),
    ("torch_optimizer.Yogi", f"params, lr=1e-2, {_ADAM_BETAS}, eps=1e-3, initial_accumulator=1e-6, weight_decay=0"),
    ("torch_optimizer.QHAdam", f"params, lr=1e-3, {_ADAM_BETAS}, nus=(1.0, 1.0), weight_decay=0.0, decouple_weight_decay=False, eps=1e-8"),
    ("torch_optimizer.MADGRAD", "params, lr=1e-2, momentum=0.9, weight_decay=0, eps=1e-6"),
    ("torch_optimizer.NovoGrad", "params, lr=1e-3, betas=(0.95, 0), eps=1e-8, weight_decay=0, grad_averaging=False, amsgrad=False"),
    ("torch_optimizer.AdaMod", "params, lr=1e-3, betas=(0.9, 0.999), beta3=0.999, eps=1e-8, weight_decay=0"),
    ("torch_optimizer.Apollo", "params, lr=1e-2, beta=0.9, eps=1e-4, warmup=0, init_lr=0.01, weight_decay=0"),
    ("torch_optimizer.Lookahead", "optimizer, k=5, alpha=0.5"),
]

#: Packages under which optimizers may also be reached through a submodule path
#: (``torch.optim.adamw.AdamW``, ``bitsandbytes.optim.adamw.AdamW8bit``, ``timm.optim.lamb.Lamb``).
PACKAGE_ROOTS = ("torch.optim", "bitsandbytes.optim", "timm.optim", "torch_optimizer", "apex.optimizers")


def _build_registry() -> dict[str, OptimizerSpec]:
    registry: dict[str, OptimizerSpec] = {}
    for name, sig, style in _TORCH:
        registry[f"torch.optim.{name}"] = _spec(f"torch.optim.{name}", sig, style)
    for name, sig in _BNB:
        registry[f"bitsandbytes.optim.{name}"] = _spec(f"bitsandbytes.optim.{name}", sig)
    for qualname, sig in _THIRD_PARTY:
        registry[qualname] = _spec(qualname, sig)
    return registry


#: The documented aliases of the same classes: alias -> canonical name.
_ALIASES = {
    "transformers.optimization.AdamW": "transformers.AdamW",
    "transformers.optimization.Adafactor": "transformers.Adafactor",
    "deepspeed.ops.adam.fused_adam.FusedAdam": "deepspeed.ops.adam.FusedAdam",
    "deepspeed.ops.adam.cpu_adam.DeepSpeedCPUAdam": "deepspeed.ops.adam.DeepSpeedCPUAdam",
    # timm.optim before 1.0.12 named its legacy Nadam `Nadam`
    "timm.optim.Nadam": "timm.optim.NAdamLegacy",
    # timm.optim re-exports torch.optim's classes (timm/optim/__init__.py, since 1.0.12; its own
    # AdamW before that was decoupled with the same default). `timm.optim.RAdam` is left out: it
    # was timm's decoupled RAdam before 1.0.12 and torch's coupled one since.
    **{f"timm.optim.{name}": f"torch.optim.{name}"
       for name in ("Adadelta", "Adagrad", "Adamax", "Adam", "AdamW", "RMSprop", "SGD", "NAdam")},
}
_TIMM_FACTORY_SIGNATURES = {
    # create_optimizer_v2(model_or_params, opt='sgd', lr=None, weight_decay=0., momentum=0.9, ...)
    "timm.optim.create_optimizer_v2":
        "model_or_params, opt='sgd', lr=None, weight_decay=0.0, momentum=0.9, foreach=None, filter_bias_and_bn=True",
    # create_optimizer(args, model, filter_bias_and_bn=True): the decay comes from args.weight_decay
    "timm.optim.create_optimizer": "args, model, filter_bias_and_bn=True",
}

#: The Adam family with coupled L2 decay (OPT003): qualname -> the flag that makes the decay
#: decoupled and the value that does it (None: always coupled). torch's Adam/NAdam/RAdam take
#: `decoupled_weight_decay=True` (torch >= 2.7); apex and DeepSpeed FusedAdam are AdamW
#: unless `adam_w_mode=False`; torch-optimizer's Adam variants add the decay to the gradient.
#: Read from each class's `step()`: coupled where it adds `weight_decay * p` to the gradient
#: before the adaptive scaling (timm nadam.py and adopt.py; torch-optimizer diffgrad.py,
#: adabound.py, yogi.py at https://github.com/jettify/pytorch-optimizer). Not listed,
#: because they scale the parameter itself (decoupled): timm's RAdamLegacy and AdamP,
#: torch-optimizer's RAdam, AdaMod and AdamP (`p.mul_(1 - lr * weight_decay * wd_ratio)`).
COUPLED_THIRD_PARTY: dict[str, tuple[str | None, object]] = {
    "apex.optimizers.FusedAdam": ("adam_w_mode", True),
    "deepspeed.ops.adam.FusedAdam": ("adam_w_mode", True),
    "torch_optimizer.AdaBelief": ("weight_decouple", True),
    "torch_optimizer.QHAdam": ("decouple_weight_decay", True),
    "timm.optim.AdaBelief": ("decoupled_decay", True),
    "timm.optim.Adopt": ("decoupled", True),
    "timm.optim.NAdamLegacy": (None, None),
    "timm.optim.Nadam": (None, None),
    **{f"torch_optimizer.{name}": (None, None) for name in ("DiffGrad", "AdaBound", "Yogi")},
}

#: Every last name an OPT003 class goes by (its pre-filter): torch's coupled classes, the
#: third-party ones and the aliases of either.
COUPLED_LAST_NAMES = frozenset(
    q.rsplit(".", 1)[-1]
    for q in [f"torch.optim.{name}" for name, _, style in _TORCH if style == COUPLED_UNLESS_FLAG]
    + list(COUPLED_THIRD_PARTY)
    for q in [q, *(alias for alias, canonical in _ALIASES.items() if canonical == q)]
)

#: The last component of every known optimizer and factory name: the checker's cheap first test
#: of whether a call could be an optimizer at all. Read from the tables' names alone, so the
#: pre-filter never pays for parsing signatures.
KNOWN_LAST_NAMES = frozenset(
    [name for name, _, _ in _TORCH] + [name for name, _ in _BNB]
    + [q.rsplit(".", 1)[-1] for q, _ in _THIRD_PARTY] + [q.rsplit(".", 1)[-1] for q in _TIMM_FACTORY_SIGNATURES]
    + [q.rsplit(".", 1)[-1] for q in _ALIASES]
)


@functools.lru_cache(maxsize=1)
def _tables() -> dict[str, object]:
    """The specs, built from their signatures on first use (only files with a candidate call
    need them): OPTIMIZERS, COUPLED_ADAM, COUPLED_ADAM_FAMILY and TIMM_FACTORIES."""
    optimizers = _build_registry()
    for alias, canonical in _ALIASES.items():
        optimizers[alias] = optimizers[canonical]
    #: Coupled-L2 Adam family of torch.optim (OPT003). bitsandbytes' Adam is decoupled.
    coupled = frozenset(q for q, s in optimizers.items() if s.decay_style == COUPLED_UNLESS_FLAG)
    family = {**{q: ("decoupled_weight_decay", True) for q in coupled}, **COUPLED_THIRD_PARTY}
    #: timm factories that skip their bias/norm split when given ``X.parameters()``.
    factories = {q: _spec(q, signature) for q, signature in _TIMM_FACTORY_SIGNATURES.items()}
    for q in list(factories):
        factories[q.replace("timm.optim.", "timm.optim.optim_factory.")] = factories[q]
    return {"OPTIMIZERS": optimizers, "COUPLED_ADAM": coupled, "COUPLED_ADAM_FAMILY": family, "TIMM_FACTORIES": factories}


def __getattr__(name: str):
    tables = _tables()
    if name in tables:
        return tables[name]
    raise AttributeError(f"module 'optlint.optimizers' has no attribute {name!r}")


def lookup(qualname: str, extra: dict[str, OptimizerSpec] | None = None) -> OptimizerSpec | None:
    """The spec for a resolved dotted name, following package re-exports; None if unknown."""
    if extra and qualname in extra:
        return extra[qualname]
    optimizers = _tables()["OPTIMIZERS"]
    spec = optimizers.get(qualname)
    if spec is not None:
        return spec
    for root in PACKAGE_ROOTS:
        if qualname.startswith(root + "."):
            candidate = f"{root}.{qualname.rsplit('.', 1)[-1]}"
            if candidate in optimizers:
                return optimizers[candidate]
    return None


def extra_spec(qualname: str, default: float, position: int | None) -> OptimizerSpec:
    """A user-declared optimizer (``extra-optimizers`` in config)."""
    if position is None:
        positional: tuple[str, ...] = ("params", "lr")
        keyword_only: tuple[str, ...] = ("weight_decay",)
    else:
        positional = ("params",) + tuple(f"arg{i}" for i in range(1, position)) + ("weight_decay",)
        keyword_only = ()
    return OptimizerSpec(
        qualname, positional, keyword_only, {"weight_decay": default}, "decoupled", complete=False
    )


