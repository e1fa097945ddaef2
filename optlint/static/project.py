"""The repository a checked file belongs to: its other modules, read once, on demand.

A finding may depend on another module of the same project (the factory that builds the
optimizer, the constant that holds the decay, the callers that pass it). This module answers
"which file is `pkg.utils`?" the way Python's import system would for in-project code, and
hands out one analysis (a ``FileContext``) per module, built the first time a rule asks.

Nothing is imported or run: other modules are read and parsed like the checked file.

Every file read on behalf of the file being checked is recorded (`Dependencies`): the cache
keys a file's result by them, so a changed module invalidates the results that read it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

#: What marks a project's root folder (the nearest one above a checked file), as Python
#: packaging and version control do.
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")

#: Folders never searched for modules (virtual environments, caches, build outputs).
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "build", "dist",
    "site-packages", ".mypy_cache", ".ruff_cache", ".optlint_cache", ".eggs",
})

#: Re-exports followed from a package's ``__init__`` to the module that defines a name.
MAX_REEXPORTS = 6
#: Other modules' analyses kept at once per project (the least recently used is dropped and
#: rebuilt if asked again): a whole-repository run stays within a bounded memory.
MAX_CONTEXTS = 48


@dataclass
class Dependencies:
    """What one file's result was computed from, beyond its own text."""

    #: absolute path -> sha256 of the bytes read (None: the file could not be read)
    files: dict[str, str | None] = field(default_factory=dict)
    #: words whose occurrences across the project were searched (`files_mentioning`): a file
    #: that gains or loses one may change this result
    queries: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.files or self.queries)


_MARKED: dict[str, bool] = {}


