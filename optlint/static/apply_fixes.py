"""Apply fixes to a file's text and write it back without damaging the file.

- A fix is kept only if this Python compiles the result (LibCST accepts syntax that only
  newer Pythons do, such as line breaks inside f-string braces before 3.12); a fix that
  would break the file is dropped and its finding says why.
- Edits are placed by rows broken as Python breaks them (``\\n``, ``\\r\\n``, ``\\r``).
- Writing goes to the real file behind a symbolic link; it is atomic (a temporary file in
  the same folder, then a rename) and keeps mode, owner and group. Where a rename cannot
  keep them (several hard links, an owner we cannot restore, a folder we cannot write), the
  file is rewritten in place instead, so every link sees the fix and ownership stays.
- A file that is not writable by its mode or to this user is refused ("cannot write"), and
  so is a file whose bytes changed since they were read (someone edited it meanwhile).
"""

from __future__ import annotations

import collections
import dataclasses
import difflib
import errno
import os
import re
import stat
import sys
import tempfile

from optlint.static.checker import check_text
from optlint.findings import FileResult, Finding
from optlint.static.source import SourceError, decode, in_file_encoding, python_ast
from optlint.static.source import error_finding as _error

MAX_PASSES = 4  # a fix can expose another (ruff loops the same way)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class FileChangedError(OSError):
    """The file's bytes are not those the fixes were computed from."""


def line_starts(text: str) -> list[int]:
    """Offset of each row's first character; rows end where Python ends them (\\n, \\r\\n, \\r)."""
    return [0] + [match.end() for match in _LINE_BREAK.finditer(text)]


def _newline(text: str) -> str:
    match = _LINE_BREAK.search(text)
    return match.group() if match else "\n"


def apply_edits(text: str, findings: list[Finding]) -> tuple[str, int]:
    """Apply every fix whose edits do not overlap an earlier one; (new text, fixes applied)."""
    new_text, taken = apply_edits_taken(text, findings)
    return new_text, len(taken)


def apply_edits_taken(text: str, findings: list[Finding]) -> tuple[str, list[Finding]]:
    """Like ``apply_edits``, with the findings whose fixes were applied."""
    starts = line_starts(text)
    # Fix content is rendered with "\n" or "\r\n"; a file that ends rows with "\r" alone keeps it.
    lone_cr = _newline(text) == "\r"

    def offset(point: dict) -> int:
        row, column = point["row"], point["column"]
        if not 1 <= row <= len(starts):
            raise SourceError(f"internal error: a fix edit points at row {row} of a {len(starts)}-row file; nothing written")
        return starts[row - 1] + column - 1

    accepted: list[tuple[int, int, str]] = []
    taken: list[Finding] = []
    for finding in sorted(findings, key=Finding.sort_key):
        spans = []
        for e in finding.fix["edits"]:
            content = _LINE_BREAK.sub("\r", e["content"]) if lone_cr else e["content"]
            spans.append((offset(e["location"]), offset(e["end_location"]), content))
        spans.sort()
        if any(s < end and start < e or (s == start == e == end) for start, end, _ in spans for s, e, _ in accepted):
            continue  # overlaps a fix already taken: the next pass gets it
        accepted.extend(spans)
        taken.append(finding)
    for start, end, content in sorted(accepted, reverse=True):
        text = text[:start] + content + text[end:]
    return text, taken


def _python() -> str:
    return f"Python {sys.version_info.major}.{sys.version_info.minor}"


def compile_problem(text: str) -> str | None:
    """Why this Python would refuse `text`, or None: its own compile() is the verdict."""
    _, error = python_ast(text)
    if error is None:
        return None
    return f"{error.message} at row {error.row}"


def _fixable(result: FileResult, settings) -> list[Finding]:
    return [f for f in result.findings if f.fix is not None and settings.applies(f)]


def fix_text(path: str, text: str, result: FileResult, settings) -> tuple[str, FileResult, int]:
    """Apply fixable findings to `text` until none is left; (new text, last result, fixes).

    Fixes whose result this Python cannot compile are not applied; their findings stay,
    with the reason appended and no fix offered.
    """
    fixed = 0
    # Only fixes of findings `check` reported on the original text are ever applied: a later
    # pass may finish one an overlap held back, never one that a fix's own text unlocked.
    reported = collections.Counter((f.code, f.message) for f in _fixable(result, settings))
    for _ in range(MAX_PASSES):
        fixable = [f for f in _fixable(result, settings) if reported[(f.code, f.message)] > 0]
        if not fixable:
            break
        new_text, applied = apply_edits(text, fixable)
        if compile_problem(new_text) is not None:
            # Keep the fixes that compile on their own, then check them together once more.
            fixable = [f for f in fixable if compile_problem(apply_edits(text, [f])[0]) is None]
            new_text, applied = apply_edits(text, fixable)
            if not fixable or compile_problem(new_text) is not None:
                break
        after = check_text(path, new_text, settings)
        if after.error and not result.error:  # LibCST cannot read its own output: a bug in a fix
            raise SourceError("internal error: the fixed file cannot be analyzed; nothing written")
        for finding in apply_edits_taken(text, fixable)[1]:
            reported[(finding.code, finding.message)] -= 1
        text, fixed, result = new_text, fixed + applied, after
    result.findings = [_explain_refused(text, f) if f in _fixable(result, settings) else f for f in result.findings]
    return text, result, fixed


