"""Run training scripts under instrumentation, and compare what two runs did to each parameter.

Used by the differential harness (tests/test_fix_dependents.py): a script and its fixed twin
each run on CPU in one process (`python training_harness.py OUT.json SCRIPT...`); every
parameter is named by its creation order (the model is built the same way in both), and at
every optimizer step the harness records, per parameter, its group's hyperparameters (the
effective lr after schedulers and warm-up), its weight decay, whether its gradient was
clipped since backward, and whether the step changed it. ``compare`` then says how the two
runs differ: only the weight decay of vectors (at most one dimension larger than 1) may.
"""

from __future__ import annotations

import io
import json
import math
import runpy
import sys
import traceback
import warnings
from contextlib import redirect_stdout


def _is_vector(shape) -> bool:
    return sum(1 for d in shape if d > 1) <= 1


def record(path: str) -> dict:
    """What one run of the script at `path` did, step by step."""
    import torch

    state = {"count": 0, "raw": {}, "steps": [], "shapes": {}, "before": {}}
    original = torch.nn.Module.register_parameter

    def register(module, name, param):
        original(module, name, param)
        if param is not None and not hasattr(param, "_harness_name"):
            key = f"{state['count']}:{type(module).__name__}.{name}"
            state["count"] += 1
            param._harness_name = key
            state["shapes"][key] = list(param.shape)

            def accumulated(p):
                state["raw"][p._harness_name] = float(p.grad.norm())

            param.register_post_accumulate_grad_hook(accumulated)

    def pre(optimizer, args, kwargs):
        step = {}
        for group in optimizer.param_groups:
            hyper = {k: _plain(v) for k, v in group.items() if k not in ("params", "weight_decay", "param_names")}
            for p in group["params"]:
                name = getattr(p, "_harness_name", None)
                if name is None:
                    continue
                raw = state["raw"].get(name)
                now = float(p.grad.norm()) if p.grad is not None else None
                clipped = raw is not None and now is not None and now < raw * (1 - 1e-6)
                step[name] = {"hyper": hyper, "decay": float(group.get("weight_decay", 0.0)), "clipped": clipped,
                              "grad": p.grad is not None}
                state["before"][name] = p.detach().clone()
        state["steps"].append(step)

    def post(optimizer, args, kwargs):
        step = state["steps"][-1]
        for group in optimizer.param_groups:
            for p in group["params"]:
                name = getattr(p, "_harness_name", None)
                if name in step:
                    step[name]["trained"] = not torch.equal(state["before"][name], p.detach())
        state["raw"].clear()

    torch.nn.Module.register_parameter = register
    from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

    handles = [register_optimizer_step_pre_hook(pre),
               register_optimizer_step_post_hook(post)]
    error = None
    try:
        torch.manual_seed(0)
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            runpy.run_path(path, run_name="__main__")
    except BaseException as exc:  # noqa: BLE001 - a crash is a result to compare
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    finally:
        torch.nn.Module.register_parameter = original
        for handle in handles:
            handle.remove()
    return {"error": error, "steps": state["steps"], "shapes": state["shapes"]}


def _plain(value):
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(type(value))


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def compare(before: dict, after: dict) -> tuple[list[str], int]:
    """(differences other than the decay of vectors, how many vector decays changed)."""
    problems = []
    if before["error"] or after["error"]:
        if before["error"] != after["error"]:
            problems.append(f"the runs end differently: {before['error']!r} / {after['error']!r}")
        return problems, 0
    if len(before["steps"]) != len(after["steps"]):
        problems.append(f"{len(before['steps'])} optimizer steps before the fix, {len(after['steps'])} after")
    vector_decays = 0
    shapes = before["shapes"]
    for i, (was, now) in enumerate(zip(before["steps"], after["steps"])):
        if was.keys() != now.keys():
            problems.append(f"step {i}: parameters in a group changed: lost {sorted(was.keys() - now.keys())}, "
                            f"gained {sorted(now.keys() - was.keys())}")
        for name in sorted(was.keys() & now.keys()):
            a, b = was[name], now[name]
            for key in ("hyper", "clipped", "grad", "trained"):
                if not _close(a.get(key), b.get(key)):
                    problems.append(f"step {i}: {name} {key}: {a.get(key)} -> {b.get(key)}")
            if a["decay"] != b["decay"]:
                if _is_vector(shapes[name]):
                    vector_decays += 1
                else:
                    problems.append(f"step {i}: {name} (shape {shapes[name]}) decay {a['decay']} -> {b['decay']}")
    return problems, vector_decays


def main(argv: list[str]) -> None:
    out, *paths = argv
    results = {path: record(path) for path in paths}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
