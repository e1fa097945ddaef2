"""Check one file: read, decode, pre-filter, parse once, run every enabled rule, place findings.

This is the per-file hot path. It does the least work first: a file whose text cannot
satisfy any enabled rule's ``REQUIRES`` patterns is never parsed, and positions (which
cost a second pass over the tree) are computed only for files with findings.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from functools import cached_property

from optlint.findings import FileResult, Finding, Position
from optlint.source import (  # noqa: F401 (SourceError, decode, parse: re-exported for callers)
    ANALYSIS_RECURSION_LIMIT,
    SourceError,
    decode,
    error_finding,
    parse,
    python_ast,
)
from optlint.settings import Settings

_FILE_NOQA = re.compile(r"^[ \t]*#[ \t]*optlint:[ \t]*noqa(?::[ \t]*(?P<codes>[A-Z]+[0-9]+(?:[, \t]+[A-Z]+[0-9]+)*))?", re.M)
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)
_CODE_SPLIT = re.compile(r"[,\s]+")


class FileContext:
    """What rules see of one parsed file. Analyses are computed once, on first use."""

    def __init__(self, module, settings: Settings, text: str = "") -> None:
        from optlint.analysis.facts import collect_facts
        from optlint.analysis.resolve import Resolver

        self.module = module
        self.text = text
        self.settings = settings
        self.facts = collect_facts(module, settings.candidate_names)
        self.resolver = Resolver(self.facts)

    @cached_property
    def optimizer_calls(self):
        from optlint.analysis.calls import CallAnalyzer

        analyzer = CallAnalyzer(self.resolver, self.settings.extra_optimizers, self.facts.calls)
        return analyzer.analyze_all()

    @cached_property
    def penalties(self):
        """Hand-written L1/L2 penalties in loops and comprehensions (OPT004 and OPT005)."""
        from optlint.analysis.loops import find_penalties

        return find_penalties(self.facts.loops, self.resolver)

    @cached_property
    def positions(self):
        """LibCST positions of every node: computed only when a rule or a finding needs them."""
        from libcst.metadata import MetadataWrapper, PositionProvider

        return MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)


def _comments_by_row(text: str) -> dict[int, str]:
    """Comment text per row, from the tokenizer (a `# noqa` inside a string is no comment)."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # Newer syntax than this Python's tokenizer knows: fall back to the raw lines.
        for row, line in enumerate(text.splitlines(), 1):
            if "#" in line:
                comments[row] = line[line.index("#") :]
    return comments


def _suppressed(code: str, rows: range, comments: dict[int, str]) -> bool:
    for row in rows:
        comment = comments.get(row)
        if not comment:
            continue
        for match in _NOQA.finditer(comment):
            codes = match.group("codes")
            if codes is None or code in _CODE_SPLIT.split(codes.upper()):
                return True
    return False


def _file_noqa(text: str) -> frozenset[str] | None:
    """Codes suppressed for the whole file: None for none, empty for all."""
    suppressed: set[str] = set()
    found = False
    for match in _FILE_NOQA.finditer(text):
        found = True
        codes = match.group("codes")
        if codes is None:
            return frozenset()
        suppressed.update(_CODE_SPLIT.split(codes))
    return frozenset(suppressed) if found else None


def check_source(path: str, data: bytes, settings: Settings) -> FileResult:
    """Every finding for one file's bytes (the file itself is never imported or run)."""
    if path.endswith(".ipynb"):
        return check_notebook(path, data, settings)
    try:
        source = decode(data)
    except SourceError as exc:
        return error_finding(FileResult(path), exc)
    return check_text(path, source.text, settings)


def check_notebook(path: str, data: bytes, settings: Settings) -> FileResult:
    from optlint import notebook

    return notebook.check(path, data, settings)  # cells, magics and broken cells are its job


