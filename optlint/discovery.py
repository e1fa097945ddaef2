"""Which files to check: like ruff, recurse for ``*.py``, skip excluded and gitignored paths.

An explicitly named file is always checked, unless ``force_exclude`` (ruff's
``--force-exclude``: pre-commit names files, and config exclusions must still hold). Output
order never depends on the walk: the caller sorts findings.

Problems met on the way (an unreadable folder, a ``.gitignore`` that cannot be read or holds
an invalid pattern) come back as OPT000 results, so they are reported and set exit status 2
like any file that cannot be checked, while everything else is still found.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from dataclasses import dataclass, field

from optlint.files import SMALL_FILE_LIMIT, SMALL_FILE_LIMIT_NAME, NotRegularFile, read_regular
from optlint.findings import FileResult
from optlint.static.source import SourceError, error_finding


@dataclass(frozen=True)
class _IgnoreRule:
    regex: re.Pattern
    negated: bool
    directory_only: bool


def _translate(pattern: str) -> str:
    """A gitignore glob (relative, already unanchored or anchored by the caller) as a regex."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class GitIgnore:
    """The rules of one .gitignore file, matched against paths relative to its folder."""

    def __init__(self, base: str, lines: list[str], problems: list[FileResult] | None = None, shown: str = "") -> None:
        self.base = base
        self.rules: list[_IgnoreRule] = []
        for row, raw in enumerate(lines, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip() or line.startswith("#"):
                continue
            line = line.rstrip(" ") if not line.endswith("\\ ") else line
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            directory_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            line = line.lstrip("/")
            body = _translate(line)
            regex = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
            try:
                compiled = re.compile(regex)
            except re.error as exc:  # `[z-a]`: git's matcher matches nothing with it; say so
                if problems is not None:
                    where = shown or os.path.join(base, ".gitignore")
                    message = f"invalid .gitignore pattern {raw.strip()!r} ({exc.msg}); the line is not applied"
                    problems.append(error_finding(FileResult(where), SourceError(message, row)))
                continue
            self.rules.append(_IgnoreRule(compiled, negated, directory_only))

    @classmethod
    def load(cls, folder: str, problems: list[FileResult] | None = None, shown: str | None = None) -> GitIgnore | None:
        """The folder's .gitignore, if it is a regular file (git does not follow a symlinked one).

        Problems are reported under `shown`, the folder as the user named it."""
        path = os.path.join(folder, ".gitignore")
        display = os.path.normpath(os.path.join(shown if shown is not None else _display(folder), ".gitignore"))
        try:
            data = read_regular(path, SMALL_FILE_LIMIT, follow_symlinks=False, limit_name=SMALL_FILE_LIMIT_NAME)
        except FileNotFoundError:
            return None
        except (NotRegularFile, OSError) as exc:
            # A FIFO would block and a link to /dev/zero never ends: neither is read. git skips
            # them too (ELOOP for a symlink, no pattern from a device); anything else is reported.
            if isinstance(exc, NotRegularFile) or getattr(exc, "errno", None) in _SKIPPED_ERRNOS:
                return None
            if problems is not None:
                reason = exc.strerror or str(exc)
                problems.append(error_finding(FileResult(display), SourceError(f"cannot read .gitignore: {reason}")))
            return None
        return cls(folder, data.decode("utf-8", errors="replace").splitlines(), problems, display)

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """True ignored, False re-included, None: this file says nothing."""
        rel = os.path.relpath(path, self.base).replace(os.sep, "/")
        if rel.startswith(".."):
            return None
        result = None
        for rule in self.rules:
            if rule.directory_only and not is_dir:
                continue
            if rule.regex.match(rel):
                result = not rule.negated
        return result


#: ELOOP: a symlink opened with O_NOFOLLOW; ENOTDIR/EISDIR: a folder named .gitignore.
_SKIPPED_ERRNOS = frozenset(getattr(errno, name, -1) for name in ("ELOOP", "EMLINK", "EISDIR", "ENOTDIR"))


def _display(folder: str) -> str:
    """An absolute folder as the user would write it: relative to the working folder when inside it."""
    rel = os.path.relpath(folder)
    return folder if rel == ".." or rel.startswith(".." + os.sep) else rel


def _git_root(folder: str) -> str | None:
    for candidate in (folder, *_parents(folder)):
        if os.path.exists(os.path.join(candidate, ".git")):
            return candidate
    return None


def _parents(folder: str):
    while True:
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        yield parent
        folder = parent


def _excluded(name: str, rel: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if fnmatch.fnmatch(name, pattern) or ("/" in pattern and fnmatch.fnmatch(rel, pattern)):
            return True
    return False


def _is_venv(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "pyvenv.cfg"))


@dataclass
class Discovered:
    files: list[str]  # sorted, unique
    missing: list[str]  # "path: why" for named paths that are no file or folder (a usage error)
    problems: list[FileResult] = field(default_factory=list)  # OPT000 results: unreadable folders, bad .gitignore


def discover(
    paths: list[str],
    exclude: list[str],
    extensions=(".py", ".ipynb"),
    force_exclude: bool = False,
    root: str | None = None,
) -> Discovered:
    """The files to check under `paths`. With `force_exclude`, `exclude` also applies to files
    named explicitly (matched against their name, their folders' names, and their path
    relative to `root`, the config's folder)."""
    found: set[str] = set()
    missing: list[str] = []
    problems: list[FileResult] = []
    root = os.path.abspath(root or os.getcwd())
    for given in paths:
        if force_exclude and force_excluded(given, exclude, root):
            continue
        try:
            os.stat(given)
        except FileNotFoundError:
            reason = "a broken symbolic link" if os.path.lexists(given) else "no such file or folder"
            missing.append(f"{given}: {reason}")
            continue
        except OSError as exc:  # e.g. a file inside a folder that cannot be searched
            problems.append(error_finding(FileResult(given), SourceError(f"cannot read file: {exc.strerror or exc}")))
            continue
        if os.path.isfile(given):
            found.add(os.path.normpath(given))  # named explicitly: always checked
        elif os.path.isdir(given):
            found.update(_walk(given, exclude, extensions, problems))
        else:  # a FIFO, socket or device: never opened
            missing.append(f"{given}: not a regular file or folder")
    unique = {p.path: p for p in problems}  # one report per .gitignore or folder
    return Discovered(sorted(found), missing, [unique[k] for k in sorted(unique)])


def force_excluded(given: str, exclude: list[str], root: str) -> bool:
    """Whether `exclude` names `given` or one of its folders (relative to `root`, the config's folder)."""
    absolute = os.path.abspath(given)
    rel = os.path.relpath(absolute, root).replace(os.sep, "/")
    if rel.startswith("../"):
        rel = absolute.replace(os.sep, "/")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    for depth in range(1, len(parts) + 1):
        if _excluded(parts[depth - 1], "/".join(parts[:depth]), exclude):
            return True
    return False


def _walk(top: str, exclude: list[str], extensions, problems: list[FileResult]) -> list[str]:
    top_abs = os.path.abspath(top)
    # .gitignore files from the repository root down to `top` apply too.
    root = _git_root(top_abs)
    inherited: list[GitIgnore] = []
    if root is not None:
        chain = [top_abs]
        chain += [p for p in _parents(top_abs) if len(p) >= len(root)]
        for folder in reversed(chain[1:]):
            ignore = GitIgnore.load(folder, problems)
            if ignore:
                inherited.append(ignore)
    out: list[str] = []
    stack = [(top, top_abs, inherited)]
    while stack:
        folder, folder_abs, ignores = stack.pop()
        own = GitIgnore.load(folder_abs, problems, folder)
        if own:
            ignores = [*ignores, own]
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:  # reported, never skipped silently: its files go unchecked
            shown = os.path.normpath(folder)
            problems.append(error_finding(FileResult(shown), SourceError(f"cannot read folder: {exc.strerror or exc}")))
            continue
        for entry in entries:
            path_abs = os.path.join(folder_abs, entry.name)
            rel = os.path.relpath(path_abs, top_abs).replace(os.sep, "/")
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                continue
            if _ignored(ignores, path_abs, is_dir):
                continue
            if is_dir:
                if entry.name.startswith(".") or _excluded(entry.name, rel, exclude) or _is_venv(path_abs):
                    continue
                stack.append((os.path.join(folder, entry.name), path_abs, ignores))
            elif is_file and entry.name.endswith(extensions):
                if not _excluded(entry.name, rel, exclude):
                    out.append(os.path.normpath(os.path.join(folder, entry.name)))
    return out


def _ignored(ignores: list[GitIgnore], path: str, is_dir: bool) -> bool:
    verdict = False
    for ignore in ignores:  # deeper .gitignore files come later and win
        result = ignore.verdict(path, is_dir)
        if result is not None:
            verdict = result
    return verdict
