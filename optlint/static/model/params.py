"""Parameter sets as values: which module's parameters an expression yields, and how filtered.

OPT001 asks one question of a param group: does it hold *every* (trainable) parameter of
a module? ``all_params`` answers it through ``X.parameters()``, ``named_parameters()``,
``list``/``tuple``/``filter``/``sorted`` on ``requires_grad`` only, comprehensions filtered
only on ``requires_grad``, ``itertools.chain`` and ``+``, ``a if c else b`` (either arm),
local names, ``self.x`` attributes set in the same class, and parameters of inlined
in-file helpers. Any other predicate (``p.ndim``, a name test, a type test) makes the set
partial, and partial sets are never reported.

``adapters_only`` answers the second question: is the module frozen before the optimizer
is built and given adapters (PEFT, LoRA), so that only 2-D adapter matrices train?
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from optlint.static.model.scopes import BindingKind, FileModel, dotted_name
from optlint.static.model.values import MAX_DEPTH, Resolver, Where, class_of

PARAMETER_METHODS = ("parameters", "named_parameters")
_PASS_THROUGH = ("list", "tuple", "iter", "sorted")


@dataclass(frozen=True)
class AllParams:
    """Every parameter of the modules, as written (``("unet", "text_encoder")`` for a chain)."""

    modules: tuple[str, ...]
    #: the `X` expressions (with where they are evaluated), for the frozen-base question
    roots: tuple[tuple[ast.expr, Where], ...]
    chosen: bool = False  # one arm of `a if c else b`: it holds on some path only
    #: what holds on that path: (dump of the if-expression's test, arm)
    assumed: frozenset = frozenset()
    #: the branch path of the statement that chose these parameters, when an `if` decides
    #: whether it runs (`if ...: params = split(m) else: params = m.parameters()`): the decay
    #: is read on that path
    on_path: tuple | None = None

    def __add__(self, other: "AllParams") -> "AllParams":
        modules = self.modules + tuple(m for m in other.modules if m not in self.modules)
        return AllParams(modules, self.roots + other.roots, self.chosen or other.chosen, self.assumed | other.assumed,
                         self.on_path if self.on_path is not None else other.on_path)

    @property
    def display(self) -> str:
        return "`, `".join(self.modules)


class ParamSets:
    def __init__(self, model: FileModel, resolver: Resolver) -> None:
        self.model = model
        self.resolver = resolver
        self.segment = resolver.segment

    def elsewhere(self, where: Where | None) -> "ParamSets | None":
        """The parameter sets of the other module `where` belongs to (None: this file)."""
        other = self.resolver.elsewhere(where.scope) if where is not None else None
        return other.context.params if other is not None else None

    def all_params(self, node, where: Where, depth: int = 0) -> AllParams | None:
        """The modules whose every parameter `node` yields, or None."""
        if depth > MAX_DEPTH or node is None:
            return None
        other = self.elsewhere(where)
        if other is not None:
            return other.all_params(node, where, depth)
        if isinstance(node, ast.Call):
            return self._call(node, where, depth)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._comprehension(node, where, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._union(
                self.all_params(node.left, where, depth + 1), self.all_params(node.right, where, depth + 1)
            )
        if isinstance(node, ast.IfExp):
            for index, arm in enumerate((node.body, node.orelse)):
                found = self.all_params(arm, where, depth + 1)
                if found is not None:
                    assumed = found.assumed | {(ast.dump(node.test), index)}
                    return AllParams(found.modules, found.roots, True, frozenset(assumed), found.on_path)
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            found = None
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    found = self._union(found, self.all_params(element.value, where, depth + 1))
            return found
        if isinstance(node, ast.Name):
            return self._name(node, where, depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            cls = class_of(where.scope)
            for binding in (cls.self_attributes.get(node.attr, ()) if cls else ()):
                found = self.all_params(binding.node, Where.of_binding(binding), depth + 1)
                if found is not None:
                    return found
        return None

    def _through_env(self, node, where: Where):
        """A helper's parameter inlined at a call: the caller's argument (to name it)."""
        if isinstance(node, ast.Name) and where.env is not None:
            for binding in self.resolver.reaching(node.id, where)[:1]:
                argument = self.resolver.argument_of(node.id, binding, where)
                if argument is not None and dotted_name(argument[0]) is not None:
                    return argument
        return node, where

    @staticmethod
    def _union(a: AllParams | None, b: AllParams | None) -> AllParams | None:
        if a is None:
            return b
        if b is None:
            return a
        return a + b

    def _name(self, node: ast.Name, where: Where, depth: int) -> AllParams | None:
        found = None
        for binding in self.resolver.reaching(node.id, where):
            if binding.kind in (BindingKind.ASSIGN, BindingKind.AUGASSIGN):
                value = self.all_params(binding.node, Where.of_binding(binding, where.env), depth + 1)
                if value is not None and binding.value_scope is where.scope and \
                        self.model.branches.guards(binding.path, where.path):
                    # `if use_split: params = split(m) else: params = m.parameters()`: the
                    # decay that matters is the one on this path (the rule reads it there)
                    value = replace(value, chosen=True, on_path=binding.path)
                found = self._union(found, value) if binding.kind is BindingKind.AUGASSIGN else (found or value)
                if binding.kind is BindingKind.ASSIGN and found is not None:
                    return found
            elif binding.kind is BindingKind.PARAM:
                argument = self.resolver.argument_of(node.id, binding, where)
                if argument is not None:
                    return self.all_params(argument[0], argument[1], depth + 1)
        return found

    def _call(self, node: ast.Call, where: Where, depth: int) -> AllParams | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            # parameters(recurse=True) / named_parameters(prefix="", recurse=True)
            recurse_position = 1 if func.attr == "named_parameters" else 0
            for i, arg in enumerate(node.args):
                if i == recurse_position and not self.resolver.evaluate(arg, where, depth + 1).provably_true:
                    return None
            for keyword in node.keywords:
                if keyword.arg == "recurse" and not self.resolver.evaluate(keyword.value, where, depth + 1).provably_true:
                    return None
            root, root_where = self._through_env(func.value, where)
            return AllParams((self.resolver.segment_at(root, root_where),), ((root, root_where),))
        name = self.resolver.qualname(func, where) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if name in _PASS_THROUGH and node.args:
            return self.all_params(node.args[0], where, depth + 1)
        function = self.resolver.local_function(func, where, _gathers_parameters)
        if function is not None and function.returns:
            # `def get_trainable(m): return m.parameters()`: read with the call's arguments
            env = self.resolver.bind_call(function, node, where)
            if env is None:
                return None
            found = [self.all_params(r.node, Where.of_site(r, env), depth + 1) for r in function.returns]
            return found[0] if all(f is not None for f in found) else None
        if name == "filter" and len(node.args) == 2:
            predicate = node.args[0]
            if isinstance(predicate, ast.Lambda) and len(predicate.args.args) == 1:
                if requires_grad_only(predicate.body, predicate.args.args[0].arg):
                    return self.all_params(node.args[1], where, depth + 1)
            return None
        if name in ("itertools.chain", "chain"):
            found = None
            for arg in node.args:
                found = self._union(found, self.all_params(arg, where, depth + 1))
            return found
        if name in ("itertools.chain.from_iterable", "chain.from_iterable") and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, (ast.List, ast.Tuple)):
                found = None
                for element in inner.elts:
                    found = self._union(found, self.all_params(element, where, depth + 1))
                return found
        return None

    def _comprehension(self, node, where: Where, depth: int) -> AllParams | None:
        if len(node.generators) != 1:
            return None
        comp = node.generators[0]
        source = self.all_params(comp.iter, where, depth + 1)
        if source is None:
            return None
        # The element must be the parameter itself (p, or (n, p) over named_parameters()).
        names = target_names(comp.target)
        if not names:
            return None
        param_var = names[-1]
        element = node.elt
        if isinstance(element, ast.Name):
            if element.id != param_var:
                return None
        elif isinstance(element, ast.Tuple):
            if [dotted_name(e) for e in element.elts] != names:
                return None
        else:
            return None
        for condition in comp.ifs:
            if not requires_grad_only(condition, param_var):
                return None
        return source

    # -- what the module holds --------------------------------------------------------------

    @property
    def shapes(self):
        from optlint.static.model.modules import ModuleShapes

        found = getattr(self, "_shapes", None)
        if found is None:
            found = self._shapes = ModuleShapes(self.model, self.resolver)
        return found

    def only_matrices(self, root, where: Where) -> bool:
        """Whether `root` is a model class of this file whose every parameter is provably a
        matrix (embedding tables, bias-free linear layers, 2-D parameters): no bias or norm
        weight to keep from decay."""
        other = self.elsewhere(where)
        if other is not None:
            return other.only_matrices(root, where)
        params = self.shapes.parameters_of(root, where)
        return bool(params) and not any(p.vector for p in params)

    # -- frozen bases with adapters -------------------------------------------------------

    def adapters_only(self, root: ast.expr, where: Where, call_order: int, assumed=frozenset()) -> bool:
        """Whether only adapters of `root` train: the module is adapter layers itself
        (``lora_layers = AttnProcsLayers(...)``), comes out of PEFT (``get_peft_model``, also
        through ``.to()``, ``torch.compile`` or an in-file helper), or it (or a module that
        holds it) is frozen before the optimizer on every path and not unfrozen again; and no
        adapter config in the file trains biases, norms or whole modules too."""
        other = self.elsewhere(where)
        if other is not None:
            return other.adapters_only(root, where, where.order, assumed)  # its own order there
        name = dotted_name(root)
        if name is None:
            return False
        if "lora" in name.rsplit(".", 1)[-1].lower() and not _peft_trains_more(self.model):
            return True  # a module of LoRA layers: bias-free down/up matrices
        assumed = set(assumed) | self.model.branches.conditions(where.path)
        peft = self._from_peft(root, where, assumed=frozenset(assumed))
        if peft is not None:
            return not self._config_trains_more(peft)
        if _peft_trains_more(self.model):
            return False
        last_flag = None  # the latest requires_grad_ call that covers the module: (order, frozen)
        for site in self._freezing_calls():
            call = site.node
            func = call.func
            if not _same_context(site, where, call_order):
                continue
            target, frozen = None, True
            if isinstance(func, ast.Attribute) and func.attr == "requires_grad_":
                flag = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
                target = module_path(func.value)
                frozen = isinstance(flag, ast.Constant) and flag.value is False
            elif isinstance(func, ast.Attribute) and func.attr in ("add_adapter", "add_lora", "load_adapter"):
                target = dotted_name(func.value)
            elif _MARK_ONLY.fullmatch(_last(func)) and call.args and not _trains_bias(call):
                target = dotted_name(call.args[0])  # loralib / lit-llama: freeze all but adapters
            elif _last(func) in _ADAPTER_FUNCTIONS and call.args:
                index = 1 if _last(func) == "inject_adapter_in_model" else 0
                target = dotted_name(call.args[index]) if len(call.args) > index else None
            if target is None or not (_covers(target, name) or (not frozen and _covers(name, target))):
                continue
            if frozen and site.scope is where.scope and where.path[: len(site.path)] != site.path \
                    and not self.model.branches.conditions(site.path) <= assumed:
                continue  # frozen on one branch only: the other path trains everything
            if last_flag is None or site.order > last_flag[0]:
                last_flag = (site.order, frozen)
        for site in self.model.loops:
            if isinstance(site.node, ast.For) and _same_context(site, where, call_order):
                target = _frozen_by_loop(site.node)
                if target is not None and _covers(target, name):
                    if site.scope is where.scope and where.path[: len(site.path)] != site.path \
                            and not self.model.branches.conditions(site.path) <= assumed:
                        continue
                    if last_flag is None or site.order > last_flag[0]:
                        last_flag = (site.order, True)
                unfrozen = _unfrozen_by_loop(site.node)
                if unfrozen is not None and (_covers(unfrozen, name) or _covers(name, unfrozen)):
                    # `for p in model.final_norm.parameters(): p.requires_grad = True`, or
                    # `if "norm" in n: p.requires_grad = True`: those train in full, vectors too
                    if last_flag is None or site.order > last_flag[0]:
                        last_flag = (site.order, False)
        return last_flag is not None and last_flag[1]

    def _freezing_calls(self) -> list:
        """Calls that may freeze a module or add adapters to it, found once per file."""
        found = getattr(self, "_freezing", None)
        if found is None:
            found = []
            for site in self.model.calls:
                func = site.node.func
                last = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
                if last in _FREEZING_NAMES or last in _ADAPTER_FUNCTIONS or last.startswith("mark_only_"):
                    found.append(site)
            self._freezing = found
        return found

    def _config_trains_more(self, peft) -> bool:
        """Whether the adapter config given to this PEFT call trains biases, norms or modules
        too; a config optlint cannot follow is judged by every config in the file."""
        call, where = peft
        if not _is_peft_wrapper(call):
            return False  # AttnProcsLayers: LoRA attention processors, nothing else
        # get_peft_model(model, config), LoraModel(model, config) or the older LoraModel(config, model)
        for config in [*call.args, *(k.value for k in call.keywords)]:
            config_where = where
            for _ in range(4):
                if not isinstance(config, ast.Name):
                    break
                bindings = self.resolver.reaching(config.id, config_where)
                if len(bindings) != 1 or not isinstance(bindings[0].node, ast.Call):
                    break
                config, config_where = bindings[0].node, Where.of_binding(bindings[0], config_where.env)
            if isinstance(config, ast.Call) and _last(config.func).endswith("Config"):
                return _config_call_trains_more(config, lambda node: self.resolver.evaluate(node, config_where))
        return _peft_trains_more(self.model)

    def _from_peft(self, node, where: Where, depth: int = 0, assumed=frozenset()):
        """The PEFT call (with where it runs) that `node` holds on every path reaching
        `where`, or None."""
        if depth > 6 or node is None:
            return None
        if isinstance(node, ast.Call):
            if _is_peft_wrapper(node) or _last(node.func) in ("AttnProcsLayers",):
                return node, where
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _SAME_MODULE_METHODS:
                return self._from_peft(func.value, where, depth + 1, assumed)
            if _last(func) in ("compile", "prepare", "DistributedDataParallel", "DataParallel") and node.args:
                return self._from_peft(node.args[0], where, depth + 1, assumed)
            function = self.resolver.local_function(func, where)
            if function is not None and function.returns:
                env = self.resolver.bind_call(function, node, where)
                found = [self._from_peft(r.node, Where.of_site(r, env), depth + 1) for r in function.returns]
                return found[0] if found and all(f is not None for f in found) else None
            return None
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head == "self" and rest:
            cls = class_of(where.scope)
            bindings = cls.self_attributes.get(rest.split(".", 1)[0], []) if cls else []
        else:
            if rest:
                return None
            bindings = self.resolver.reaching(head, where)
        conditions = self.model.branches.conditions
        local = [b for b in bindings if b.value_scope is where.scope]
        if local and len(local) == len(bindings):
            # On the path the use assumes (`if args.use_lora:` around both), a binding whose
            # conditions hold there hides the older ones; one that contradicts it never runs.
            kept = []
            for binding in local:  # most recent first
                held = conditions(binding.path)
                if any((test, 1 - arm) in assumed for test, arm in held if arm in (0, 1)):
                    continue
                kept.append(binding)
                if where.path[: len(binding.path)] == binding.path or held <= assumed:
                    break
            else:
                return None  # bound only on some branches: the other path keeps the unwrapped model
            bindings = kept
        values = [b for b in bindings if b.node is not None and b.kind is BindingKind.ASSIGN]
        if not values or len(values) != len(bindings):
            return None
        found = [self._from_peft(b.node, Where.of_binding(b, where.env), depth + 1, assumed) for b in values]
        return found[0] if all(f is not None for f in found) else None


_FREEZING_NAMES = frozenset({"requires_grad_", "add_adapter", "add_lora", "load_adapter"})

#: Methods that return the same module (or a copy of it): `.to("cuda")`, `.half()`.
_SAME_MODULE_METHODS = frozenset({"to", "cuda", "cpu", "half", "float", "bfloat16", "train", "eval", "requires_grad_"})


#: `mark_only_lora_as_trainable(model)`, `mark_only_adapter_as_trainable(model)`: helpers
#: (loralib, lit-llama) that freeze everything but the adapters.
_MARK_ONLY = re.compile(r"mark_only_\w+_as_trainable")


def _trains_bias(call: ast.Call) -> bool:
    """loralib's `mark_only_lora_as_trainable(model, bias="all")` keeps biases trainable."""
    values = [*call.args[1:], *(k.value for k in call.keywords if k.arg == "bias")]
    return any(isinstance(v, ast.Constant) and v.value in ("all", "lora_only") for v in values)


