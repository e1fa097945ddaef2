"""The parameters of a model class defined in the file: their names and which are vectors.

A model class of the file (an ``nn.Module`` subclass) is read from what its methods assign
to ``self``: ``nn.Linear(..., bias=False)``, ``nn.Embedding``, norm layers, ``nn.Parameter``
with a shape, containers of those, and other model classes of the file. Its parameter
names are known (``ln_f.weight``, ``h.0.attn.bias``) and so is, for each, whether it is a
vector (at most one dimension larger than 1). Anything else that could hold parameters (a
module of another package, a module passed in, ``setattr``, ``add_module``, a base class
that is not ``nn.Module``) makes the whole class unknown: ``None``. Questions answered:

- ``only_matrices``: the module has no vector parameter at all, so nothing needs protecting
  from decay (a knowledge-graph embedding model, a bigram table, a bias-free head).
- ``parameter_names``: every parameter name and whether it is a vector, so that a name
  split can be checked against the model the file builds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from optlint.static.model.scopes import BindingKind, FileModel, Scope, dotted_name
from optlint.static.model.values import Resolver, Where, class_of

_MAX_NESTING = 6


@dataclass(frozen=True)
class Param:
    name: str  # relative to the module: "ln_f.weight", "h.0.attn.bias"
    vector: bool


#: nn layers without parameters.
_NO_PARAMETERS = frozenset(
    "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout ReLU ReLU6 GELU SiLU Tanh Sigmoid Softmax LogSoftmax "
    "Identity Flatten Unflatten MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d "
    "AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d Upsample "
    "PixelShuffle PixelUnshuffle Softplus LeakyReLU ELU Mish Hardswish Hardsigmoid Hardtanh GLU Softsign "
    "ZeroPad2d ConstantPad1d ConstantPad2d ReflectionPad2d ReplicationPad2d CrossEntropyLoss MSELoss L1Loss "
    "BCELoss BCEWithLogitsLoss NLLLoss SmoothL1Loss KLDivLoss CosineSimilarity PairwiseDistance "
    "LocalResponseNorm".split()
)
#: nn layers whose only parameter is a 2-D table or matrix (no bias).
_TABLES = frozenset({"Embedding", "EmbeddingBag"})
#: Norm layers: weight and bias vectors, unless turned off; (keyword, position, default on).
_NORMS = {
    "LayerNorm": (("elementwise_affine", 2, True), ("bias", 3, True)),
    "RMSNorm": (("elementwise_affine", 2, True), (None, None, False)),
    "GroupNorm": (("affine", 3, True), ("affine", 3, True)),
    **{f"BatchNorm{d}d": (("affine", 3, True), ("affine", 3, True)) for d in (1, 2, 3)},
    **{f"InstanceNorm{d}d": (("affine", 3, False), ("affine", 3, False)) for d in (1, 2, 3)},
}
_CONVS = frozenset({f"{kind}{d}d" for kind in ("Conv", "ConvTranspose") for d in (1, 2, 3)})
#: torch functions that make a tensor of a shape given by their positional arguments.
_SHAPED = frozenset({"randn", "rand", "zeros", "ones", "empty", "Tensor", "FloatTensor", "full"})
#: Constructors whose positional arguments from this index on are sizes (not modules).
_SIZED = {
    **{name: 0 for name in _TABLES | _CONVS | _NORMS.keys() | _SHAPED | {"Linear", "arange", "eye"}},
    "GroupNorm": 0,
}
#: Methods and wrappers that hand back the tensor they are given.
_SAME_TENSOR = frozenset({"uniform_", "normal_", "zero_", "fill_", "to", "float", "half", "cuda", "mul_", "div_", "clone"})
_SAME_MODULE = frozenset({"to", "cuda", "cpu", "half", "float", "bfloat16", "train", "eval", "requires_grad_"})
#: Names config objects go by: `self.dim = args.dim` reads a setting, not a module.
_CONFIG_NAMES = frozenset({"args", "config", "cfg", "conf", "opt", "opts", "hparams", "hp", "params", "settings"})


class ModuleShapes:
    def __init__(self, model: FileModel, resolver: Resolver) -> None:
        self.model = model
        self.resolver = resolver
        self._classes: dict[int, list[Param] | None] = {}

    # -- the module an expression holds --------------------------------------------------

    def parameters_of(self, root, where: Where, depth: int = 0) -> list[Param] | None:
        """The parameters of the module `root` evaluates to, when it is an instance of a
        model class of this file on every path; else None."""
        if depth > _MAX_NESTING or root is None:
            return None
        if isinstance(root, ast.Call):
            func = root.func
            if isinstance(func, ast.Attribute) and func.attr in _SAME_MODULE:
                return self.parameters_of(func.value, where, depth + 1)
            cls = self._local_class(func, where)
            return self.of_class(cls) if cls is not None else None
        if isinstance(root, ast.Name):
            if root.id == "self":
                cls = class_of(where.scope)
                return self.of_class(cls) if cls is not None else None
            bindings = self.resolver.reaching(root.id, where)
            if not bindings or root.id in self._changed_names():
                return None
            found = []
            for binding in bindings:
                if binding.kind is BindingKind.ASSIGN:
                    value = self.parameters_of(binding.node, Where.of_binding(binding, where.env), depth + 1)
                elif binding.kind is BindingKind.PARAM:
                    argument = self.resolver.argument_of(root.id, binding, where)
                    value = self.parameters_of(argument[0], argument[1], depth + 1) if argument else None
                else:
                    value = None
                if value is None:
                    return None
                found.append(value)
            return _merge(found)
        if isinstance(root, ast.Attribute) and isinstance(root.value, ast.Name) and root.value.id == "self":
            cls = class_of(where.scope)
            bindings = cls.self_attributes.get(root.attr, ()) if cls is not None else ()
            if not bindings:
                return None
            found = [self._module_value(b.node, Where.of_binding(b), 0) for b in bindings]
            return None if any(f is None for f in found) else _merge(found)
        return None

    def _changed_names(self) -> frozenset[str]:
        """Names whose module may gain parameters from outside its class: `model.head = ...`,
        `model.add_module(...)`, `setattr(model, ...)` anywhere in the file."""
        found = getattr(self, "_changed", None)
        if found is None:
            names = set()
            for node in ast.walk(self.model.tree):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add((dotted_name(node.value) or "").split(".", 1)[0])
                elif isinstance(node, ast.Call):
                    func = node.func
                    if isinstance(func, ast.Attribute) and func.attr in ("add_module", "register_module", "register_parameter"):
                        names.add((dotted_name(func.value) or "").split(".", 1)[0])
                    elif dotted_name(func) == "setattr" and node.args:
                        names.add((dotted_name(node.args[0]) or "").split(".", 1)[0])
            found = self._changed = frozenset(names)
        return found

    def _local_class(self, func, where: Where) -> Scope | None:
        qualname = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if not qualname or not qualname.startswith("<local>."):
            return None
        return self.model.class_scopes.get(qualname.split(".", 1)[1])

    # -- a class of this file --------------------------------------------------------------

    def of_class(self, cls: Scope, depth: int = 0) -> list[Param] | None:
        key = id(cls)
        if key not in self._classes:
            self._classes[key] = None  # a class that holds itself is unknown
            self._classes[key] = self._read_class(cls, depth)
        return self._classes[key]

    def _read_class(self, cls: Scope, depth: int) -> list[Param] | None:
        node = cls.node
        if not isinstance(node, ast.ClassDef) or depth > _MAX_NESTING or node.keywords or node.decorator_list:
            return None
        found: list[Param] = []
        parent = cls.parent or cls
        defined = next((b for b in parent.bindings.get(cls.name, ()) if b.node is node), None)
        where = Where(parent, defined.order if defined is not None else 1 << 30)
        for base in node.bases:
            name = self.resolver.qualname(base, where) or ""
            if name in ("torch.nn.Module", "torch.nn.modules.module.Module") or name.endswith("LightningModule"):
                continue
            base_cls = self._local_class(base, where)
            inherited = self.of_class(base_cls, depth + 1) if base_cls is not None else None
            if inherited is None:
                return None
            found += inherited
        if not node.bases:
            return None  # not a module
        assigned: dict[str, list] = {}
        for method in node.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name in (
                "parameters", "named_parameters", "__setattr__", "__getattr__",
            ):
                return None
        for statement in ast.walk(node):
            if isinstance(statement, ast.Call):
                func = statement.func
                name = dotted_name(func) or ""
                if name in ("setattr", "self.add_module", "self.register_module", "self.__setattr__") or name.startswith(
                    ("self.__dict__", "vars")
                ):
                    return None
                if name == "self.register_parameter":
                    if len(statement.args) != 2 or not isinstance(statement.args[0], ast.Constant):
                        return None
                    assigned.setdefault(str(statement.args[0].value), []).append(("parameter", statement.args[1]))
            targets = []
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
                targets = [statement.target]
            for target in targets:
                for element in ast.walk(target):
                    if isinstance(element, ast.Attribute) and dotted_name(element.value) == "self":
                        if target is not element or isinstance(statement, ast.AugAssign):
                            return None  # `self.a, self.b = ...`, `self.x += ...`
                        if statement.value is None:
                            continue
                        assigned.setdefault(element.attr, []).append(("value", statement.value))
                    elif isinstance(element, ast.Subscript) and dotted_name(element.value) is not None \
                            and dotted_name(element.value).startswith("self."):
                        return None  # `self.layers[i] = ...`
        method_where = {}
        for attr, values in assigned.items():
            alternatives = []
            for kind, value in values:
                scope = self._scope_of(value, cls)
                value_where = method_where.setdefault(id(scope), Where(scope, 1 << 30)) if scope else Where(cls, 0)
                if kind == "parameter":
                    params = self._parameter(value, value_where)
                else:
                    params = self._module_value(value, value_where, depth, cls)
                if params is None:
                    return None
                alternatives.append(params)
            for param in _merge(alternatives) or []:
                found.append(Param(f"{attr}.{param.name}" if param.name else attr, param.vector))
        return found

    def _scope_of(self, node, cls: Scope) -> Scope | None:
        """The method scope an expression of the class body is in (for name lookups)."""
        for scope in self.model.scopes:
            if scope.enclosing_class is cls and scope.node is not None and \
                    scope.node.lineno <= node.lineno <= (scope.node.end_lineno or scope.node.lineno):
                return scope
        return None

    # -- one value assigned to self.<attr> ------------------------------------------------

    def _module_value(self, value, where: Where, depth: int, cls: Scope | None = None) -> list[Param] | None:
        """The parameters that `self.x = value` registers ([] for a plain value), or None."""
        if depth > _MAX_NESTING:
            return None
        if isinstance(value, (ast.Constant, ast.JoinedStr, ast.Compare, ast.Lambda)):
            return []
        if isinstance(value, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
            inner = [*getattr(value, "elts", ()), *getattr(value, "values", ())]
            return [] if all(self._module_value(e, where, depth + 1, cls) == [] for e in inner) else None
        if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.BoolOp)):
            return [] if all(
                self._module_value(e, where, depth + 1, cls) == [] for e in ast.iter_child_nodes(value) if isinstance(e, ast.expr)
            ) else None
        if isinstance(value, ast.Name):
            return [] if self._plain_name(value, where, cls) else None
        if isinstance(value, ast.Attribute):
            root = dotted_name(value) or ""
            return [] if root.split(".", 1)[0] in _CONFIG_NAMES else None
        if not isinstance(value, ast.Call):
            return None
        qualname = self.resolver.qualname(value.func, where) if isinstance(value.func, (ast.Name, ast.Attribute)) else None
        if qualname is None:
            return None
        last = qualname.rsplit(".", 1)[-1]
        if qualname in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return self._parameter(value, where)
        if qualname.startswith("torch.nn.") and not qualname.startswith("torch.nn.functional."):
            return self._layer(last, value, where, depth, cls)
        if qualname.startswith("<local>."):
            local = self.model.class_scopes.get(qualname.split(".", 1)[1])
            return self.of_class(local, depth + 1) if local is not None else None
        if qualname.startswith("torch.") or qualname in ("int", "float", "str", "bool", "len", "max", "min", "math.sqrt", "range"):
            return []  # a tensor or number, not a module
        return None

    def _plain_name(self, name: ast.Name, where: Where, cls: Scope | None) -> bool:
        """A name that holds a number or setting, not a module: a parameter with a constant
        default or a number annotation, or one the class uses as a size or in arithmetic."""
        for binding in self.resolver.reaching(name.id, where):
            if binding.kind is BindingKind.PARAM and isinstance(binding.node, ast.Constant) and binding.node.value is not None:
                return True
        if cls is None:
            return False
        for node in ast.walk(cls.node):
            if isinstance(node, ast.arg) and node.arg == name.id and dotted_name(node.annotation) in ("int", "float", "bool", "str"):
                return True
            if isinstance(node, ast.BinOp) and any(isinstance(s, ast.Name) and s.id == name.id for s in (node.left, node.right)):
                return True
            if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == name.id for a in node.args):
                # a size: `range(n)`, `nn.Embedding(n, d)`, `torch.randn(n, d)`
                callee = self.resolver.qualname(node.func, where) if isinstance(node.func, (ast.Name, ast.Attribute)) else None
                last = (callee or "").rsplit(".", 1)[-1]
                if callee == "range" or (callee or "").startswith("torch.") and _SIZED.get(last, -1) >= 0 and \
                        any(isinstance(a, ast.Name) and a.id == name.id for a in node.args[_SIZED[last]:]):
                    return True
        return False

    def _layer(self, last: str, call: ast.Call, where: Where, depth: int, cls: Scope | None) -> list[Param] | None:
        if last in _NO_PARAMETERS:
            return []
        if last in _TABLES:
            return [Param("weight", False)]
        if last == "Linear" or last in _CONVS:
            bias_slot = 2 if last == "Linear" else 7
            weight = Param("weight", False)
            return [weight] if self._flag(call, where, "bias", bias_slot, True) is False else (
                [weight, Param("bias", True)] if self._flag(call, where, "bias", bias_slot, True) is True else None
            )
        if last in _NORMS:
            (w_key, w_slot, w_default), (b_key, b_slot, b_default) = _NORMS[last]
            weight = self._flag(call, where, w_key, w_slot, w_default)
            bias = weight and (self._flag(call, where, b_key, b_slot, b_default) if b_key else False)
            if weight is None or bias is None:
                return None
            if last == "LayerNorm" and call.args and isinstance(call.args[0], (ast.List, ast.Tuple)) and len(call.args[0].elts) != 1:
                return None  # a normalized shape of several dimensions: not vectors
            return [Param("weight", True)] * bool(weight) + [Param("bias", True)] * bool(bias)
        if last == "PReLU":
            return [Param("weight", True)]
        if last in ("Sequential", "ModuleList"):
            elements = list(call.args)
            if last == "ModuleList":
                if not call.args:
                    return []
                if len(call.args) != 1:
                    return None
                elements = _list_elements(call.args[0])
                if elements is None:
                    return None
            found = []
            for index, element in enumerate(elements):
                if isinstance(element, ast.Starred):
                    inner = _list_elements(element.value)
                    if inner is None or len(elements) != 1:
                        return None
                    nested = [self._module_value(e, where, depth + 1, cls) for e in inner]
                    if any(n is None for n in nested):
                        return None
                    for i, params in enumerate(nested):
                        found += [Param(f"{i}.{p.name}", p.vector) for p in params]
                    continue
                params = self._module_value(element, where, depth + 1, cls)
                if params is None:
                    return None
                found += [Param(f"{index}.{p.name}", p.vector) for p in params]
            return found
        return None

    def _flag(self, call: ast.Call, where: Where, key: str | None, slot: int | None, default: bool) -> bool | None:
        """A boolean constructor argument (`bias=False`): its value, the default, or None."""
        if key is None:
            return default
        for keyword in call.keywords:
            if keyword.arg == key:
                value = self.resolver.evaluate(keyword.value, where)
                return value.value if value.known and isinstance(value.value, bool) and not value.overridable else None
            if keyword.arg is None:
                return None
        if slot is not None and len(call.args) > slot:
            value = self.resolver.evaluate(call.args[slot], where)
            return value.value if value.known and isinstance(value.value, bool) and not value.overridable else None
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None
        return default

    def _parameter(self, call, where: Where) -> list[Param] | None:
        """``nn.Parameter(torch.randn(a, b) * 0.02)``: a matrix when two of its dimensions are
        not provably 1; a vector when at most one can be larger than 1."""
        if not isinstance(call, ast.Call):
            return None
        qualname = self.resolver.qualname(call.func, where) if isinstance(call.func, (ast.Name, ast.Attribute)) else None
        if qualname not in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") or not call.args:
            return None
        dims = self._shape(call.args[0], where, 0)
        if dims is None:
            return None
        # A size not known here (`num_entities`, `dim`) is taken as larger than 1.
        return [Param("", sum(1 for d in dims if d is None or d > 1) <= 1)]

    def _shape(self, tensor, where: Where, depth: int) -> list | None:
        """The dimensions of a tensor expression (an int, or None when not known), or None."""
        if depth > 4:
            return None
        if isinstance(tensor, ast.BinOp):
            left = self._shape(tensor.left, where, depth + 1)
            return left if left is not None else self._shape(tensor.right, where, depth + 1)
        if not isinstance(tensor, ast.Call):
            return None
        func = tensor.func
        if isinstance(func, ast.Attribute) and func.attr in _SAME_TENSOR:
            found = self._shape(func.value, where, depth + 1)
            if found is not None:
                return found
        qualname = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        last = (qualname or "").rsplit(".", 1)[-1]
        if qualname and qualname.startswith("torch.nn.init.") and tensor.args:
            return self._shape(tensor.args[0], where, depth + 1)
        if not qualname or not qualname.startswith("torch.") or last not in _SHAPED:
            return None
        args = [a for a in tensor.args]
        if last == "full":
            args = args[:1]
        if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
            args = list(args[0].elts)
        if not args or any(isinstance(a, ast.Starred) for a in args):
            return None
        dims = []
        for arg in args:
            value = self.resolver.evaluate(arg, where)
            if value.known and isinstance(value.value, int) and not value.overridable:
                dims.append(value.value)
            elif value.known and not isinstance(value.value, int):
                return None  # a shape given as one tuple value, or not a size at all
            else:
                dims.append(None)
        return dims


def _list_elements(node) -> list | None:
    """`[a, b]` or `[Block(...) for _ in range(n)]` (one representative element)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
        return [node.elt]
    return None


def _merge(alternatives: list[list[Param]]) -> list[Param] | None:
    """The parameters of a value bound on several paths: the union, unless one name is a
    vector on one path and a matrix on another."""
    merged: dict[str, bool] = {}
    for params in alternatives:
        for param in params:
            if merged.get(param.name, param.vector) != param.vector:
                return None
            merged[param.name] = param.vector
    return [Param(name, vector) for name, vector in merged.items()]
