"""Benchmark `optlint check` against ruff and a plain LibCST parse on trees of training code (not a test).

Every figure is the median of N whole-process runs (``--repeat``, default 3) taken in this one
run, so ratios compare tools under the same load. Rows are the trees of issue 11 plus two
one-file runs (the pre-commit case); columns:

- ruff ALL: ``ruff check --select ALL --no-cache --statistics .`` (found next to this Python, on
  PATH, or ``--ruff``; without it the ratios cannot be computed and say so). ``--statistics``
  measures ruff's analysis, not its printing: with its default output ruff spends most of its
  time writing about a million lines on timm (7 s against 2.3 s);
- ruff E9: ``ruff check --select E9 --no-cache --statistics .``, ruff's parse floor (it reads and
  parses every file and runs no rule): the least any linter of these trees can cost;
- plain parse: one process that calls ``libcst.parse_module`` on every ``*.py`` file of the
  tree and does nothing else;
- optlint ``check --select ALL --no-cache .`` (cold) with ``--jobs 2`` and ``--jobs 1``,
  ``--format json`` (2 jobs; it carries the fix edits) and ``--diff`` (2 jobs; on diffusers
  ``examples/`` unless ``--diff-all``);
- warm: the second run with nothing changed, each tool with its cache (in a temporary folder:
  ``ruff check --select ALL --statistics --cache-dir D .`` and ``optlint check --select ALL
  --cache-dir D .``), after one unmeasured run that fills it;
- the staged-file row (the pre-commit case): one file of diffusers (``--staged``, default
  ``examples/amused/train_amused.py``) named alone, ``optlint check --force-exclude --select ALL``
  as the hook runs it, from the tree's root, with the cache of a full run of the whole tree;
  the one-file rows (benchmarks/data/) are cold (``--no-cache``);
- the ratios of cold optlint to ruff ALL and to ruff E9, and of warm optlint to warm ruff;
- peak RSS: the largest resident set of any single process of any optlint run on the tree,
  pool workers included (``os.wait4`` in a small launcher process: the maximum over the
  command and every descendant it reaped);
- flake8 on timm with optlint installed (this Python's environment) against the same flake8
  without it: flake8 runs every installed plugin whatever ``--select`` says, and has no
  option to unload one, so the honest baseline is a second virtual environment holding only
  flake8 and its dependencies, copied from this one (same versions, no download), made on
  demand at ``--flake8-baseline-venv PATH`` (default: a temporary folder).

Every command runs with the tree as its working directory, as a user would run it, so each
tool reads that tree's own configuration (ruff's ``exclude`` and ``ignore`` in pyproject.toml
included). Measurements of one repeat are taken tool after tool, then the next repeat, so
load changes spread over every column.

The trees, pinned (extract each one anywhere outside this repository; never commit them):

    pytorch/examples                 77f55b912142e11fcfdf5b530231fb9c52f181e8  (2025-08-25)
    huggingface/pytorch-image-models aa4b5850c1543fa488abf260f18390eda46cf85d  (2026-08-08)
    Lightning-AI/pytorch-lightning   7f0c3436cd3f6ad3753125672024fc415cbcb414  (2026-07-20)
    huggingface/diffusers            58eb52c0803ea9af3abec60841c2a093bdf1f951  (2026-08-23)

    fetch() {  # fetch OWNER/NAME COMMIT FOLDER: one commit, no history
        git init -q "$3" && git -C "$3" fetch -q --depth 1 "https://github.com/$1" "$2" \\
            && git -C "$3" checkout -q FETCH_HEAD
    }
    fetch pytorch/examples 77f55b912142e11fcfdf5b530231fb9c52f181e8 trees/examples
    fetch huggingface/pytorch-image-models aa4b5850c1543fa488abf260f18390eda46cf85d trees/timm
    fetch Lightning-AI/pytorch-lightning 7f0c3436cd3f6ad3753125672024fc415cbcb414 trees/lightning
    fetch huggingface/diffusers 58eb52c0803ea9af3abec60841c2a093bdf1f951 trees/diffusers

At those commits the trees hold 93, 315, 646 (272 under src/) and 2,089 (298 under
examples/) ``*.py`` files. Then:

    python benchmarks/bench_check.py --examples trees/examples --timm trees/timm \\
        --lightning trees/lightning --diffusers trees/diffusers          # all rows, 3 repeats
    python benchmarks/bench_check.py --quick ...                        # 1 repeat, no whole diffusers

A tree left out drops its rows; the one-file rows (benchmarks/data/) always run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SMALL_WITH_FINDING = os.path.join(DATA, "train_small.py")
SMALL_WITHOUT_OPTIMIZER = os.path.join(DATA, "train_small_no_optimizer.py")

# The child that measures a plain parse: read each file, parse it with LibCST, nothing else.
PLAIN_PARSE = """
import sys
import libcst
with open(sys.argv[1]) as listing:
    paths = listing.read().splitlines()
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data)
    except Exception:
        pass
