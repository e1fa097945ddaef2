"""The one no-decay policy: which parameters must not get weight decay, and why.

Used by the runtime checker, the runtime builder (``param_groups``) and ``fix_optimizer``;
the static autofix uses its shape-only form (``STATIC_NO_DECAY_TEST``, the same vector test
as ``is_vector``) and the name form of the token rule (``is_token_name``) because a script's
model is not known without running it.

A parameter's *role* is decided from the module that owns it and its attribute name first,
then from its shape. The roles, in the order they win (every reason is kept for the report):

0. user overrides: ``force_weight_decay`` / ``no_weight_decay`` globs on the canonical name
   (role ``USER``); then hints on the tensor itself (role ``HINT``): ``p._no_weight_decay =
   True`` (mamba_ssm marks ``A_log``, ``D`` and ``dt_bias`` so:
   https://github.com/state-spaces/mamba) or ``p._optim = {"weight_decay": 0.0}`` (the
   state-spaces repositories' per-tensor optimizer hints), and the same three names in a
   mixer that owns ``A_log`` (ports that drop the mark);
1. bias: an attribute named ``bias``, ``bias_*`` or ``*_bias`` (``bias_k``/``bias_v`` of
   ``nn.MultiheadAttention``, Transformer-XL's ``r_w_bias``/``r_r_bias``, a ``(C, 1)`` conv
   bias, a GRN bias ``(1, 1, 1, C)``), whatever its shape. References: timm
   ``param_groups_weight_decay`` (https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/_param_groups.py)
   and Hugging Face ``Trainer.get_decay_parameter_names``
   (https://github.com/huggingface/transformers/blob/main/src/transformers/trainer.py);
   norm: any parameter of a normalization module, whatever its shape: torch's norm layers,
   and leaf modules whose class or attribute name says norm (``LlamaRMSNorm``, per-head
   ``q_norm``/``k_norm``, ``CohereLayerNorm((H, D))``) and that hold an affine, not a
   projection (see ``is_norm_module``). Reference: the same two, and the "no weight decay on
   norm parameters" recipe of ConvNeXt / DeiT (https://github.com/facebookresearch/ConvNeXt);
   vector: any other parameter for which ``is_vector(shape)`` holds: at most one dimension
   larger than 1 (LayerScale, ``(1, 1, C)`` mixing coefficients, ``(H, 1, 1)`` logit scales,
   0-D temperatures). Reference: timm's ``weight_decay_exclude_1d`` (ndim <= 1), extended to
   singleton dimensions, which hold no more than a vector;
2. tokens and position tables: names listed by ``no_weight_decay()`` (fnmatch patterns,
   as timm matches them) or ``no_weight_decay_keywords()`` of any submodule; a bare
   parameter whose own name matches ``TOKEN_GLOBS`` (timm's, Hugging Face's and other ports'
   spellings: ``cls_token``, ``distillation_token``, ``detection_tokens``, ``time_embeddings``,
   ``attention_biases``, ...); a bare parameter shaped like a table broadcast over the batch
   (``(1, N, C)`` with N > 1, more than two dimensions); and relative-position tables however
   they are stored: a bare table, or the weight of an ``nn.Embedding`` / ``nn.Linear`` whose
   attribute name says relative position (``RELATIVE_POSITION_MODULE``: T5's
   ``relative_attention_bias``, LayoutLMv2's ``rel_pos_bias``, WavLM's ``rel_attn_embed``).
   References: timm ViT / DeiT / Swin / MViTv2 / LeViT ``no_weight_decay()`` hooks
   (https://github.com/huggingface/pytorch-image-models/tree/main/timm/models);
3. embedding tables: the weight of an ``nn.Embedding`` / ``nn.EmbeddingBag`` (word tables,
   absolute positions such as BERT's ``position_embeddings`` or GPT-2's ``wpe``): decayed,
   as Hugging Face's Trainer and nanoGPT do, unless ``embedding=True`` asks to exclude them
   (minGPT, OLMo: https://github.com/karpathy/minGPT/blob/master/mingpt/model.py);
4. everything else (matrices, kernels): decayed.

What the tensor *is* decides tiers 2 and 3, never where it sits: ``TOKEN_GLOBS`` name the
parameter, not its ancestors (``pos_embed.proj.weight`` of a convolutional position encoder
is a kernel).

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

BIAS, NORM, VECTOR, TOKEN, EMBEDDING, USER, HINT, DECAY = (
    "bias", "norm", "vector", "token/position", "embedding", "user no_weight_decay", "marked no-decay", "decay",
)
ONE_D = VECTOR  # the role's earlier name
#: A lazy module's parameter before its first forward: neither decay nor no-decay yet.
UNSHAPED = "not yet shaped"
NO_DECAY_ROLES = frozenset({BIAS, NORM, VECTOR, TOKEN, USER, HINT})


def is_vector(shape) -> bool:
    """THE shared vector test: at most one dimension larger than 1.

    ``(C,)``, ``()``, ``(1, 1, C)``, ``(H, 1, 1)`` and ``(C, 1)`` are vectors; ``(C, K)`` with
    both > 1 is not. The static fix writes the same test as ``p.squeeze().ndim < 2``
    (``STATIC_NO_DECAY_TEST``): squeezing drops exactly the dimensions of size 1.
    """
    return sum(1 for d in shape if d > 1) <= 1

#: Globs on a parameter's own name (the last dotted component) that mark a bare
#: ``nn.Parameter`` as a token or position table. Pure data, shared with the static fix.
TOKEN_GLOBS = (
    # timm
    "*pos_embed*", "*position_embedding*", "*positional_embedding*", "*absolute_pos_embed",
    "*relative_position_bias_table", "*rel_pos_h", "*rel_pos_w", "*cls_token", "*class_token",
    "*class_embedding", "*cls_emb", "*dist_token", "*reg_token*", "*register_tokens", "*mask_token",
    # the same tables in other libraries' ports (Hugging Face DeiT, YOLOS, TimeSformer, LeViT,
    # ViViT, BEiT; OpenCLIP; Perceiver)
    "*distillation_token", "*detection_tokens", "*time_embed", "*time_embeddings", "*temporal_embed*",
    "*attention_biases", "*relative_position_bias", "*rel_pos_bias*", "*position_bias*",
    "*positional_encoding*", "*pos_emb", "*pos_encoding*",
)
#: Attribute names of modules (``nn.Embedding``, ``nn.Linear``, ...) that hold a
#: relative-position table as their ``weight``: the same table as a bare parameter.
RELATIVE_POSITION_MODULE = re.compile(
    r"(?:^|_)(?:relative_attention_bias|relative_position_bias|rel_pos_(?:\w_)?bias|rel_pos_[xy]_bias"
    r"|rel_attn_embed|rel_embeddings|distance_embedding|relative_position_embeddings?)$"
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
    shape: tuple = ()  # the real shape (FSDP1 shards are flattened; this is the original)

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


@functools.lru_cache(maxsize=None)
def _weight_layer_types():
    """torch layers whose weight is a projection, whatever the attribute holding them is called."""
    import torch.nn as nn
    from torch.nn.modules.conv import _ConvNd

    return (nn.Linear, nn.Bilinear, _ConvNd, nn.Embedding, nn.EmbeddingBag, nn.MultiheadAttention, nn.RNNBase)


def is_norm_module(module, local_name: str, options: PolicyOptions, shape_of=None) -> bool:
    """Is `module` a normalization layer, all of whose parameters are then no-decay?

    torch's norm layers and ``extra_norm_classes`` always. Otherwise a leaf module (no
    submodules) that is not a torch projection layer (``self.bn = nn.Linear(...)`` is a
    projection) and whose parameters form an affine: all vectors, or, when its class name
    says norm (``CohereLayerNorm((H, D))``, a per-head ``QKNorm``), all of one shape (a
    scale and its shift). A module recognised by its attribute name alone (``ln_f``,
    ``q_norm``, ``norm1``) must hold vectors. `shape_of(param)` gives a parameter's real
    shape (FSDP1 shards are flattened); None for a lazy parameter, which is never an affine.
    """
    cls = type(module)
    if isinstance(module, _norm_types()):
        return True
    for extra in options.extra_norm_classes:
        if (isinstance(extra, type) and isinstance(module, extra)) or extra == cls.__name__:
            return True
    if isinstance(module, _weight_layer_types()):
        return False
    shape_of = shape_of or (lambda p: tuple(p.shape))
    shapes = [shape_of(p) for p in module._parameters.values() if p is not None]
    if not shapes or any(shape is None for shape in shapes):
        return False
    all_vectors = all(is_vector(shape) for shape in shapes)
    if any(_NORM_CLASS.search(klass.__name__) for klass in cls.__mro__ if klass.__module__ != "builtins"):
        # duck-typed norms (detectron2's LayerNorm, LLaMA's LlamaRMSNorm, per-head norms), but
        # not containers whose name merely ends in "ln" or "norm" and own matrices
        return all_vectors or (not _has_submodules(module) and len(set(shapes)) == 1)
    return bool(_NORM_LOCAL_NAME.search(local_name)) and not _has_submodules(module) and all_vectors


def _has_submodules(module) -> bool:
    return any(child is not None for child in module._modules.values())


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


def _fsdp1_original_shapes(modules) -> dict[str, tuple]:
    """FSDP1 with use_orig_params=True exposes flattened 1-D shards: recover the real shapes."""
    shapes: dict[str, tuple] = {}
    for module_name, module in modules:
        handle = module.__dict__.get("_handle")  # FSDP1 units only; avoids Module.__getattr__
        flat = getattr(handle, "flat_param", None) if handle is not None else None
        if flat is None or not hasattr(flat, "_fqns"):
            continue
        prefix = canonical_name(f"{module_name}.") if module_name else ""
        for fqn, shape in zip(flat._fqns, flat._shapes):
            shapes[prefix + canonical_name(fqn)] = tuple(shape)
    return shapes


def _glob_matcher(globs: tuple[str, ...]):
    if not globs:
        return lambda name: False
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs)).match


def _is_bias_name(local: str) -> bool:
    return local == "bias" or local.startswith("bias_") or local.endswith("_bias")


#: Parameters that mamba_ssm's reference implementation marks ``_no_weight_decay`` in a
#: selective-scan mixer (https://github.com/state-spaces/mamba/blob/main/mamba_ssm/modules/mamba_simple.py):
#: ports that drop the mark (Hugging Face's MambaMixer) are recognised by the mixer's ``A_log``.
STATE_SPACE_NAMES = frozenset({"A_log", "D", "dt_bias"})


def _tensor_hint(param) -> str | None:
    """A no-decay hint the model's authors put on the tensor itself, if any."""
    if getattr(param, "_no_weight_decay", False):
        return "marked p._no_weight_decay = True"
    optim = getattr(param, "_optim", None)
    if isinstance(optim, dict) and "weight_decay" in optim:
        try:
            if float(optim["weight_decay"]) == 0.0:
                return "marked p._optim = {'weight_decay': 0.0}"
        except (TypeError, ValueError):
            return None
    return None