def find_root(path: str) -> str:
    """The nearest folder at or above `path`'s folder holding a root marker (else its folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while True:
        if probe not in _MARKED:  # each folder is looked at once per process
            _MARKED[probe] = any(os.path.exists(os.path.join(probe, marker)) for marker in ROOT_MARKERS)
        if _MARKED[probe]:
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return folder
        probe = parent


class Project:
    """The in-project modules of one root, read and analysed at most once each."""

    def __init__(self, root: str, settings=None, overrides: dict[str, str] | None = None) -> None:
        self.root = os.path.abspath(root)
        self.settings = settings
        #: absolute path -> text that replaces the file on disk (an editor's unsaved buffer)
        self.overrides = {os.path.abspath(p): t for p, t in (overrides or {}).items()}
        self._texts: dict[str, tuple[str | None, str | None]] = {}  # path -> (text, sha)
        self._contexts: dict[str, object] = {}
        self._module_files: dict[tuple[str, str], str | None] = {}
        self._python_files: list[str] | None = None
        self._mentions: dict[str, list[str]] = {}
        self._tracking: list[Dependencies] = []
        self._tweaks: dict[str, list[str]] = {}
        self._session = 0  # one per checked file (`begin`)

    # -- dependency tracking ------------------------------------------------------------

    def begin(self) -> Dependencies:
        """Start recording what the file about to be checked reads of the project."""
        deps = Dependencies()
        self._tracking.append(deps)
        self._session += 1
        return deps

    def end(self) -> Dependencies:
        return self._tracking.pop()

    def _record(self, path: str, sha: str | None) -> None:
        for deps in self._tracking:
            deps.files[path] = sha

    # -- files --------------------------------------------------------------------------

    def read_text(self, path: str) -> str | None:
        """The decoded text of a project file (None when it cannot be read or decoded);
        recorded as a dependency of the file being checked."""
        path = os.path.abspath(path)
        if path not in self._texts:
            self._texts[path] = self._load(path)
        text, sha = self._texts[path]
        self._record(path, sha)
        return text

    def _load(self, path: str) -> tuple[str | None, str | None]:
        from optlint.files import DEFAULT_MAX_FILE_SIZE, read_source
        from optlint.static.source import SourceError, decode

        if path in self.overrides:
            text = self.overrides[path]
            return text, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        limit = getattr(self.settings, "max_file_size", DEFAULT_MAX_FILE_SIZE)
        try:
            data = read_source(path, limit)
        except OSError:
            return None, None
        sha = hashlib.sha256(data).hexdigest()
        if not path.endswith(".py"):
            try:
                return data.decode("utf-8-sig"), sha
            except UnicodeDecodeError:
                return None, sha
        try:
            return decode(data).text, sha
        except SourceError:
            return None, sha

    def context(self, path: str):
        """The analysis of another module of the project (None when it cannot be parsed)."""
        path = os.path.abspath(path)
        text = self.read_text(path)
        found = self._contexts.pop(path, _MISSING)
        if found is _MISSING:
            found = self._analyse(path, text)
            while len(self._contexts) >= MAX_CONTEXTS:
                del self._contexts[next(iter(self._contexts))]  # the least recently used
        self._contexts[path] = found  # now the most recently used
        if found is not None and getattr(found, "session", None) != self._session:
            # each checked file gets the module's full budget of resolution steps (a module
            # read for many files must not run out of it), and no memo of another check
            found.session = self._session
            found.resolver.steps = 0
            found.resolver._binding_values.clear()
            # Analyses above the walk may have read other files for an earlier check: done
            # again, they record those files for this one too (the cache keys on them).
            found.resolver.memo.clear()
            for name in ("params", "_calls", "optimizer_calls", "penalties", "splits"):
                found.__dict__.pop(name, None)
        return found

    def _analyse(self, path: str, text: str | None):
        if text is None:
            return None
        from optlint.static.context import FileContext
        from optlint.static.source import python_ast

        tree, _ = python_ast(text)
        if tree is None:
            return None
        return FileContext(tree, text, self.settings, project=self, path=path)

    def python_files(self) -> list[str]:
        """Every ``.py`` file under the root, outside virtual environments and caches, sorted."""
        if self._python_files is None:
            found = []
            for folder, dirs, files in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
                found.extend(os.path.join(folder, f) for f in files if f.endswith(".py"))
            self._python_files = sorted(found)
        return self._python_files

    def files_mentioning(self, word: str) -> list[str]:
        """The project's Python files whose text contains `word` (callers of a function,
        users of a constant); the search itself is recorded, so a file that starts or stops
        mentioning the word invalidates the results that asked."""
        for deps in self._tracking:
            deps.queries.add(word)
        if word not in self._mentions:
            found = []
            for path in self.python_files():
                if path not in self._texts:
                    self._texts[path] = self._load(path)
                text = self._texts[path][0]
                if text is not None and word in text:
                    found.append(path)
            self._mentions[word] = found
        for path in self._mentions[word]:
            self._record(path, self._texts[path][1])
        return self._mentions[word]

    # -- modules ------------------------------------------------------------------------

    def module_file(self, importer: str, module: str, level: int = 0) -> str | None:
        """The file of module `module` imported from file `importer` (``level`` leading dots),
        searched as Python would for in-project code: relative to the importer's package,
        else in the importer's folder (a script's folder is on ``sys.path``), the root, and
        ``src/``. None for anything outside the project (torch, the standard library)."""
        importer = os.path.abspath(importer)
        key = (os.path.dirname(importer) if not level else importer, f"{'.' * level}{module}")
        if not level and self.path_tweaks(importer):
            key = (importer, module)  # this file's own `sys.path` entries come first
        if key not in self._module_files:
            probes: list[str] = []
            self._module_files[key] = (self._find_module(importer, module, level, probes), probes)
        found, probes = self._module_files[key]
        # Files looked for and not found are dependencies too: a module created later may
        # change what this import means (`utils.py` beside the script shadows `utils/`).
        for missing in probes:
            self._record(missing, None)
        return found

    def _find_module(self, importer: str, module: str, level: int, probes: list[str]) -> str | None:
        parts = [p for p in module.split(".") if p]
        if level:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            if not base.startswith(self.root):
                return None
            return _module_in(base, parts, probes) if parts else _package_init(base, probes)
        if not parts:
            return None
        for base in self._search_roots(importer):
            found = _module_in(base, parts, probes)
            if found is not None:
                return found
        return None

    def _search_roots(self, importer: str) -> list[str]:
        roots = [*self.path_tweaks(importer), os.path.dirname(importer), self.root, os.path.join(self.root, "src")]
        return [r for r in dict.fromkeys(roots) if r.startswith(self.root) and os.path.isdir(r)]

    def path_tweaks(self, importer: str) -> list[str]:
        """Folders a file puts on ``sys.path`` at its top level with literal paths
        (``sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))``,
        ``sys.path.append("..")``: a relative path is taken from the file's folder, where
        scripts are usually run), in the order Python searches them."""
        importer = os.path.abspath(importer)
        found = self._tweaks.get(importer)
        if found is None:
            found = self._tweaks[importer] = _path_tweaks(importer, self.read_text(importer) or "")
        return found

    def tweaks_from(self, importer: str, text: str) -> None:
        """Read a file's `sys.path` entries from the text the caller already holds (the file
        being checked), instead of reading it again."""
        importer = os.path.abspath(importer)
        if importer not in self._tweaks:
            self._tweaks[importer] = _path_tweaks(importer, text)

    def resolve(self, importer: str, qualname: str) -> tuple[str, str] | None:
        """(file, the rest of the dotted name) for an imported name as optlint's model writes
        it (``pkg.utils.make``, ``.utils.make``, ``..optim``): the longest prefix that is an
        in-project module, so ``pkg.utils.make`` is (``pkg/utils.py``, ``make``)."""
        stripped = qualname.lstrip(".")
        level = len(qualname) - len(stripped)
        parts = stripped.split(".") if stripped else []
        for cut in range(len(parts), -1, -1):
            if cut == 0 and not level:
                break
            path = self.module_file(importer, ".".join(parts[:cut]), level)
            if path is not None:
                return path, ".".join(parts[cut:])
        return None

    def module_name(self, path: str) -> str | None:
        """The dotted name a file has when imported from the root (``pkg/utils.py`` ->
        ``pkg.utils``), or None outside the root."""
        path = os.path.abspath(path)
        for base in (os.path.join(self.root, "src"), self.root):
            if path.startswith(base + os.sep):
                rel = os.path.relpath(path, base)[: -len(".py")]
                parts = rel.split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                return ".".join(parts) if parts else None
        return None

    def display(self, path: str) -> str:
        """A path as messages show it: relative to the root."""
        try:
            return os.path.relpath(path, self.root)
        except ValueError:
            return path


def _path_tweaks(importer: str, text: str) -> list[str]:
    """The literal ``sys.path.insert`` / ``append`` folders of a module's top level."""
    if "sys.path" not in text:
        return []  # no parse for the files that do not touch sys.path (nearly all)
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    front, back = [], []
    for statement in tree.body:
        if isinstance(statement, ast.If):  # `if path not in sys.path: sys.path.insert(...)`
            body = statement.body
        else:
            body = [statement]
        for each in body:
            call = each.value if isinstance(each, ast.Expr) else None
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            owner = call.func.value
            if not (isinstance(owner, ast.Attribute) and owner.attr == "path" and isinstance(owner.value, ast.Name)
                    and owner.value.id == "sys"):
                continue
            if call.func.attr == "insert" and len(call.args) == 2:
                folder = _literal_path(call.args[1], importer)
                if folder is not None:
                    front.insert(0, folder)
            elif call.func.attr == "append" and len(call.args) == 1:
                folder = _literal_path(call.args[0], importer)
                if folder is not None:
                    back.append(folder)
    return [f for f in dict.fromkeys(front + back) if os.path.isdir(f)]


