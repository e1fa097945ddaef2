"""The one no-decay policy: which parameters must not get weight decay, and why.

Used by the runtime checker, the runtime builder (``param_groups``) and ``fix_optimizer``;
the static autofix uses its shape-only form (``STATIC_NO_DECAY_TEST``) and the name form
of the token rule (``is_token_name``) because a script's model is not known without running
it. Order of the tiers (first match wins, every reason kept for the report):

0. user overrides: ``force_weight_decay`` / ``no_weight_decay`` globs on the canonical name,
   and ``p._no_weight_decay = True`` on the tensor;
1. bias: a parameter named ``bias``, ``bias_*`` or ``*_bias`` with ndim <= 1;
   norm affine: owned by a normalization layer (torch's, or a leaf module named or classed
   like one whose parameters all have ndim <= 1);
   any other ndim <= 1 parameter (LayerScale, logit_scale, PReLU);
2. tokens and position parameters: names listed by ``no_weight_decay()`` (fnmatch patterns,
   as timm matches them) or ``no_weight_decay_keywords()`` of any submodule, and a bare
   parameter whose own name matches ``TOKEN_GLOBS``;
3. embedding tables: the weight of an ``nn.Embedding`` / ``nn.EmbeddingBag``, whatever the
   attribute is called (``wte``, ``wpe``, ``position_embeddings``, ``relative_attention_bias``):
   decayed unless ``embedding=True`` asks to exclude them;
4. everything else (matrices, kernels): decayed.

What the tensor *is* decides tiers 2 and 3, never where it sits: a position table that is an
``nn.Embedding`` is an embedding, the same table as a bare ``nn.Parameter`` is a token, and
``TOKEN_GLOBS`` name the parameter, not its ancestors (``pos_embed.proj.weight`` of a
convolutional position encoder is a kernel).

A lazy module's parameter before its first forward has no shape: it is judged by what needs
no shape (bias by name, torch norm layers, hooks, globs) or gets the role ``UNSHAPED``.

Importing this module does not import torch; ``classify`` does.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import functools
import gc
import re
from dataclasses import dataclass, field

#: The static (shape-only) form of the policy, for code rewritten without its model: a
#: *vector* (at most one dimension larger than 1: biases, norm weights, and the `(1, 1, C)`,
#: `(H, 1, 1)`, `(C, 1)` scales and biases stored with singleton dimensions) is not decayed.
STATIC_NO_DECAY_TEST = "{p}.squeeze().ndim < 2"
STATIC_DECAY_TEST = "{p}.squeeze().ndim >= 2"

BIAS, NORM, ONE_D, TOKEN, EMBEDDING, USER, DECAY = (
    "bias", "norm", "1-d", "token/position", "embedding", "user no_weight_decay", "decay",
)
#: A lazy module's parameter before its first forward: neither decay nor no-decay yet.
UNSHAPED = "not yet shaped"
NO_DECAY_ROLES = frozenset({BIAS, NORM, ONE_D, TOKEN, USER})

#: Globs on a parameter's own name (the last dotted component) that mark a bare
#: ``nn.Parameter`` as a token or position table. Pure data, shared with the static fix.
TOKEN_GLOBS = (
    "*pos_embed*", "*position_embedding*", "*positional_embedding*", "*absolute_pos_embed",
    "*relative_position_bias_table", "*rel_pos_h", "*rel_pos_w", "*cls_token", "*class_token",
    "*class_embedding", "*cls_emb", "*dist_token", "*reg_token*", "*register_tokens", "*mask_token",
)
_PRIVATE_WRAPPERS = re.compile(r"(?:^|(?<=\.))(?:_orig_mod|_fsdp_wrapped_module|_checkpoint_wrapped_module)\.")
_TOKEN_NAME = re.compile("|".join(fnmatch.translate(glob) for glob in TOKEN_GLOBS))
WRAPPER_PREFIXES = ("module.", "_orig_mod.", "_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")
_NORM_CLASS = re.compile(r"(?i)(?:norm|ln)$|RMSNorm|LayerNorm|ScaleNorm|FrozenBatchNorm")
_NORM_LOCAL_NAME = re.compile(r"(?:^|[._])(?:norm\d*|ln(?:_\w+)?|layer_?norm|rms_?norm|bn\d*)$")


def is_token_name(name: str) -> bool:
    """True when a parameter's own name reads like a token or position table.

    `name` may be dotted (``"encoder.cls_token"``); only its last component is matched, so
    ``"pos_embed"`` is a token and ``"pos_embed.0.weight"`` (a layer inside a module called
    pos_embed) is not. The runtime policy applies this to bare parameters only: an
    ``nn.Embedding`` weight is an embedding whatever it is called. No torch needed.
    """
    return bool(_TOKEN_NAME.match(name.rsplit(".", 1)[-1]))


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


def unknown_keyword_error(function: str, unknown: set[str], known) -> TypeError:
    """TypeError for misspelled keywords, with the nearest known one for each."""
    parts = []
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return TypeError(f"{function}() got unknown policy option(s) {', '.join(parts)}; known: {', '.join(sorted(known))}")


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
    def names(cls) -> frozenset[str]:
        return frozenset(cls.__dataclass_fields__)

    @classmethod
    def from_kwargs(cls, options: dict, function: str = "check_optimizer") -> "PolicyOptions":
        unknown = set(options) - cls.names()
        if unknown:
            raise unknown_keyword_error(function, unknown, cls.names())
        values = dict(options)
        for key in ("no_weight_decay", "force_weight_decay", "extra_norm_classes"):
            if key in values:
                value = values[key]
                values[key] = (value,) if isinstance(value, (str, type)) else tuple(value)
        for key in ("no_weight_decay", "force_weight_decay"):
            if key in values and not all(isinstance(glob, str) for glob in values[key]):
                raise TypeError(f"{function}(): {key} must be a glob string or a list of them, got {values[key]!r}")
        return cls(**values)


@dataclass(slots=True)
class ParamInfo:
    """One tensor of the model: every name it is known by, its role and why."""

    names: list[str]
    ndim: int
    requires_grad: bool
    role: str = DECAY
    reasons: list[str] = field(default_factory=list)
    shaped: bool = True  # False for a lazy module's parameter before its first forward

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


@functools.lru_cache(maxsize=None)
def _lazy_type():
    from torch.nn.parameter import UninitializedTensorMixin

    return UninitializedTensorMixin


def is_unshaped(param) -> bool:
    """A lazy module's parameter before its first forward (its ndim reads 1, but means nothing)."""
    return isinstance(param, _lazy_type())


