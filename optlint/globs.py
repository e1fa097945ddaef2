"""Path patterns, matched by pathspec (https://pypi.org/project/pathspec/): config globs and ignore files.

One dialect for every pattern optlint reads, gitignore's (https://git-scm.com/docs/gitignore),
with ruff's anchoring (https://docs.astral.sh/ruff/settings/#exclude):

- a pattern is relative to the folder of the config file that holds it, never to the folder
  named on the command line;
- a pattern without a ``/`` (``foo.py``, ``.mypy_cache``, ``test_*.py``) matches a file or
  folder of that name at any depth; one with a ``/`` (``directory/*.py``) is anchored at the
  config's folder; a trailing ``/`` (``sub/``) names a folder, a leading ``./`` is the
  config's folder itself;
- a folder that matches takes everything inside it along (``tests``, ``tests/``, ``tests/*``);
- ``*`` stays inside one folder and ``**`` crosses folders (``**/tests`` matches a top-level
  ``tests`` too). ruff reads ``src/**.py`` (a ``**`` inside a name, as in its documented
  ``per-file-ignores`` example) as "every .py below src/": so is it here.
"""

from __future__ import annotations

import functools
import os
import re

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

_INNER_DOUBLE_STAR = re.compile(r"([^/]*)\*\*([^/]*)")


def _lines(pattern: str) -> list[str]:
    """A config pattern as gitignore lines (one pattern may need two)."""
    if pattern.startswith("./"):
        pattern = "/" + pattern[2:].lstrip("/")
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        match = _INNER_DOUBLE_STAR.fullmatch(segment)
        if match is None or segment == "**":
            continue
        head, tail = match.groups()
        # `src/**.py` as ruff reads it: `src/*.py` or `src/*/**/*.py`
        same = "/".join(segments[:index] + [f"{head}*{tail}"] + segments[index + 1 :])
        deeper = "/".join(segments[:index] + [f"{head}*", "**", f"*{tail}"] + segments[index + 1 :])
        # a name pattern (`test_**.py`) stays unanchored: the `/` added must not anchor it
        return [same, deeper if len(segments) > 1 else "**/" + deeper]
    return [pattern]


#: a path with `.`/`..` parts or doubled separators, which only os.path.relpath handles
_UNNORMAL = re.compile(r"(?:^|/)\.\.?(?:/|$)|//")


def relative(path: str, root: str) -> str | None:
    """`path` relative to `root` with `/` separators, or None when it is not inside `root`.

    Both are made absolute without resolving symbolic links (as ruff does): a file reached
    through a linked folder is matched by the path it was named by."""
    if (
        os.sep == "/"
        and path.startswith(root)
        and path[len(root) : len(root) + 1] == "/"
        and root[:1] == "/"
        and root[-1:] != "/"
        and not _UNNORMAL.search(path)
    ):  # the common case (an absolute path below an absolute root): no system calls
        return path[len(root) + 1 :].rstrip("/") or "."
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return rel.replace(os.sep, "/")


class Globs:
    """Config patterns anchored at one folder."""

    def __init__(self, patterns: list[str], root: str) -> None:
        self.patterns = list(patterns)
        self.root = os.path.abspath(root)
        self.spec = _spec([line for p in patterns for line in _lines(p)])

    def __getstate__(self):
        return {"patterns": self.patterns, "root": self.root}

    def __setstate__(self, state):
        self.__init__(state["patterns"], state["root"])

    def match(self, path: str, is_dir: bool = False) -> bool:
        """Whether a pattern names `path` or a folder above it (inside the root). A path
        outside the root is matched by its name only (the patterns without a `/`)."""
        rel = relative(path, self.root)
        if rel is None:
            rel = os.path.basename(os.path.abspath(path))
            if not rel:
                return False
            return any(
                "/" not in p.rstrip("/") and not p.startswith("./") and _match(_name_spec(p), rel, is_dir)
                for p in self.patterns
            )
        if rel == ".":
            return False
        return _match(self.spec, rel, is_dir)