"""

# Every measured command runs under this small launcher, which times it and reads its peak
# RSS with os.wait4: that rusage covers the command and every descendant it waited for (pool
# workers), and ru_maxrss is the largest single process, which is what the memory target
# means. The launcher exists because Linux starts a child's ru_maxrss at the RSS of the
# process that spawned it (exec records the old address space's high-water mark): spawned
# from this script, whose memory grows with the output it keeps, every command would report
# at least this script's size. The launcher's own ~10 MiB is the floor instead.
MEASURE = """
import os, subprocess, sys, time
report, args = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(args)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    handle.write(f"{wall!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""

# The environment of every measured process; --optlint-src puts another optlint first on the path.
# Bytecode stays cached, as on a user's machine: without it each process recompiles optlint's own
# modules (about 0.18 s), which is not what a user pays. A warm-up run per tree writes the .pyc.
CHILD_ENV = dict(os.environ)
CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)

# Targets (ratios are taken within this run): issue 18's cold targets against ruff's analysis
# (`--statistics`): at most 1.0x on every tree of 250 files or more, 1.5x on smaller ones (where
# interpreter start-up dominates); the rest are issue 11's.
TREE_RATIO = 1.0
SMALL_TREE_RATIO = 1.5
SMALL_TREE_FILES = 250
JSON_RATIO = 1.5
FLAKE8_RATIO = 1.05
DIFF_VS_PARSE = 0.6
WARM_RATIO = 1.0  # warm optlint against warm ruff
PEAK_MIB = 300  # issue 18: per process, on diffusers whole
ONE_FILE_WITH_FINDING_S = 0.15
ONE_FILE_WITHOUT_OPTIMIZER_S = 0.10
STAGED_FILE_S = 0.2
STAGED_DEFAULT = os.path.join("examples", "amused", "train_amused.py")


@dataclass(frozen=True)
class Row:
    label: str
    path: str  # a folder, or one file for the one-file rows
    single_file: bool = False
    staged_in: str | None = None  # the staged-file row: the tree whose warm cache it uses


@dataclass
class Samples:
    """Every run of one command: wall seconds, peak RSS (KiB) and exit status of each."""

    walls: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_stdout: bytes = b""

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak_mib(self) -> float:
        return max(self.peaks_kib) / 1024


def timed_run(args: list[str], cwd: str, samples: Samples) -> None:
    """Run one whole process; record its wall time, the largest RSS of it and its children."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as report:
        launcher = [sys.executable, "-I", "-c", MEASURE, report.name, *args]
        subprocess.run(launcher, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=CHILD_ENV)
        out.seek(0)
        samples.last_stdout = out.read()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        measured = report.read().split()
    if len(measured) != 3:
        samples.errors.append(f"the measuring launcher failed: {stderr.strip()[-200:]}")
        return
    wall, peak_kib, status = float(measured[0]), int(measured[1]), int(measured[2])
    samples.walls.append(wall)
    samples.peaks_kib.append(peak_kib)
    samples.statuses.append(status)
    # An uncaught exception exits 1, like "findings found": a traceback tells them apart.
    if status not in (0, 1) or "Traceback (most recent call last)" in stderr:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        samples.errors.append(f"exit {status}: {last[:200]}")


def python_files(tree: str) -> list[str]:
    out = []
    for folder, dirs, names in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".hg", ".svn", "__pycache__"))
        out += [os.path.join(folder, n) for n in names if n.endswith(".py") and os.path.isfile(os.path.join(folder, n))]
    return sorted(out)


def find_ruff(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "ruff")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("ruff")


def version_of(args: list[str], cwd: str) -> str:
    """The first line `args` prints, run from `cwd` (the folder the measured runs use)."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=cwd, env=CHILD_ENV)
    except OSError as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


