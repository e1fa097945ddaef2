"""What rules see of one file: the flow model built once, and analyses computed on first use.

Every static rule reads the same objects: the scopes and sites of one walk
(``model``), name and value resolution (``resolver``), parameter sets (``params``),
optimizer constructions (``optimizer_calls``), penalties and name splits. Nothing is
computed before a rule asks for it, and nothing is computed twice.
"""

from __future__ import annotations

import ast
from functools import cached_property

from optlint.static.locate import SourceText
from optlint.static.model.scopes import FileModel
from optlint.static.model.values import Resolver


class FileContext:
    def __init__(self, tree: ast.Module, text: str, settings, project=None, path: str | None = None) -> None:
        self.tree = tree
        self.text = text
        self.settings = settings
        #: the file's path (None for text that is no file) and its repository: other modules,
        #: read on demand (optlint.static.project)
        self.path = path
        self.project = project
        self.source = SourceText(text)
        self.model = FileModel(tree)
        self.model.context = self
        self.resolver = Resolver(self.model, self.source)
        self.resolver.context = self

    def passed_value(self, name, binding, where):
        """What the project's calls pass a parameter that no call binds where it is read."""
        from optlint.static.model.callers import passed_value

        return passed_value(self, name, binding, where)

    @cached_property
    def params(self):
        from optlint.static.model.params import ParamSets

        return ParamSets(self.model, self.resolver)

    @cached_property
    def _calls(self):
        from optlint.static.model.optimizers import OptimizerCalls

        return OptimizerCalls(self.model, self.resolver, self.params, self.settings.extra_optimizers)

    @cached_property
    def optimizer_calls(self):
        return self._calls.all()

    def optimizer_calls_at(self, site):
        return self._calls.at(site)

    @cached_property
    def penalties(self):
        """Hand-written L1/L2 penalties that reach a loss (OPT004 and OPT005)."""
        from optlint.static.model.penalties import Penalties

        return Penalties(self.model, self.resolver, self.params).find()

    @cached_property
    def splits(self):
        """Decay splits decided by parameter-name tests (OPT002)."""
        from optlint.static.model.splits import Splits

        found = Splits(self.model, self.resolver)
        splits = (found.of(call, self._calls.alternative_groups(call)) for call in self.optimizer_calls)
        # and those of the param groups a function returns (to callers in any module)
        return [split for split in splits if split is not None] + found.returned(self._calls)

    @cached_property
    def view(self):
        """LibCST trees of the statements fixes rewrite (imports LibCST on first use)."""
        from optlint.static.fix.edits import CstView

        return CstView(self.source, self.model)