def path_without_decay(branches, path: tuple, outside: tuple, decay) -> bool:
    """Whether the if-tests that lead to `path` (from the use at `outside`) prove the decay
    expression `decay` zero there, or leave it nonzero only when the caller also turns off a
    flag: the else of `if weight_decay:`, of `if weight_decay > 0:`, of `if weight_decay and
    filter_bias_and_bn:`, the body of `if not weight_decay:` or `if weight_decay == 0:`. Read
    from the value the test computes, never from what its names mention."""
    if decay is None:
        return False
    target = ast.dump(decay)
    shared = 0
    while shared < min(len(path), len(outside)) and path[shared] == outside[shared]:
        shared += 1
    for block in path[shared:]:
        arm = branches.arms.get(block)
        if arm is None or arm[0] not in branches.tests:
            continue
        test, which = branches.tests[arm[0]], arm[1]
        if which == 1 and _nonzero_test(test, target, ast.And):
            return True
        if which == 0 and isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _nonzero_test(test.operand, target, ast.And):
            return True
        if which == 0 and _zero_test(test, target):
            return True
    return False


def _nonzero_test(test, target: str, joined) -> bool:
    """`D`, `D > 0`, `D != 0` (or one conjunct of an `and` of such)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, joined):
        return any(_nonzero_test(v, target, joined) for v in test.values)
    if ast.dump(test) == target:
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and ast.dump(test.left) == target \
            and isinstance(test.ops[0], (ast.Gt, ast.NotEq)) and isinstance(test.comparators[0], ast.Constant) \
            and test.comparators[0].value == 0:
        return True
    return False


def _zero_test(test, target: str) -> bool:
    """`D == 0`, `D <= 0` (or one alternative of an `or` of such)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_zero_test(v, target) for v in test.values)
    return isinstance(test, ast.Compare) and len(test.ops) == 1 and ast.dump(test.left) == target \
        and isinstance(test.ops[0], (ast.Eq, ast.LtE)) and isinstance(test.comparators[0], ast.Constant) \
        and test.comparators[0].value == 0


