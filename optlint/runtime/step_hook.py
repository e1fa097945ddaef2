"""install(): check each optimizer once, at its first step(), everywhere in the process.

Models to name parameters by come from ``install(models=...)`` calls and from
``register_models`` (the pytest plugin registers a test's fixture models with it). A model
trained by several optimizers (Muon for its matrices, AdamW for the rest) is judged once, at
the first step() of any of them, on the union of its optimizers built so far. In warn mode
nothing that goes wrong inside the check can reach ``optimizer.step()``: training never stops
because of optlint.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref

import torch

from optlint.policy import PolicyOptions
from optlint.runtime.check import check_optimizer, is_zero_redundancy, selected_codes
from optlint.runtime.report import OptimizerConfigError, OptimizerConfigWarning, deliver, report  # noqa: F401

MODES = ("warn", "raise")


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


class _BuiltOptimizers:
    """Every optimizer built while an install() is active, in construction order (weakly).

    torch has no hook for "an optimizer was built", so install() wraps
    ``torch.optim.Optimizer.__init__`` (every optimizer runs it, ZeroRedundancyOptimizer
    included) and restores it when the last handle is removed.
    """

    def __init__(self) -> None:
        self._refs: list[weakref.ref] = []
        self._users = 0
        self._original = None

    def acquire(self) -> None:
        self._users += 1
        if self._users > 1:
            return
        original = self._original = torch.optim.Optimizer.__init__
        built = self

        def __init__(optimizer, *args, **kwargs):
            original(optimizer, *args, **kwargs)
            built.add(optimizer)

        __init__.__wrapped__ = original
        torch.optim.Optimizer.__init__ = __init__

    def release(self) -> None:
        self._users -= 1
        if self._users == 0 and self._original is not None:
            torch.optim.Optimizer.__init__ = self._original
            self._original = None

    def add(self, optimizer) -> None:
        self._refs.append(weakref.ref(optimizer))

    def live(self) -> list:
        alive = [ref for ref in self._refs if ref() is not None]
        self._refs = alive
        return [opt for opt in (ref() for ref in alive) if opt is not None]


_built = _BuiltOptimizers()


def _inner_optimizers(optimizers) -> set[int]:
    """ids of ZeroRedundancyOptimizer's inner (per-rank shard) optimizers: never judged alone."""
    return {id(opt.optim) for opt in optimizers if is_zero_redundancy(opt)}


class InstallHandle:
    """What install() returns: remove() stops the checks and forgets its models."""

    def __init__(self, hook_handle, refs) -> None:
        self._hook = hook_handle
        self._refs = refs
        self._removed = False

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        self._hook.remove()
        _registry.discard(self._refs)
        _built.release()


def _resolve_on_finding(on_finding, mode):
    if mode is not None:
        if on_finding not in (None, "warn") and on_finding != mode:
            raise TypeError("install(): give on_finding or mode (its earlier name), not both")
        on_finding = mode
    on_finding = "warn" if on_finding is None else on_finding
    if callable(on_finding):
        return on_finding
    if not isinstance(on_finding, str) or on_finding not in MODES:
        raise ValueError(f"install(): on_finding must be 'warn', 'raise' or a callable, got {on_finding!r}")
    return on_finding


def install(on_finding="warn", models=None, *, select=None, ignore=None, mode=None, **options) -> InstallHandle:
    """Check each model's optimizers once, at the first step() of any of them, everywhere in the process.

    `on_finding`: "warn" emits an OptimizerConfigWarning with the report; "raise" raises
    OptimizerConfigError from step(); a callable is called with the OptimizerConfigError
    (what it raises propagates from step()). `mode` is its earlier name.
    `models`: a module or modules to name parameters by; an optimizer is checked against
    the registered model that owns its parameters, by shapes alone otherwise. The optimizers
    of one model built so far (since install()) are judged together, so a parameter trained
    by a second optimizer is not "in no param group" (OPT102).
    `select` / `ignore`: rule codes, as for check_optimizer. A check that fails (a model
    whose parameters() raises, a lazy parameter never shaped) is a warning, never an exception.
    """
    action = _resolve_on_finding(on_finding, mode)
    own = _as_models(models, "install")
    selected_codes(select, ignore)  # a typo is an error now, not at step()
    PolicyOptions.from_kwargs(options, "install")
    refs = _registry.add(own)
    checked: weakref.WeakSet = weakref.WeakSet()
    reported: dict[int, set] = {}  # per model: findings already reported

    def judge(optimizer):
        """(findings, report) for the union of `optimizer`'s model's optimizers; None if done."""
        model = owner_of(optimizer, _registry.models())
        together = [optimizer]
        if model is not None:
            live = _built.live()
            inner = _inner_optimizers(live + [optimizer])
            together = [
                opt for opt in live
                if id(opt) not in inner and (opt is optimizer or owner_of(opt, [model]) is model)
            ]
            if optimizer not in together:
                together.append(optimizer)
        for opt in together:
            checked.add(opt)
        findings = check_optimizer(together if len(together) > 1 else optimizer, model, select=select, ignore=ignore, **options)
        seen = reported.setdefault(id(model) if model is not None else id(optimizer), set())
        fresh = []
        for f in findings:
            owner = together[f.optimizer] if f.optimizer is not None else optimizer
            key = (f.code, f.param, f.group, f.index, id(owner) if f.group is not None else None)
            if key not in seen:
                seen.add(key)
                fresh.append(f)
        return fresh, (together[0] if len(together) == 1 else together)

    def hook(optimizer, args, kwargs):
        try:
            if optimizer in checked or id(optimizer) in _inner_optimizers(_built.live()):
                return
            if is_zero_redundancy(optimizer):
                checked.add(optimizer.optim)
            findings, judged = judge(optimizer)
            text = report(judged, findings) if findings else None
        except Exception as error:  # never let the checker stop training
            warnings.warn(
                f"optlint could not check {type(optimizer).__name__}: {type(error).__name__}: {error}",
                OptimizerConfigWarning,
                stacklevel=3,
            )
            return
        if text is None:
            return
        deliver(OptimizerConfigError(text, findings), action)

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    _built.acquire()
    return InstallHandle(register_optimizer_step_pre_hook(hook), refs)