# Exits non-zero unless flake8 imports and neither optlint nor its flake8 entry point is there.
BASELINE_PROBE = """
import importlib.metadata, importlib.util, sys
import flake8
plugins = sorted(ep.dist.name for ep in importlib.metadata.entry_points(group="flake8.extension"))
print("plugins from:", ", ".join(plugins))
sys.exit(importlib.util.find_spec("optlint") is not None or "optlint" in plugins)
"""


# ---- flake8 without optlint -------------------------------------------------------------


def _requirement_names(dist_name: str) -> list[str]:
    names = []
    for requirement in importlib.metadata.requires(dist_name) or []:
        if "extra ==" in requirement or "extra==" in requirement:
            continue
        names.append(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0])
    return names


def _flake8_closure() -> list[str]:
    seen, todo = [], ["flake8"]
    while todo:
        name = todo.pop()
        if name.lower() in (s.lower() for s in seen):
            continue
        seen.append(name)
        todo += _requirement_names(name)
    return sorted(seen)


def make_flake8_baseline(path: str) -> str:
    """A virtual environment with this environment's flake8 and its dependencies, and nothing else.

    The files are copied from the installed distributions (their RECORD), so the versions are
    the same as in the measured environment and nothing is downloaded. Returns its python.
    """
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
        purelib = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for name in _flake8_closure():
            dist = importlib.metadata.distribution(name)
            for entry in dist.files or []:
                if str(entry).startswith(".."):
                    continue  # console scripts: the benchmark runs `python -m flake8`
                source = str(dist.locate_file(entry))
                target = os.path.join(purelib, str(entry))
                if os.path.isfile(source):
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(source, target)  # keeps mtimes, so the copied .pyc stay valid
    # Run from the venv's folder: from this repository's root `optlint` would be importable.
    probe = subprocess.run([python, "-c", BASELINE_PROBE], cwd=path, capture_output=True, text=True)
    if probe.returncode != 0:
        sys.exit(f"{path}: not a flake8 baseline: {probe.stdout.strip() or probe.stderr.strip()}")
    return python


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class TreeResult:
    row: Row
    files: int = 0
    megabytes: float = 0.0
    ruff_files: int | None = None
    measures: dict[str, Samples] = field(default_factory=dict)

    def median(self, name: str) -> float | None:
        samples = self.measures.get(name)
        return samples.median if samples and samples.walls else None

    def failed(self, name: str) -> bool:
        samples = self.measures.get(name)
        return bool(samples) and bool(samples.errors)


def optlint_findings(stdout: bytes) -> int:
    """Findings in text output: one `path:row:col: CODE message` line each."""
    return sum(
        1 for line in stdout.decode("utf-8", "replace").splitlines() if re.match(r"^.+:\d+:\d+: OPT\d{3} ", line)
    )