#: Module expressions that are a single embedding table (decayed by policy, like timm and HF).
_EMBEDDING_GETTERS = frozenset({"get_input_embeddings", "get_output_embeddings"})
_EMBEDDING_NAMES = frozenset({"embed_tokens", "wte", "wpe", "word_embeddings", "token_embedding", "tok_embeddings"})


def is_embedding_table(root) -> bool:
    """`text_encoder.get_input_embeddings()`, `model.transformer.wte`: one nn.Embedding, whose
    weight the policy decays unless asked not to (textual inversion trains only this)."""
    if isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
        return root.func.attr in _EMBEDDING_GETTERS
    name = dotted_name(root)
    return name is not None and name.rsplit(".", 1)[-1] in _EMBEDDING_NAMES


def _last(func) -> str:
    name = dotted_name(func) or ""
    return name.rsplit(".", 1)[-1]


#: Calls that wrap a model in adapters and freeze its base (PEFT, loralib).
_PEFT_WRAPPERS = frozenset({"get_peft_model", "PeftModel", "LoraModel", "from_pretrained_peft"})
_ADAPTER_FUNCTIONS = frozenset({"inject_adapter_in_model", "get_peft_model"})


def _is_peft_wrapper(call: ast.Call) -> bool:
    name = dotted_name(call.func) or ""
    last = name.rsplit(".", 1)[-1]
    if last in _PEFT_WRAPPERS:
        return True
    return last == "from_pretrained" and "Peft" in name


