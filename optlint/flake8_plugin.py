"""flake8 plugin: ``flake8 --select OPT`` reports what ``optlint check`` reports.

Parity with the command line: the plugin reads the same ``[tool.optlint]`` (the nearest
pyproject.toml above each file: rules, ``extra-optimizers``, ``per-file-ignores``), and a
rule that is off by default stays off under a prefix such as ``--select OPT``; it runs only
when named exactly (``--select OPT003`` / ``--extend-select OPT003``) or enabled in the config.
The plugin decides what it reports from optlint's selection (no flake8 default-ignore list to
keep in sync); flake8 then applies its own selection and ``# noqa`` on top.

Cost: flake8 runs every installed plugin on every file. The text pre-filter runs first, on
the lines flake8 already read; a file with no optimizer text is never parsed by optlint, and
one that is reuses the ``ast`` tree flake8 built.
"""

from __future__ import annotations


from optlint import __version__


class Plugin:
    name = "optlint"
    version = __version__
    #: codes named exactly in flake8's --select / --extend-select (set by parse_options)
    _named: frozenset[str] = frozenset()
    #: one resolver per flake8 run (set by parse_options): each file's settings come from
    #: its nearest config, exactly as `optlint check` finds them
    _resolver = None

    def __init__(self, tree, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    #: False when flake8's --select leaves out every OPT code: flake8 would drop our findings
    _active: bool = True

    @classmethod
    def parse_options(cls, options) -> None:
        select = getattr(options, "select", None)
        named = [*(select or ()), *(getattr(options, "extend_select", None) or ())]
        cls._named = frozenset(code.strip().upper() for code in named if code)
        cls._active = select is None or any("OPT".startswith(code) or code.startswith("OPT") for code in cls._named)
        cls._resolver = None

    @classmethod
    def settings_for(cls, filename: str):
        """The settings `optlint check` would use for this file (config found from its folder)."""
        from optlint.config import ConfigError, ConfigResolver, FileConfig, Selection, resolve_settings
        from optlint.registry import all_rules

        if cls._resolver is None:
            # A code named exactly is enabled even when it is off by default; a prefix
            # (`--select OPT`) only lets flake8 show what optlint's own selection enables.
            exact = sorted(code for code in cls._named if code in all_rules() and code != "OPT000")

            def configure(settings) -> None:
                settings.fix_edits = False  # flake8 shows no fixes: never render them (no LibCST)

            cls._resolver = ConfigResolver(cli=Selection(extend_select=exact), configure=configure)
        try:
            return cls._resolver.settings_for(filename)
        except ConfigError:
            # `optlint check` reports config errors; flake8 has no channel for them
            settings = resolve_settings(FileConfig())
            settings.fix_edits = False
            return settings

    def run(self):
        if not self._active:
            return  # `flake8 --select E9`: nothing optlint reports would be shown
        from optlint.static.checker import check_text

        settings = self.settings_for(self.filename)
        text = "".join(self.lines)
        # The pre-filter before anything else: on most files this is the whole cost.
        if not settings.firing([rule for rule in settings.static_rules if rule.code in settings.enabled], text):
            return
        result = check_text(self.filename, text, settings, tree=self.tree)
        for finding in result.findings:
            if finding.code == "OPT000":
                continue  # flake8 reports syntax errors itself (E999)
            yield finding.location.row, finding.location.column - 1, f"{finding.code} {finding.message}", type(self)
