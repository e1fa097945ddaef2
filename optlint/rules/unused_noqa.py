from __future__ import annotations

from typing import Iterator

from optlint.rules.base import RawFinding, Rule


class UnusedNoqa(Rule):
    code = "OPT009"
    name = "unused-noqa"
    summary = "A `# noqa` directive naming optlint codes that suppress nothing on its line"
    default_enabled = False
    fixable = True
    what_it_does = """
        Finds `# noqa: OPT0xx` directives whose optlint codes suppressed no finding on that
        line (the code was fixed, the code moved, or the code names no optlint rule), like
        ruff's RUF100. Only optlint's own codes are judged: a blanket `# noqa` and other tools'
        codes (`E501`) are shared with flake8 and ruff and left alone. Codes of rules that are
        not enabled for the file are not reported either.
    """
    why_bad = """
        A stale suppression hides the next real finding on that line: the optimizer is edited
        later, the decay comes back, and nobody hears of it.
    """
    known_problems = """
        Runs after every other rule, so it sees only what this run enabled: a directive for a
        rule enabled in CI but not locally is not reported locally.
    """
    example = """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: OPT001
    """
    use_instead = """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """
    fix_safety = """
        Safe: removes the unused codes (or the whole directive, or its line when the comment
        stands alone); other tools' codes stay.
    """
    references = ("https://docs.astral.sh/ruff/rules/unused-noqa/",)
    VALID = (
        # the directive suppresses the finding it names
        "import torch\nopt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)  # noqa: OPT001\n",
        # a blanket noqa and another tool's code are not optlint's to judge
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa\nx = 1  # noqa: E501\n",
    )
    INVALID = (
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: OPT001\n",
        "import torch\nopt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)  # noqa: OPT001, OPT006\n",
    )
    REQUIRES = ("noqa",)

    def check(self, ctx) -> Iterator[RawFinding]:
        """Reported by the checker (optlint.static.noqa.unused) once every other rule's
        findings are placed and suppressed: only then is "suppressed nothing" known."""
        return iter(())
