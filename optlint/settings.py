"""The resolved settings one run checks with: enabled rules, per-file ignores, extra optimizers.

Built once in the parent (``optlint.config``) and sent to each worker once; every
per-file question (which codes apply here, can a rule fire on this text) is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from optlint.files import DEFAULT_MAX_FILE_SIZE
from optlint.optimizers import KNOWN_LAST_NAMES, OptimizerSpec
from optlint.registry import all_rules
from optlint.rules.base import Rule


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


_REGEX_SYNTAX = set("\\.^$*+?{}[]()|")


def _literal_hints(pattern: str) -> tuple[str, ...]:
    """For `a|b|c` at the top level: one literal (2+ characters) each alternative must
    contain, or () when some alternative has none (or the pattern nests groups)."""
    if "(" in pattern.replace("\\(", "") or "[" in pattern.replace("\\[", ""):
        return ()
    hints = []
    for alternative in pattern.split("|"):
        runs, current, escaped = [], "", False
        for char in alternative:
            if escaped:
                if char in _REGEX_SYNTAX:
                    current += char
                else:  # \b, \s, \w: not a literal character
                    runs.append(current)
                    current = ""
                escaped = False
            elif char == "\\":
                escaped = True
            elif char in _REGEX_SYNTAX:
                runs.append(current[:-1] if char in "*?{" else current)
                current = ""
            else:
                current += char
        runs.append(current)
        best = max(runs, key=len)
        if len(best) < 2:
            return ()
        hints.append(best)
    return tuple(hints)


_ALTERNATION = re.compile(r"\\b\(\?:([\w|]+)\)\\b((?:\|\w+)*)")
_CAPITALIZED = re.compile(r"[A-Z][A-Za-z0-9_]*")


def _identifier_alternation(pattern: str):
    """`\\b(?:AdamW|SGD|...)\\b|weight_decay` as a set test: the capitalized words against the
    file's capitalized identifiers (one scan with a fast character-class regex, instead of a
    150-way alternation tried at every position), the rest as substrings. A superset of the
    regex's matches, so the pre-filter stays lossless. None for any other pattern."""
    match = _ALTERNATION.fullmatch(pattern)
    if match is None:
        return None
    words = match.group(1).split("|")
    literals = tuple(w for w in match.group(2).split("|") if w)
    capitalized = frozenset(w for w in words if w[:1].isupper())
    others = tuple(w for w in words if not w[:1].isupper()) + literals

    def test(text: str) -> bool:
        if any(word in text for word in others):
            return True
        return bool(capitalized) and not capitalized.isdisjoint(_CAPITALIZED.findall(text))

    return test


def _screened(hints: tuple[str, ...], alternatives):
    """Each alternative is searched only where its literal occurs at all: a one-branch regex
    is several times faster than an alternation tried at every position."""
    pairs = tuple(zip(hints, alternatives))
    return lambda text: any(hint in text and search(text) for hint, search in pairs)


