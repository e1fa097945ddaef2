"""Render findings: ruff-style text (one per line) and ruff-shaped JSON."""

from __future__ import annotations

import json
import os

from optlint.findings import Finding
from optlint.rules.base import all_rules


def format_text(findings: list[Finding]) -> str:
    return "".join(
        f"{f.path}:{f.location.row}:{f.location.column}: {f.code} {f.message}\n" for f in findings
    )


def _url(code: str) -> str | None:
    rule = all_rules().get(code)
    return rule.url() if rule is not None else None


def finding_to_json(finding: Finding) -> dict:
    return {
        "code": finding.code,
        "message": finding.message,
        "filename": os.path.abspath(finding.path) if finding.path != "-" else "-",
        "location": {"row": finding.location.row, "column": finding.location.column},
        "end_location": {"row": finding.end_location.row, "column": finding.end_location.column},
        "fix": finding.fix,
        "noqa_row": finding.noqa_row,
        "url": _url(finding.code),
    }


def format_json(findings: list[Finding]) -> str:
    return json.dumps([finding_to_json(f) for f in findings], indent=2) + "\n"


FORMATTERS = {"text": format_text, "json": format_json}
