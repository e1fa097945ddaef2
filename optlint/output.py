"""Render findings: text (ruff-style), json (ruff-shaped), json-lines, github, sarif, statistics."""

from __future__ import annotations

import json
import os
from collections import Counter

from optlint import __version__
from optlint.findings import Finding
from optlint.rules.base import DOCS_URL, all_rules


def _where(f: Finding) -> str:
    cell = f"cell {f.cell}:" if f.cell is not None else ""
    return f"{f.path}:{cell}{f.location.row}:{f.location.column}"


class Style:
    """ANSI colour for a terminal; plain text otherwise (and whenever NO_COLOR is set)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def format_text(findings: list[Finding], sources: dict | None = None, color: bool = False) -> str:
    style = Style(color)
    out = []
    for f in findings:
        out.append(f"{style(_where(f), '1')}: {style(f.code, '1;31')} {f.message}\n")
        if sources is not None:
            out.append(_excerpt(f, sources.get((f.path, f.cell)), style))
    return "".join(out)


def _excerpt(f: Finding, text: str | None, style: Style) -> str:
    """The flagged lines with a caret under the start, like ruff's --show-source."""
    if not text:
        return ""
    lines = text.splitlines()
    first, last = f.location.row, min(f.end_location.row, f.location.row + 4)
    width = len(str(last))
    out = [f"{' ' * width} |\n"]
    for row in range(max(1, first - 1), min(len(lines), last) + 1):
        out.append(f"{style(str(row).rjust(width), '34')} | {lines[row - 1]}\n")
        if row == first:
            out.append(f"{' ' * width} | {' ' * (f.location.column - 1)}{style('^', '1;31')} {f.code}\n")
    out.append(f"{' ' * width} |\n")
    return "".join(out)


def _url(code: str) -> str | None:
    rule = all_rules().get(code)
    return rule.url() if rule is not None else None


def finding_to_json(finding: Finding) -> dict:
    item = {
        "code": finding.code,
        "message": finding.message,
        "filename": os.path.abspath(finding.path) if finding.path != "-" else "-",
        "location": {"row": finding.location.row, "column": finding.location.column},
        "end_location": {"row": finding.end_location.row, "column": finding.end_location.column},
        "fix": finding.fix,
        "noqa_row": finding.noqa_row,
        "url": _url(finding.code),
    }
    if finding.cell is not None:
        item["cell"] = finding.cell
    return item


def format_json(findings: list[Finding], **_) -> str:
    return json.dumps([finding_to_json(f) for f in findings], indent=2) + "\n"


def format_json_lines(findings: list[Finding], **_) -> str:
    return "".join(json.dumps(finding_to_json(f)) + "\n" for f in findings)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: list[Finding], **_) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's files."""
    out = []
    for f in findings:
        path = f.path if f.cell is None else f"{f.path}"
        title = f.code if f.cell is None else f"{f.code} (cell {f.cell})"
        props = (
            f"file={_escape_property(path)},line={f.location.row},col={f.location.column},"
            f"endLine={f.end_location.row},endColumn={f.end_location.column},title={_escape_property(title)}"
        )
        out.append(f"::error {props}::{_escape_data(f.message)}\n")
    return "".join(out)


def format_sarif(findings: list[Finding], **_) -> str:
    """SARIF 2.1.0, one run, every rule in the driver (code scanning uploads this)."""
    rules = list(all_rules().values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    driver_rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": " ".join((rule.what_it_does or rule.summary).split())},
            "help": {"text": rule.explain(), "markdown": rule.explain()},
            "helpUri": rule.url(),
            "defaultConfiguration": {"level": "error" if rule.default_enabled else "warning", "enabled": rule.default_enabled},
            "properties": {"where": rule.where, "fixable": rule.fixable},
        }
        for rule in rules
    ]
    results = []
    for f in findings:
        region = {
            "startLine": f.location.row,
            "startColumn": f.location.column,
            "endLine": f.end_location.row,
            "endColumn": f.end_location.column,
        }
        uri = f.path.replace(os.sep, "/")
        result = {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, -1),
            "level": "error",
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
        }
        if f.cell is not None:
            result["properties"] = {"cell": f.cell}
        if f.fix is not None:
            result["fixes"] = [
                {
                    "description": {"text": f.fix["message"]},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": uri},
                            "replacements": [
                                {
                                    "deletedRegion": {
                                        "startLine": e["location"]["row"],
                                        "startColumn": e["location"]["column"],
                                        "endLine": e["end_location"]["row"],
                                        "endColumn": e["end_location"]["column"],
                                    },
                                    "insertedContent": {"text": e["content"]},
                                }
                                for e in f.fix["edits"]
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "optlint",
                        "version": __version__,
                        "informationUri": DOCS_URL,
                        "rules": driver_rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def format_statistics(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    rules = all_rules()
    out = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        name = rules[code].name if code in rules else ""
        marker = "[*]" if fixable[code] else "   "
        out.append(f"{count:>5}\t{code}\t{marker} {name}\n")
    return "".join(out)


FORMATTERS = {
    "text": format_text,
    "json": format_json,
    "json-lines": format_json_lines,
    "github": format_github,
    "sarif": format_sarif,
}
