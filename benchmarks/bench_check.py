"""Benchmark `optlint check` against a plain LibCST parse of the same files (not a test).

Lints the installed torch package's source tree (found without importing torch) and one
small file, and prints files/s, wall time, peak memory and the ratio against a
single-process `libcst.parse_module` of every file, all measured in this run.

    python benchmarks/bench_check.py [--repeat 3] [--tree PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def torch_tree() -> str:
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        sys.exit("torch is not installed: pass --tree PATH")
    return os.path.dirname(spec.origin)


def python_files(tree: str) -> list[str]:
    out = []
    for folder, _, names in os.walk(tree):
        out += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    return sorted(out)


def plain_parse(files: list[str]) -> float:
    import libcst

    start = time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            libcst.parse_module(data)
        except Exception:
            pass
    return time.perf_counter() - start


def timed_run(args: list[str]) -> tuple[float, int, int]:
    """(wall seconds, exit status, peak RSS in KiB of the largest process in the run)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=None, help="folder to lint (default: the installed torch package)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each optlint command (median reported)")
    args = parser.parse_args()

    tree = args.tree or torch_tree()
    files = python_files(tree)
    size = sum(os.path.getsize(f) for f in files)
    print(f"tree: {tree}\nfiles: {len(files)}  ({size / 1e6:.1f} MB)  cores: {os.cpu_count()}")

    check = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "--exit-zero", "-q"]
    runs = [timed_run(check + [tree]) for _ in range(args.repeat)]
    wall = statistics.median(r[0] for r in runs)
    peak = max(r[2] for r in runs)
    # --diff computes every fix like --fix does, but writes nothing (this is an installed package)
    diff_runs = [timed_run(check + ["--diff", tree]) for _ in range(args.repeat)]
    diff_wall = statistics.median(r[0] for r in diff_runs)

    with tempfile.TemporaryDirectory() as folder:
        small = os.path.join(folder, "train.py")
        with open(small, "w") as handle:
            handle.write("import torch\nopt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n")
        one = [timed_run(check + [small]) for _ in range(max(5, args.repeat))]
    one_wall = statistics.median(r[0] for r in one)

    print("baseline: plain single-process libcst.parse_module of every file ...", flush=True)
    baseline = plain_parse(files)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print()
    print(f"{'measure':<42}{'value':>14}")
    print(f"{'plain LibCST parse, 1 process (s)':<42}{baseline:>14.2f}")
    print(f"{'optlint check --select ALL, tree (s)':<42}{wall:>14.2f}")
    print(f"{'optlint files/s':<42}{len(files) / wall:>14.0f}")
    print(f"{'plain parse files/s':<42}{len(files) / baseline:>14.0f}")
    print(f"{'speed-up vs plain parse (x)':<42}{baseline / wall:>14.1f}")
    print(f"{'optlint check --diff, tree (s)':<42}{diff_wall:>14.2f}")
    print(f"{'--diff (fix) cost vs check (x)':<42}{diff_wall / wall:>14.2f}")
    print(f"{'optlint peak RSS, one process (MiB)':<42}{peak / 1024:>14.0f}")
    print(f"{'plain-parse peak RSS (MiB)':<42}{self_peak / 1024:>14.0f}")
    print(f"{'one small file, end to end (s)':<42}{one_wall:>14.3f}")


if __name__ == "__main__":
    main()
