from __future__ import annotations

from typing import Iterator

from optlint.rules.base import Example, RawFinding, Rule

_SPLIT = """\
optim_wrapper = dict(
    optimizer=dict(type="AdamW", lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            "absolute_pos_embed": dict(decay_mult=0.0),
            "relative_position_bias_table": dict(decay_mult=0.0),
            "norm": dict(decay_mult=0.0),
        }
    ),
)
"""
_FIXED = """\
optim_wrapper = dict(
    optimizer=dict(type="AdamW", lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            "absolute_pos_embed": dict(decay_mult=0.0),
            "relative_position_bias_table": dict(decay_mult=0.0),
        },
    ),
)
"""


class ConfigNameSplit(Rule):
    code = "OPT011"
    name = "config-substring-name-split"
    summary = "A config's decay split decided by substrings of parameter names (mmengine custom_keys)"
    what_it_does = """
        OPT002 for mmengine/mmcv configs: `paramwise_cfg=dict(custom_keys={"norm":
        dict(decay_mult=0.0), ...})` keeps parameters from decay because their names hold a
        substring, while no multiplier keeps the other 1-D parameters out (`flat_decay_mult`
        is not 0, and `norm_decay_mult` and `bias_decay_mult` are not both 0). Reported at the
        key that sets the decay, naming the keys and what they miss. `_base_` files are merged
        as for OPT010.
    """
    why_bad = """
        mmengine matches custom keys as substrings of the full parameter name: `"norm"` misses
        norms named `ln_1` or `bn1` and catches any module whose name holds "norm"; with only
        name keys, every bias stays decayed (mmdetection's Swin configs decay the biases of
        every linear layer this way). mmengine can decide by kind instead: `norm_decay_mult`
        for norm layers, `bias_decay_mult` for biases and `flat_decay_mult` for every other
        1-D parameter; custom keys stay right for position embeddings and tables, which no
        kind describes.
    """
    known_problems = """
        Custom keys match before the multipliers, so a parameter a key matches (with an
        `lr_mult` only, say) keeps its decay whatever the multipliers say; optlint does not
        know the model's parameter names and cannot tell which keys match what. A config
        whose norm and bias multipliers are both 0 is not reported (the 1-D parameters left
        are LayerScale-like scales, which OPT002 in Python code would not single out either).
    """
    example = Example(_SPLIT, "configs/swin.py")
    use_instead = Example(_FIXED, "configs/swin.py")
    fix_safety = """
        No automatic fix: the multipliers do not reach parameters a custom key matches, so no
        single inserted key is exact; add them by hand and review which keys are still needed.
    """
    references = (
        "https://mmengine.readthedocs.io/en/latest/api/generated/mmengine.optim.DefaultOptimWrapperConstructor.html",
        "https://github.com/open-mmlab/mmengine/issues/846",
    )
    VALID = (
        Example(_FIXED, "configs/swin.py"),
        Example("optim_wrapper = dict(optimizer=dict(type='AdamW', weight_decay=0.05),\n"
                "    paramwise_cfg=dict(flat_decay_mult=0.0, custom_keys={'pos_embed': dict(decay_mult=0.0)}))\n", "configs/vit.py"),
    )
    INVALID = (
        Example(_SPLIT, "configs/swin.py"),
        Example("optimizer = dict(type='SGD', lr=0.1, weight_decay=1e-4,\n"
                "    paramwise_cfg=dict(custom_keys={'bias': dict(decay_mult=0.0)}))\noptimizer_config = dict()\n", "configs/r50.py"),
    )
    REQUIRES = (r"custom_keys|_base_",)  # custom_keys may come from a base config

    def check(self, ctx) -> Iterator[RawFinding]:
        from optlint.static.configs.pyconfig import mmengine_name_splits

        for finding in mmengine_name_splits(ctx):
            yield self.finding(finding.node, finding.message)