#: PEFT task types whose model adds its head (classifier, score, qa_outputs) to
#: modules_to_save: the head trains in full, biases included.
_HEAD_TASKS = frozenset({"SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS"})


def _peft_trains_more(model: FileModel) -> bool:
    """An adapter config anywhere in the file that trains biases, norms or whole modules too."""
    found = getattr(model, "_peft_trains_more", None)
    if found is None:
        found = model._peft_trains_more = any(
            _last(site.node.func).endswith("Config") and _config_call_trains_more(site.node) for site in model.calls
        )
    return found


def _config_call_trains_more(call: ast.Call, evaluate=None) -> bool:
    """`LoraConfig(bias="all")`, `modules_to_save=[...]`, a classification task type (PEFT
    then trains the head in full), or LN tuning (LayerNorm weights and biases). A value from
    the command line is judged at its default (`bias=args.lora_bias`, default "none")."""
    last = _last(call.func)
    if last == "LNTuningConfig":
        return True
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg == "task_type":
            task = value.value if isinstance(value, ast.Constant) else (value.attr if isinstance(value, ast.Attribute) else None)
            if task in _HEAD_TASKS:
                return True
        if keyword.arg == "bias":
            known = evaluate(value) if evaluate is not None else None
            bias = value.value if isinstance(value, ast.Constant) else (known.value if known is not None and known.known else None)
            if bias in ("all", "lora_only"):
                return True
        if keyword.arg == "modules_to_save" and not (isinstance(value, ast.Constant) and value.value is None):
            return True
    return False


