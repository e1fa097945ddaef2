"""flake8 plugin: ``flake8 --select OPT`` reports optlint's static rules.

flake8 runs every installed plugin on every file, so this one does almost nothing on a
file without optimizer text: the same pre-filter as ``optlint check``, before any parse.
Rules that are off by default in optlint are added to flake8's default ignore list, so
they stay off unless selected. flake8 applies its own ``# noqa``.
"""

from __future__ import annotations

from optlint import __version__

_OFF_BY_DEFAULT = ("OPT003", "OPT007")  # kept in sync with the registry by tests/test_integrations.py


class Plugin:
    name = "optlint"
    version = __version__
    _settings = None

    def __init__(self, tree, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, parser) -> None:
        parser.extend_default_ignore(list(_OFF_BY_DEFAULT))

    @classmethod
    def settings(cls):
        if cls._settings is None:
            from optlint.config import FileConfig, resolve_settings

            cls._settings = resolve_settings(FileConfig(), ["ALL"])
        return cls._settings

    def run(self):
        from optlint.checker import check_text

        text = "".join(self.lines)
        result = check_text(self.filename, text, self.settings())
        for finding in result.findings:
            if finding.code == "OPT000":
                continue  # flake8 reports syntax errors itself (E999)
            yield finding.location.row, finding.location.column - 1, f"{finding.code} {finding.message}", type(self)