def check_text(path: str, text: str, settings: Settings) -> FileResult:
    """Every finding in decoded Python source `text`."""
    result = FileResult(path)
    codes = settings.codes_for(path)
    file_noqa = _file_noqa(text) if "optlint" in text else None
    if file_noqa is not None:
        codes = codes - file_noqa if file_noqa else frozenset()
    rules = [rule for rule in settings.static_rules if rule.code in codes]
    if settings.prefilter:
        rules = [rule for rule in rules if settings.may_fire(rule, text)]
    if not rules:
        # No enabled rule can fire on this text: it is not parsed at all (the pre-filter's
        # whole point), so only reading and decoding problems are reported for it.
        result.skipped = True
        return result
    tree, python_error = python_ast(text)
    if tree is not None and settings.prefilter:
        from optlint.rules.tree_filters import TreeSummary

        summary = TreeSummary(tree, settings.candidate_names)
        rules = [rule for rule in rules if rule.may_fire_tree(summary)]
        if not rules:
            result.skipped = True
            return result
    try:
        module = parse(text, python_error)
    except SourceError as exc:
        return error_finding(result, exc)
    # Long chains (a dict of 1,000 implicitly concatenated strings) nest deeply in the tree;
    # from Python 3.11 Python-to-Python recursion does not grow the C stack, so allow more.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, ANALYSIS_RECURSION_LIMIT))
    current = None  # the rule running, for the internal-error message
    try:
        ctx = FileContext(module, settings, text)
        raw = []
        for current in rules:
            raw.extend(current.check(ctx))
        if raw:
            result.findings.extend(_place(path, ctx.positions, text, raw))
    except RecursionError:
        return error_finding(result, SourceError("too deeply nested to analyze"))
    except Exception as exc:  # a bug in optlint must cost one file, never the run
        where = f"{current.code} ({current.name})" if current is not None else "the analysis"
        message = f"internal error in {where}: {type(exc).__name__}: {exc}; please report it"
        return error_finding(result, SourceError(message))
    finally:
        sys.setrecursionlimit(limit)
    result.findings.sort(key=Finding.sort_key)
    return result


def _line_indent(lines: list[str], row: int) -> str:
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    return line[: len(line) - len(line.lstrip(" \t"))]


def _around_parens(lines: list[str], start: Position, end: Position, opening: int, closing: int):
    """Widen a range to take in `opening` "(" before it and `closing` ")" after it."""
    row, col = start.row, start.column - 1  # 0-based column of the first character
    while opening:
        col -= 1
        while col < 0:
            row -= 1
            col = len(lines[row - 1]) - 1
        if lines[row - 1][col] == "(":
            opening -= 1
    start = Position(row, col + 1)
    row, col = end.row, end.column - 1  # 0-based column just after the last character
    while closing:
        while col >= len(lines[row - 1]):
            row, col = row + 1, 0
        if lines[row - 1][col] == ")":
            closing -= 1
        col += 1
    return start, Position(row, col + 1)


def _fix_dict(fix, positions, lines: list[str], newline: str) -> dict:
    """A RawFix as the output contract's fix: message, applicability, text edits."""
    from optlint.fixes import Layout

    edits = []
    for edit in fix.edits:
        where = positions[edit.node]
        layout = Layout(_line_indent(lines, where.start.line), newline)
        content = edit.render(layout)
        if edit.kind == "insert-before":
            start = end = Position(where.start.line, 1)
        else:
            start = Position(where.start.line, where.start.column + 1)
            end = Position(where.end.line, where.end.column + 1)
            if edit.with_parens and getattr(edit.node, "lpar", None):
                start, end = _around_parens(lines, start, end, len(edit.node.lpar), len(edit.node.rpar))
        edits.append(
            {
                "content": content,
                "location": {"row": start.row, "column": start.column},
                "end_location": {"row": end.row, "column": end.column},
            }
        )
    return {"message": fix.message, "applicability": fix.applicability, "edits": edits}


def _place(path: str, positions, text: str, raw) -> list[Finding]:
    """Positions (and fixes) for the raw findings, minus those a `# noqa` comment suppresses."""
    comments = _comments_by_row(text)
    lines = text.split("\n")
    newline = "\r\n" if "\r\n" in text else "\n"
    placed, seen = [], set()
    for finding in raw:
        where = positions[finding.node]
        span = positions[finding.span] if finding.span is not None else where
        if _suppressed(finding.code, range(span.start.line, span.end.line + 1), comments):
            continue
        key = (finding.code, where.start.line, where.start.column, finding.message)
        if key in seen:
            continue
        seen.add(key)
        fix = _fix_dict(finding.fix, positions, lines, newline) if finding.fix is not None else None
        placed.append(
            Finding(
                path,
                finding.code,
                finding.message,
                Position(where.start.line, where.start.column + 1),
                Position(where.end.line, where.end.column + 1),
                span.start.line,
                fix,
            )
        )
    return placed




def check_path(path: str, settings: Settings, display: str | None = None) -> FileResult:
    """Read and check one file; a file that cannot be read becomes an OPT000 finding.

    With ``settings.fix`` (or ``settings.diff``) fixable findings are applied, the result is
    re-checked, and the file is written atomically (or the diff returned) when it changed.
    """
    shown = display or path
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return error_finding(FileResult(shown), SourceError(f"cannot read file: {exc.strerror or exc}"))
    result = check_source(shown, data, settings)
    if not (settings.fix or settings.diff) or result.error:
        return result
    from optlint.apply_fixes import fix_file

    return fix_file(path, shown, data, result, settings)
