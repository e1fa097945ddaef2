"""optlint's fixes as a LibCST codemod, for LibCST's own runner::

    python -m libcst.tool codemod -x optlint.codemod.FixOptimizers --no-format src/

Each file gets what ``optlint check --fix`` would write: the settings ``check`` uses for its
path (nearest ``[tool.optlint]``: selection, per-file ignores, ``fixable``; a file its
exclusions leave out is left alone), the fixes of the findings ``check`` reports, through the
same fix loop (a fix this Python cannot compile is dropped). Safe fixes only, unless
``--unsafe-fixes``; display-only fixes never. Findings that remain are reported as warnings.
LibCST's runner brings the rest: ``-j`` (parallel), ``--no-format``, ``--include-generated``,
``--show-successes``. See https://libcst.readthedocs.io/en/latest/codemods_tutorial.html.
"""

from __future__ import annotations

import argparse

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext

from optlint.document import SettingsError, fix_document, settings_for


class FixOptimizers(CodemodCommand):
    DESCRIPTION: str = "Apply optlint's fixes (weight decay of biases, norms and other vectors), as `optlint check --fix` does."

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            dest="unsafe_fixes",
            action="store_true",
            help="Also apply unsafe fixes (they change training on purpose: review the diff).",
        )

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        path = self.context.filename or "-"
        try:
            settings, excluded = settings_for(path)
        except SettingsError as exc:
            self.warn(f"not fixed: {exc}")
            return tree
        if excluded:
            return tree
        text = tree.code
        fixed_text, after, fixed = fix_document(path, text, settings, unsafe=self.unsafe_fixes)
        for finding in after.findings:
            self.warn(f"{finding.location.row}:{finding.location.column}: {finding.code} {finding.message}")
        if not fixed or fixed_text == text:
            return tree
        return cst.parse_module(fixed_text, config=tree.config_for_parsing)
