"""Render findings: text (ruff-style), json (ruff-shaped), json-lines, github, sarif, statistics."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from urllib.parse import quote

from optlint import __version__
from optlint.findings import Finding
from optlint.registry import all_rules
from optlint.rules.base import DOCS_URL


def _where(f: Finding) -> str:
    cell = f"cell {f.cell}:" if f.cell is not None else ""
    return f"{f.path}:{cell}{f.location.row}:{f.location.column}"


class Style:
    """ANSI colour for a terminal; plain text otherwise (and whenever NO_COLOR is set)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def format_text(findings: list[Finding], sources: dict | None = None, color: bool = False, fixable=None) -> str:
    """ruff's text format; `fixable(finding)` says which findings get ruff's `[*]` mark
    (those whose fix `--fix` would apply)."""
    style = Style(color)
    out = []
    for f in findings:
        mark = " [*]" if fixable is not None and fixable(f) else ""
        out.append(f"{style(_where(f), '1')}: {style(f.code, '1;31')}{mark} {f.message}\n")
        if sources is not None:
            out.append(_excerpt(f, sources.get((f.path, f.cell)), style))
    return "".join(out)


def _excerpt(f: Finding, text: str | None, style: Style) -> str:
    """The flagged lines with a caret under the start, like ruff's --show-source."""
    if not text:
        return ""
    lines = re.split(r"\r\n|\r|\n", text)  # rows as Python counts them, not str.splitlines()
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


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes of the name, kept as lone surrogates
        return False


def readable_path(path: str) -> str:
    """The name as valid Unicode: bytes that are not UTF-8 become U+FFFD."""
    return path if _is_utf8(path) else os.fsencode(path).decode("utf-8", "replace")


def path_uri(path: str) -> str:
    """RFC 3986 percent-encoding of the name's bytes: lossless for any name, valid in JSON."""
    return quote(os.fsencode(path.replace(os.sep, "/")), safe="/")


def finding_to_json(finding: Finding) -> dict:
    filename = os.path.abspath(finding.path) if finding.path != "-" else "-"
    item = {
        "code": finding.code,
        "message": finding.message,
        # A name that is not UTF-8 cannot be a JSON string as it is: "filename" shows it with
        # U+FFFD and "filename_uri" (only for such names) holds its exact bytes, percent-encoded.
        "filename": readable_path(filename),
        "location": {"row": finding.location.row, "column": finding.location.column},
        "end_location": {"row": finding.end_location.row, "column": finding.end_location.column},
        "fix": finding.fix,
        "noqa_row": finding.noqa_row,
        "url": _url(finding.code),
    }
    if not _is_utf8(filename):
        item["filename_uri"] = path_uri(filename)
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
    """GitHub Actions workflow commands: annotations on the pull request's files.

    A notebook finding points at the .ipynb row that holds its cell's line (columns inside
    a JSON string would be wrong, so none are given); the message names cell, row, column.
    """
    out = []
    for f in findings:
        path = _escape_property(readable_path(f.path))
        if f.cell is None:
            props = (
                f"file={path},line={f.location.row},col={f.location.column},"
                f"endLine={f.end_location.row},endColumn={f.end_location.column},title={f.code}"
            )
            message = f.message
        else:
            line = f",line={f.file_row}" if f.file_row is not None else ""
            props = f"file={path}{line},title={_escape_property(f'{f.code} (cell {f.cell})')}"
            message = f"cell {f.cell}, row {f.location.row}, column {f.location.column}: {f.message}"
        out.append(f"::error {props}::{_escape_data(message)}\n")
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
        uri = path_uri(f.path)
        location: dict = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
        result = {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, -1),
            "level": "error",
            "message": {"text": f.message},
            "locations": [location],
        }
        if f.cell is None:
            location["physicalLocation"]["region"] = {
                "startLine": f.location.row,
                "startColumn": f.location.column,
                "endLine": f.end_location.row,
                "endColumn": f.end_location.column,
            }
        else:
            # The region is the .ipynb row holding the line; the cell and the position inside
            # it are a logical location plus properties (rows and columns in the cell).
            if f.file_row is not None:
                location["physicalLocation"]["region"] = {"startLine": f.file_row}
            location["logicalLocations"] = [{"name": f"cell {f.cell}", "fullyQualifiedName": f"{readable_path(f.path)}:cell {f.cell}", "kind": "module"}]
            result["properties"] = {
                "cell": f.cell,
                "cellStartLine": f.location.row,
                "cellStartColumn": f.location.column,
                "cellEndLine": f.end_location.row,
                "cellEndColumn": f.end_location.column,
            }
        if f.fix is not None and f.cell is None:  # notebook edits are in cell rows, not the file's
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


def format_statistics(findings: list[Finding], output_format: str = "text") -> str:
    """A count per rule: text lines, or with a JSON format the list ruff prints."""
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    rules = all_rules()
    order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if output_format in ("json", "json-lines"):
        items = [
            {"code": code, "name": rules[code].name if code in rules else "", "count": count, "fixable": fixable[code] > 0, "fixable_count": fixable[code]}
            for code, count in order
        ]
        if output_format == "json-lines":
            return "".join(json.dumps(item) + "\n" for item in items)
        return json.dumps(items, indent=2) + "\n"
    out = []
    for code, count in order:
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


class ReportError(Exception):
    """The report could not be written (a bad -o path, a closed stream)."""


def encode_report(report: str, encoding: str | None) -> bytes:
    """Bytes for the report: a file name that is not UTF-8 comes out as its own bytes."""
    encoding = encoding or "utf-8"
    try:
        return report.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:  # a terminal that cannot show some character: escape it
        return report.encode(encoding, "backslashreplace")


def write_report(report: str, output_file: str | None, stream) -> None:
    """Write the report to `output_file` (UTF-8) or to `stream`, whatever the names hold."""
    if output_file:
        try:
            with open(output_file, "wb") as handle:
                handle.write(encode_report(report, "utf-8"))
        except OSError as exc:
            raise ReportError(f"cannot write the report to {readable_path(output_file)}: {exc.strerror or exc}") from None
        return
    encoding = getattr(stream, "encoding", None)
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (an embedding application's): give it valid text
        stream.write(encode_report(report, encoding).decode(encoding or "utf-8", "replace"))
        return
    stream.flush()  # anything already written as text goes first
    buffer.write(encode_report(report, encoding))
    buffer.flush()
