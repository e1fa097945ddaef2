"""The one no-decay policy: which parameters must not get weight decay, and why.

Used by the runtime checker, the runtime builder (``param_groups``) and ``fix_optimizer``;
the static autofix uses its shape-only form (``STATIC_NO_DECAY_TEST``) because a script's
model is not known without running it. Order of the tiers (first match wins, every reason
kept for the report), after shared/DOMAIN.md section 5.2:

0. user overrides: ``force_weight_decay`` / ``no_weight_decay`` globs on the canonical name,
   and ``p._no_weight_decay = True`` on the tensor;
1. bias: a parameter named ``bias``, ``bias_*`` or ``*_bias`` with ndim <= 1;
   norm affine: owned by a normalization layer (torch's, or one named like one);
   any other ndim <= 1 parameter (LayerScale, logit_scale, PReLU);
2. tokens and position parameters: ``no_weight_decay()`` / ``no_weight_decay_keywords()``
   of every submodule, and the built-in globs below;
3. embedding tables: decayed unless ``embedding=True`` asks to exclude them;
4. everything else (matrices, kernels): decayed.

Importing this module does not import torch; ``classify`` does.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import gc
import re
from dataclasses import dataclass, field

#: The static (shape-only) form of the policy, for code rewritten without its model.
STATIC_NO_DECAY_TEST = "{p}.ndim < 2"
STATIC_DECAY_TEST = "{p}.ndim >= 2"

BIAS, NORM, ONE_D, TOKEN, EMBEDDING, USER, DECAY = (
    "bias", "norm", "1-d", "token/position", "embedding", "user no_weight_decay", "decay",
)
NO_DECAY_ROLES = frozenset({BIAS, NORM, ONE_D, TOKEN, USER})

TOKEN_GLOBS = (
    "*pos_embed*", "*position_embedding*", "*positional_embedding*", "*absolute_pos_embed",
    "*relative_position_bias_table", "*rel_pos_h", "*rel_pos_w", "*cls_token", "*class_token",
    "*class_embedding", "*cls_emb", "*dist_token", "*reg_token*", "*mask_token",
)
_PRIVATE_WRAPPERS = re.compile(r"(?:^|(?<=\.))(?:_orig_mod|_fsdp_wrapped_module|_checkpoint_wrapped_module)\.")
_TOKEN_NAME = re.compile("|".join(fnmatch.translate(glob) for glob in TOKEN_GLOBS))
WRAPPER_PREFIXES = ("module.", "_orig_mod.", "_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")
_NORM_CLASS = re.compile(r"(?i)(?:norm|ln)$|RMSNorm|LayerNorm|ScaleNorm|FrozenBatchNorm")
_NORM_LOCAL_NAME = re.compile(r"(?:^|[._])(?:norm\d*|ln(?:_\w+)?|layer_?norm|rms_?norm|bn\d*)$")


def canonical_name(name: str) -> str:
    """Strip wrapper prefixes: DDP ``module.``, torch.compile ``_orig_mod.``, FSDP1, checkpointing.

    ``module.`` is stripped only as a leading wrapper (a user's submodule may be called
    "module" deeper down); the private wrapper names are stripped wherever they occur.
    """
    while name.startswith("module."):
        name = name[len("module."):]
    if "_orig_mod." in name or "_wrapped_module." in name:
        name = _PRIVATE_WRAPPERS.sub("", name)
    return name


@dataclass(frozen=True)
class PolicyOptions:
    exclude_1d: bool = True  # timm's weight_decay_exclude_1d / filter_bias_and_bn
    bias: bool = True  # no decay for biases
    norm: bool = True  # no decay for normalization affine parameters
    embedding: bool = False  # exclude embedding tables too (minGPT, OLMo-style recipes)
    no_weight_decay: tuple[str, ...] = ()  # globs on canonical names: never decay
    force_weight_decay: tuple[str, ...] = ()  # globs: always decay (wins over everything)
    extra_norm_classes: tuple = ()  # classes (or class names) to treat as normalization layers
    use_model_hooks: bool = True  # ask modules' no_weight_decay() / no_weight_decay_keywords()

    @classmethod
    def from_kwargs(cls, options: dict) -> "PolicyOptions":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(options) - known
        if unknown:
            raise TypeError(
                f"unknown policy option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        values = dict(options)
        for key in ("no_weight_decay", "force_weight_decay", "extra_norm_classes"):
            if key in values:
                value = values[key]
                values[key] = (value,) if isinstance(value, (str, type)) else tuple(value)
        return cls(**values)


@dataclass(slots=True)
class ParamInfo:
    """One tensor of the model: every name it is known by, its role and why."""

    names: list[str]
    ndim: int
    requires_grad: bool
    role: str = DECAY
    reasons: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def no_decay(self) -> bool:
        return self.role in NO_DECAY_ROLES


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic GC while building many small objects for one model.

    Each generation-2 collection walks the whole model graph: on a 100k-tensor model,
    collections triggered by our own allocations cost more than the classification.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.lru_cache(maxsize=None)
def _norm_types():
    import torch.nn as nn
    from torch.nn.modules.batchnorm import _NormBase

    types = [_NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm]
    if hasattr(nn, "RMSNorm"):
        types.append(nn.RMSNorm)
    return tuple(types)


def is_norm_module(module, local_name: str, options: PolicyOptions) -> bool:
    cls = type(module)
    if isinstance(module, _norm_types()):
        return True
    for extra in options.extra_norm_classes:
        if (isinstance(extra, type) and isinstance(module, extra)) or extra == cls.__name__:
            return True
    if any(_NORM_CLASS.search(klass.__name__) for klass in cls.__mro__ if klass.__module__ != "builtins"):
        # duck-typed norms (detectron2's LayerNorm, LLaMA's LlamaRMSNorm), but not containers
        # whose name merely ends in "ln" or "norm" and own matrices
        return all(p.ndim <= 1 for p in module._parameters.values() if p is not None)
    return bool(_NORM_LOCAL_NAME.search(local_name)) and not module._modules


def _all_module_paths(model) -> list[tuple[str, object]]:
    """(dotted path, module) for every path to every submodule, shared modules included.

    The same walk as ``named_modules(remove_duplicate=False)``, over the ``_modules`` dicts
    directly: on a 100k-parameter model the generator machinery costs more than the check.
    """
    out = []
    stack = [("", model, frozenset())]
    while stack:
        path, module, ancestors = stack.pop()
        out.append((path, module))
        children = getattr(module, "_modules", None)
        if not children:
            continue
        inner = ancestors | {id(module)}
        for name, child in reversed(list(children.items())):
            if child is not None and id(child) not in inner:  # a module that contains itself
                stack.append((f"{path}.{name}" if path else name, child, inner))
    return out


def _hook_names(modules, options: PolicyOptions) -> tuple[set[str], list[tuple[str, str]]]:
    """Names from no_weight_decay() and (prefix, keyword) pairs from no_weight_decay_keywords()."""
    names: set[str] = set()
    keywords: list[tuple[str, str]] = []
    if not options.use_model_hooks:
        return names, keywords
    called: set[int] = set()
    hooks_of: dict[type, tuple[str, ...]] = {}  # which hook methods each class defines
    for module_name, module in modules:
        cls = type(module)
        hooks = hooks_of.get(cls)
        if hooks is None:
            hooks = hooks_of[cls] = tuple(
                attr for attr in ("no_weight_decay", "no_weight_decay_keywords") if callable(getattr(cls, attr, None))
            )
        if not hooks or id(module) in called:
            continue
        called.add(id(module))
        prefix = canonical_name(f"{module_name}.") if module_name else ""
        for attr in hooks:
            sink = "names" if attr == "no_weight_decay" else "keywords"
            try:
                found = getattr(module, attr)()
            except Exception:  # a user hook that needs arguments or state: ignore it
                continue
            for item in found or ():
                if sink == "names":
                    names.add(prefix + str(item))
                else:
                    keywords.append((prefix, str(item)))
    return names, keywords


def classify(model, **options) -> dict[int, ParamInfo]:
    """Every parameter of `model`, keyed by ``id(tensor)``, with its role and reasons."""
    opts = options if isinstance(options, PolicyOptions) else PolicyOptions.from_kwargs(options)
    return classify_with(model, opts)


def _fsdp1_original_ndims(modules) -> dict[str, int]:
    """FSDP1 with use_orig_params=True exposes flattened 1-D shards: recover the real ndim."""
    ndims: dict[str, int] = {}
    for module_name, module in modules:
        handle = module.__dict__.get("_handle")  # FSDP1 units only; avoids Module.__getattr__
        flat = getattr(handle, "flat_param", None) if handle is not None else None
        if flat is None or not hasattr(flat, "_fqns"):
            continue
        prefix = canonical_name(f"{module_name}.") if module_name else ""
        for fqn, shape in zip(flat._fqns, flat._shapes):
            ndims[prefix + canonical_name(fqn)] = len(shape)
    return ndims


def _glob_matcher(globs: tuple[str, ...]):
    if not globs:
        return lambda name: False
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs)).match


def classify_with(model, opts: PolicyOptions) -> dict[int, ParamInfo]:
    import torch.nn as nn

    forced, excluded = _glob_matcher(opts.force_weight_decay), _glob_matcher(opts.no_weight_decay)
    norm_cache: dict[int, bool] = {}

    infos: dict[int, ParamInfo] = {}
    modules = _all_module_paths(model)
    original_ndims = _fsdp1_original_ndims(modules)
    owners: dict[int, list[tuple[str, object, str]]] = {}
    tensors: dict[int, object] = {}
    for module_name, module in modules:
        local_module = module_name.rsplit(".", 1)[-1]
        for local, param in module._parameters.items():
            if param is None:
                continue
            full = canonical_name(f"{module_name}.{local}" if module_name else local)
            info = infos.get(id(param))
            if info is None:
                tensors[id(param)] = param
                ndim = original_ndims.get(full, param.ndim) if original_ndims else param.ndim
                infos[id(param)] = info = ParamInfo([], ndim, param.requires_grad)
            if full not in info.names:
                info.names.append(full)
            owners.setdefault(id(param), []).append((local, module, local_module))
    hook_names, hook_keywords = _hook_names(modules, opts)

    for key, info in infos.items():
        reasons: list[tuple[str, str]] = []
        names = info.names
        for local, module, local_module in owners[key]:
            if opts.bias and info.ndim <= 1 and (local == "bias" or local.startswith("bias_") or local.endswith("_bias")):
                reasons.append((BIAS, f"a bias of {type(module).__name__}"))
            if opts.norm and id(module) not in norm_cache:
                norm_cache[id(module)] = is_norm_module(module, local_module, opts)
            if opts.norm and norm_cache[id(module)]:
                reasons.append((NORM, f"an affine parameter of {type(module).__name__}"))
            if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
                reasons.append((EMBEDDING, f"the table of {type(module).__name__}"))
        if opts.exclude_1d and info.ndim <= 1:
            reasons.append((ONE_D, f"{info.ndim}-D"))
        for name in names:
            if name in hook_names:
                reasons.append((TOKEN, "listed by the model's no_weight_decay()"))
            elif hook_keywords and any(
                name.startswith(prefix) and keyword in name[len(prefix):] for prefix, keyword in hook_keywords
            ):
                reasons.append((TOKEN, "matched by the model's no_weight_decay_keywords()"))
            elif _TOKEN_NAME.match(name):
                reasons.append((TOKEN, "named like a token or position embedding"))
        # Tier 0, user overrides, decide last so they win.
        info.reasons = [text for _, text in reasons]
        roles = [role for role, _ in reasons]
        if opts.force_weight_decay and any(forced(n) for n in names):
            info.role, info.reasons = DECAY, ["forced by force_weight_decay"]
        elif opts.no_weight_decay and any(excluded(n) for n in names):
            info.role = USER
            info.reasons.insert(0, "matched by no_weight_decay")
        else:
            # reasons were appended in priority order: bias, norm, (embedding), 1-d, token
            role = DECAY
            for candidate in roles:
                if candidate != EMBEDDING:
                    role = candidate
                    break
            else:
                if roles:  # only the embedding reason
                    role = USER if opts.embedding else EMBEDDING
                    if opts.embedding:
                        info.reasons.insert(0, "an embedding table (embedding=True)")
            info.role = role
    for key, param in tensors.items():
        if getattr(param, "_no_weight_decay", False):
            info = infos[key]
            if info.role in (DECAY, EMBEDDING):
                info.role = USER
                info.reasons.insert(0, "marked p._no_weight_decay = True")
    return infos


def shape_only_no_decay(param, opts: PolicyOptions) -> bool:
    """The policy without a model: ndim <= 1 (or the tensor's own _no_weight_decay mark)."""
    return (opts.exclude_1d and param.ndim <= 1) or bool(getattr(param, "_no_weight_decay", False))