@dataclass
class Settings:
    enabled: frozenset[str]
    #: (pattern, the folder it is anchored at, codes); a pattern starting with `!` applies to
    #: every file it does not match (ruff's negation)
    per_file_ignores: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    extra_optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    root: str = "."  # the config's folder (the working folder without one)
    prefilter: bool = True  # skip files whose text no enabled rule can fire on
    fixable: frozenset[str] = frozenset()  # codes whose fixes --fix/--diff apply
    fix: bool = False  # apply fixes and write files
    unsafe_fixes: bool = False  # --unsafe-fixes: also apply (and show) fixes marked unsafe
    diff: bool = False  # compute fixes and return a diff; write nothing
    stdout_fix: bool = False  # return the fixed bytes instead of writing (standard input)
    fix_edits: bool = True  # render fix edits (LibCST) for findings; the plain text report needs none
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # larger files are OPT000 "too large", never read
    exclude: list[tuple[str, str]] = field(default_factory=list)  # (pattern, anchor folder): exclude + extend-exclude
    #: test code: `test_files_ignore` (the decay-advice rules by default) is off there
    test_files: list[tuple[str, str]] = field(default_factory=list)
    test_files_ignore: frozenset[str] = frozenset()
    respect_gitignore: bool = True
    force_exclude: bool = False
    config_path: str | None = None  # the config file these settings come from (None: defaults)
    cache_dir: str | None = None  # `cache-dir`, absolute (None: .optlint_cache at the project root)
    #: the project's root folder (`project-root` / `--project-root`; None: found above each file)
    project_root: str | None = None

    def applies(self, finding) -> bool:
        """Whether --fix / --diff apply this finding's fix: its code is fixable and its fix is
        safe, or unsafe with --unsafe-fixes (ruff's rule); display-only fixes never apply."""
        allowed = ("safe", "unsafe") if self.unsafe_fixes else ("safe",)
        return finding.code in self.fixable and finding.applicability in allowed

    @cached_property
    def static_rules(self) -> list[Rule]:
        return [rule for rule in (cls() for cls in all_rules().values()) if rule.is_static]

    @cached_property
    def candidate_names(self) -> frozenset[str]:
        extra = {q.rsplit(".", 1)[-1] for q in self.extra_optimizers}
        return KNOWN_LAST_NAMES | extra | {"add_param_group"}

    @cached_property
    def _requirements(self) -> dict[str, list[str]]:
        """Per rule, its REQUIRES patterns (a user-declared optimizer's name can stand
        wherever a known one's can)."""
        extra_names = sorted({q.rsplit(".", 1)[-1] for q in self.extra_optimizers})
        extra = "|".join(re.escape(w) for w in extra_names)
        out = {}
        for rule in self.static_rules:
            patterns = []
            for pattern in rule.REQUIRES:
                if extra and "weight_decay" in pattern:
                    pattern = f"{pattern}|\\b(?:{extra})\\b"
                patterns.append(pattern)
            out[rule.code] = patterns
        return out

    @cached_property
    def _tests(self) -> dict[str, tuple]:
        """pattern -> (cost rank, test): a plain word is a substring test; a regex whose every
        alternative holds a literal is first screened by those literals (a substring search
        runs at memchr speed, a regex alternation does not)."""
        tests = {}
        for patterns in self._requirements.values():
            for pattern in patterns:
                if pattern in tests:
                    continue
                if re.escape(pattern) == pattern:
                    tests[pattern] = (0, _substring_test(pattern))
                    continue
                identifiers = _identifier_alternation(pattern)
                if identifiers is not None:
                    tests[pattern] = (1, identifiers)
                    continue
                hints = _literal_hints(pattern)
                if hints:
                    alternatives = [re.compile(a).search for a in pattern.split("|")]
                    tests[pattern] = (1, _screened(hints, alternatives))
                else:
                    tests[pattern] = (2, re.compile(pattern).search)
        return tests

    @cached_property
    def _ordered_requirements(self) -> dict[str, list[str]]:
        """Each rule's patterns, cheapest test first."""
        tests = self._tests
        return {code: sorted(patterns, key=lambda p: tests[p][0]) for code, patterns in self._requirements.items()}

    def firing(self, rules: list[Rule], text: str) -> list[Rule]:
        """The text pre-filter: the rules that can possibly report anything in `text`.
        Each distinct pattern is tested at most once per text, cheapest first."""
        tests = self._tests
        ordered = self._ordered_requirements
        verdicts: dict[str, bool] = {}
        out = []
        for rule in rules:
            for pattern in ordered[rule.code]:
                verdict = verdicts.get(pattern)
                if verdict is None:
                    verdict = verdicts[pattern] = bool(tests[pattern][1](text))
                if not verdict:
                    break
            else:
                out.append(rule)
        return out

    def may_fire(self, rule: Rule, text: str) -> bool:
        """The text pre-filter for one rule."""
        return bool(self.firing([rule], text))

    @cached_property
    def _per_file(self) -> list[tuple[object, bool, frozenset[str]]]:
        from optlint.globs import Globs

        out = [(Globs([p[1:] if p.startswith("!") else p], root), p.startswith("!"), codes) for p, root, codes in self.per_file_ignores]
        if self.test_files and self.test_files_ignore:
            for root in dict.fromkeys(root for _, root in self.test_files):
                out.append((Globs([p for p, r in self.test_files if r == root], root), False, self.test_files_ignore))
        return out

    @cached_property
    def _exclude(self) -> list:
        from optlint.globs import Globs

        return [Globs([p for p, r in self.exclude if r == root], root) for root in dict.fromkeys(r for _, r in self.exclude)]

    def excluded(self, path: str, is_dir: bool = False) -> bool:
        """Whether exclude / extend-exclude names `path` itself (not its folders)."""
        return any(globs.match(path, is_dir) for globs in self._exclude)

    def codes_for(self, path: str) -> frozenset[str]:
        """The enabled codes minus those per-file-ignores (and test-files) turn off for `path`."""
        codes = self.enabled
        for globs, negated, ignored in self._per_file:
            if globs.match(path) != negated:
                codes = codes - ignored
        return codes

    def __getstate__(self):
        # cached_property values hold compiled regexes and rule instances: rebuild them in workers.
        cached = {name for name, value in vars(type(self)).items() if isinstance(value, cached_property)}
        return {k: v for k, v in self.__dict__.items() if k not in cached}