def _literal_path(node, importer: str, depth: int = 0) -> str | None:
    """A path expression made of literals, ``__file__``, ``os.path.dirname/abspath/realpath/
    join`` and ``pathlib.Path(...).parent/.parents[n]/.resolve()``, evaluated; else None."""
    import ast

    if depth > 12:
        return None
    here = os.path.dirname(importer)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return os.path.normpath(os.path.join(here, node.value))
    if isinstance(node, ast.Name) and node.id == "__file__":
        return importer
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _literal_path(node.value, importer, depth + 1)
        return os.path.dirname(inner) if inner else None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents" \
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int) and 0 <= node.slice.value < 16:
        inner = _literal_path(node.value.value, importer, depth + 1)
        for _ in range(node.slice.value + 1):
            inner = os.path.dirname(inner) if inner else None
        return inner
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    parts = [_literal_path(a, importer, depth + 1) if not (isinstance(a, ast.Constant) and name == "join") else a.value
             for a in node.args]
    if any(p is None for p in parts):
        return None
    if name == "dirname" and len(parts) == 1:
        return os.path.dirname(parts[0])
    if name in ("abspath", "realpath", "normpath", "str", "Path", "resolve", "absolute", "fspath") and len(parts) <= 1:
        if not parts:  # `Path(...).resolve()`
            return _literal_path(func.value, importer, depth + 1) if isinstance(func, ast.Attribute) else None
        return os.path.normpath(parts[0])
    if name == "join" and parts and not isinstance(node.args[0], ast.Constant):
        return os.path.normpath(os.path.join(*parts))
    return None


_MISSING = object()


def _module_in(base: str, parts: list[str], probes: list[str]) -> str | None:
    folder = os.path.join(base, *parts[:-1])
    candidate = os.path.join(folder, parts[-1] + ".py")
    if os.path.isfile(candidate):
        return candidate
    probes.append(candidate)
    return _package_init(os.path.join(folder, parts[-1]), probes)


def _package_init(folder: str, probes: list[str]) -> str | None:
    init = os.path.join(folder, "__init__.py")
    if os.path.isfile(init):
        return init
    probes.append(init)
    return None


# -- one Project per root in a process (workers keep theirs for all the files they check) --

_PROJECTS: dict[tuple[str, int], Project] = {}
_ROOTS: dict[str, str] = {}


def project_for(path: str, settings=None) -> Project | None:
    """The project `path` belongs to (shared by every file of the root checked in this
    process), or None for text that is not a file (standard input, a test's string)."""
    if not path or path.startswith("<") or path == "-":
        return None
    explicit = getattr(settings, "project_root", None)
    folder = os.path.dirname(os.path.abspath(path))
    if explicit:
        root = os.path.abspath(explicit)
    else:
        if folder not in _ROOTS:
            _ROOTS[folder] = find_root(path)
        root = _ROOTS[folder]
    key = (root, id(settings))
    if key not in _PROJECTS:
        _PROJECTS[key] = Project(root, settings)
    return _PROJECTS[key]


def project_with_overrides(path: str, settings, overrides: dict[str, str]) -> Project | None:
    """A fresh project for `path` (as `project_for` finds it) that reads `overrides` (an
    editor's unsaved buffers: absolute path -> text) instead of those files on disk; it
    replaces the process's project of that root, so the next check of `path` uses it."""
    found = project_for(path, settings)
    if found is None:
        return None
    fresh = Project(found.root, settings, overrides)
    _PROJECTS[(found.root, id(settings))] = fresh
    return fresh


def forget_projects() -> None:
    """Drop every Project of this process (a long-lived server after files changed)."""
    _PROJECTS.clear()
    _ROOTS.clear()
    _MARKED.clear()
