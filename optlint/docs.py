"""Documentation generated from the rule registry (the README's rule table is this output)."""

from __future__ import annotations

from optlint.rules.base import all_rules


def rules_markdown() -> str:
    lines = ["| code | name | default | where | fix | what it flags |", "|---|---|---|---|---|---|"]
    for code, rule in all_rules().items():
        lines.append(
            f"| {code} | {rule.name} | {'on' if rule.default_enabled else 'off'} | {rule.where} | "
            f"{'yes' if rule.fixable else 'no'} | {rule.summary} |"
        )
    return "\n".join(lines) + "\n"
