"""A seeded generator of small training programs around optimizer calls, for fix properties.

Each program builds a tiny model, an optimizer in one of several shapes (plain parameters,
a group list written in the call or in a name, `add_param_group` in a one-line loop), in
one of several places (a plain statement, after a multi-line string on the same row, in an
`if/elif/else` chain, in a block), with string literals that look like code around it and
a random set of uses of its groups (a warm-up loop, a per-group LambdaLR list, a write to
group 0, logging, clipping, a state-dict round trip), then trains a few steps.
"""

from __future__ import annotations

import random

HEADER = '''"""Generated: {seed}."""
import io

import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
x = torch.randn(3, 4)


def first(module):
    return module


DOC = """opt = torch.optim.AdamW(model.parameters())
params = list(params)"""
'''

OPTIMIZERS = {
    "plain": ("torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)", 1),
    "list": ('torch.optim.AdamW([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 1e-3}], '
             "lr=1e-2, weight_decay=0.1)", 2),
    "with_zero": ('torch.optim.SGD([{"params": model[0].parameters(), "weight_decay": 0.0}, '
                  '{"params": model[2].parameters()}], lr=0.1, momentum=0.9, weight_decay=1e-3)', 2),
}


def program(seed: int) -> str:
    rng = random.Random(seed)
    kind = rng.choice(sorted(OPTIMIZERS) + ["named_list", "add_param_group", "one_shot"])
    lines = [HEADER.format(seed=seed)]
    groups = 1
    if kind == "named_list":
        lines.append('groups = [{"params": model[0].parameters(), "lr": 1e-2}, {"params": model[2].parameters()}]')
        build, groups = "torch.optim.AdamW(groups, lr=1e-2, weight_decay=0.05)", 2
    elif kind == "one_shot":  # a one-shot iterator: the fix materializes it before the call
        lines.append("one_shot = first(model).parameters()")
        build = "torch.optim.AdamW(one_shot, lr=1e-2)"
    elif kind == "add_param_group":
        build = "torch.optim.AdamW([model[1].weight, model[1].bias], lr=1e-2, weight_decay=0.0)"
    else:
        build, groups = OPTIMIZERS[kind]
    place = rng.choice(["plain", "after_string", "elif", "block"])
    if place == "plain":
        lines.append(f"opt = {build}")
    elif place == "after_string":
        lines.append(f'note = """two\nrows"""; opt = {build}')
        lines.append('assert note == "two\\nrows"')
    elif place == "elif":
        mode = rng.choice(["a", "b", "c"])
        lines += [f'mode = "{mode}"', 'if mode == "a":', f"    opt = {build}", 'elif mode == "b":',
                  f'    text = """elif\n    branch"""; opt = {build}', "else:", f"    opt = {build}"]
    else:
        lines += ["for _ in range(1):", f"    opt = {build}"]
    if kind == "add_param_group":
        lines.append('for part in [model[0], model[2]]: opt.add_param_group({"params": part.parameters(), "weight_decay": 0.1})')
        groups = None  # how many groups, the generator does not need to know
    uses = [u for u in ("lambdas", "warmup_loop", "group0", "log", "clip", "resume") if rng.random() < 0.4]
    if "lambdas" in uses and groups:
        lambdas = ", ".join(f"lambda s: {0.9 - 0.1 * i} ** s" for i in range(groups))
        lines.append(f"sched = torch.optim.lr_scheduler.LambdaLR(opt, [{lambdas}])")
    lines += ["saved = io.BytesIO()", "for step in range(3):"]
    if "warmup_loop" in uses:
        lines += ["    for group in opt.param_groups:", "        group['lr'] *= 0.9"]
    if "group0" in uses and groups == 1:
        lines.append("    opt.param_groups[0]['lr'] = 1e-2 / (step + 1)")
    if "log" in uses:
        lines.append("    print('lr', opt.param_groups[0]['lr'], 'step', step)")
    lines += ["    opt.zero_grad()", "    model(x).pow(2).sum().backward()"]
    if "clip" in uses:
        lines.append("    torch.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)")
    lines.append("    opt.step()")
    if "lambdas" in uses and groups:
        lines.append("    sched.step()")
    if "resume" in uses:
        lines += ["    if step == 0:", "        torch.save(opt.state_dict(), saved)", "    if step == 1:",
                  "        saved.seek(0)", "        opt.load_state_dict(torch.load(saved))"]
    return "\n".join(lines) + "\n"
