"""A Hugging Face ``TrainerCallback`` that checks the Trainer's optimizer before training.

``Trainer(..., callbacks=[OptlintTrainerCallback()])``: at ``on_train_begin`` the Trainer
has built its optimizer (``Trainer.create_optimizer``) and hands it to callbacks with the
model. The class is built on first access, so importing this module does not import
transformers. Callbacks: https://huggingface.co/docs/transformers/main_classes/callback
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def _callback_class():
    from transformers import TrainerCallback

    class OptlintTrainerCallback(TrainerCallback):
        """Check the Trainer's optimizer against its model when training begins.

        ``OptlintTrainerCallback(on_finding="raise", select=None, ignore=None, **policy_options)``.
        """

        def __init__(self, on_finding="raise", *, select=None, ignore=None, **options) -> None:
            from optlint.policy import PolicyOptions
            from optlint.runtime.check import selected_codes
            from optlint.runtime.step_hook import _resolve_on_finding

            self.on_finding = _resolve_on_finding(on_finding, None)
            selected_codes(select, ignore)
            PolicyOptions.from_kwargs(options, "OptlintTrainerCallback")
            self.select, self.ignore, self.options = select, ignore, options
            self.findings = None

        def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
            if self.findings is not None or optimizer is None:
                return
            from optlint.runtime.report import check_together

            self.findings = []
            self.findings = check_together(
                optimizer, model, self.on_finding, select=self.select, ignore=self.ignore, **self.options
            )

    return OptlintTrainerCallback


def __getattr__(name: str):
    if name == "OptlintTrainerCallback":
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