def is_norm_module(module, local_name: str, options: PolicyOptions, ndim_of=None) -> bool:
    """torch's norm layers; modules classed or named like norms whose parameters are all <= 1-D.

    `ndim_of(param)` gives a parameter's real ndim (FSDP1 shards are flattened; lazy
    parameters have none, and count as not <= 1-D).
    """
    cls = type(module)
    if isinstance(module, _norm_types()):
        return True
    for extra in options.extra_norm_classes:
        if (isinstance(extra, type) and isinstance(module, extra)) or extra == cls.__name__:
            return True
    ndim_of = ndim_of or (lambda p: p.ndim)

    def vector_params_only() -> bool:
        # a norm's affine parameters are vectors: a module named "bn" or "ln_proj" that holds
        # a matrix is a projection, whatever it is called
        return all(ndim_of(p) <= 1 for p in module._parameters.values() if p is not None)

    if any(_NORM_CLASS.search(klass.__name__) for klass in cls.__mro__ if klass.__module__ != "builtins"):
        # duck-typed norms (detectron2's LayerNorm, LLaMA's LlamaRMSNorm), but not containers
        # whose name merely ends in "ln" or "norm" and own matrices
        return vector_params_only()
    return bool(_NORM_LOCAL_NAME.search(local_name)) and not module._modules and vector_params_only()


def module_paths(model) -> list[tuple[str, object]]:
    """(dotted path, module) for every submodule, each module once, at its first path.

    The same walk and order as ``named_modules()`` (so the first name of each parameter is
    the one ``named_parameters()`` gives), over the ``_modules`` dicts directly: on a
    100k-parameter model the generator machinery costs more than the check. Visiting each
    module once keeps graphs that share modules (``self.prev = previous_block``, sharing
    that doubles per level) linear instead of exponential in their depth.
    """
    out = []
    seen: set[int] = set()
    stack = [("", model)]
    while stack:
        path, module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        out.append((path, module))
        children = getattr(module, "_modules", None)
        if not children:
            continue
        for name, child in reversed(list(children.items())):
            if child is not None and id(child) not in seen:
                stack.append((f"{path}.{name}" if path else name, child))
    return out


@dataclass
class HookNames:
    """What the model's no_weight_decay() / no_weight_decay_keywords() hooks ask for."""

    patterns: list[str] = field(default_factory=list)  # regexes, one per fnmatch entry
    keywords: list[tuple[str, str]] = field(default_factory=list)  # (module prefix, substring)

    def matcher(self):
        if not self.patterns:
            return lambda name: False
        return re.compile("|".join(self.patterns)).match


