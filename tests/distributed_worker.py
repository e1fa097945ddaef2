"""Run by tests/test_distributed.py in 2 gloo processes: each rank writes its verdict."""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist
from torch import nn

import optlint


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.Linear(16, 4))


def verdict(findings):
    return sorted([f.code, f.param] for f in findings)


def run_zero(rank: int, out: str) -> None:
    """ZeroRedundancyOptimizer: judged on its global param list, its keys known, at install()'s
    check (whose step runs the rank's inner optimizer) and by check_optimizer after a step."""
    from torch.distributed.optim import ZeroRedundancyOptimizer

    net = model()
    bad = ZeroRedundancyOptimizer(net.parameters(), optimizer_class=torch.optim.AdamW, lr=1e-3)
    good = ZeroRedundancyOptimizer(optlint.param_groups(net, 0.05), optimizer_class=torch.optim.AdamW, lr=1e-3)
    reports = []
    handle = optlint.install(on_finding=reports.append, models=net)
    try:
        for zero in (good, good):
            net(torch.randn(2, 8)).sum().backward()
            zero.step()
            zero.zero_grad()
    finally:
        handle.remove()
    result = {
        "before": verdict(optlint.check_optimizer(bad, net)),
        "after": verdict(optlint.check_optimizer(good, net)),
        "install": [verdict(r.findings) for r in reports],
    }
    with open(f"{out}.{rank}", "w") as handle:
        json.dump(result, handle)


def main(rank: int, world: int, port: str, out: str, kind: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        if kind == "ddp":
            wrapped = nn.parallel.DistributedDataParallel(model())
        elif kind == "fsdp2":
            from torch.distributed.fsdp import fully_shard

            wrapped = model()
            fully_shard(wrapped)
        elif kind in ("fsdp1", "fsdp1_orig"):
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

            wrapped = FSDP(model(), use_orig_params=(kind == "fsdp1_orig"), device_id=torch.device("cpu"))
        elif kind == "zero":
            run_zero(rank, out)
            return
        else:
            raise ValueError(kind)
        findings = optlint.check_optimizer(torch.optim.AdamW(wrapped.parameters()), wrapped)
        fixed = torch.optim.AdamW(optlint.param_groups(wrapped, 0.05)) if kind != "fsdp1" else None
        after = optlint.check_optimizer(fixed, wrapped) if fixed is not None else None
        with open(f"{out}.{rank}", "w") as handle:
            json.dump({"before": verdict(findings), "after": None if after is None else verdict(after)}, handle)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    rank, world, port, out, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    main(rank, world, port, out, kind)