def _same_context(site, where: Where, call_order: int) -> bool:
    """A freeze counts when it runs before the optimizer in the same function (or at module
    level before a module-level optimizer), or anywhere in another method of the same class
    (``__init__`` freezes, ``configure_optimizers`` builds)."""
    if site.scope is where.scope:
        return site.order < call_order
    cls = class_of(where.scope)
    if cls is not None and class_of(site.scope) is cls:
        return True
    return site.scope.kind.value == "module" and where.scope.kind.value != "module"


def _covers(frozen: str, module: str) -> bool:
    """Freezing `frozen` freezes `module` (the same module, or one that holds it)."""
    return module == frozen or module.startswith(frozen + ".")


def _parameter_loop(loop: ast.For):
    """(the parameter variable, X) of ``for p in X.parameters()`` /
    ``for n, p in X.named_parameters()``, or None."""
    iterable = loop.iter
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr in PARAMETER_METHODS):
        return None
    names = target_names(loop.target)
    return (names[-1], iterable.func.value) if names else None


def _frozen_by_loop(loop: ast.For) -> str | None:
    """``for p in X.parameters(): p.requires_grad = False`` (unconditional): X."""
    found = _parameter_loop(loop)
    if found is None:
        return None
    var, root = found
    for statement in loop.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant) and statement.value.value is False:
            if any(dotted_name(t) == f"{var}.requires_grad" for t in statement.targets):
                return dotted_name(root)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if dotted_name(call.func) == f"{var}.requires_grad_" and call.args and \
                    isinstance(call.args[0], ast.Constant) and call.args[0].value is False:
                return dotted_name(root)
    return None


