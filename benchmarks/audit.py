"""Real-code audit: run optlint over trees of public training code and print a stable ledger.

    python benchmarks/audit.py TREE... [--ledger OUT.tsv] [--verdicts benchmarks/audit/verdicts.tsv]

Each TREE is a folder of fetched code; its folder name is the repository name in the ledger.
The ledger has one finding per line, sorted:

    repo <TAB> relative/path <TAB> line <TAB> code <TAB> short message <TAB> fix|-

The short message is the message up to its first ":" or ";" (the part that names what was
found, not the values or advice after it), so that the effect of a change on real code is a
clean `diff` of two ledgers. The last column says whether the finding offers a fix.

benchmarks/audit/repos.tsv names each tree's repository and commit; a tree holds only the .py
and .ipynb files of that commit (of the listed subfolder), for instance from a clone:

    git -C CLONE archive COMMIT SUBFOLDER | tar -x -C trees/NAME

The working tree changes under you while others edit it: to audit one commit, extract it and
pass --optlint-src, e.g.

    git archive HEAD optlint | tar -x -C /tmp/optlint-HEAD
    python benchmarks/audit.py --optlint-src /tmp/optlint-HEAD TREE...

With --verdicts (TSV: repo, path, line, code, right|wrong, reason) it joins the hand verdicts
and prints precision per rule, right / (right + wrong), the wrong findings that still offer a
fix, the findings without a verdict and the verdicts whose finding is gone. The repositories,
their commits and the verdicts live in benchmarks/audit/ (the fetched code is never committed).
Standard library only; optlint runs as a subprocess, as a user would run it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

# A message's stable part ends before the first ":" or ";" that is not inside backticks:
# what follows holds values (weight_decay=0.05 from ...) and advice that change more often.
_CLAUSE_END = re.compile(r"`[^`]*`|[:;]")
_SHORT_MAX = 120


@dataclass(frozen=True, order=True)
class Entry:
    repo: str
    path: str
    line: int
    code: str
    short: str
    has_fix: bool

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.repo, self.path, self.line, self.code)

    def row(self) -> str:
        return "\t".join(
            [
                self.repo,
                self.path,
                str(self.line),
                self.code,
                self.short,
                "fix" if self.has_fix else "-",
            ]
        )


@dataclass(frozen=True)
class Verdict:
    right: bool
    reason: str


def short_message(message: str) -> str:
    text = " ".join(message.split())  # no tabs or newlines in a ledger cell
    for match in _CLAUSE_END.finditer(text):
        if match.group() in ":;":
            text = text[: match.start()]
            break
    return text[:_SHORT_MAX].rstrip()


def optlint_env(source: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = (
            os.path.abspath(source) + os.pathsep + env.get("PYTHONPATH", "")
        )
    return env


def run_optlint(tree: str, select: str, jobs: int, source: str | None) -> list[dict]:
    command = [
        sys.executable,
        "-m",
        "optlint",
        "check",
        "--select",
        select,
        "--format",
        "json",
        "--exit-zero",
        "--quiet",
        "--jobs",
        str(jobs),
        tree,
    ]
    # cwd=tree: `python -m` puts the working folder first on sys.path, which would shadow
    # --optlint-src with the checkout this script happens to be run from.
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
        env=optlint_env(source),
    )
    if done.returncode != 0:
        sys.exit(f"optlint failed on {tree} (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def ledger_for(tree: str, select: str, jobs: int, source: str | None) -> list[Entry]:
    root = os.path.abspath(tree)
    repo = os.path.basename(root.rstrip(os.sep))
    entries = []
    for finding in run_optlint(root, select, jobs, source):
        path = os.path.relpath(os.path.abspath(finding["filename"]), root)
        entries.append(
            Entry(
                repo,
                path.replace(os.sep, "/"),
                finding["location"]["row"],
                finding["code"],
                short_message(finding["message"]),
                finding.get("fix") is not None,
            )
        )
    return entries


def default_codes(source: str | None) -> set[str]:
    """Codes that are on by default, read from `optlint rules --format markdown`."""
    done = subprocess.run(
        [sys.executable, "-m", "optlint", "rules", "--format", "markdown"],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.sep,
        env=optlint_env(source),
    )
    codes = set()
    for line in done.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) > 2 and re.fullmatch(r"OPT\d{3}", cells[0]) and cells[2] == "on":
            codes.add(cells[0])
    return codes


def read_verdicts(path: str) -> dict[tuple[str, str, int, str], Verdict]:
    verdicts = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            if (
                len(cells) < 5
                or cells[4] not in ("right", "wrong")
                or not cells[2].isdigit()
            ):
                sys.exit(
                    f"{path}:{number}: expected repo, path, line, code, right|wrong, reason"
                )
            key = (cells[0], cells[1], int(cells[2]), cells[3])
            verdicts[key] = Verdict(
                cells[4] == "right", cells[5] if len(cells) > 5 else ""
            )
    return verdicts


def print_counts(entries: list[Entry], defaults: set[str]) -> None:
    by_code = collections.Counter(entry.code for entry in entries)
    with_fix = collections.Counter(entry.code for entry in entries if entry.has_fix)
    repos = collections.defaultdict(set)
    for entry in entries:
        repos[entry.code].add(entry.repo)
    print("code    default  findings  with-fix  repos")
    for code in sorted(by_code):
        print(
            f"{code}  {'on ' if code in defaults else 'off'}      {by_code[code]:8}  "
            f"{with_fix[code]:8}  {len(repos[code]):5}"
        )
    print(f"total            {len(entries):8}  {sum(with_fix.values()):8}")


def print_precision(
    entries: list[Entry], verdicts: dict, defaults: set[str], repos: set[str]
) -> None:
    right, wrong, open_ = (
        collections.Counter(),
        collections.Counter(),
        collections.Counter(),
    )
    for entry in entries:
        verdict = verdicts.get(entry.key)
        counter = open_ if verdict is None else right if verdict.right else wrong
        counter[entry.code] += 1
    print("\ncode    default  right  wrong  no-verdict  precision")
    for code in sorted(set(right) | set(wrong) | set(open_)):
        judged = right[code] + wrong[code]
        precision = f"{right[code] / judged:.3f}" if judged else "-"
        print(
            f"{code}  {'on ' if code in defaults else 'off'}      {right[code]:5}  {wrong[code]:5}  "
            f"{open_[code]:10}  {precision}"
        )
    sections = [
        (
            "wrong findings that offer a fix",
            [
                e.row()
                for e in entries
                if e.has_fix and e.key in verdicts and not verdicts[e.key].right
            ],
        ),
        (
            "findings without a verdict",
            [e.row() for e in entries if e.key not in verdicts],
        ),
    ]
    current = {entry.key for entry in entries}
    # Only the trees of this run: a verdict of a repository not audited now is not "gone".
    gone = [key for key in sorted(verdicts) if key[0] in repos and key not in current]
    sections.append(
        (
            "verdicts whose finding is gone",
            [
                "\t".join(map(str, key))
                + f"\t{'right' if verdicts[key].right else 'wrong'}"
                f"\t{verdicts[key].reason}"
                for key in gone
            ],
        )
    )
    for title, rows in sections:
        print(f"\n{title}: {len(rows)}")
        for row in rows:
            print(f"  {row}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", metavar="TREE")
    parser.add_argument(
        "--ledger", metavar="OUT.tsv", help="write the ledger here (default: stdout)"
    )
    parser.add_argument(
        "--verdicts", metavar="TSV", help="join hand verdicts; print precision"
    )
    parser.add_argument(
        "--select", default="ALL", help="optlint --select (default: ALL)"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--optlint-src",
        metavar="DIR",
        help="run the optlint package found in DIR (a snapshot) instead of the installed one",
    )
    args = parser.parse_args(argv)

    entries = sorted(
        {
            entry
            for tree in args.trees
            for entry in ledger_for(tree, args.select, args.jobs, args.optlint_src)
        }
    )
    ledger = "".join(entry.row() + "\n" for entry in entries)
    if args.ledger:
        with open(args.ledger, "w", encoding="utf-8") as handle:
            handle.write(ledger)
    else:
        sys.stdout.write(ledger + "\n")
    defaults = default_codes(args.optlint_src)
    print_counts(entries, defaults)
    if args.verdicts:
        repos = {
            os.path.basename(os.path.abspath(tree).rstrip(os.sep))
            for tree in args.trees
        }
        print_precision(entries, read_verdicts(args.verdicts), defaults, repos)
    return 0


if __name__ == "__main__":
    sys.exit(main())