def _explain_refused(text: str, finding: Finding) -> Finding:
    problem = compile_problem(apply_edits(text, [finding])[0])
    if problem is None:
        return finding  # not reached within MAX_PASSES; the fix stays on offer
    if compile_problem(text) is not None:  # newer syntax than this Python: nothing can be verified
        reason = f"{_python()} cannot compile this file, so no fix can be verified: {problem}"
    else:
        reason = f"the fixed file would not compile on {_python()}: {problem}"
    message = f"{finding.message} (not fixed: {reason})"
    return dataclasses.replace(finding, message=message, fix=None, applicability=None)


def unified_diff(before: str, after: str, name: str) -> str:
    """A patch `git apply` and `patch` accept.

    Lines are split at "\\n" only, as patch tools count them (a "\\r" stays inside its line,
    form feeds and other characters str.splitlines() breaks on are content), and a last
    line without a newline gets the "\\ No newline at end of file" marker.
    """
    out = []
    for line in difflib.unified_diff(_patch_lines(before), _patch_lines(after), name, name):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _patch_lines(text: str) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def fix_file(path: str, shown: str, data: bytes, result: FileResult, settings) -> FileResult:
    """Fix one file read as `data` (its check `result`); write it, or fill in diff / output.

    Never raises: anything that goes wrong costs this file's fix, never its bytes, and the
    findings that were not fixed are still reported.
    """
    try:
        return _fix_file(path, shown, data, result, settings)
    except SourceError as exc:
        return _error(_unfixed(result), exc)
    except Exception as exc:  # noqa: BLE001 (a bug in a fix must cost one file, never the run)
        return _error(_unfixed(result), SourceError(f"internal error while fixing: {type(exc).__name__}: {exc}; nothing written"))


def _unfixed(result: FileResult) -> FileResult:
    return dataclasses.replace(result, findings=list(result.findings), fixed=0, diff=None, fixed_output=None)


def _fix_file(path: str, shown: str, data: bytes, result: FileResult, settings) -> FileResult:
    notebook = shown.endswith(".ipynb")
    if notebook:
        from optlint.static import notebook as nb

        virtual = nb.load(data)
        original = virtual.text
        checked = nb.check_virtual(shown, virtual, settings)
    else:
        source = decode(data)
        original = source.text
        checked = result
    text, after, fixed = fix_text(shown, original, checked, settings)
    if notebook:
        after = nb.finish(virtual, after)
    if text == original:
        return after
    if notebook:
        new_data = nb.dump(virtual, text)
        patch = nb.diff(virtual, text, shown, unified_diff) if settings.diff else None
    else:
        new_data = text.encode(source.encoding)
        patch = in_file_encoding(unified_diff(original, text, shown), source.encoding) if settings.diff else None
    if settings.diff:
        after.diff, after.fixed = patch, fixed
        return after
    if settings.stdout_fix:
        after.fixed_output, after.fixed = new_data, fixed
        return after
    try:
        write_fixed(path, data, new_data)
    except FileChangedError:
        message = "the file changed while optlint was fixing it; not fixed (run optlint again)"
        return _error(_unfixed(result), SourceError(message))
    except OSError as exc:
        return _error(_unfixed(result), SourceError(f"cannot write the fix: {exc.strerror or exc}"))
    after.fixed = fixed
    return after


# -- writing -----------------------------------------------------------------------------------


def write_fixed(path: str, expected: bytes, data: bytes) -> None:
    """Replace the bytes of the file behind `path` (read as `expected`) with `data`."""
    real = os.path.realpath(path)  # through symbolic links: the link stays a link
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    _check_writable(real, info)
    _check_unchanged(real, expected)
    if info.st_nlink > 1 or not _replace(real, info, expected, data):
        _write_in_place(real, expected, data)


def _check_writable(real: str, info: os.stat_result) -> None:
    mode = info.st_mode
    # root may write anything; a mode without write bits still says "do not touch".
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(errno.EACCES, "the file is read-only")
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is not None and euid == info.st_uid and not mode & stat.S_IWUSR:
        raise PermissionError(errno.EACCES, "the file is read-only for its owner")
    if not os.access(real, os.W_OK):
        raise PermissionError(errno.EACCES, "permission denied")


def _check_unchanged(real: str, expected: bytes) -> None:
    with open(real, "rb") as handle:
        if handle.read() != expected:
            raise FileChangedError(errno.EAGAIN, "the file changed since it was read")


def _replace(real: str, info: os.stat_result, expected: bytes, data: bytes) -> bool:
    """Write a temporary file next to `real` and rename it over; False if that cannot keep
    the owner and group (or the folder is not writable): the caller writes in place."""
    try:
        handle, temp = tempfile.mkstemp(prefix=".optlint-", suffix=".tmp", dir=os.path.dirname(real))
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        made = os.stat(temp)
        if (made.st_uid, made.st_gid) != (info.st_uid, info.st_gid):
            try:
                os.chown(temp, info.st_uid, info.st_gid)
            except (OSError, AttributeError):
                os.unlink(temp)
                return False
            os.chmod(temp, stat.S_IMODE(info.st_mode))  # chown clears set-id bits
        _check_unchanged(real, expected)  # as late as possible before the rename
        os.replace(temp, real)
        return True
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _write_in_place(real: str, expected: bytes, data: bytes) -> None:
    """Overwrite the file's own inode: hard links, owner and group stay (not atomic)."""
    with open(real, "r+b") as handle:
        if handle.read() != expected:
            raise FileChangedError(errno.EAGAIN, "the file changed since it was read")
        handle.seek(0)
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
