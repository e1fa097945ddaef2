"""Render findings in ruff's output formats.

``concise`` (one line per finding; ``text`` is its older name), ``full`` (with the source
lines), ``json`` / ``json-lines`` (ruff's keys), ``github`` (workflow commands), ``gitlab``
(GitLab Code Quality, a Code Climate subset), ``junit`` (JUnit XML), ``pylint``, ``sarif``
(2.1.0), and ``--statistics``. Shapes follow ruff's (https://docs.astral.sh/ruff/settings/#output-format).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from urllib.parse import quote

from optlint import __version__
from optlint.document import fix_applicability
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


def format_full(findings: list[Finding], sources: dict | None = None, color: bool = False) -> str:
    """ruff's ``full``: each finding, its source lines with a caret, and what its fix does."""
    style = Style(color)
    out = []
    for f in findings:
        out.append(format_text([f], sources if sources is not None else {}, color))
        if f.fix is not None:
            level = fix_applicability(f.fix)
            note = "" if level == "safe" else f" ({level} fix)"
            out.append(f"  {style('= help', '1;36')}: {f.fix['message']}{note}\n")
        out.append("\n")
    return "".join(out)


def format_pylint(findings: list[Finding], **_) -> str:
    """pylint's parseable format, as ruff writes it: ``path:row: [CODE] message``."""
    out = []
    for f in findings:
        where = f"{f.path}:cell {f.cell}:{f.location.row}" if f.cell is not None else f"{f.path}:{f.location.row}"
        out.append(f"{where}: [{f.code}] {f.message}\n")
    return "".join(out)


def _project_path(path: str) -> str:
    """A path relative to the project (GitLab's ``CI_PROJECT_DIR``, else the current folder)."""
    base = os.environ.get("CI_PROJECT_DIR") or os.getcwd()
    if path == "-":
        return path
    relative = os.path.relpath(os.path.abspath(path), base)
    return readable_path(relative.replace(os.sep, "/"))


def format_gitlab(findings: list[Finding], **_) -> str:
    """GitLab Code Quality (a subset of Code Climate's issue format), shaped as ruff's.

    The fingerprint hashes path, code and message (not the row, so a finding keeps its
    fingerprint when lines above it move); identical findings in one file are told apart
    by their order, so every fingerprint in a report is unique, as GitLab requires.
    """
    seen: Counter = Counter()
    items = []
    for f in findings:
        path = _project_path(f.path)
        key = (path, f.cell, f.code, f.message)
        seen[key] += 1
        digest = hashlib.sha256(json.dumps([*key, seen[key]]).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        where = f" (cell {f.cell}, row {f.location.row})" if f.cell is not None else ""
        if f.cell is None:
            positions = {
                "begin": {"line": f.location.row, "column": f.location.column},
                "end": {"line": f.end_location.row, "column": f.end_location.column},
            }
        else:  # the .ipynb row holding the line; the cell's own rows are in the description
            row = f.file_row or 1
            positions = {"begin": {"line": row, "column": 1}, "end": {"line": row, "column": 1}}
        items.append(
            {
                "check_name": f.code,
                "description": f"{f.code}: {f.message}{where}",
                "severity": "major",
                "fingerprint": digest,
                "location": {"path": path, "positions": positions},
            }
        )
    return json.dumps(items, indent=2) + "\n"


def _xml_text(text: str) -> str:
    """Text as XML 1.0 allows it: markup escaped, characters XML cannot hold replaced."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _XML_INVALID.sub("\ufffd", text)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_attr(text: str) -> str:
    from xml.sax.saxutils import quoteattr  # only XML formats pay for it (it imports urllib.request)

    return quoteattr(_XML_INVALID.sub("\ufffd", text))


def format_junit(findings: list[Finding], **_) -> str:
    """JUnit XML as ruff writes it: a test suite per file, a failing test case per finding."""
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.path, []).append(f)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<testsuites name="optlint" tests="{len(findings)}" failures="{len(findings)}" errors="0">\n',
    ]
    for path, items in by_file.items():
        name = readable_path(path)
        classname = name[:-3] if name.endswith(".py") else name
        out.append(
            f'    <testsuite name={_xml_attr(name)} tests="{len(items)}" disabled="0" errors="0" '
            f'failures="{len(items)}" package="org.optlint">\n'
        )
        for f in items:
            cell = f"cell {f.cell}, " if f.cell is not None else ""
            out.append(
                f'        <testcase name={_xml_attr("org.optlint." + f.code)} classname={_xml_attr(classname)} '
                f'line="{f.location.row}" column="{f.location.column}">\n'
                f"            <failure message={_xml_attr(f.message)}>"
                f"{_xml_text(f'{cell}line {f.location.row}, col {f.location.column}, {f.message}')}</failure>\n"
                "        </testcase>\n"
            )
        out.append("    </testsuite>\n")
    out.append("</testsuites>\n")
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
        "cell": finding.cell,  # ruff's key: the notebook cell (1-based), null for a .py file
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
    if finding.fix is not None and "applicability" not in finding.fix:
        item["fix"] = {**finding.fix, "applicability": fix_applicability(finding.fix)}
    if not _is_utf8(filename):
        item["filename_uri"] = path_uri(filename)
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
                # Columns are counted in Unicode code points (not UTF-16 units), in regions
                # and in fix replacements alike; SARIF requires saying so when results have columns.
                "columnKind": "unicodeCodePoints",
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
    "concise": format_text,
    "full": format_full,
    "json": format_json,
    "json-lines": format_json_lines,
    "github": format_github,
    "gitlab": format_gitlab,
    "junit": format_junit,
    "pylint": format_pylint,
    "sarif": format_sarif,
}
#: ``--output-format`` values: ruff's names, plus ``text`` (optlint's first name for ``concise``).
OUTPUT_FORMATS = ("text", *FORMATTERS)
#: Formats that show a fix's edits (so the edits must be rendered).
SHOWS_EDITS = frozenset({"json", "json-lines", "sarif"})


def render(output_format: str, findings: list[Finding], sources: dict | None = None, color: bool = False, fixable=None) -> str:
    """The report for `findings` in `output_format` (``sources``: text per (path, cell), for
    the formats that show source lines; ``fixable(finding)``: whether ``--fix`` would fix it,
    ruff's ``[*]`` mark in the concise format)."""
    if output_format in ("text", "concise"):
        return format_text(findings, sources, color, fixable=fixable)
    if output_format == "full":
        return format_full(findings, sources, color)
    return FORMATTERS[output_format](findings)


def use_color(choice: str, stream_is_tty: bool, environ=os.environ) -> bool:
    """``--color auto|always|never``: auto is colour on a terminal, unless ``NO_COLOR`` is set
    (https://no-color.org); ``FORCE_COLOR`` (https://force-color.org) turns it on anywhere."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream_is_tty


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
