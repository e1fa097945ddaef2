"""install(): check each optimizer once, at its first step(), everywhere in the process.

Models to name parameters by come from ``install(models=...)`` calls and from
``register_models`` (the pytest plugin registers a test's fixture models with it). In warn
mode nothing that goes wrong inside the check can reach ``optimizer.step()``: training
never stops because of optlint.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref

import torch

from optlint.policy import PolicyOptions
from optlint.runtime.check import check_optimizer
from optlint.runtime.report import OptimizerConfigError, report

MODES = ("warn", "raise")


class OptimizerConfigWarning(UserWarning):
    """Emitted by install(mode="warn"), and by either mode when a check itself fails."""


class _ModelRegistry:
    """Weak references to the models that optimizers may belong to, in registration order."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref] = []

    def add(self, models) -> list[weakref.ref]:
        refs = [weakref.ref(m) for m in models]
        self._refs += refs
        return refs

    def discard(self, refs) -> None:
        gone = {id(ref) for ref in refs}
        self._refs = [ref for ref in self._refs if id(ref) not in gone and ref() is not None]

    def models(self) -> list:
        return [m for m in (ref() for ref in self._refs) if m is not None]


_registry = _ModelRegistry()


def _as_models(models, function: str) -> list:
    if models is None:
        return []
    if isinstance(models, torch.nn.Module):
        return [models]
    try:
        listed = list(models)
    except TypeError:
        raise TypeError(f"{function}(): models must be a torch.nn.Module or an iterable of them, got {type(models).__name__}") from None
    for model in listed:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"{function}(): models must hold torch.nn.Module objects, got {type(model).__name__}")
    return listed


@contextlib.contextmanager
def register_models(models):
    """Offer `models` to every installed check while the block runs (used by pytest --optlint)."""
    refs = _registry.add(_as_models(models, "register_models"))
    try:
        yield
    finally:
        _registry.discard(refs)


def owner_of(optimizer, candidates) -> object | None:
    """The candidate model holding most of `optimizer`'s parameters (the first on a tie)."""
    ids = {id(p) for g in optimizer.param_groups for p in g["params"]}
    best, best_count = None, 0
    for model in candidates:
        count = sum(1 for p in model.parameters() if id(p) in ids)
        if count > best_count:
            best, best_count = model, count
    return best


class InstallHandle:
    """What install() returns: remove() stops the checks and forgets its models."""

    def __init__(self, hook_handle, refs) -> None:
        self._hook = hook_handle
        self._refs = refs

    def remove(self) -> None:
        self._hook.remove()
        _registry.discard(self._refs)


def install(mode: str = "warn", models=None, **options) -> InstallHandle:
    """Check each optimizer once, at its first step(), everywhere in the process.

    `models`: a module or modules to name parameters by; an optimizer is checked against
    the registered model that owns its parameters, by shapes alone otherwise.
    mode="warn" emits an OptimizerConfigWarning with the report; mode="raise" raises
    OptimizerConfigError from step(). A check that fails (a model whose parameters()
    raises, a lazy parameter never shaped) is a warning in both modes, never an exception.
    """
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"install(): mode must be 'warn' or 'raise', got {mode!r}")
    own = _as_models(models, "install")
    PolicyOptions.from_kwargs(options, "install")  # a typo is an error now, not at step()
    refs = _registry.add(own)
    checked: weakref.WeakSet = weakref.WeakSet()

    def hook(optimizer, args, kwargs):
        try:
            if optimizer in checked:
                return
            checked.add(optimizer)
            model = owner_of(optimizer, _registry.models())
            findings = check_optimizer(optimizer, model, **options)
            text = report(optimizer, findings) if findings else None
        except Exception as error:  # never let the checker stop training
            warnings.warn(
                f"optlint could not check {type(optimizer).__name__}: {type(error).__name__}: {error}",
                OptimizerConfigWarning,
                stacklevel=3,
            )
            return
        if text is None:
            return
        if mode == "raise":
            raise OptimizerConfigError(text, findings)
        warnings.warn(text, OptimizerConfigWarning, stacklevel=3)

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    return InstallHandle(register_optimizer_step_pre_hook(hook), refs)
