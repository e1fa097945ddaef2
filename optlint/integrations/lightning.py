"""A Lightning callback that checks the run's optimizers before the first optimizer step.

``OptlintCallback`` subclasses ``lightning.pytorch.Callback`` (or, when only the older
package is installed, ``pytorch_lightning.Callback``); the class is built on first access, so
importing this module imports neither. Lightning's documentation of callbacks:
https://lightning.ai/docs/pytorch/stable/extensions/callbacks.html
"""

from __future__ import annotations

import functools


def _lightning():
    try:
        import lightning.pytorch as pl
    except ImportError:
        import pytorch_lightning as pl
    return pl


@functools.lru_cache(maxsize=None)
def _callback_class():
    pl = _lightning()

    class OptlintCallback(pl.Callback):
        """Check ``trainer.optimizers`` against the LightningModule at the first optimizer step.

        ``OptlintCallback(on_finding="raise", select=None, ignore=None, **policy_options)``;
        on_finding: "warn", "raise" (the default: a misconfigured run stops at its first
        step) or a callable given the OptimizerConfigError.
        """

        def __init__(self, on_finding="raise", *, select=None, ignore=None, **options) -> None:
            from optlint.runtime.check import selected_codes
            from optlint.runtime.step_hook import _resolve_on_finding
            from optlint.policy import PolicyOptions

            self.on_finding = _resolve_on_finding(on_finding, None)
            selected_codes(select, ignore)
            PolicyOptions.from_kwargs(options, "OptlintCallback")
            self.select, self.ignore, self.options = select, ignore, options
            self.findings = None  # what the check found, once it ran

        def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
            if self.findings is not None:
                return
            from optlint.runtime.report import check_together

            optimizers = list(trainer.optimizers) or [optimizer]
            self.findings = []
            self.findings = check_together(
                optimizers, pl_module, self.on_finding, select=self.select, ignore=self.ignore, **self.options
            )

    return OptlintCallback


def __getattr__(name: str):
    if name == "OptlintCallback":
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
