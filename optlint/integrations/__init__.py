"""Trainer integrations: check a run's optimizers once, before the first optimizer step.

- ``optlint.integrations.lightning.OptlintCallback``: a Lightning callback
  (``Trainer(callbacks=[OptlintCallback()])``);
- ``optlint.integrations.transformers.OptlintTrainerCallback``: a Hugging Face
  ``TrainerCallback`` (``Trainer(..., callbacks=[OptlintTrainerCallback()])``);
- ``optlint.integrations.accelerate.check(accelerator)``: one line after
  ``accelerator.prepare(...)``.

Each takes ``on_finding`` ("warn", "raise" or a callable given the OptimizerConfigError),
``select`` / ``ignore`` (rule codes) and the policy options of ``check_optimizer``, and judges
all the optimizers of a model together (Muon and AdamW in one run). Importing this package,
or any of its modules, imports neither torch nor the trainer library: the classes are built
on first use (PEP 562).
"""
