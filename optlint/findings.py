"""The finding type shared by the static checker, its output formats and the runtime checker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Position:
    """1-based row and column."""

    row: int
    column: int


@dataclass(frozen=True)
class Finding:
    """One static finding in one file.

    Ordering is (path, location, code) so that output is deterministic whatever the
    order in which files or rules produced their findings.
    """

    path: str
    code: str
    message: str
    location: Position
    end_location: Position
    noqa_row: int | None = None
    fix: dict | None = None
    cell: int | None = None  # for notebooks: the 1-based index of the cell (rows are in the cell)
    #: for notebooks: the row of the .ipynb file that holds the finding's first row (its JSON
    #: string), so formats that point into the file itself (GitHub, SARIF) land on it
    file_row: int | None = None
    #: the fix's applicability ("safe", "unsafe", "display-only"), also when its edits were not
    #: rendered (the plain text report marks fixable findings without rendering them)
    applicability: str | None = None

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.location.row, self.location.column, self.code, self.message)


@dataclass
class FileResult:
    """What checking one file produced: its findings, and whether it could be read at all."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: bool = False  # the file could not be read or parsed (an OPT000 finding says why)
    skipped: bool = False  # the text pre-filter showed no rule can fire
    fixed: int = 0  # findings fixed (or that --diff would fix)
    diff: str | None = None  # unified diff, with --diff
    fixed_output: bytes | None = None  # the fixed file, when fixing standard input
    #: "path:row: message" for what was read but not applied (a `# noqa: opt001` in lowercase)
    warnings: list[str] = field(default_factory=list)
    #: what else of the project the result was computed from (optlint.static.project.Dependencies),
    #: or None when it read nothing but the file
    dependencies: object = None
    #: the checked file's (mtime_ns, size, sha256), its stat taken before it was read (the cache
    #: keys the result by them); None for text that is no file
    source_key: tuple | None = None
