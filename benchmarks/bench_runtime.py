"""Time check_optimizer on a meta-device model with 100k parameter tensors (not a test).

Meta tensors have shapes but no data: a checker that read tensor data would fail here.

    python benchmarks/bench_runtime.py [--blocks 25000]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import optlint


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)  # weight + bias
        self.norm = nn.LayerNorm(8)  # weight + bias


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=25_000, help="4 parameter tensors per block")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with torch.device("meta"):
        model = nn.Sequential(*(Block() for _ in range(args.blocks)))
    tensors = sum(1 for _ in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        findings = optlint.check_optimizer(optimizer, model)
        times.append(time.perf_counter() - start)
    shapes_only = time.perf_counter()
    optlint.check_optimizer(optimizer)
    shapes_only = time.perf_counter() - shapes_only
    start = time.perf_counter()
    groups = optlint.param_groups(model, 0.05)
    build = time.perf_counter() - start
    print(f"parameter tensors:                 {tensors}")
    print(f"findings (OPT101):                 {len(findings)}")
    print(f"check_optimizer with model (s):    {sorted(times)[len(times) // 2]:.3f}  (median of {args.repeat})")
    print(f"check_optimizer shapes only (s):   {shapes_only:.3f}")
    print(f"param_groups (s):                  {build:.3f}  ({len(groups)} groups)")
    chain = chained_blocks(400)
    start = time.perf_counter()
    optlint.check_optimizer(torch.optim.AdamW(chain.parameters()), chain)
    print(f"400 blocks holding the previous (s): {time.perf_counter() - start:.3f}  (each module walked once)")


def chained_blocks(count: int) -> nn.Module:
    """Blocks that each keep a reference to the one before (self.prev): shared submodules."""
    blocks, previous = nn.ModuleList(), None
    for _ in range(count):
        block = Block()
        if previous is not None:
            block.prev = previous
        blocks.append(block)
        previous = block
    return blocks


if __name__ == "__main__":
    main()