def module_path(node) -> str | None:
    """The module an expression names, as a dotted path: `model.layers[-1]` is inside
    `model.layers` (which block does not matter to what covers what)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return dotted_name(node)


def _unfrozen_by_loop(loop: ast.For) -> str | None:
    """``for p in X.parameters(): p.requires_grad = True`` (also under an `if` that names
    roles or modules, or set to such a test, ``p.requires_grad = "norm" in n``): X, some of
    whose parameters train again, vectors among them. Adapters switched on by name
    (``if "lora" in n``), and tests optlint cannot read, unfreeze nothing it counts."""
    found = _parameter_loop(loop)
    if found is None:
        return None
    var, module = found[0], module_path(found[1])
    if module is None:
        return None
    for value, conditions in _flag_settings(loop.body, var, []):
        if isinstance(value, ast.Constant) and value.value is False:
            continue
        if not (isinstance(value, ast.Constant) and value.value is True):
            conditions = conditions + [value]
        if not conditions:
            if not _ADAPTER_WORD.search(module.rsplit(".", 1)[-1]):
                return module
            continue
        words = [c.value for test in conditions for c in ast.walk(test) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
        if not words:
            continue  # `if i >= n_frozen:`, `if n in names:`: not known which parameters
        if all(_ADAPTER_WORD.search(w) for w in words):
            continue  # adapters, switched on by name
        return module
    return None


#: Parameter names of adapter layers (PEFT, loralib, prompt and prefix tuning).
_ADAPTER_WORD = re.compile(r"(?i)lora|adapter|prompt|prefix|ia3|lokr|loha|vera")


def _flag_settings(body: list, var: str, conditions: list):
    """(value, the if-tests above it) for each `var.requires_grad = value` /
    `var.requires_grad_(value)` in a loop body."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _flag_settings(statement.body, var, conditions + [statement.test])
            yield from _flag_settings(statement.orelse, var, conditions + [ast.UnaryOp(ast.Not(), statement.test)])
        elif isinstance(statement, ast.Assign) and any(dotted_name(t) == f"{var}.requires_grad" for t in statement.targets):
            yield statement.value, conditions
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
                and dotted_name(statement.value.func) == f"{var}.requires_grad_":
            call = statement.value
            yield (call.args[0] if call.args else ast.Constant(True)), conditions


