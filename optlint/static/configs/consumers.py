"""The Python code of the project that builds an optimizer from a config file, and what it
hands the optimizer.

A Hydra ``_target_`` and a DeepSpeed ``"optimizer"`` say which optimizer and which decay;
the parameters come from the code that uses them:

- Hydra: ``hydra.utils.instantiate(cfg.optimizer, params=model.parameters())``, or
  ``instantiate(cfg.optimizer)`` (``_partial_: true``) whose result is called with the
  parameters. The call belongs to the config file when the last key it reads
  (``cfg.optimizer`` -> ``optimizer``) is the key the optimizer sits under (or its config
  group's folder), and the Python file names the config: a ``config_path=`` folder
  (``@hydra.main``, ``initialize``) that holds it, or its path as a string.
- DeepSpeed: ``deepspeed.initialize(model=..., model_parameters=..., config="ds.json")``, the
  config given by a literal (also through a name or an argparse default:
  ``args.deepspeed_config``). A path given only on a command line (``--deepspeed_config
  ds.json`` in a shell script) is out of reach: such a config is not reported.

Only the project's own files are read (through the project, so the cache records them).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

from optlint.static.configs.tree import candidates
from optlint.static.model.scopes import BindingKind
from optlint.static.model.values import Where

HYDRA_INSTANTIATE = frozenset({"hydra.utils.instantiate", "hydra.utils.call", "hydra.utils.instantiate_"})


@dataclass
class Consumer:
    """A call that builds the optimizer over every parameter of some modules."""

    path: str  # the Python file
    row: int
    modules: tuple[str, ...]
    how: str  # "`hydra.utils.instantiate(...)`"


def hydra_consumers(project, config_path: str, key: str) -> list[Consumer] | None:
    """The instantiations of the optimizer under `key` of `config_path` over all parameters
    of a module; None when no code of the project instantiates it (nothing to judge)."""
    found: list[Consumer] = []
    seen = False
    for path in project.files_mentioning("instantiate"):
        ctx = project.context(path)
        if ctx is None or not _names_config(ctx, path, config_path):
            continue
        for site in ctx.model.calls:
            call = site.node
            where = Where.of_site(site)
            if not isinstance(call.func, (ast.Name, ast.Attribute)) or ctx.resolver.qualname(call.func, where) not in HYDRA_INSTANTIATE:
                continue
            config = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "config"), None)
            if config is None or _last_key(ctx, config, where) != key:
                continue
            seen = True
            params = next((k.value for k in call.keywords if k.arg == "params"), None)
            if params is None and len(call.args) > 1 and not isinstance(call.args[1], ast.Starred):
                params = call.args[1]  # `instantiate(cfg.optimizer, model.parameters())`: passed on positionally
            if params is not None:
                modules = decayed_modules(ctx, params, where, site.order)
                if modules:
                    found.append(Consumer(path, call.lineno, modules, "`hydra.utils.instantiate`"))
                continue
            for later, params, later_where in _calls_of_result(ctx, site):
                modules = decayed_modules(ctx, params, later_where, later.order)
                if modules:
                    found.append(Consumer(path, later.node.lineno, modules, "the partial `hydra.utils.instantiate` returns"))
    return found if seen else None


def deepspeed_consumers(project, config_path: str) -> list[Consumer] | None:
    """The ``deepspeed.initialize`` calls that read `config_path` and hand DeepSpeed every
    parameter of a module; None when no call of the project names the file."""
    found: list[Consumer] = []
    seen = False
    for path in project.files_mentioning("deepspeed"):
        ctx = project.context(path)
        if ctx is None:
            continue
        for call in ctx.optimizer_calls:
            if call.kind != "engine" or call.args is None:
                continue
            if not _engine_reads(ctx, path, call, config_path):
                continue
            seen = True
            for group in call.groups:
                if group.params is None or group.params_node is None:
                    continue
                modules = decayed_modules(ctx, group.params_node, group.params_where or call.where, call.site.order)
                if modules:
                    found.append(Consumer(path, call.node.lineno, modules, "`deepspeed.initialize`"))
                    break
    return found if seen else None


def decayed_modules(ctx, node, where: Where, order: int) -> tuple[str, ...]:
    """The modules whose every parameter `node` yields and that have vectors to protect (a
    frozen base given adapters, an embedding table or a matrices-only model have none)."""
    from optlint.static.model.params import is_embedding_table

    params = ctx.params.all_params(node, where)
    if params is None or params.chosen:
        return ()
    return tuple(
        module
        for module, (root, root_where) in zip(params.modules, params.roots)
        if not is_embedding_table(root)
        and not ctx.params.adapters_only(root, root_where, order, params.assumed)
        and not ctx.params.only_matrices(root, root_where)
    )


def _last_key(ctx, node, where: Where) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = ctx.resolver.evaluate(node.slice, where)
        return key.value if key.known and isinstance(key.value, str) else None
    return None


def _calls_of_result(ctx, site):
    """(call site, params expr, where) of each call of the name the instantiation is bound to
    (``make = instantiate(cfg.optimizer)``; ``make(model.parameters())``)."""
    for other in ctx.model.calls:
        func = other.node.func
        if not isinstance(func, ast.Name):
            continue
        where = Where.of_site(other)
        bindings = ctx.resolver.reaching(func.id, where)
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN or bindings[0].node is not site.node:
            continue
        args = other.node.args
        params = args[0] if args and not isinstance(args[0], ast.Starred) else next(
            (k.value for k in other.node.keywords if k.arg == "params"), None
        )
        if params is not None:
            yield other, params, where


def _strings(ctx) -> list[str]:
    memo = ctx.resolver.memo
    if "config_strings" not in memo:
        memo["config_strings"] = [
            node.value for node in ast.walk(ctx.tree) if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 400
        ]
    return memo["config_strings"]


def _names_config(ctx, path: str, config_path: str) -> bool:
    """Whether the Python file names the config: a `config_path=` folder that holds it, or its
    path as a string."""
    target = os.path.normpath(os.path.abspath(config_path))
    root = ctx.project.root
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.keyword) and node.arg == "config_path" and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for folder in candidates(path, node.value.value, root):
                if target.startswith(folder.rstrip(os.sep) + os.sep):
                    return True
    for written in _strings(ctx):
        if written.endswith((".yaml", ".yml", ".json")) and target in candidates(path, written, root):
            return True
    return False


def _engine_reads(ctx, path: str, call, config_path: str) -> bool:
    """Whether a ``deepspeed.initialize`` call reads `config_path`: its ``config=`` (or
    ``config_params=``) is a literal path (through names or an argparse default), or it is
    given ``args=`` whose ``--deepspeed_config`` has a literal default."""
    target = os.path.normpath(os.path.abspath(config_path))
    root = ctx.project.root
    written = None
    for name in ("config", "config_params"):
        found = call.args.keyword(name)
        if found is not None:
            value = ctx.resolver.evaluate(found[0], found[1])
            written = value.value if value.known and isinstance(value.value, str) else None
            break
    else:
        if call.args.keyword("args") is not None or call.args.positional:
            option = ctx.model.argparse.get("deepspeed_config")
            if option is not None and option.default is not None:
                value = ctx.resolver.evaluate(option.default, Where(option.scope, option.order))
                written = value.value if value.known and isinstance(value.value, str) else None
    return written is not None and target in candidates(path, written, root)


