"""Check one file's text: pre-filter, parse once, run every enabled rule, place findings.

This is the per-file hot path. It does the least work first: a file whose text cannot
satisfy any enabled rule's ``REQUIRES`` patterns is never parsed, and positions (which
cost a second pass over the tree) are computed only for files with findings.
"""

from __future__ import annotations

import re
import sys

from optlint.findings import FileResult, Finding, Position
from optlint.static.source import ANALYSIS_RECURSION_LIMIT, SourceError, error_finding, parse, python_ast
from optlint.settings import Settings
from optlint.static import noqa

#: a `# noqa:` whose codes may deserve a warning (lowercase or unknown optlint codes)
_NOQA_WORTH_WARNING = re.compile(r"#\s*noqa\s*:[^\n#]*\bopt", re.I)


def check_text(path: str, text: str, settings: Settings, tree=None, project=None, file: str | None = None) -> FileResult:
    """Every finding in decoded Python source `text`.

    `tree` is this Python's ``ast`` of `text` when the caller already has it (flake8 does);
    otherwise it is built here. Findings come from the ``ast`` flow model alone: LibCST is
    imported only when a fix's edits must be rendered. `project` holds the file's other
    modules (found from `path` when not given; none for text that is no file); `file` is
    where the text is on disk when `path` is only the name it is shown by.
    """
    result = FileResult(path)
    codes = settings.codes_for(path)
    if "optlint" in text:
        file_noqa, warnings = noqa.file_exemption(text)
        result.warnings.extend(f"{path}:{row}: {message}" for row, message in warnings)
        if file_noqa is not None:
            codes = codes - file_noqa if file_noqa else frozenset()
    rules = [rule for rule in settings.static_rules if rule.code in codes]
    if settings.prefilter:
        rules = settings.firing(rules, text)
    if not rules:
        # No enabled rule can fire on this text: it is not parsed at all (the pre-filter's
        # whole point), so only reading and decoding problems are reported for it.
        result.skipped = True
        return result
    if tree is None:
        tree, python_error = python_ast(text)
        if tree is None:
            return error_finding(result, _explain_syntax_error(text, python_error))
    # Long chains (a dict of 1,000 implicitly concatenated strings) nest deeply in the tree;
    # from Python 3.11 Python-to-Python recursion does not grow the C stack, so allow more.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, ANALYSIS_RECURSION_LIMIT))
    current = None  # the rule running, for the internal-error message
    from optlint.static.context import FileContext  # the model: only for files that reach it
    from optlint.static.project import project_for

    if project is None:
        project = project_for(file or path, settings)
    if project is not None:
        project.begin()
    try:
        ctx = FileContext(tree, text, settings, project=project, path=file or path)
        raw = []
        for current in rules:
            raw.extend(current.check(ctx))
        current = None
        unused_wanted = noqa.UNUSED_NOQA in codes and "noqa" in text
        if raw or unused_wanted:
            result.findings.extend(_place(path, ctx, raw, getattr(settings, "fix_edits", True), codes, result))
    except RecursionError:
        return error_finding(result, SourceError("too deeply nested to analyze"))
    except Exception as exc:  # a bug in optlint must cost one file, never the run
        where = f"{current.code} ({current.name})" if current is not None else "the analysis"
        message = f"internal error in {where}: {type(exc).__name__}: {exc}; please report it"
        return error_finding(result, SourceError(message))
    finally:
        sys.setrecursionlimit(limit)
        if project is not None:
            result.dependencies = project.end() or None
    result.findings.sort(key=Finding.sort_key)
    return result


#: CPython's errors in decoding a literal's escapes (`"\\u12"`, `b"\\x1"`, `"\\N{nonsense}"`).
_BAD_LITERAL = re.compile(r"syntax error: \((?:unicode|value) error\) (?:'\w+' codec can't decode bytes in position [\d-]+: )?(.*)")


def _explain_syntax_error(text: str, error: SourceError) -> SourceError:
    """This Python's syntax error, or, when LibCST (which knows newer grammars) accepts the
    file, a clear "newer syntax than this Python" message: the analysis needs this Python's
    own tree, and ``--fix`` must never write what this Python cannot parse."""
    if not error.message.startswith("syntax error"):
        return error
    bad_literal = _BAD_LITERAL.match(error.message)
    if bad_literal:  # LibCST does not decode literals: this is no newer syntax, it is a bad escape
        return SourceError(
            f"syntax error: a string literal holds an invalid escape: {bad_literal.group(1)} (a `\\u` escape "
            "needs 4 hex digits, `\\U` 8, `\\x` 2; write `\\\\` for a backslash or use a raw string)",
            error.row,
            error.column,
        )
    try:
        parse(text, error)
    except SourceError:
        return error
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return SourceError(
        f"cannot be analyzed: this file uses syntax newer than Python {version}, which runs optlint "
        f"({error.message}); run optlint with a newer Python",
        error.row,
        error.column,
    )


def _place(path: str, ctx, raw, render_fixes: bool, codes: frozenset[str] = frozenset(), result=None) -> list[Finding]:
    """Positions (and fixes) for the raw findings, minus those a `# noqa` comment suppresses;
    with OPT009 enabled, the directives that suppressed nothing."""
    from optlint.static.fix.edits import NoFix, render_fix

    # Tokenizing a whole file to find `# noqa` costs more than its analysis: do it only when
    # some finding's rows hold the word, or a directive may be unused or deserve a warning.
    unused_wanted = noqa.UNUSED_NOQA in codes
    directives = noqa.Directives()
    if "noqa" in ctx.text:
        rows = {row for f in raw for row in range((f.span or f.node).lineno, (f.span or f.node).end_lineno + 1)}
        if unused_wanted or any("noqa" in ctx.source.line(row) for row in rows) or _NOQA_WORTH_WARNING.search(ctx.text):
            directives = noqa.read(ctx.text)
            if result is not None:
                result.warnings.extend(f"{path}:{row}: {message}" for row, message in directives.warnings)
    placed, seen = [], set()
    for finding in raw:
        where = ctx.source.span(finding.node)
        span = finding.span if finding.span is not None else finding.node
        if directives.suppresses(finding.code, range(span.lineno, span.end_lineno + 1)):
            continue
        key = (finding.code, where.row, where.column, finding.message)
        if key in seen:
            continue
        seen.add(key)
        message, fix = finding.message, None
        applicability = finding.fix.applicability if finding.fix is not None else None
        if finding.fix is not None and render_fixes:
            try:
                fix = render_fix(finding.fix, ctx.source, ctx.view)
            except NoFix as exc:  # LibCST could not find or parse what the model chose
                message += f" (no automatic fix: {exc})"
                applicability = None
        placed.append(
            Finding(
                path,
                finding.code,
                message,
                Position(where.row, where.column + 1),
                Position(where.end_row, where.end_column + 1),
                span.lineno,
                fix,
                applicability=applicability,
            )
        )
    if unused_wanted:
        placed.extend(noqa.unused(path, directives, codes, ctx.text))
    return placed