def plan(row: Row, ruff: str | None, listing: str | None, do_diff: bool, folder: str) -> dict[str, list[str]]:
    """The commands measured on one row, by column name (names ending in `Warm` use a cache
    that one unmeasured run fills first)."""
    target = row.path if row.single_file else "."
    optlint = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "--no-cache"]
    commands: dict[str, list[str]] = {}
    if row.staged_in:
        cache = os.path.join(folder, "optlint-cache-staged")
        warm = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "--cache-dir", cache]
        commands["stagedPrime"] = warm + ["."]  # run once, unmeasured: the full run's cache
        commands["optlintWarm"] = warm + ["--force-exclude", os.path.relpath(row.path, row.staged_in)]
        return commands
    if ruff:
        commands["ruff"] = [ruff, "check", "--select", "ALL", "--no-cache", "--statistics", target]
        commands["ruffE9"] = [ruff, "check", "--select", "E9", "--no-cache", "--statistics", target]
    if listing:
        commands["parse"] = [sys.executable, "-c", PLAIN_PARSE, listing]
    if row.single_file:
        # default jobs (all cores, 2 here): what a pre-commit hook runs; shown as "2 jobs"
        commands["optlint2"] = optlint + [target]
        commands["json"] = optlint + ["--format", "json", target]
    else:
        tag = re.sub(r"\W+", "-", row.label)
        if ruff:
            ruff_cache = os.path.join(folder, f"ruff-cache-{tag}")
            commands["ruffWarm"] = [ruff, "check", "--select", "ALL", "--statistics", "--cache-dir", ruff_cache, "."]
        optlint_cache = os.path.join(folder, f"optlint-cache-{tag}")
        commands["optlintWarm"] = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "--cache-dir", optlint_cache, "."]
        commands["optlint2"] = optlint + ["--jobs", "2", target]
        commands["optlint1"] = optlint + ["--jobs", "1", target]
        commands["json"] = optlint + ["--jobs", "2", "--format", "json", target]
        if do_diff:
            commands["diff"] = optlint + ["--jobs", "2", "--diff", target]
    return commands


def measure_trees(
    rows: list[Row], ruff: str | None, repeat: int, diff_labels: set[str], folder: str
) -> list[TreeResult]:
    results, plans = [], []
    for index, row in enumerate(rows):
        result = TreeResult(row)
        listing = None
        if row.single_file:
            result.files, result.megabytes = 1, os.path.getsize(row.path) / 1e6
            cwd = row.staged_in or os.path.dirname(row.path)
        else:
            files = python_files(row.path)
            result.files = len(files)
            result.megabytes = sum(os.path.getsize(f) for f in files) / 1e6
            listing = os.path.join(folder, f"files-{index}.txt")
            with open(listing, "w") as handle:
                handle.write("\n".join(os.path.abspath(f) for f in files) + "\n")
            cwd = row.path
            if ruff:
                shown = subprocess.run(
                    [ruff, "check", "--show-files", "--select", "ALL", "."], cwd=cwd, capture_output=True, text=True
                )
                result.ruff_files = sum(
                    1 for line in shown.stdout.splitlines() if line.strip().endswith((".py", ".pyi", ".ipynb"))
                )
        commands = plan(row, ruff, listing, row.label in diff_labels, folder)
        result.measures = {name: Samples() for name in commands if name != "stagedPrime"}
        results.append(result)
        plans.append((cwd, commands))
    # One unmeasured run of optlint per row first: it writes optlint's bytecode (and warms the
    # file cache for every tool alike).
    # The warm columns' caches are filled by one unmeasured run of each.
    for result, (cwd, commands) in zip(results, plans, strict=True):
        for name in ("optlint2", "stagedPrime", "optlintWarm", "ruffWarm"):
            if name in commands:
                subprocess.run(commands[name], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL, env=CHILD_ENV)
    # The one-file rows are short: run them more often so their median means something.
    for attempt in range(max(repeat, 5)):
        for result, (cwd, commands) in zip(results, plans, strict=True):
            if attempt >= repeat and not result.row.single_file:
                continue
            for name, args in commands.items():
                if name == "stagedPrime":
                    continue
                print(f"  [{attempt + 1}] {result.row.label}: {name} ...", end="", flush=True, file=sys.stderr)
                timed_run(args, cwd, result.measures[name])
                print(f" {result.measures[name].walls[-1]:.2f} s", file=sys.stderr, flush=True)
    return results


@dataclass
class Flake8Result:
    select: str
    with_optlint: Samples
    without_optlint: Samples


