"""``[tool.optlint]`` in pyproject.toml: find it, validate it, merge the command line over it.

Every mistake is a ``ConfigError`` that names the file, the key and what is allowed; the
CLI turns it into exit status 2.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from optlint.files import (
    DEFAULT_MAX_FILE_SIZE,
    MAX_FILE_SIZE_LIMIT,
    SMALL_FILE_LIMIT,
    SMALL_FILE_LIMIT_NAME,
    read_regular,
)
from optlint.optimizers import OptimizerSpec, extra_spec
from optlint.settings import Settings, select_codes, unknown_selectors

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d", ".pytype",
    ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "__pycache__", "_build",
    "buck-out", "build", "dist", "node_modules", "site-packages", "venv", "*.egg-info",
)


#: ruff's precedence within one folder (https://docs.astral.sh/ruff/configuration/#config-file-discovery):
#: `.ruff.toml`, then `ruff.toml`, then `pyproject.toml` (only when it has a [tool.ruff] table).
CONFIG_NAMES = (".optlint.toml", "optlint.toml", "pyproject.toml")

#: Where the decay-advice rules are off by default: test code builds optimizers to exercise an
#: API, not to train (pytest's default discovery names, and conftest.py).
DEFAULT_TEST_FILES = ("tests/", "test_*.py", "*_test.py", "conftest.py")
#: The decay-advice rules (OPT001-OPT005); rules that find real bugs (OPT006, OPT008) stay on.
DEFAULT_TEST_FILES_IGNORE = ("OPT001", "OPT002", "OPT003", "OPT004", "OPT005", "OPT010", "OPT011")


class ConfigError(Exception):
    pass


@dataclass
class Selection:
    """One config's (or the command line's) rule selection, applied in order (ruff's layers)."""

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


@dataclass
class FileConfig:
    """What a config file says (with the files it extends), validated but not yet merged with
    the command line. Glob lists hold (pattern, folder) pairs: a pattern is anchored at the
    folder of the file that wrote it."""

    path: Path | None = None
    selections: list[Selection] = field(default_factory=list)
    exclude: list[tuple[str, str]] | None = None
    extend_exclude: list[tuple[str, str]] = field(default_factory=list)
    per_file_ignores: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (pattern, folder, codes)
    extra_optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    fixable: list[str] | None = None
    unfixable: list[str] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    force_exclude: bool = False
    respect_gitignore: bool = True
    test_files: list[tuple[str, str]] | None = None
    extend_test_files: list[tuple[str, str]] = field(default_factory=list)
    test_files_ignore: list[str] | None = None
    cache_dir: str | None = None  # absolute
    #: `project-root`: the folder other modules are resolved from (None: the nearest folder
    #: with pyproject.toml / setup.cfg / setup.py / .git above each file)
    project_root: str | None = None
    #: the keys this file (or one it extends) set: `extend` merges only those
    given: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    # The single-table view older callers (and tests) use.
    @property
    def select(self) -> list[str] | None:
        return self.selections[-1].select if self.selections else None

    @property
    def ignore(self) -> list[str]:
        return [code for s in self.selections for code in s.ignore]

    @property
    def extend_select(self) -> list[str]:
        return [code for s in self.selections for code in s.extend_select]


_CODE_LIST_KEYS = ("select", "ignore", "extend-select", "fixable", "unfixable", "test-files-ignore")
_GLOB_LIST_KEYS = ("exclude", "extend-exclude", "test-files", "extend-test-files")
_ALLOWED = (
    "extend", *_CODE_LIST_KEYS, *_GLOB_LIST_KEYS, "per-file-ignores", "extra-optimizers", "max-file-size",
    "force-exclude", "respect-gitignore", "cache-dir", "project-root",
)

# Bounds on config numbers: anything outside is a typo or an attack, and each costs time or
# memory before a single file is checked (a `position` of 10**8 builds 10**8 argument names).
#: Python functions had at most 255 arguments until 3.7; no real optimizer comes close.
MAX_POSITION = 255
#: Weight decay is a small factor; anything above this is a unit mistake.
MAX_DEFAULT_DECAY = 100.0
MIN_FILE_SIZE = 1024
_QUALNAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _mentions_optlint(path: Path) -> bool:
    try:
        return b"optlint" in read_regular(path, SMALL_FILE_LIMIT, limit_name=SMALL_FILE_LIMIT_NAME)
    except OSError:
        return True


def config_in(folder: Path, warn=None) -> Path | None:
    """The config file of one folder, in ruff's precedence: `.optlint.toml`, `optlint.toml`,
    then a `pyproject.toml` with a [tool.optlint] table.

    A `pyproject.toml` that is no valid TOML and never mentions optlint is skipped with a
    warning (as ruff skips one without [tool.ruff]): it is some other tool's broken file."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if not candidate.is_file():
            continue
        if name != "pyproject.toml":
            return candidate
        try:
            data = _read_toml(candidate)
        except ConfigError as exc:
            if _mentions_optlint(candidate):
                raise
            if warn is not None:
                warn(f"{exc}; skipped (it has no [tool.optlint] table)")
            continue
        if "optlint" in _tool_table(data, candidate):
            return candidate
    return None


def find_config(start: Path, warn=None) -> Path | None:
    """The nearest config file at or above `start` (a folder or a file in it), found by its
    path as written (made absolute, symbolic links not resolved, as ruff does)."""
    start = Path(os.path.abspath(start))
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        found = config_in(folder, warn)
        if found is not None:
            return found
    return None


def _tool_table(data: dict, path: Path) -> dict:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table ([tool.optlint]), got {type(tool).__name__}")
    return tool


def _read_toml(path: Path) -> dict:
    try:
        text = read_regular(path, SMALL_FILE_LIMIT, limit_name=SMALL_FILE_LIMIT_NAME).decode("utf-8")
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 (byte {exc.start + 1})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits (int's string-conversion limit)
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


#: `extend` chains longer than this are a loop or a mistake
MAX_EXTEND_DEPTH = 32


def load_config(path: Path, _seen: tuple = ()) -> FileConfig:
    """A config file's settings, with those of the files it `extend`s under them.

    In a pyproject.toml the keys live in [tool.optlint]; in `optlint.toml` / `.optlint.toml`
    (or a file named by --config) at the top level, or in a [tool.optlint] table there."""
    path = Path(os.path.abspath(path))
    if path in _seen or len(_seen) > MAX_EXTEND_DEPTH:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ConfigError(f"{path}: `extend` forms a loop or a chain too long: {chain}")
    data = _read_toml(path)
    tool = _tool_table(data, path) if path.name == "pyproject.toml" else data.get("tool")
    if isinstance(tool, dict) and "optlint" in tool:
        table = tool["optlint"]
    else:
        table = {} if path.name == "pyproject.toml" else data
    config = parse_table(table, path)
    base_name = table.get("extend") if isinstance(table, dict) else None
    if base_name is None:
        return config
    base_path = Path(os.path.expanduser(base_name))
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise ConfigError(f"{path} [tool.optlint]: `extend` names {base_name!r}, which is no file ({base_path})")
    return merge(load_config(base_path, (*_seen, path)), config)


def merge(base: FileConfig, child: FileConfig) -> FileConfig:
    """`child` over `base`, as ruff combines an `extend`ed file: a key the child sets replaces
    the base's, `extend-*` lists add up, rule selections apply base first."""
    out = FileConfig(path=child.path, given=base.given | child.given)
    for name in (
        "exclude", "extra_optimizers", "fixable", "max_file_size", "force_exclude", "respect_gitignore",
        "test_files", "test_files_ignore", "per_file_ignores", "cache_dir", "project_root",
    ):
        source = child if name.replace("_", "-") in child.given else base
        setattr(out, name, getattr(source, name))
    out.extra_optimizers = {**base.extra_optimizers, **child.extra_optimizers}
    out.selections = base.selections + child.selections
    out.extend_exclude = base.extend_exclude + child.extend_exclude
    out.extend_test_files = base.extend_test_files + child.extend_test_files
    out.unfixable = base.unfixable + child.unfixable
    return out


def _string_list(value, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return value


def _check_selectors(selectors: list[str], key: str, where: str) -> None:
    bad = unknown_selectors(selectors)
    if bad:
        from optlint.registry import all_rules

        raise ConfigError(
            f"{where}: `{key}` has unknown rule code(s) {', '.join(bad)}; "
            f"known: ALL, {', '.join(all_rules())} (or a prefix such as OPT0)"
        )
    if key in ("ignore", "extend-ignore") or key.startswith("per-file-ignores"):
        # ruff refuses to ignore syntax errors the same way: a file optlint cannot read hides
        # every finding in it, so OPT000 is always reported (exit status 2).
        named = [s for s in selectors if s == "OPT000"]
        if named:
            raise ConfigError(
                f"{where}: `{key}` cannot ignore OPT000 (syntax-error): a file that cannot be read or "
                "parsed is always reported, since nothing in it was checked; exclude the file instead "
                "(`extend-exclude`)"
            )


def _globs(value, key: str, where: str, folder: str) -> list[tuple[str, str]]:
    from optlint.globs import check_invalid

    patterns = _string_list(value, key, where)
    for pattern in patterns:
        problem = check_invalid(pattern.lstrip("!")) if pattern.lstrip("!").strip() else "an empty pattern"
        if problem:
            raise ConfigError(f"{where}: `{key}` has an invalid glob {pattern!r}: {problem}")
    return [(pattern, folder) for pattern in patterns]


def parse_table(table: dict, path: Path | None) -> FileConfig:
    where = f"{path} [tool.optlint]" if path else "[tool.optlint]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    config = FileConfig(path=path)
    folder = str(config.root)
    selection = Selection()
    for key, value in table.items():
        if key not in _ALLOWED:
            raise ConfigError(f"{where}: unknown key `{key}`; allowed keys: {', '.join(_ALLOWED)}")
        config.given.add(key)
        if key == "extend":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: `extend` must be the path of another config file, got {value!r}")
        elif key in _CODE_LIST_KEYS:
            values = _string_list(value, key, where)
            _check_selectors(values, key, where)
            if key in ("select", "ignore", "extend-select"):
                setattr(selection, key.replace("-", "_"), values)
            else:
                setattr(config, key.replace("-", "_"), values)
        elif key in _GLOB_LIST_KEYS:
            setattr(config, key.replace("-", "_"), _globs(value, key, where, folder))
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
            for pattern, codes in value.items():
                codes = _string_list(codes, f"per-file-ignores.{pattern}", where)
                _check_selectors(codes, f"per-file-ignores.{pattern}", where)
                _globs([pattern.lstrip("!") or pattern], f"per-file-ignores.{pattern}", where, folder)
                config.per_file_ignores.append((pattern, folder, codes))
        elif key == "extra-optimizers":
            config.extra_optimizers = _parse_extra_optimizers(value, where)
        elif key in ("force-exclude", "respect-gitignore"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false, got {_shown(value)}")
            setattr(config, key.replace("-", "_"), value)
        elif key == "cache-dir":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: `cache-dir` must be the path of a folder, got {_shown(value)}")
            config.cache_dir = os.path.join(folder, os.path.expanduser(value))  # relative to the config's folder
        elif key == "project-root":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: `project-root` must be a folder (a string), got {_shown(value)}")
            root = os.path.normpath(os.path.join(folder, os.path.expanduser(value)))
            if not os.path.isdir(root):
                raise ConfigError(f"{where}: `project-root` names {value!r}, which is no folder ({root})")
            config.project_root = root
        elif key == "max-file-size":
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_FILE_SIZE <= value <= MAX_FILE_SIZE_LIMIT:
                raise ConfigError(
                    f"{where}: `max-file-size` must be a number of bytes from {MIN_FILE_SIZE} "
                    f"to {MAX_FILE_SIZE_LIMIT}, got {_shown(value)}"
                )
            config.max_file_size = value
    if selection.select is not None or selection.extend_select or selection.ignore:
        config.selections.append(selection)
    return config


def _shown(value) -> str:
    """A config value for a message: a huge integer is named by its size, never printed whole
    (and never converted: int-to-text refuses more than 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _parse_extra_optimizers(value, where: str) -> dict[str, OptimizerSpec]:
    if not isinstance(value, dict):
        raise ConfigError(
            f'{where}: `extra-optimizers` must be a table such as {{"pkg.mod.MyOpt" = {{default = 0.01, position = 4}}}}'
        )
    specs = {}
    for qualname, options in value.items():
        if len(qualname) > 200 or not _QUALNAME.fullmatch(qualname):
            raise ConfigError(f"{where}: `extra-optimizers` key {qualname[:80]!r} must be a dotted name such as \"pkg.mod.MyOpt\"")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}: `extra-optimizers.\"{qualname}\"` must be a table with `default` and optional `position`")
        unknown = set(options) - {"default", "position"}
        if unknown:
            raise ConfigError(
                f"{where}: `extra-optimizers.\"{qualname}\"` has unknown key(s) {', '.join(sorted(unknown))}; allowed: default, position"
            )
        default = options.get("default", 0.0)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise ConfigError(f"{where}: `extra-optimizers.\"{qualname}\".default` must be a number, got {_shown(default)}")
        if not (0 <= default <= MAX_DEFAULT_DECAY and math.isfinite(default)):
            raise ConfigError(
                f"{where}: `extra-optimizers.\"{qualname}\".default` must be from 0 to {MAX_DEFAULT_DECAY:g}, got {_shown(default)}"
            )
        position = options.get("position")
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= MAX_POSITION
        ):
            raise ConfigError(
                f"{where}: `extra-optimizers.\"{qualname}\".position` must be an integer from 1 to {MAX_POSITION} "
                f"(the index of weight_decay in a positional call, counting params as 0), got {_shown(position)}"
            )
        specs[qualname] = extra_spec(qualname, default, position)
    return specs


def resolve_settings(
    config: FileConfig,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    extend_select: list[str] | None = None,
) -> Settings:
    """The command line over the file, as ruff layers them: each config of an `extend` chain,
    then the command line; a layer's `select` replaces, `extend-select` adds, `ignore` removes."""
    for key, values in (("--select", select), ("--ignore", ignore), ("--extend-select", extend_select)):
        if values:
            bad = unknown_selectors(values)
            if bad:
                raise UsageError(f"{key}: unknown rule code(s) {', '.join(bad)}")
    if ignore and "OPT000" in ignore:
        raise UsageError("--ignore: OPT000 (syntax-error) cannot be ignored: a file that cannot be read or parsed is always reported")
    enabled: frozenset[str] | None = None
    for layer in [*config.selections, Selection(select or None, list(extend_select or []), list(ignore or []))]:
        chosen = layer.select if layer.select is not None else (sorted(enabled) if enabled is not None else None)
        enabled = select_codes(chosen, layer.extend_select, layer.ignore)
    from optlint.settings import expand_selector_list

    fixable = frozenset(expand_selector_list(config.fixable if config.fixable is not None else ["ALL"]))
    fixable -= frozenset(expand_selector_list(config.unfixable))
    root = str(config.root)
    exclude = [(p, root) for p in DEFAULT_EXCLUDE] if config.exclude is None else list(config.exclude)
    test_files = [(p, root) for p in DEFAULT_TEST_FILES] if config.test_files is None else list(config.test_files)
    test_ignore = DEFAULT_TEST_FILES_IGNORE if config.test_files_ignore is None else config.test_files_ignore
    return Settings(
        enabled,
        [(p, folder, frozenset(expand_selector_list(c))) for p, folder, c in config.per_file_ignores],
        dict(config.extra_optimizers),
        root,
        fixable=fixable,
        max_file_size=config.max_file_size,
        exclude=exclude + list(config.extend_exclude),
        test_files=test_files + list(config.extend_test_files),
        test_files_ignore=frozenset(expand_selector_list(list(test_ignore))),
        respect_gitignore=config.respect_gitignore,
        force_exclude=config.force_exclude,
        config_path=str(config.path) if config.path is not None else None,
        cache_dir=config.cache_dir,
        project_root=config.project_root,
    )


class UsageError(ConfigError):
    """A bad command-line value (also exit 2, but never overridden by --exit-zero)."""


def split_codes(values: tuple[str, ...], option: str = "--select") -> list[str]:
    """``--select OPT001,OPT003 --select OPT006`` -> a flat list (an empty value is an error)."""
    if any(not value.strip(" ,") for value in values):
        raise UsageError(f"{option}: empty rule selector; give codes such as OPT001, a prefix such as OPT0, or ALL")
    return [part.strip().upper() for value in values for part in value.split(",") if part.strip()]


class ConfigResolver:
    """The settings of each file, found as ruff finds them
    (https://docs.astral.sh/ruff/configuration/#config-file-discovery):

    - the nearest config file at or above the file's folder (`.optlint.toml`, `optlint.toml`,
      or a pyproject.toml with [tool.optlint]); a file with none above it uses the one found
      from the working folder, or the defaults;
    - `explicit` (--config) is used for every file, its globs anchored at the working folder
      (ruff: "relative paths ... are resolved relative to the current working directory");
    - `isolated` (--isolated): no config file at all.

    The command line's selection (`cli`) goes over every config; `configure` is called once on
    each Settings built (the run's flags: fix, diff, ...). The CLI, the flake8 plugin and the
    pre-commit hook all ask this class, so they agree file by file."""

    def __init__(self, explicit: str | None = None, isolated: bool = False, cli: Selection | None = None, configure=None, warn=None) -> None:
        self.cli = cli or Selection()
        self.configure = configure
        self.warn = warn
        self._by_folder: dict[str, Path | None] = {}
        self._settings: dict[Path | None, Settings] = {}
        self._of_path: dict[str, Settings] = {}
        self.fixed: FileConfig | None = None
        if explicit:
            path = Path(explicit)
            if not path.is_file():
                raise UsageError(f"--config: no such file: {explicit}")
            config = load_config(path)
            _reanchor(config, os.getcwd())
            config.path = None  # globs and messages relative to the working folder
            self.fixed = config
        elif isolated:
            self.fixed = FileConfig()
        self._fallback_path: Path | None = None
        if self.fixed is None:
            self._fallback_path = find_config(Path.cwd(), warn)

    def config_path(self, path: str) -> Path | None:
        """The config file that governs `path` (None: the defaults)."""
        if self.fixed is not None:
            return None
        absolute = os.path.abspath(path)
        folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        chain = []
        found: Path | None = None
        current = folder
        while True:
            if current in self._by_folder:
                found = self._by_folder[current]
                break
            chain.append(current)
            candidate = config_in(Path(current), self.warn)
            if candidate is not None:
                found = candidate
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = self._fallback_path
                break
            current = parent
        for seen in chain:
            self._by_folder[seen] = found
        return found

    def settings_for(self, path: str) -> Settings:
        known = self._of_path.get(path)
        if known is not None:
            return known  # asked for every file several times in a run
        settings = self._of_path[path] = self._settings_for(path)
        return settings

    def _settings_for(self, path: str) -> Settings:
        key = self.config_path(path)
        if key not in self._settings:
            if self.fixed is not None:
                config = self.fixed
            else:
                config = load_config(key) if key is not None else FileConfig()
            settings = resolve_settings(config, self.cli.select, self.cli.ignore, self.cli.extend_select)
            if self.configure is not None:
                self.configure(settings)
            self._settings[key] = settings
        return self._settings[key]


def _reanchor(config: FileConfig, folder: str) -> None:
    """Globs of a --config file relative to `folder` (ruff's rule for --config)."""
    config.exclude = None if config.exclude is None else [(p, folder) for p, _ in config.exclude]
    config.extend_exclude = [(p, folder) for p, _ in config.extend_exclude]
    config.test_files = None if config.test_files is None else [(p, folder) for p, _ in config.test_files]
    config.extend_test_files = [(p, folder) for p, _ in config.extend_test_files]
    config.per_file_ignores = [(p, folder, c) for p, _, c in config.per_file_ignores]