@functools.lru_cache(maxsize=256)
def _name_spec(pattern: str) -> pathspec.PathSpec:
    return _spec(_lines(pattern))


def _spec(lines: list[str]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", lines)


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


_ANY_FOLDER = "^(?:.+/)?"


def _any_of(patterns):
    """One regex that matches where any of the patterns' regexes matches (their named groups
    made plain, so they can stand side by side), or None when they cannot be joined. Most
    paths match no pattern: one search tells so, instead of one search per pattern. The
    patterns of a name at any depth share one ``^(?:.+/)?`` (tried once, not once each)."""
    sources = [p.regex.pattern for p in patterns if getattr(p, "regex", None) is not None]
    if len(sources) != len(patterns) or any(isinstance(s, bytes) or "(?P=" in s for s in sources):
        return None
    plain = [_NAMED_GROUP.sub("(?:", s) for s in sources]
    names = [s[len(_ANY_FOLDER) :] for s in plain if s.startswith(_ANY_FOLDER)]
    others = [s for s in plain if not s.startswith(_ANY_FOLDER)]
    parts = [f"(?:{s})" for s in others]
    if names:
        parts.append(_ANY_FOLDER + "(?:" + "|".join(f"(?:{s})" for s in names) + ")")
    if not parts:
        return None
    try:
        joined = re.compile("|".join(parts))
    except re.error:
        return None
    # every gitignore regex is anchored at the start: try the start only, not every position
    return joined.match if all(s.startswith("^") for s in plain) else joined.search


def _spec_match(spec: pathspec.PathSpec, file: str) -> bool:
    memo = getattr(spec, "_optlint_memo", None)
    if memo is None:
        memo = spec._optlint_memo = {}
        spec._optlint_screen = _any_of(spec.patterns)
    if file in memo:
        return memo[file]  # the folders above each file: asked once per file in them
    screen = spec._optlint_screen
    found = memo[file] = (screen is None or screen(file) is not None) and bool(spec.match_file(file))
    if len(memo) > 4096:
        memo.clear()
    return found


def _match(spec: pathspec.PathSpec, rel: str, is_dir: bool) -> bool:
    """`rel` or one of its folders matches: a folder a pattern names takes its contents along
    (gitignore's rule; `tests/*` names `tests/a/`, so `tests/a/b.py` too)."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        if _spec_match(spec, "/".join(parts[:depth]) + "/"):
            return True
    return _spec_match(spec, rel + "/" if is_dir else rel)


def check_invalid(pattern: str) -> str | None:
    """Why `pattern` is no valid glob, or None."""
    try:
        _spec(_lines(pattern))
    except (ValueError, re.error) as exc:  # pathspec's pattern errors are ValueErrors
        return str(exc)
    return None


class IgnoreFile:
    """One ignore file (``.gitignore``, ``.ignore``, ``.git/info/exclude``): its patterns are
    relative to `base`, the last matching pattern decides, ``!`` re-includes."""

    def __init__(self, base: str, lines: list[str]) -> None:
        self.base = base
        self.bad: list[tuple[int, str, str]] = []  # (row, line, why) for patterns git would not apply
        patterns = []
        for row, line in enumerate(lines, 1):
            try:
                pattern = GitIgnoreSpecPattern(line)  # git's own reading of each line
            except (ValueError, re.error) as exc:
                self.bad.append((row, line.strip(), str(exc)))
                continue
            if pattern.include is not None:
                patterns.append(pattern)
        self.patterns = patterns
        self._screen = _any_of(patterns)

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """True ignored, False re-included, None: this file says nothing about `path`."""
        rel = relative(path, self.base)
        if rel is None or rel == ".":
            return None
        if is_dir:
            rel += "/"
        if self._screen is not None and self._screen(rel) is None:
            return None  # no pattern matches it
        result = None
        for pattern in self.patterns:
            if pattern.match_file(rel) is not None:
                result = pattern.include
        return result
