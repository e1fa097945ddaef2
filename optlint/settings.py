"""The resolved settings one run checks with: enabled rules, per-file ignores, extra optimizers.

Built once in the parent (``optlint.config``) and sent to each worker once; every
per-file question (which codes apply here, can a rule fire on this text) is cheap.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import cached_property

from optlint.files import DEFAULT_MAX_FILE_SIZE
from optlint.optimizers import KNOWN_LAST_NAMES, OptimizerSpec
from optlint.rules.base import Rule, all_rules


def select_codes(
    select: list[str] | None,
    extend_select: list[str],
    ignore: list[str],
) -> frozenset[str]:
    """ruff's selection: (select, or the default rules) + extend-select - ignore."""
    rules = all_rules()
    if select is None:
        enabled = {code for code, rule in rules.items() if rule.default_enabled}
    else:
        enabled = set(expand_selector_list(select))
    enabled |= set(expand_selector_list(extend_select))
    enabled -= set(expand_selector_list(ignore))
    return frozenset(enabled)


#: ``ALL``, the linter prefix ``OPT`` (what flake8's ``--select OPT`` names), or a longer prefix.
#: ``""`` or ``O`` would be a prefix of every code too, but they are typos, not selections.
_SELECTOR = re.compile(r"OPT[0-9]{0,3}")


def expand_selector(selector: str) -> list[str]:
    """``ALL``, a full code, or a code prefix (``OPT0``) -> the codes it names."""
    codes = list(all_rules())
    if selector == "ALL":
        return codes
    if not _SELECTOR.fullmatch(selector):
        return []
    return [code for code in codes if code.startswith(selector)]


def expand_selector_list(selectors: list[str]) -> list[str]:
    out: list[str] = []
    for selector in selectors:
        out.extend(expand_selector(selector))
    return out


def unknown_selectors(selectors: list[str]) -> list[str]:
    """The selectors that name no rule, shown as written (an empty one as "")."""
    return [s if s else '""' for s in selectors if not expand_selector(s)]


def _substring_test(word: str):
    return lambda text: word in text


@dataclass
class Settings:
    enabled: frozenset[str]
    per_file_ignores: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    extra_optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    root: str = "."  # per-file-ignores patterns are relative to this folder (the config's)
    prefilter: bool = True  # skip files whose text no enabled rule can fire on
    fixable: frozenset[str] = frozenset()  # codes whose fixes --fix/--diff apply
    fix: bool = False  # apply fixes and write files
    diff: bool = False  # compute fixes and return a diff; write nothing
    stdout_fix: bool = False  # return the fixed bytes instead of writing (standard input)
    fix_edits: bool = True  # render fix edits (LibCST) for findings; the plain text report needs none
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # larger files are OPT000 "too large", never read

    @cached_property
    def static_rules(self) -> list[Rule]:
        return [rule for rule in (cls() for cls in all_rules().values()) if rule.is_static]

    @cached_property
    def candidate_names(self) -> frozenset[str]:
        extra = {q.rsplit(".", 1)[-1] for q in self.extra_optimizers}
        return KNOWN_LAST_NAMES | extra | {"add_param_group"}

    @cached_property
    def _requirements(self) -> dict[str, list]:
        """Per rule, the tests its REQUIRES patterns become: a plain word is a substring test."""
        extra_names = sorted({q.rsplit(".", 1)[-1] for q in self.extra_optimizers})
        extra = "|".join(re.escape(w) for w in extra_names)
        compiled: dict[str, object] = {}
        out = {}
        for rule in self.static_rules:
            tests = []
            for pattern in rule.REQUIRES:
                # A user-declared optimizer's name can stand wherever a known one's can.
                if extra and "weight_decay" in pattern:
                    pattern = f"{pattern}|\\b(?:{extra})\\b"
                if pattern not in compiled:
                    if re.escape(pattern) == pattern:
                        compiled[pattern] = _substring_test(pattern)
                    else:
                        compiled[pattern] = re.compile(pattern).search
                tests.append(compiled[pattern])
            out[rule.code] = tests
        return out

    def may_fire(self, rule: Rule, text: str) -> bool:
        """The text pre-filter: can `rule` possibly report anything in `text`?"""
        return all(test(text) for test in self._requirements[rule.code])

    def codes_for(self, path: str) -> frozenset[str]:
        codes = self.enabled
        if self.per_file_ignores:
            name = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
            base = name.rsplit("/", 1)[-1]
            for pattern, ignored in self.per_file_ignores:
                if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(base, pattern):
                    codes = codes - ignored
        return codes

    def __getstate__(self):
        # cached_property values hold compiled regexes and rule instances: rebuild them in workers.
        cached = {name for name, value in vars(type(self)).items() if isinstance(value, cached_property)}
        return {k: v for k, v in self.__dict__.items() if k not in cached}