def measure_flake8(tree: str, baseline_python: str, repeat: int) -> list[Flake8Result]:
    out = []
    for select in ("E9", "E9,OPT"):
        out.append(Flake8Result(select, Samples(), Samples()))
    for attempt in range(repeat):
        for result in out:
            for python, samples in ((sys.executable, result.with_optlint), (baseline_python, result.without_optlint)):
                which = "with" if python == sys.executable else "without"
                print(
                    f"  [{attempt + 1}] flake8 --select {result.select}, {which} optlint ...",
                    end="",
                    flush=True,
                    file=sys.stderr,
                )
                timed_run([python, "-m", "flake8", "--select", result.select, "."], tree, samples)
                print(f" {samples.walls[-1]:.2f} s", file=sys.stderr, flush=True)
    return out


# ---- reporting ----------------------------------------------------------------------------


def seconds(value: float | None, failed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" + (" (error)" if failed else "")


def ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "n/a"
    return f"{num / den:.2f}×"


def print_table(results: list[TreeResult]) -> None:
    header = [
        "tree",
        "files",
        "MB",
        "ruff ALL",
        "ruff E9",
        "plain parse",
        "optlint 2 jobs",
        "optlint 1 job",
        "json",
        "--diff",
        "2 jobs / ruff",
        "1 job / ruff",
        "json / ruff",
        "2 jobs / ruff E9",
        "ruff warm",
        "optlint warm",
        "warm / ruff warm",
        "warm / ruff E9",
        "peak MiB",
        "findings",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        ruff = r.median("ruff")
        two = r.median("optlint2")
        one = r.median("optlint1")
        peak = max(
            (s.peak_mib for n, s in r.measures.items() if n.startswith(("optlint", "json", "diff")) and s.walls),
            default=None,
        )
        optlint_run = r.measures.get("optlint1") or r.measures.get("optlint2") or r.measures.get("optlintWarm")
        findings = optlint_findings(optlint_run.last_stdout) if optlint_run and optlint_run.walls else None
        files = f"{r.files:,}" + (
            f" (ruff {r.ruff_files:,})" if r.ruff_files is not None and r.ruff_files != r.files else ""
        )
        cells = [
            r.row.label,
            files,
            f"{r.megabytes:.1f}",
            seconds(ruff, r.failed("ruff")),
            seconds(r.median("ruffE9"), r.failed("ruffE9")),
            seconds(r.median("parse"), r.failed("parse")),
            seconds(two, r.failed("optlint2")),
            seconds(one, r.failed("optlint1")),
            seconds(r.median("json"), r.failed("json")),
            seconds(r.median("diff"), r.failed("diff")),
            ratio(two, ruff),
            ratio(one, ruff),
            ratio(r.median("json"), ruff),
            ratio(two, r.median("ruffE9")),
            seconds(r.median("ruffWarm"), r.failed("ruffWarm")),
            seconds(r.median("optlintWarm"), r.failed("optlintWarm")),
            ratio(r.median("optlintWarm"), r.median("ruffWarm")),
            ratio(r.median("optlintWarm"), r.median("ruffE9")),
            f"{peak:.0f}" if peak is not None else "—",
            str(findings) if findings is not None else "—",
        ]
        print("| " + " | ".join(cells) + " |")


def verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def check_targets(results: list[TreeResult], flake8: list[Flake8Result]) -> list[str]:
    lines = []

    def add(ok: bool | None, text: str) -> None:
        lines.append(f"{verdict(ok)}  {text}")

    for r in results:
        label = r.row.label
        ruff = r.median("ruff")
        if r.row.staged_in:
            took = r.median("optlintWarm")
            add(
                took <= STAGED_FILE_S and not r.failed("optlintWarm") if took is not None else None,
                f"{label}: optlint {seconds(took)} <= {STAGED_FILE_S:.2f} s (whole process, warm cache)",
            )
            continue
        if r.row.single_file:
            limit = ONE_FILE_WITH_FINDING_S if r.row.path == SMALL_WITH_FINDING else ONE_FILE_WITHOUT_OPTIMIZER_S
            took = r.median("optlint2")
            add(
                took <= limit and not r.failed("optlint2") if took is not None else None,
                f"{label}: optlint {seconds(took)} <= {limit:.2f} s",
            )
            continue
        limit = SMALL_TREE_RATIO if r.files < SMALL_TREE_FILES else TREE_RATIO
        for name, what in (("optlint2", "optlint 2 jobs"), ("optlint1", "optlint 1 job")):
            took = r.median(name)
            ok = None if ruff is None or took is None else took / ruff <= limit and not r.failed(name)
            add(ok, f"{label}: {what} {ratio(took, ruff)} ruff ALL <= {limit:.1f}×")
        took, ruff_warm = r.median("optlintWarm"), r.median("ruffWarm")
        ok = None if ruff_warm is None or took is None else took / ruff_warm <= WARM_RATIO and not r.failed("optlintWarm")
        add(ok, f"{label}: warm optlint {ratio(took, ruff_warm)} warm ruff ALL <= {WARM_RATIO:.1f}×")
        took = r.median("json")
        ok = None if ruff is None or took is None else took / ruff <= JSON_RATIO and not r.failed("json")
        add(ok, f"{label}: --format json {ratio(took, ruff)} ruff ALL <= {JSON_RATIO:.1f}×")
        if "diff" in r.measures:
            took, parse = r.median("diff"), r.median("parse")
            ok = None if parse is None or took is None else took / parse <= DIFF_VS_PARSE and not r.failed("diff")
            add(ok, f"{label}: --diff {ratio(took, parse)} plain LibCST parse <= {DIFF_VS_PARSE:.1f}×")
        peak = max(
            (s.peak_mib for n, s in r.measures.items() if n not in ("ruff", "ruffE9", "ruffWarm", "parse") and s.walls),
            default=None,
        )
        add(
            None if peak is None else peak <= PEAK_MIB,
            f"{label}: peak RSS per optlint process {peak:.0f} MiB <= {PEAK_MIB} MiB",
        )
    for f in flake8:
        with_s, without_s = f.with_optlint.median, f.without_optlint.median
        add(
            with_s / without_s <= FLAKE8_RATIO and not (f.with_optlint.errors or f.without_optlint.errors),
            f"timm: flake8 --select {f.select} with optlint {with_s:.2f} s / without {without_s:.2f} s "
            f"= {with_s / without_s:.2f}× <= {FLAKE8_RATIO:.2f}×",
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--examples", help="pytorch/examples work tree")
    parser.add_argument("--timm", help="huggingface/pytorch-image-models work tree")
    parser.add_argument("--lightning", help="Lightning-AI/pytorch-lightning work tree (rows: src/ and whole)")
    parser.add_argument("--diffusers", help="huggingface/diffusers work tree (rows: whole and examples/)")
    parser.add_argument(
        "--staged",
        default=STAGED_DEFAULT,
        help=f"the file of --diffusers named alone in the staged-file row (default {STAGED_DEFAULT})",
    )
    parser.add_argument("--repeat", type=int, default=3, help="whole-process runs per command (median reported)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, and skip the whole diffusers tree")
    parser.add_argument(
        "--diff-all", action="store_true", help="measure --diff on every tree, not only diffusers examples/"
    )
    parser.add_argument("--no-flake8", action="store_true", help="skip the flake8 rows")
    parser.add_argument(
        "--flake8-baseline-venv",
        metavar="PATH",
        help="virtual environment with flake8 and without optlint (made here if absent; default: a temporary one)",
    )
    parser.add_argument("--ruff", help="ruff executable (default: next to this Python, then PATH)")
    parser.add_argument(
        "--optlint-src",
        metavar="DIR",
        help="run the optlint package found in DIR (say, `git archive` of an older commit) instead of the "
        "installed one, to measure before and after in one sitting",
    )
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    if args.optlint_src:
        if not os.path.isfile(os.path.join(args.optlint_src, "optlint", "__init__.py")):
            sys.exit(f"{args.optlint_src}: holds no optlint/__init__.py")
        path = os.environ.get("PYTHONPATH")
        CHILD_ENV["PYTHONPATH"] = os.path.abspath(args.optlint_src) + (os.pathsep + path if path else "")

    rows: list[Row] = []
    if args.examples:
        rows.append(Row("pytorch/examples", args.examples))
    if args.timm:
        rows.append(Row("timm", args.timm))
    if args.lightning:
        rows += [Row("Lightning src/", os.path.join(args.lightning, "src")), Row("Lightning, whole", args.lightning)]
    if args.diffusers:
        if not args.quick:
            rows.append(Row("diffusers, whole", args.diffusers))
        rows.append(Row("diffusers examples/", os.path.join(args.diffusers, "examples")))
        staged = os.path.abspath(os.path.join(args.diffusers, args.staged))
        rows.append(Row(f"one staged file ({args.staged}), diffusers whole, warm cache", staged, True, os.path.abspath(args.diffusers)))
    rows += [
        Row("one 60-line script, a finding", SMALL_WITH_FINDING, single_file=True),
        Row("the same, no optimizer", SMALL_WITHOUT_OPTIMIZER, single_file=True),
    ]
    for row in rows:
        if not os.path.exists(row.path):
            sys.exit(f"{row.path}: no such file or folder ({row.label})")
    rows = [Row(r.label, os.path.abspath(r.path), r.single_file, r.staged_in) for r in rows]

    ruff = find_ruff(args.ruff)
    print(f"python {sys.version.split()[0]} ({sys.executable}); cores: {os.cpu_count()}; repeats: {repeat}")
    neutral = tempfile.gettempdir()  # not this repository's root, where `optlint` is importable anyway
    where = version_of([sys.executable, "-c", "import optlint; print(optlint.__file__)"], neutral)
    print(f"{version_of([sys.executable, '-m', 'optlint', '--version'], neutral)} ({where})")
    if ruff:
        print(f"ruff: {version_of([ruff, '--version'], neutral)} ({ruff})")
    else:
        print("ruff: not found (not next to this Python, not on PATH): ratios against ruff cannot be computed")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    diff_labels = {r.label for r in rows} if args.diff_all else {"diffusers examples/"}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        results = measure_trees(rows, ruff, repeat, diff_labels, folder)
        flake8: list[Flake8Result] = []
        if args.timm and not args.no_flake8:
            try:
                importlib.metadata.distribution("flake8")
            except importlib.metadata.PackageNotFoundError:
                print("flake8 is not installed here: no flake8 rows")
            else:
                venv = args.flake8_baseline_venv or os.path.join(folder, "flake8-baseline")
                baseline = make_flake8_baseline(venv)
                timm = os.path.abspath(args.timm)
                print(f"flake8 with optlint:    {version_of([sys.executable, '-m', 'flake8', '--version'], timm)}")
                print(f"flake8 without optlint: {version_of([baseline, '-m', 'flake8', '--version'], timm)}")
                flake8 = measure_flake8(os.path.abspath(args.timm), baseline, repeat)

    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; took {time.perf_counter() - started:.0f} s")
    print()
    print(f"Medians of {repeat} whole-process runs (one-file rows: {max(repeat, 5)}); ratios within this run.")
    print()
    print_table(results)
    if flake8:
        print()
        print("| flake8 on timm | with optlint | without optlint | ratio |")
        print("|---|---|---|---|")
        for f in flake8:
            print(
                f"| `--select {f.select}` | {seconds(f.with_optlint.median)} | {seconds(f.without_optlint.median)} "
                f"| {ratio(f.with_optlint.median, f.without_optlint.median)} |"
            )
    errors = [
        f"{r.row.label}, {name}: {message}" for r in results for name, s in r.measures.items() for message in s.errors
    ]
    errors += [
        f"flake8 --select {f.select}, {which}: {message}"
        for f in flake8
        for which, s in (("with optlint", f.with_optlint), ("without optlint", f.without_optlint))
        for message in s.errors
    ]
    if errors:
        print()
        print("Runs that failed (their times are not comparable; the targets they feed FAIL):")
        for line in errors:
            print("  " + line)
    print()
    print("Targets (issues 11 and 18):")
    for line in check_targets(results, flake8):
        print("  " + line)


if __name__ == "__main__":
    main()
