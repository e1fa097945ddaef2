"""Which files to check: like ruff, recurse for ``*.py``, skip excluded and gitignored paths.

An explicitly named file is always checked. Output order never depends on the walk: the
caller sorts findings.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass


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

    def __init__(self, base: str, lines: list[str]) -> None:
        self.base = base
        self.rules: list[_IgnoreRule] = []
        for raw in lines:
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
            self.rules.append(_IgnoreRule(re.compile(regex), negated, directory_only))

    @classmethod
    def load(cls, folder: str) -> "GitIgnore | None":
        path = os.path.join(folder, ".gitignore")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return cls(folder, handle.readlines())
        except OSError:
            return None

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


def discover(paths: list[str], exclude: list[str], extensions=(".py", ".ipynb")) -> tuple[list[str], list[str]]:
    """(files to check, paths that do not exist). Files come back sorted and unique."""
    found: set[str] = set()
    missing: list[str] = []
    for given in paths:
        if os.path.isfile(given):
            found.add(os.path.normpath(given))  # named explicitly: always checked
        elif os.path.isdir(given):
            found.update(_walk(given, exclude, extensions))
        elif os.path.lexists(given):
            missing.append(f"{given} (not a regular file or folder)")
        else:
            missing.append(given)
    return sorted(found), missing


def _walk(top: str, exclude: list[str], extensions) -> list[str]:
    top_abs = os.path.abspath(top)
    # .gitignore files from the repository root down to `top` apply too.
    root = _git_root(top_abs)
    inherited: list[GitIgnore] = []
    if root is not None:
        chain = [top_abs]
        chain += [p for p in _parents(top_abs) if len(p) >= len(root)]
        for folder in reversed(chain[1:]):
            ignore = GitIgnore.load(folder)
            if ignore:
                inherited.append(ignore)
    out: list[str] = []
    stack = [(top, top_abs, inherited)]
    while stack:
        folder, folder_abs, ignores = stack.pop()
        own = GitIgnore.load(folder_abs)
        if own:
            ignores = [*ignores, own]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # unreadable folder: nothing to check in it
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
