"""Check and fix one document held in memory, with the settings ``optlint check`` uses for its path.

The thin API the language server (``optlint server``) and the LibCST codemod
(``optlint.codemod``) call: the same config lookup, the same per-file selection and the same
linter as the command line, so an editor or a codemod run reports what ``check`` reports.
Nothing here imports torch or the code it reads.
"""

from __future__ import annotations

import copy
import dataclasses
import os

from optlint.findings import FileResult, Finding
from optlint.settings import Settings

#: ruff's fix safety levels, weakest guarantee last.
SAFE, UNSAFE, DISPLAY_ONLY = "safe", "unsafe", "display-only"


def fix_applicability(fix: dict | None) -> str | None:
    """The safety level of a fix ("safe" when the fix does not say, as in ruff), None without one."""
    if fix is None:
        return None
    return fix.get("applicability") or SAFE


def applies(finding: Finding, unsafe: bool = False) -> bool:
    """Whether a fix of this finding may be applied: safe ones always, unsafe ones when asked,
    display-only ones never."""
    level = fix_applicability(finding.fix)
    return level == SAFE or (unsafe and level == UNSAFE)


class SettingsError(Exception):
    """The configuration that applies to a document is invalid (the message names it)."""


def settings_for(path: str) -> tuple[Settings, bool]:
    """(settings, excluded) for a file at `path`: the config ``optlint check path`` reads, and
    whether its exclusions (``exclude``/``extend-exclude``, as ``--force-exclude`` applies
    them) leave the file out."""
    from optlint.config import ConfigError, ConfigResolver
    from optlint.discovery import force_excluded

    # A buffer not saved yet: its folder decides (the config lookup starts from what exists).
    anchor = path if os.path.exists(path) else (os.path.dirname(path) or ".")
    try:
        # A new resolver each time: a config saved while the editor is open counts at once.
        resolver = ConfigResolver()
        settings = copy.copy(resolver.settings_for(anchor))
        excluded = force_excluded(path, resolver)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    settings.fix_edits = True
    return settings, excluded


def check_document(path: str, text: str, settings: Settings) -> FileResult:
    """Every finding for `text` as if it were the file `path` (a notebook: its JSON)."""
    from optlint.static.linter import check_source

    return check_source(path, text.encode("utf-8"), settings)


def fix_document(path: str, text: str, settings: Settings, unsafe: bool = False, codes=None) -> tuple[str, FileResult, int]:
    """(fixed text, findings after, fixes applied) for a Python document: the fixes of the
    findings `check` reports whose safety level applies (and, given `codes`, whose code is in
    it), through the same fix loop as ``--fix`` (which keeps only fixes this Python compiles)."""
    from optlint.static.apply_fixes import fix_text

    settings = copy.copy(settings)
    settings.unsafe_fixes = unsafe  # for a fix loop that reads the level itself (`--unsafe-fixes`)
    result = check_document(path, text, settings)
    if result.error:
        return text, result, 0
    allowed = [f if applies(f, unsafe) and (codes is None or f.code in codes) else dataclasses.replace(f, fix=None) for f in result.findings]
    return fix_text(path, text, dataclasses.replace(result, findings=allowed), settings)