def _is_table_shape(shape: tuple) -> bool:
    """A bare (1, N, C)-like parameter: a table broadcast over the batch (a token or position table)."""
    return len(shape) >= 3 and shape[0] == 1 and not is_vector(shape)


def _owner_roles(local: str, module, local_module: str, opts: PolicyOptions, is_norm) -> list[tuple[str, str]]:
    """The roles that the module owning a parameter, and the attribute holding it, give."""
    reasons: list[tuple[str, str]] = []
    kind = type(module).__name__
    if opts.bias and _is_bias_name(local):  # a bias whatever its shape, lazy ones included
        reasons.append((BIAS, f"a bias of {kind}"))
    if opts.norm and is_norm(module, local_module):
        reasons.append((NORM, f"an affine parameter of {kind}"))
    if local == "weight" and RELATIVE_POSITION_MODULE.search(local_module):
        reasons.append((TOKEN, f"a relative-position table ({kind} `{local_module}`)"))
    if local in STATE_SPACE_NAMES and "A_log" in module._parameters:
        reasons.append((HINT, f"a state-space parameter of {kind} (mamba_ssm marks it _no_weight_decay)"))
    if local == "weight" and _is_embedding(module):
        reasons.append((EMBEDDING, f"the table of {kind}"))
    return reasons


