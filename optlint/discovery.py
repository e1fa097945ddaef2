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
import os
from dataclasses import dataclass, field

from optlint.files import SMALL_FILE_LIMIT, SMALL_FILE_LIMIT_NAME, NotRegularFile, read_regular
from optlint.findings import FileResult
from optlint.globs import IgnoreFile
from optlint.static.configs.check import MAX_CONFIG_BYTES
from optlint.static.source import SourceError, error_finding


#: The ignore files read in each folder, as ruff reads them through the `ignore` crate:
#: `.ignore` (ripgrep's) wins over `.gitignore`; `.git/info/exclude` applies below both.
IGNORE_FILES = (".ignore", ".gitignore")


def load_ignore(folder: str, name: str = ".gitignore", problems: list[FileResult] | None = None, shown: str | None = None) -> IgnoreFile | None:
    """The ignore file `name` in `folder` if it is a regular file (git does not follow a
    symlinked one); problems (unreadable, an invalid pattern) are reported under `shown`,
    the folder as the user named it."""
    path = os.path.join(folder, name)
    display = os.path.normpath(os.path.join(shown if shown is not None else _display(folder), name))
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
            problems.append(error_finding(FileResult(display), SourceError(f"cannot read {name}: {reason}")))
        return None
    base = os.path.dirname(folder) if name == os.path.join("info", "exclude") else folder  # .git/info/exclude: the work tree
    ignore = IgnoreFile(base, data.decode("utf-8", errors="replace").splitlines())
    for row, line, why in ignore.bad:
        if problems is not None:
            label = "exclude" if name.endswith("exclude") else name
            message = f"invalid {label} pattern {line!r} ({why}); the line is not applied"
            problems.append(error_finding(FileResult(display), SourceError(message, row)))
    return ignore


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


def _is_venv(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "pyvenv.cfg"))


@dataclass
class Discovered:
    files: list[str]  # sorted, unique
    missing: list[str]  # "path: why" for named paths that are no file or folder (a usage error)
    problems: list[FileResult] = field(default_factory=list)  # OPT000 results: unreadable folders, bad .gitignore


#: Config files (YAML, JSON) larger than this are data, not configs: a folder walk skips them
CONFIG_WALK_LIMIT = MAX_CONFIG_BYTES
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def discover(paths: list[str], resolver, extensions=(".py", ".ipynb", *CONFIG_SUFFIXES), force_exclude: bool | None = None) -> Discovered:
    """The files to check under `paths`, each folder walked with the settings of the config
    that governs it (`resolver.settings_for`). A file named explicitly is always checked
    unless `force_exclude` (or the config's `force-exclude`) and its config excludes it or
    one of its folders."""
    found: set[str] = set()
    missing: list[str] = []
    problems: list[FileResult] = []
    for given in paths:
        force = resolver.settings_for(given).force_exclude if force_exclude is None else force_exclude
        if force and force_excluded(given, resolver):
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
            found.update(_walk(given, resolver, extensions, problems))
        else:  # a FIFO, socket or device: never opened
            missing.append(f"{given}: not a regular file or folder")
    unique = {p.path: p for p in problems}  # one report per ignore file or folder
    return Discovered(sorted(found), missing, [unique[k] for k in sorted(unique)])


def force_excluded(given: str, resolver) -> bool:
    """Whether the exclusions name `given` or one of its folders, each checked with the
    settings that govern it, up to the folder of its config (ruff's `is_file_excluded`)."""
    path = os.path.abspath(given)
    is_dir = os.path.isdir(path)
    while True:
        settings = resolver.settings_for(path)
        if settings.excluded(path, is_dir):
            return True
        parent = os.path.dirname(path)
        if parent == path or path == os.path.abspath(settings.root):
            return False
        path, is_dir = parent, True


def _ignore_chain(top_abs: str, problems: list[FileResult]) -> tuple[list, IgnoreFile | None]:
    """The ignore files above `top_abs` up to its repository's root (each (name, file)), and
    the repository's `.git/info/exclude`."""
    root = _git_root(top_abs)
    chain: list[tuple[str, IgnoreFile]] = []
    info = None
    if root is not None:
        folders = [p for p in _parents(top_abs) if len(p) >= len(root)]
        for folder in reversed(folders):
            for name in IGNORE_FILES:
                ignore = load_ignore(folder, name, problems)
                if ignore:
                    chain.append((name, ignore))
        if os.path.isdir(os.path.join(root, ".git")):
            info = load_ignore(os.path.join(root, ".git"), os.path.join("info", "exclude"), problems)
    return chain, info


def _walk(top: str, resolver, extensions, problems: list[FileResult]) -> list[str]:
    top_abs = os.path.abspath(top)
    inherited, info = _ignore_chain(top_abs, problems) if resolver.settings_for(top_abs).respect_gitignore else ([], None)
    out: list[str] = []
    stack = [(top, top_abs, inherited)]
    while stack:
        folder, folder_abs, ignores = stack.pop()
        settings = resolver.settings_for(folder_abs)
        if settings.respect_gitignore:
            for name in IGNORE_FILES:
                own = load_ignore(folder_abs, name, problems, folder)
                if own:
                    ignores = [*ignores, (name, own)]
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:  # reported, never skipped silently: its files go unchecked
            shown = os.path.normpath(folder)
            problems.append(error_finding(FileResult(shown), SourceError(f"cannot read folder: {exc.strerror or exc}")))
            continue
        for entry in entries:
            path_abs = os.path.join(folder_abs, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                continue
            if not is_dir and not (is_file and entry.name.endswith(extensions)):
                continue
            if not is_dir and entry.name.endswith(CONFIG_SUFFIXES) and not _config_worth_reading(entry):
                continue
            if settings.respect_gitignore and _ignored(ignores, info, path_abs, is_dir):
                continue
            if is_dir:
                if entry.name.startswith(".") or _is_venv(path_abs):
                    continue
                # a folder holding its own config is walked with that config's exclusions
                if resolver.settings_for(path_abs).excluded(path_abs, True) or settings.excluded(path_abs, True):
                    continue
                stack.append((os.path.join(folder, entry.name), path_abs, ignores))
            elif not settings.excluded(path_abs):
                out.append(os.path.normpath(os.path.join(folder, entry.name)))
    return out


def _config_worth_reading(entry) -> bool:
    """A YAML/JSON file small enough to be a config whose text names an optimizer or a decay
    (optlint.static.configs.check's pre-filter): data files and other tools' configs are
    never reported, not even as too large."""
    try:
        if entry.stat().st_size > CONFIG_WALK_LIMIT:
            return False
        with open(entry.path, "rb") as handle:
            data = handle.read(CONFIG_WALK_LIMIT)
    except OSError:
        return False
    from optlint.static.configs.check import worth_reading

    import json

    return worth_reading(data.decode(json.detect_encoding(data), errors="replace"))


def _ignored(ignores: list, info: IgnoreFile | None, path: str, is_dir: bool) -> bool:
    """ruff's order (the `ignore` crate): any `.ignore`, deepest first, then any `.gitignore`,
    deepest first, then `.git/info/exclude`; the first that says something decides."""
    for kind in IGNORE_FILES:
        for name, ignore in reversed(ignores):
            if name != kind:
                continue
            verdict = ignore.verdict(path, is_dir)
            if verdict is not None:
                return verdict
    if info is not None:
        return bool(info.verdict(path, is_dir))
    return False