def _gathers_parameters(text: str) -> bool:
    """Whether another module may return a parameter set (read before it is parsed)."""
    return "parameters(" in text


def target_names(target) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return None


def requires_grad_only(test, var: str) -> bool:
    """``p.requires_grad`` (or ``is True``/``== True``, or several joined by ``and``)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return all(requires_grad_only(value, var) for value in test.values)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        if isinstance(test.ops[0], (ast.Is, ast.Eq)) and isinstance(test.comparators[0], ast.Constant) \
                and test.comparators[0].value is True:
            test = test.left
    return dotted_name(test) == f"{var}.requires_grad"


def params_module(node, resolver: Resolver, where: Where, depth: int = 0) -> str | None:
    """The module whose parameters (filtered or not) `node` iterates, as written."""
    if depth > 8 or node is None:
        return None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARAMETER_METHODS:
            return resolver.segment_at(func.value, where)
        for arg in node.args:  # list(...), filter(f, ...), chain(...)
            found = params_module(arg, resolver, where, depth + 1)
            if found:
                return found
        return None
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return params_module(node.generators[0].iter, resolver, where, depth + 1)
    if isinstance(node, ast.Name):
        for binding in resolver.reaching(node.id, where):
            if binding.kind in (BindingKind.ASSIGN, BindingKind.AUGASSIGN):
                found = params_module(binding.node, resolver, Where.of_binding(binding, where.env), depth + 1)
                if found:
                    return found
            elif binding.kind is BindingKind.PARAM:
                argument = resolver.argument_of(node.id, binding, where)
                if argument is not None:
                    return params_module(argument[0], resolver, argument[1], depth + 1)
    return None