def _is_embedding(module) -> bool:
    return isinstance(module, _weight_layer_types()[3:5])  # nn.Embedding, nn.EmbeddingBag


def classify_with(model, opts: PolicyOptions) -> dict[int, ParamInfo]:
    lazy = _lazy_type()
    forced, excluded = _glob_matcher(opts.force_weight_decay), _glob_matcher(opts.no_weight_decay)

    infos: dict[int, ParamInfo] = {}
    modules = module_paths(model)
    original_shapes = _fsdp1_original_shapes(modules)
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
                shaped = not isinstance(param, lazy)
                shape = original_shapes.get(full) if original_shapes else None
                shape = shape if shape is not None else (tuple(param.shape) if shaped else ())
                infos[id(param)] = info = ParamInfo([], len(shape) if shaped else param.ndim, param.requires_grad, shaped=shaped, shape=shape)
            if full not in info.names:
                info.names.append(full)
            owners.setdefault(id(param), []).append((local, module, local_module))
    hooks = _hook_names(modules, opts)
    hook_listed = hooks.matcher()

    def shape_of(param):
        info = infos.get(id(param))
        if info is None:
            return tuple(param.shape)
        return info.shape if info.shaped else None

    norm_cache: dict[int, bool] = {}
    torch_layers = _weight_layer_types() + _norm_types()

    def is_norm(module, local_module: str) -> bool:
        if id(module) not in norm_cache:
            norm_cache[id(module)] = is_norm_module(module, local_module, opts, shape_of)
        return norm_cache[id(module)]

    for key, info in infos.items():
        names = info.names
        reasons: list[tuple[str, str]] = []
        bare = True  # held by no torch layer: a parameter a model's author declared
        for local, module, local_module in owners[key]:
            reasons += _owner_roles(local, module, local_module, opts, is_norm)
            bare = bare and not isinstance(module, torch_layers)
        if opts.exclude_1d and info.shaped and is_vector(info.shape):
            reasons.append((VECTOR, f"a vector of shape {info.shape}" if info.ndim > 1 else f"{info.ndim}-D"))
        embedding_table = any(role == EMBEDDING for role, _ in reasons)
        for name in names:
            if hook_listed(name):
                reasons.append((TOKEN, "listed by the model's no_weight_decay()"))
            elif hooks.keywords and any(
                name.startswith(prefix) and keyword in name[len(prefix):] for prefix, keyword in hooks.keywords
            ):
                reasons.append((TOKEN, "matched by the model's no_weight_decay_keywords()"))
            elif not embedding_table and is_token_name(name):
                reasons.append((TOKEN, "a token or position parameter (by its name)"))
        if bare and info.shaped and _is_table_shape(info.shape) and not any(r == TOKEN for r, _ in reasons):
            reasons.append((TOKEN, f"a table of shape {info.shape} broadcast over the batch (a token or position table)"))
        hint = _tensor_hint(tensors[key])
        if hint:
            reasons.insert(0, (HINT, hint))
        info.reasons = [text for _, text in reasons]
        roles = [role for role, _ in reasons]
        # Tier 0, user overrides, decide last so they win.
        if opts.force_weight_decay and any(forced(n) for n in names):
            info.role, info.reasons = DECAY, ["forced by force_weight_decay"]
        elif opts.no_weight_decay and any(excluded(n) for n in names):
            info.role = USER
            info.reasons.insert(0, "matched by no_weight_decay")
        else:
            info.role = _decide(roles, info, opts)
            if info.role == UNSHAPED:
                owner = type(owners[key][0][1]).__name__
                info.reasons = [f"not yet shaped: a parameter of {owner} before its first forward"]
            elif info.role == USER and roles[0] == EMBEDDING:
                info.reasons.insert(0, "an embedding table (embedding=True)")
    return infos


#: Which role wins when several reasons hold (the first in this order).
_ROLE_ORDER = (HINT, BIAS, NORM, TOKEN, VECTOR)


def _decide(roles: list[str], info: ParamInfo, opts: PolicyOptions) -> str:
    for role in _ROLE_ORDER:
        if role in roles:
            return role
    if EMBEDDING in roles:
        return USER if opts.embedding else EMBEDDING
    return DECAY if info.shaped else UNSHAPED


def shape_only_no_decay(param, opts: PolicyOptions) -> bool | None:
    """The policy without a model: the vector test (or a hint on the tensor itself).

    None for a lazy parameter that has no shape yet (and no hint): it cannot be judged.
    """
    if _tensor_hint(param):
        return True
    if is_unshaped(param):
        return None
    return opts.exclude_1d and is_vector(tuple(param.shape))
