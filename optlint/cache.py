"""The results cache: a file whose text, settings and project dependencies did not change is not checked again.

Modelled on ruff's cache (https://docs.astral.sh/ruff/settings/#cache-dir): a ``.optlint_cache``
folder at the project root (with a ``CACHEDIR.TAG`` and a ``.gitignore`` of ``*``), one file per
project and settings under a folder named by optlint's version, ``--no-cache`` to skip it,
``--cache-dir`` / ``OPTLINT_CACHE_DIR`` / ``cache-dir`` to move it, ``optlint clean`` to remove it.

An entry is one file's result (findings with their fix edits when they were rendered, warnings,
the error flag) and is used only while all of these hold:

- the file's bytes have the sha256 they had (a file whose size and modification time are those
  of the index is not read again, as ruff trusts them; one modified less than ``RACY_NS`` before
  the index was taken is read again: its time cannot tell two writes in the same tick apart);
- optlint's version, and its own source files (an edited install), are the same;
- every setting that changes a result is the same (``fingerprint``: selection, per-file
  ignores, extra optimizers, the pre-filter, ...; output options are left out);
- every other project file the result read (``Dependencies.files``) has the same sha256;
- for every word whose occurrences the result searched (``Dependencies.queries``: the callers
  of a function), the project files holding it are the same files. The cache keeps, per word,
  which files held it when the index was taken; only files that changed since are read again.

Writes go to a temporary file renamed over the old one: concurrent runs never see half a file,
and the last one to finish wins (a lost entry is recomputed next time). A file that cannot be
read, is not JSON or is of another format is ignored and rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import time

from optlint import __version__
from optlint.findings import FileResult, Finding, Position

CACHE_DIR_NAME = ".optlint_cache"
ENV_VAR = "OPTLINT_CACHE_DIR"
#: bumped when the layout of a cache file changes
FORMAT = 1
#: A file modified this close to the start of the run that indexed it is read again next time.
RACY_NS = 2_000_000_000

#: Settings that change how results are shown or applied, never what a check finds. Every other
#: field of Settings is part of the fingerprint (a field added later is included by default).
OUTPUT_ONLY_SETTINGS = frozenset({
    "fix", "unsafe_fixes", "diff", "stdout_fix", "fix_edits", "fixable", "exclude", "respect_gitignore",
    "force_exclude", "config_path", "cache_dir",
})

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by optlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def _canonical(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, dict):
        return sorted([_canonical(k), _canonical(v)] for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return repr(value)


def fingerprint(settings) -> str:
    """A digest of every setting that can change a file's result."""
    fields = {
        f.name: _canonical(getattr(settings, f.name))
        for f in dataclasses.fields(settings)
        if f.name not in OUTPUT_ONLY_SETTINGS
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def code_version() -> str:
    """optlint's version and a digest of its own modules' sizes and times: an edited install
    (a development checkout) never reads results an older code computed."""
    package = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256(__version__.encode())
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return f"{__version__}-{digest.hexdigest()[:12]}"


def cache_folder(root: str, settings, explicit: str | None) -> str:
    """Where the cache of project `root` lives: --cache-dir / OPTLINT_CACHE_DIR, else the
    config's `cache-dir`, else ``<root>/.optlint_cache``."""
    if explicit:
        return os.path.abspath(explicit)
    configured = getattr(settings, "cache_dir", None)
    if configured:
        return configured
    return os.path.join(root, CACHE_DIR_NAME)


def _prepare(folder: str, version: str) -> str:
    """Create the cache folder with its CACHEDIR.TAG and .gitignore (as ruff does), and the
    folder of this version in it (returned)."""
    os.makedirs(os.path.join(folder, version), exist_ok=True)
    for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Automatically created by optlint.\n*\n")):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            _write_atomic(path, text.encode())
    return os.path.join(folder, version)


def _write_atomic(path: str, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


# -- results as JSON (a cache folder may come from anywhere: it is data, never code) ----------


def _dump_result(result: FileResult) -> list:
    prefix = f"{result.path}:"
    warnings = [[1, w[len(prefix):]] if w.startswith(prefix) else [0, w] for w in result.warnings]
    findings = [
        [
            f.code, f.message, f.location.row, f.location.column, f.end_location.row, f.end_location.column,
            f.noqa_row, f.fix, f.cell, f.file_row, f.applicability,
        ]
        for f in result.findings
    ]
    return [result.error, result.skipped, warnings, findings]


def _load_result(path: str, data: list) -> FileResult:
    error, skipped, warnings, findings = data
    result = FileResult(path, error=bool(error), skipped=bool(skipped))
    result.warnings = [f"{path}:{w}" if relative else w for relative, w in warnings]
    result.findings = [
        Finding(path, code, message, Position(row, col), Position(erow, ecol), noqa_row, fix, cell, file_row, applicability)
        for code, message, row, col, erow, ecol, noqa_row, fix, cell, file_row, applicability in findings
    ]
    return result


def _has_fixes(data: list) -> bool:
    return any(finding[10] is not None for finding in data[3])


class _Bucket:
    """The cache file of one project root and one settings fingerprint."""

    def __init__(self, path: str, root: str, settings, project) -> None:
        self.path = path
        self.root = root
        self.settings = settings
        self.project = project  # the Project that checks use in this process (its file list)
        self.taken = 0  # when the loaded index was taken (the start of the run that wrote it)
        self.index: dict[str, list] = {}  # path -> [mtime_ns, size, sha]
        self.mentions: dict[str, set[str]] = {}  # word -> files holding it, as of `index`
        self.results: dict[str, dict] = {}
        self.loaded = self._load()
        self.dirty = False
        # this run's view: path -> [mtime_ns, size, sha] read or trusted now (None: unreadable)
        self.now: dict[str, list | None] = {}
        # files whose sha differs from the index: their text (None until needed)
        self.changed: dict[str, str | None] = {}
        self._mentions_now: dict[str, set[str]] = {}

    def _load(self) -> bool:
        try:
            with open(self.path, "rb") as handle:
                data = json.loads(handle.read())
            if data.get("format") != FORMAT or data.get("root") != self.root:
                return False
            self.taken = int(data["taken"])
            self.index = {p: list(v) for p, v in data["index"].items()}
            self.mentions = {w: set(ps) for w, ps in data["mentions"].items()}
            self.results = dict(data["results"])
            return True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.taken, self.index, self.mentions, self.results = 0, {}, {}, {}
            return False

    # -- the current state of files ---------------------------------------------------------

    def sha(self, path: str) -> str | None:
        """The file's sha256 now (None: it cannot be read), read only when the index cannot vouch for it."""
        if path in self.now:
            record = self.now[path]
            return record[2] if record else None
        try:
            info = os.stat(path)
        except OSError:
            self.now[path] = None
            return None
        known = self.index.get(path)
        if (
            known is not None
            and known[0] == info.st_mtime_ns
            and known[1] == info.st_size
            and info.st_mtime_ns < self.taken - RACY_NS
        ):
            self.now[path] = known
            return known[2]
        # the stat is taken before the read: a write after it changes the time the next run sees
        text, sha = self.project._load(path)  # the text the project model reads
        if known is not None and known[2] == sha:
            self.dirty = True  # verified now: the next index vouches for it
        self._note(path, [info.st_mtime_ns, info.st_size, sha] if sha is not None else None, text)
        return sha

    def _note(self, path: str, record: list | None, text: str | None = None) -> None:
        self.now[path] = record
        known = self.index.get(path)
        if record is not None and (known is None or known[2] != record[2]):
            self.changed[path] = text

    def _holds(self, path: str, word: str) -> bool:
        """Whether the file (as this run sees it) holds `word`."""
        if path not in self.changed and word in self.mentions:
            return path in self.mentions[word]
        text = self.changed.get(path)
        if text is None:
            text, sha = self.project._load(path)
            record = self.now.get(path)
            if record is not None and sha != record[2]:
                # it changed since it was checked: never trust its time, read it next run
                self.now[path] = [-1, -1, record[2]]
            if path in self.changed:
                self.changed[path] = text
        return text is not None and word in text

    def mentions_now(self, word: str) -> set[str]:
        """The project's Python files holding `word` now."""
        if word not in self._mentions_now:
            files = self.project.python_files()
            self._mentions_now[word] = {p for p in files if self.sha(p) is not None and self._holds(p, word)}
        return self._mentions_now[word]

    # -- entries ----------------------------------------------------------------------------

    def get(self, path: str, shown: str, settings) -> FileResult | None:
        entry = self.results.get(path)
        if entry is None:
            return None
        try:
            if self.sha(path) != entry["sha"]:
                return None
            data = entry["result"]
            if bool(entry["edits"]) != bool(settings.fix_edits) and _has_fixes(data):
                return None  # the edits this run shows were not rendered (or the messages differ)
            if (settings.fix or settings.diff) and _has_fixes(data):
                # --fix / --diff write or print: a file with something to fix is checked again (ruff's rule)
                result = _load_result(shown, data)
                if any(settings.applies(f) for f in result.findings):
                    return None
            for dep, sha in entry["files"].items():
                if self.sha(dep) != sha:
                    return None
            for word, holders in entry["queries"].items():
                if self.mentions_now(word) != set(holders):
                    return None
            return _load_result(shown, data)
        except (KeyError, TypeError, ValueError, IndexError):
            return None  # an entry of another shape: checked again and rewritten

    def put(self, path: str, result: FileResult, settings) -> None:
        key = getattr(result, "source_key", None)
        if key is None or result.fixed or result.fixed_output is not None or result.diff:
            return  # not read from a file, or the file was (or would be) rewritten
        mtime_ns, size, sha = key
        deps = result.dependencies
        files = dict(deps.files) if deps else {}
        queries = {}
        for word in sorted(deps.queries) if deps else ():
            holders = self.mentions_now(word)
            # every holder must be a dependency read with the content the index now has: a file
            # that changed while the run read it would make the entry stale
            if any(files.get(p, "") != self.sha(p) for p in holders):
                return
            queries[word] = sorted(holders)
        self.results[path] = {
            "sha": sha,
            "edits": bool(settings.fix_edits),
            "result": _dump_result(result),
            "files": files,
            "queries": queries,
        }
        if path not in self.now:
            self._note(path, [mtime_ns, size, sha])
        self.dirty = True

    def save(self, started_ns: int) -> None:
        if not self.dirty and all(self.index.get(p) == r for p, r in self.now.items()):
            return
        index = dict(self.index)
        for path, record in self.now.items():
            if record is None:
                index.pop(path, None)
            else:
                index[path] = record
        # per word, the files holding it as the new index has them (only changed files are read)
        mentions = {}
        for word in set(self.mentions) | set(self._mentions_now):
            if word in self._mentions_now:
                mentions[word] = self._mentions_now[word]
                continue
            held = {p for p in self.mentions[word] if p not in self.changed and self.now.get(p, True) is not None}
            mentions[word] = held | {p for p in self.changed if self._holds(p, word)}
        data = {
            "format": FORMAT,
            "root": self.root,
            "taken": started_ns,
            "index": index,
            "mentions": {w: sorted(ps) for w, ps in mentions.items()},
            "results": self.results,
        }
        _write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode())


class ResultCache:
    """The cache one run reads and writes: ``lookup`` before checking, ``store`` and ``save`` after."""

    def __init__(self, explicit_dir: str | None = None, warn=None) -> None:
        self.explicit_dir = explicit_dir
        self.warn = warn
        self.started_ns = time.time_ns()
        self.version = code_version()
        self._buckets: dict[tuple[str, int], _Bucket | None] = {}
        self._of: dict[str, _Bucket] = {}
        self._by_folder: dict[tuple[str, int], _Bucket | None] = {}
        self._refused: set[str] = set()

    def _bucket(self, path: str, settings) -> _Bucket | None:
        from optlint.static.project import project_for

        memo = (os.path.dirname(path), id(settings))
        if memo in self._by_folder:
            return self._by_folder[memo]
        project = project_for(path, settings)
        if project is None:
            return None
        key = (project.root, id(settings))
        if key not in self._buckets:
            folder = cache_folder(project.root, settings, self.explicit_dir)
            bucket = None
            if folder not in self._refused:
                try:
                    versioned = _prepare(folder, self.version)
                    if not os.access(versioned, os.W_OK):
                        raise PermissionError(f"permission denied: {versioned}")
                    name = hashlib.sha256(f"{project.root}\0{fingerprint(settings)}".encode()).hexdigest()[:20]
                    bucket = _Bucket(os.path.join(versioned, name + ".json"), project.root, settings, project)
                except OSError as exc:
                    self._refused.add(folder)
                    if self.warn is not None:
                        self.warn(f"cannot use the cache folder {folder} ({exc.strerror or exc}); checking without a cache")
            self._buckets[key] = bucket
        self._by_folder[memo] = self._buckets[key]
        return self._buckets[key]

    def lookup(self, files: list[str], settings_for) -> tuple[dict[str, FileResult], list[str]]:
        """(results still valid, by path; the files to check)."""
        hits: dict[str, FileResult] = {}
        misses: list[str] = []
        for shown in files:
            settings = settings_for(shown)
            bucket = self._bucket(shown, settings)
            if bucket is None:
                misses.append(shown)
                continue
            path = os.path.abspath(shown)
            self._of[shown] = bucket
            result = bucket.get(path, shown, settings)
            if result is None:
                misses.append(shown)
            else:
                hits[shown] = result
        return hits, misses

    def store(self, results: list[FileResult], settings_for) -> None:
        for result in results:
            bucket = self._of.get(result.path)
            if bucket is not None:
                bucket.put(os.path.abspath(result.path), result, settings_for(result.path))

    def save(self) -> None:
        for bucket in self._buckets.values():
            if bucket is None:
                continue
            try:
                bucket.save(self.started_ns)
            except OSError as exc:
                if self.warn is not None:
                    self.warn(f"cannot write the cache file {bucket.path} ({exc.strerror or exc})")


#: the folder of one optlint version inside a cache folder (``0.1.0-244233aba097``)
_VERSION_FOLDER = re.compile(r"[0-9][0-9A-Za-z.+]*-[0-9a-f]{6,}")


def clean(start: str, explicit_dir: str | None, configured: list[str]) -> list[str]:
    """Remove the cache folders below `start` (and the configured ones); the folders removed."""
    import shutil

    found = [os.path.abspath(f) for f in ([explicit_dir] if explicit_dir else []) + configured]
    for folder, dirs, _ in os.walk(start):
        if CACHE_DIR_NAME in dirs:
            found.append(os.path.abspath(os.path.join(folder, CACHE_DIR_NAME)))
        dirs[:] = [d for d in dirs if d != CACHE_DIR_NAME and d not in (".git", "node_modules")]
    removed = []
    for folder in dict.fromkeys(found):
        # Only what optlint made: a `cache-dir` set to "." or a project folder by mistake
        # must never be deleted (optlint tags every cache folder it creates).
        if not (os.path.isdir(folder) and os.path.isfile(os.path.join(folder, "CACHEDIR.TAG"))):
            continue
        # Remove what optlint wrote there (its tag, .gitignore and one folder per version),
        # then the folder if nothing else is left in it.
        for entry in os.listdir(folder):
            path = os.path.join(folder, entry)
            if entry in ("CACHEDIR.TAG", ".gitignore"):
                os.remove(path)
            elif _VERSION_FOLDER.fullmatch(entry) and os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
        try:
            os.rmdir(folder)
        except OSError:
            pass
        removed.append(folder)
    return removed
