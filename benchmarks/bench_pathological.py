"""Time `optlint check` on the worst shapes known for the flow model, at about 1 MB (not a test).

Issue 22 items 7-8: every file under 1 MB must check in at most 2 s. The shapes are the
generators of ``tests/test_hostile_core.py`` (where the default suite bounds their *work*,
counted, never timed); here each is grown to the largest size under the bound (an ``elif``
chain is capped by how deep Python's parser nests) and checked in-process with every rule,
as ``optlint check`` runs them for its text report (fixes are rendered only by --fix,
--diff and the JSON formats, per finding). Prints bytes, seconds (median of --repeat) and the work
counters (value steps, bindings scanned, path blocks).

    python benchmarks/bench_pathological.py [--limit 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from test_hostile_core import SHAPES, elif_chain, work  # noqa: E402

from optlint.config import FileConfig, resolve_settings  # noqa: E402
from optlint.static.linter import check_source  # noqa: E402

#: Python's parser refuses an elif chain much deeper than this (RecursionError: OPT000).
ELIF_DEPTH = 900


def largest(shape, limit: int) -> int:
    """The largest n whose source stays under `limit` bytes (doubling, then bisection)."""
    low, high = 1, 2
    while len(shape(high)) < limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(shape(middle)) < limit else (low, middle)
    return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1_000_000, help="file size in bytes (default 1 MB)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = resolve_settings(FileConfig(), ["ALL"])
    settings.fix_edits = False  # `optlint check`'s text report renders no fixes (--fix/--diff do, per finding)
    check_source("warm.py", b"import torch\nopt = torch.optim.AdamW(m.parameters())\n", settings)
    print(f"{'shape':<24} {'n':>7} {'bytes':>9} {'seconds':>8} {'ast.parse':>9} {'work':>9}")
    for shape in [*SHAPES, elif_chain]:
        n = ELIF_DEPTH if shape is elif_chain else largest(shape, args.limit)
        source = shape(n)
        data = source.encode()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = check_source("shape.py", data, settings)
            times.append(time.perf_counter() - start)
        assert not result.error, [f.message for f in result.findings if f.code == "OPT000"]
        start = time.perf_counter()
        ast.parse(source)  # the floor: CPython's own parse of the same text, on the same machine
        parsed = time.perf_counter() - start
        print(f"{shape.__name__:<24} {n:>7} {len(data):>9} {statistics.median(times):>8.2f} {parsed:>9.2f} {work(source):>9}")


if __name__ == "__main__":
    main()
