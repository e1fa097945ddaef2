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


class ConfigError(Exception):
    pass


@dataclass
class FileConfig:
    """What a ``[tool.optlint]`` table says, validated but not yet merged with the CLI."""

    path: Path | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    extra_optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    fixable: list[str] | None = None
    unfixable: list[str] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    force_exclude: bool = False

    @property
    def root(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()


_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude", "fixable", "unfixable")
_CODE_LIST_KEYS = ("select", "ignore", "extend-select", "fixable", "unfixable")
_ALLOWED = (*_LIST_KEYS, "per-file-ignores", "extra-optimizers", "max-file-size", "force-exclude")

# Bounds on config numbers: anything outside is a typo or an attack, and each costs time or
# memory before a single file is checked (a `position` of 10**8 builds 10**8 argument names).
#: Python functions had at most 255 arguments until 3.7; no real optimizer comes close.
MAX_POSITION = 255
#: Weight decay is a small factor; anything above this is a unit mistake.
MAX_DEFAULT_DECAY = 100.0
MIN_FILE_SIZE = 1024
_QUALNAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml, at or above `start`, that has a [tool.optlint] table."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "optlint" in _tool_table(_read_toml(candidate), candidate):
            return candidate
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
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def load_config(path: Path) -> FileConfig:
    """A pyproject.toml's [tool.optlint]; any other TOML file may also hold the keys at top level."""
    data = _read_toml(path)
    tool = _tool_table(data, path) if path.name == "pyproject.toml" else data.get("tool")
    if isinstance(tool, dict) and "optlint" in tool:
        table = tool["optlint"]
    else:
        table = {} if path.name == "pyproject.toml" else data
    return parse_table(table, path)


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


def parse_table(table: dict, path: Path | None) -> FileConfig:
    where = f"{path} [tool.optlint]" if path else "[tool.optlint]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    config = FileConfig(path=path)
    for key, value in table.items():
        if key not in _ALLOWED:
            raise ConfigError(f"{where}: unknown key `{key}`; allowed keys: {', '.join(_ALLOWED)}")
        if key in _LIST_KEYS:
            values = _string_list(value, key, where)
            if key in _CODE_LIST_KEYS:
                _check_selectors(values, key, where)
            setattr(config, key.replace("-", "_"), values)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
            for pattern, codes in value.items():
                codes = _string_list(codes, f"per-file-ignores.{pattern}", where)
                _check_selectors(codes, f"per-file-ignores.{pattern}", where)
                config.per_file_ignores[pattern] = codes
        elif key == "extra-optimizers":
            config.extra_optimizers = _parse_extra_optimizers(value, where)
        elif key == "force-exclude":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `force-exclude` must be true or false, got {value!r}")
            config.force_exclude = value
        elif key == "max-file-size":
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_FILE_SIZE <= value <= MAX_FILE_SIZE_LIMIT:
                raise ConfigError(
                    f"{where}: `max-file-size` must be a number of bytes from {MIN_FILE_SIZE} "
                    f"to {MAX_FILE_SIZE_LIMIT}, got {value!r}"
                )
            config.max_file_size = value
    return config


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
            raise ConfigError(f"{where}: `extra-optimizers.\"{qualname}\".default` must be a number, got {default!r}")
        if not (math.isfinite(default) and 0 <= default <= MAX_DEFAULT_DECAY):
            raise ConfigError(
                f"{where}: `extra-optimizers.\"{qualname}\".default` must be from 0 to {MAX_DEFAULT_DECAY:g}, got {default!r}"
            )
        position = options.get("position")
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= MAX_POSITION
        ):
            raise ConfigError(
                f"{where}: `extra-optimizers.\"{qualname}\".position` must be an integer from 1 to {MAX_POSITION} "
                f"(the index of weight_decay in a positional call, counting params as 0), got {position!r}"
            )
        specs[qualname] = extra_spec(qualname, default, position)
    return specs


def resolve_settings(
    config: FileConfig,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    extend_select: list[str] | None = None,
) -> Settings:
    """Merge the command line over the file: --select replaces, --ignore/--extend-select add."""
    for key, values in (("--select", select), ("--ignore", ignore), ("--extend-select", extend_select)):
        if values:
            bad = unknown_selectors(values)
            if bad:
                raise UsageError(f"{key}: unknown rule code(s) {', '.join(bad)}")
    enabled = select_codes(
        select if select else config.select,
        config.extend_select + (extend_select or []),
        config.ignore + (ignore or []),
    )
    from optlint.settings import expand_selector_list

    per_file = [(p, frozenset(expand_selector_list(c))) for p, c in config.per_file_ignores.items()]
    fixable = frozenset(expand_selector_list(config.fixable if config.fixable is not None else ["ALL"]))
    fixable -= frozenset(expand_selector_list(config.unfixable))
    return Settings(
        enabled, per_file, dict(config.extra_optimizers), str(config.root), fixable=fixable,
        max_file_size=config.max_file_size,
    )


class UsageError(ConfigError):
    """A bad command-line value (also exit 2, but never overridden by --exit-zero)."""


def split_codes(values: tuple[str, ...], option: str = "--select") -> list[str]:
    """``--select OPT001,OPT003 --select OPT006`` -> a flat list (an empty value is an error)."""
    if any(not value.strip(" ,") for value in values):
        raise UsageError(f"{option}: empty rule selector; give codes such as OPT001, a prefix such as OPT0, or ALL")
    return [part.strip().upper() for value in values for part in value.split(",") if part.strip()]


def exclusions(config: FileConfig) -> list[str]:
    base = list(DEFAULT_EXCLUDE) if config.exclude is None else list(config.exclude)
    return base + list(config.extend_exclude)


def config_for(paths: list[str], explicit: str | None) -> FileConfig:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--config: no such file: {explicit}")
        return load_config(path)
    start = Path(paths[0]) if paths and paths[0] != "-" else Path(os.getcwd())
    found = find_config(start if start.exists() else Path.cwd())
    return load_config(found) if found else FileConfig()