def _hook_names(modules, options: PolicyOptions) -> HookNames:
    """Entries of every submodule's hooks, anchored at that submodule's path.

    ``no_weight_decay()`` entries are fnmatch patterns, as timm's optimizer factory matches
    them (xcit returns ``'pos_embed.*'``); keywords are substrings of the name below the module.
    """
    hooks = HookNames()
    if not options.use_model_hooks:
        return hooks
    hooks_of: dict[type, tuple[str, ...]] = {}  # which hook methods each class defines
    for module_name, module in modules:
        cls = type(module)
        methods = hooks_of.get(cls)
        if methods is None:
            methods = hooks_of[cls] = tuple(
                attr for attr in ("no_weight_decay", "no_weight_decay_keywords") if callable(getattr(cls, attr, None))
            )
        if not methods:
            continue
        prefix = canonical_name(f"{module_name}.") if module_name else ""
        for attr in methods:
            try:
                found = list(getattr(module, attr)() or ())
            except Exception:  # a user hook that needs arguments or state: ignore it
                continue
            for item in found:
                if attr == "no_weight_decay":
                    hooks.patterns.append(re.escape(prefix) + fnmatch.translate(str(item)))
                else:
                    hooks.keywords.append((prefix, str(item)))
    return hooks


def classify(model, **options) -> dict[int, ParamInfo]:
    """Every parameter of `model`, keyed by ``id(tensor)``, with its role and reasons."""
    opts = options if isinstance(options, PolicyOptions) else PolicyOptions.from_kwargs(options, "classify")
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


def _is_bias_name(local: str) -> bool:
    return local == "bias" or local.startswith("bias_") or local.endswith("_bias")


def classify_with(model, opts: PolicyOptions) -> dict[int, ParamInfo]:
    import torch.nn as nn

    lazy = _lazy_type()
    forced, excluded = _glob_matcher(opts.force_weight_decay), _glob_matcher(opts.no_weight_decay)
    norm_cache: dict[int, bool] = {}

    infos: dict[int, ParamInfo] = {}
    modules = module_paths(model)
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
                infos[id(param)] = info = ParamInfo([], ndim, param.requires_grad, shaped=not isinstance(param, lazy))
            if full not in info.names:
                info.names.append(full)
            owners.setdefault(id(param), []).append((local, module, local_module))
    hooks = _hook_names(modules, opts)
    hook_listed = hooks.matcher()

    def ndim_of(param) -> float:
        info = infos.get(id(param))
        if info is None:
            return param.ndim
        return info.ndim if info.shaped else float("inf")

    for key, info in infos.items():
        reasons: list[tuple[str, str]] = []
        names = info.names
        vector = info.shaped and info.ndim <= 1
        embedding_table = False
        for local, module, local_module in owners[key]:
            # a lazy module's bias has no shape yet, but it is a bias all the same
            if opts.bias and (vector or not info.shaped) and _is_bias_name(local):
                reasons.append((BIAS, f"a bias of {type(module).__name__}"))
            if opts.norm and id(module) not in norm_cache:
                norm_cache[id(module)] = is_norm_module(module, local_module, opts, ndim_of)
            if opts.norm and norm_cache[id(module)]:
                reasons.append((NORM, f"an affine parameter of {type(module).__name__}"))
            if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
                reasons.append((EMBEDDING, f"the table of {type(module).__name__}"))
                embedding_table = True
        if opts.exclude_1d and vector:
            reasons.append((ONE_D, f"{info.ndim}-D"))
        for name in names:
            if hook_listed(name):
                reasons.append((TOKEN, "listed by the model's no_weight_decay()"))
            elif hooks.keywords and any(
                name.startswith(prefix) and keyword in name[len(prefix):] for prefix, keyword in hooks.keywords
            ):
                reasons.append((TOKEN, "matched by the model's no_weight_decay_keywords()"))
            elif not embedding_table and is_token_name(name):
                reasons.append((TOKEN, "a token or position parameter (by its name)"))
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
                elif not info.shaped:
                    role = UNSHAPED
                    owner = type(owners[key][0][1]).__name__
                    info.reasons = [f"not yet shaped: a parameter of {owner} before its first forward"]
            info.role = role
    for key, param in tensors.items():
        if getattr(param, "_no_weight_decay", False):
            info = infos[key]
            if info.role in (DECAY, EMBEDDING, UNSHAPED):
                info.role = USER
                info.reasons.insert(0, "marked p._no_weight_decay = True")
    return infos


def shape_only_no_decay(param, opts: PolicyOptions) -> bool | None:
    """The policy without a model: ndim <= 1 (or the tensor's own _no_weight_decay mark).

    None for a lazy parameter that has no shape yet (and no mark): it cannot be judged.
    """
    if getattr(param, "_no_weight_decay", False):
        return True
    if param.ndim > 1:  # a lazy parameter reads ndim 1, so matrices are known shaped
        return False
    if is_unshaped(param):
        return None
    return opts.exclude_1d
