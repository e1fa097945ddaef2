from __future__ import annotations

from typing import Iterator

from optlint.rules.base import Example, RawFinding, Rule

_MMENGINE = """\
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05),
)
"""
_MMENGINE_FIXED = """\
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True),
)
"""


class ConfigDecayAllParams(Rule):
    code = "OPT010"
    name = "config-decay-all-params"
    summary = "A config file's optimizer that decays every parameter"
    fixable = True
    what_it_does = """
        OPT001 for optimizers that a config file describes, reported in the config file at the
        key that sets the decay (the `weight_decay` key, else the optimizer's class key):

        - mmengine/mmcv Python configs: `optim_wrapper = dict(optimizer=dict(type="AdamW",
          weight_decay=0.05))` (or mmcv's `optimizer = dict(...)`) with no `paramwise_cfg`, or
          one that sets no zero multiplier (`norm_decay_mult`, `bias_decay_mult`,
          `flat_decay_mult`, `dwconv_decay_mult`) and no `custom_keys` decay. `_base_` files are
          merged as mmengine merges them (child keys override, `_delete_=True` replaces); a file
          in a `_base_` folder is judged through the configs that inherit it.
        - detectron2 LazyConfigs: `L(torch.optim.AdamW)(params=L(get_default_optimizer_params)(),
          weight_decay=0.1)` with `weight_decay_norm` and `weight_decay_bias` unset or equal to
          the decay (detectron2 then decays norms and biases).
        - Lightning CLI YAML: the top-level `optimizer: {class_path: ..., init_args: {...}}`
          (LightningCLI's automatic `configure_optimizers` hands it `model.parameters()`).
        - torchtune YAML: `optimizer: {_component_: torch.optim.AdamW, ...}` (its
          full-finetune recipes build it over `model.parameters()`; LoRA models are not judged).
        - Hydra/OmegaConf YAML (`_target_: torch.optim.AdamW`) and DeepSpeed JSON
          (`"optimizer": {"type": "AdamW", "params": {"weight_decay": 0.01}}`), when the
          project's Python code hands the optimizer every parameter of a module:
          `hydra.utils.instantiate(cfg.optimizer, params=model.parameters())` (or `_partial_`
          then called with them), `deepspeed.initialize(model=m,
          model_parameters=m.parameters(), config="ds_config.json")`.

        The decay is the written value (a value written in the project's config is taken as
        the value, although Hydra can override any key from the command line), else the
        optimizer's default (AdamW 0.01; DeepSpeed's fused Adam 0.0).
    """
    why_bad = """
        The same as OPT001: biases, norm weights and other vectors pulled toward zero. A config
        file hides it better, because no Python line shows `model.parameters()`.
    """
    known_problems = """
        Hydra and DeepSpeed configs are judged only through the code that uses them: a
        `config_path=` folder or a literal path in the same project (`--deepspeed_config
        ds.json` in a shell script is out of reach: not reported), and the key the code reads
        (`cfg.optimizer`) matching the key (or config group) of the `_target_`. torchtune
        configs are assumed to run one of torchtune's recipes. A config that keeps only norms
        or only biases from decay is not reported (as OPT001 does not report a partial split);
        mmengine `custom_keys` with a `decay_mult` count as a split. mmengine's
        `flat_decay_mult` covers 1-D parameters only: a `[1, 1, C]` token needs a custom key.
        JSON has no comments, so a `# noqa` cannot be written there: use `per-file-ignores`.
        (JSON with `//` comments is another tool's format, tsconfig or VS Code settings: left
        alone.) A YAML stream of several documents is judged by its first, as OmegaConf reads
        one; YAML aliases and merge keys are followed (a finding once, where the key is
        written). An mmengine `optim_wrapper` changed after its assignment (`optim_wrapper[
        "paramwise_cfg"] = ...`, `.update(...)`) is not judged.
    """
    example = Example(_MMENGINE, "configs/model.py")
    use_instead = Example(_MMENGINE_FIXED, "configs/model.py")
    fix_safety = """
        Only for mmengine `optim_wrapper` dicts written in the reported file, with no
        `paramwise_cfg`: the fix inserts one key, `paramwise_cfg=dict(norm_decay_mult=0.0,
        bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True)`, and leaves every other byte as it was.
        It is unsafe (applied with `--unsafe-fixes` only): with `paramwise_cfg`, mmengine builds
        one param group per parameter, so an optimizer state saved before the fix (resumed with
        `resume=True` outside the file) no longer loads. mmcv 1.x configs (`optimizer =
        dict(...)`), detectron2, YAML and JSON configs get no fix.
    """
    references = (
        "https://mmengine.readthedocs.io/en/latest/api/generated/mmengine.optim.DefaultOptimWrapperConstructor.html",
        "https://detectron2.readthedocs.io/en/latest/modules/solver.html#detectron2.solver.get_default_optimizer_params",
        "https://lightning.ai/docs/pytorch/stable/cli/lightning_cli_advanced_3.html",
        "https://www.deepspeed.ai/docs/config-json/#optimizer-parameters",
        "https://hydra.cc/docs/advanced/instantiate_objects/overview/",
    )
    VALID = (
        Example(_MMENGINE_FIXED, "configs/model.py"),
        Example("optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))\n", "configs/sgd.py"),
        Example(
            "from detectron2.config import LazyCall as L\nfrom detectron2.solver import get_default_optimizer_params\n"
            "import torch\noptimizer = L(torch.optim.AdamW)(\n    params=L(get_default_optimizer_params)(weight_decay_norm=0.0, "
            "weight_decay_bias=0.0),\n    lr=1e-4,\n    weight_decay=0.1,\n)\n",
            "configs/lazy.py",
        ),
        Example("optimizer:\n  class_path: torch.optim.AdamW\n  init_args:\n    lr: 0.001\n    weight_decay: 0.0\n", "config.yaml"),
        Example("optimizer:\n  class_path: torch.optim.AdamW\n  init_args:\n    weight_decay: 0.05  # noqa: OPT010\n", "config.yaml"),
    )
    INVALID = (
        Example(_MMENGINE, "configs/model.py"),
        Example(
            "from detectron2.config import LazyCall as L\nfrom detectron2.solver import get_default_optimizer_params\n"
            "import torch\noptimizer = L(torch.optim.AdamW)(\n    params=L(get_default_optimizer_params)(),\n    lr=1e-4,\n"
            "    weight_decay=0.1,\n)\n",
            "configs/lazy.py",
        ),
        Example("optimizer:\n  class_path: torch.optim.AdamW\n  init_args:\n    lr: 0.001\n", "config.yaml"),
        Example("model:\n  _component_: torchtune.models.llama3_2.llama3_2_1b\noptimizer:\n  _component_: torch.optim.AdamW\n"
                "  lr: 2e-5\n  weight_decay: 0.01\n", "recipe.yaml"),
    )
    REQUIRES = (r"optim_wrapper|optimizer\s*=\s*dict|_base_|get_default_optimizer_params",)

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.configs.pyconfig import PARAMWISE_FIX, detectron2_findings, mmengine_findings
        from optlint.static.fix.edits import caveat_note

        found = mmengine_findings(ctx)
        if "get_default_optimizer_params" in ctx.text:
            found += detectron2_findings(ctx)
        for finding in found:
            fix = None
            reason = finding.no_fix
            if finding.fix_target is not None:
                from optlint.static.fix.paramwise import build_fix

                fix = build_fix(finding.fix_target, PARAMWISE_FIX)
            message = finding.message + (f" (no automatic fix: {reason})" if reason and fix is None else "") + caveat_note(fix)
            yield self.finding(finding.node, message, fix=fix, no_fix=None if fix else reason)
