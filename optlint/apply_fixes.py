"""Apply fixes to a file's text and write it back safely.

Never writes code that does not parse; writes atomically (a temporary file in the same
folder, then a rename); keeps the encoding (PEP 263 cookie, BOM), the newline style and
the file mode; leaves files without fixes untouched.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile

from optlint.checker import check_source, check_text
from optlint.source import SourceError, decode, parse
from optlint.source import error_finding as _error
from optlint.findings import FileResult, Finding

MAX_PASSES = 4  # a fix can expose another (ruff loops the same way)


def _offsets(text: str) -> list[int]:
    starts, offset = [0], 0
    for line in text.split("\n")[:-1]:
        offset += len(line) + 1
        starts.append(offset)
    return starts


def apply_edits(text: str, findings: list[Finding]) -> tuple[str, int]:
    """Apply every fix whose edits do not overlap an earlier one; (new text, fixes applied)."""
    starts = _offsets(text)

    def offset(point: dict) -> int:
        return starts[point["row"] - 1] + point["column"] - 1

    accepted: list[tuple[int, int, str]] = []
    applied = 0
    for finding in sorted(findings, key=Finding.sort_key):
        spans = sorted((offset(e["location"]), offset(e["end_location"]), e["content"]) for e in finding.fix["edits"])
        if any(s < end and start < e or (s == start == e == end) for start, end, _ in spans for s, e, _ in accepted):
            continue  # overlaps a fix already taken: the next pass gets it
        accepted.extend(spans)
        applied += 1
    for start, end, content in sorted(accepted, reverse=True):
        text = text[:start] + content + text[end:]
    return text, applied


def fix_text(path: str, text: str, result: FileResult, settings) -> tuple[str, FileResult, int]:
    """Apply fixable findings to `text` until none is left; (new text, last result, fixes)."""
    fixed = 0
    for _ in range(MAX_PASSES):
        fixable = [f for f in result.findings if f.fix is not None and f.code in settings.fixable]
        if not fixable:
            break
        new_text, applied = apply_edits(text, fixable)
        try:
            parse(new_text)
        except SourceError as exc:  # a bug in a fix: report it, write nothing
            raise SourceError(f"internal error: the fix does not parse ({exc.message}); nothing written") from None
        text, fixed = new_text, fixed + applied
        result = check_text(path, text, settings)
    return text, result, fixed


def fix_file(path: str, shown: str, data: bytes, result: FileResult, settings) -> FileResult:
    notebook = shown.endswith(".ipynb")
    if notebook:
        from optlint import notebook as nb

        virtual = nb.load(data)
        original = virtual.text
        result = check_text(shown, original, settings)
    else:
        source = decode(data)
        original = source.text
    try:
        text, result, fixed = fix_text(shown, original, result, settings)
    except SourceError as exc:
        return _error(check_source(shown, data, settings), exc)
    if notebook:
        located = [nb.locate(virtual, f) for f in result.findings] if virtual.cells else result.findings
        result.findings = sorted(located, key=Finding.sort_key)
    if text == original:
        return result
    result.fixed = fixed
    if notebook:
        try:
            new_data = nb.dump(virtual, text)
        except nb.NotebookError as exc:
            return _error(result, exc)
        before_text, after_text = "\n".join(_cells(virtual, original)), "\n".join(_cells(virtual, text))
    else:
        new_data = text.encode(source.encoding)
        before_text, after_text = original, text
    if settings.diff:
        result.diff = "".join(
            difflib.unified_diff(
                before_text.splitlines(keepends=True), after_text.splitlines(keepends=True), shown, shown
            )
        )
        return result
    if settings.stdout_fix:
        result.fixed_output = new_data
        return result
    try:
        write_atomically(path, new_data)
    except OSError as exc:
        result.fixed = 0
        return _error(result, SourceError(f"cannot write the fix: {exc.strerror or exc}"))
    return result


def _cells(virtual, text: str) -> list[str]:
    from optlint.notebook import cell_sources

    return cell_sources(virtual, text)


def write_atomically(path: str, data: bytes) -> None:
    info = os.stat(path)
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(13, "the file is read-only")
    folder = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".optlint-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
