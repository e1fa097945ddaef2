"""The rule type and the one registry that holds every rule.

A rule is a small class: its code, name and default live next to its documentation
(ruff's sections) and its VALID/INVALID examples, which ``tests/test_rule_examples.py``
runs as tests. Static rules implement ``check``; runtime rules are checked by
``optlint.runtime`` and live here for their code, name and docs.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterator

if TYPE_CHECKING:
    import ast

    from optlint.static.context import FileContext

#: One page per rule, generated from the rule classes (`python -m optlint.docs`).
_CODE = re.compile(r"^OPT\d{3}$")

DOCS_URL = "https://github.com/optlint/optlint/blob/main/docs/rules"


class Example(str):
    """An example that is no Python script (a config file): its file name decides how it is
    checked (`conf/optimizer.yaml`) and how its docs render it (a yaml, json or python block)."""

    filename: str

    def __new__(cls, text: str, filename: str) -> "Example":
        example = super().__new__(cls, text)
        example.filename = filename
        return example

    @property
    def language(self) -> str:
        return {"yaml": "yaml", "yml": "yaml", "json": "json"}.get(self.filename.rsplit(".", 1)[-1], "python")


@dataclass(frozen=True)
class RawFinding:
    """A finding before positions are computed: the `ast` node to point at, the call it
    belongs to (its lines take a `# noqa`), and its fix or the reason there is none."""

    code: str
    message: str
    node: "ast.AST"
    span: "ast.AST | None" = None  # the lines on which a `# noqa` suppresses it (default: node)
    fix: object | None = None  # an optlint.static.fix.edits.RawFix
    no_fix: str | None = None  # why there is no fix (for a fixable rule)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    where: ClassVar[str] = "static"  # "static", "runtime" or "both"
    default_enabled: ClassVar[bool] = True
    fixable: ClassVar[bool] = False

    what_it_does: ClassVar[str] = ""
    why_bad: ClassVar[str] = ""
    known_problems: ClassVar[str] = ""
    example: ClassVar[str] = ""
    use_instead: ClassVar[str] = ""
    fix_safety: ClassVar[str] = "No automatic fix."
    references: ClassVar[tuple[str, ...]] = ()

    #: Code that must not produce this rule's code / code that must produce it.
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()

    #: Every pattern must occur in a file's text for this rule to be able to fire there:
    #: the pre-filter skips parsing a file no enabled rule can fire on.
    REQUIRES: ClassVar[tuple[str, ...]] = ()

    @property
    def is_static(self) -> bool:
        return self.where in ("static", "both") and type(self).check is not Rule.check

    def check(self, ctx: "FileContext") -> Iterator[RawFinding]:
        return iter(())

    def finding(self, node, message: str, span=None, fix=None, no_fix: str | None = None) -> RawFinding:
        """A finding of this rule (the code comes from the rule, never from the caller)."""
        return RawFinding(self.code, message, node, span if span is not None else node, fix, no_fix)

    @staticmethod
    def valid_code(code: str) -> bool:
        """`OPT` and three digits: codes are a public contract (never renumbered)."""
        return bool(_CODE.match(code))

    @classmethod
    def url(cls) -> str:
        return f"{DOCS_URL}/{cls.code}.md"

    @classmethod
    def explain(cls) -> str:
        """The rule's page, in ruff's sections."""
        parts = [f"# {cls.name} ({cls.code})", ""]
        parts.append(f"Default: {'on' if cls.default_enabled else 'off'}. Where: {cls.where}. "
                     f"Fix: {'available' if cls.fixable else 'none'}.")
        for title, body in (
            ("What it does", cls.what_it_does),
            ("Why is this bad?", cls.why_bad),
            ("Known problems", cls.known_problems),
            ("Example", _code_block(cls.example)),
            ("Use instead", _code_block(cls.use_instead)),
            ("Fix safety", cls.fix_safety),
            ("References", "\n".join(f"- {ref}" for ref in cls.references)),
        ):
            if body:
                parts += ["", f"## {title}", textwrap.dedent(body).strip()]
        return "\n".join(parts) + "\n"


def _code_block(code: str) -> str:
    language = getattr(code, "language", "python")
    comment = "#" if language != "json" else ""
    name = f"{comment} {code.filename}\n" if isinstance(code, Example) and comment else ""
    code = textwrap.dedent(code).strip()
    return f"```{language}\n{name}{code}\n```" if code else ""
