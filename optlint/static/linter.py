"""Check one file on disk: read it, check it as Python or as a notebook, fix it when asked.

The top of the per-file pipeline, above the text checker (optlint.static.checker), notebooks
(optlint.static.notebook) and the fix loop (optlint.static.apply_fixes), none of which imports this module.
"""

from __future__ import annotations

import hashlib
import os

from optlint.static.checker import check_text
from optlint.findings import FileResult
from optlint.settings import Settings
from optlint.static.source import SourceError, decode, error_finding


def check_source(path: str, data: bytes, settings: Settings, file: str | None = None) -> FileResult:
    """Every finding for one file's bytes (the file itself is never imported or run);
    `file`: where it is on disk when `path` is only the name it is shown by."""
    if path.endswith(".ipynb"):
        return check_notebook(path, data, settings)
    config = path.endswith((".yaml", ".yml", ".json"))
    if config:
        from optlint.static.configs.check import MAX_CONFIG_BYTES

        if len(data) > MAX_CONFIG_BYTES:  # a data file, not a config (a folder walk skips it too)
            result = FileResult(path)
            result.skipped = True
            return result
    try:
        source = decode(data) if not config else _decode_config(data)
    except SourceError as exc:
        return error_finding(FileResult(path), exc)
    if config:
        from optlint.static.configs.check import check_config  # YAML/JSON configs: OPT010

        return check_config(path, source.text, settings, file=file)
    return check_text(path, source.text, settings, file=file)


def _decode_config(data: bytes):
    """A YAML/JSON file's text: UTF-8 (a BOM allowed), or UTF-16/32 as both formats allow
    (detected as ``json.loads`` detects it)."""
    import json

    from optlint.static.source import Source

    encoding = json.detect_encoding(data)
    try:
        text = data.decode(encoding if encoding != "utf-8" else "utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(f"not valid {encoding} text: byte {data[exc.start]:#04x} cannot be decoded", row, column) from None
    return Source(text, encoding, data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")))


def check_notebook(path: str, data: bytes, settings: Settings) -> FileResult:
    from optlint.static import notebook  # JSON handling: only for notebooks

    return notebook.check(path, data, settings)  # cells, magics and broken cells are its job


def check_path(path: str, settings: Settings, display: str | None = None) -> FileResult:
    """Read and check one file; a file that cannot be read becomes an OPT000 finding.

    With ``settings.fix`` (or ``settings.diff``) fixable findings are applied, the result is
    re-checked, and the file is written atomically (or the diff returned) when it changed.
    """
    from optlint.files import read_source  # regular files only, at most max-file-size bytes

    shown = display or path
    try:
        info = os.stat(path)  # before the read: a write after it changes what the cache sees
        data = read_source(path, settings.max_file_size)
    except OSError as exc:
        return error_finding(FileResult(shown), SourceError(f"cannot read file: {exc.strerror or exc}"))
    # the other modules are found from where the file is, not from the name it is shown by
    result = check_source(shown, data, settings, file=path if shown != path else None)
    result.source_key = (info.st_mtime_ns, info.st_size, hashlib.sha256(data).hexdigest())
    if not (settings.fix or settings.diff) or result.error:
        return result
    from optlint.static.apply_fixes import fix_file

    return fix_file(path, shown, data, result, settings)
