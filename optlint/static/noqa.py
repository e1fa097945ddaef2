"""`# noqa` comments as ruff reads them (https://docs.astral.sh/ruff/linter/#error-suppression).

- Directives are comments, found by the tokenizer: `# noqa` inside a string is text, not a
  directive, and so is `# optlint: noqa` inside a docstring.
- `# noqa` on any line of a finding's statement suppresses it; `# noqa: OPT001, OPT002` only
  those codes. Codes are case-sensitive, as in ruff: `# noqa: opt002` suppresses nothing and
  gets a warning (it never widens to "all"); so does an `OPT` code no rule has. Other tools'
  codes (`E501`) are theirs: kept and never warned about.
- `# optlint: noqa` (a comment of its own, anywhere) exempts the whole file;
  `# optlint: noqa: OPT001` exempts those codes.
- OPT009 (unused-noqa, off by default) reports the `OPT` codes of a directive that suppressed
  nothing, with a safe fix that removes them (or the whole directive).
- `--add-noqa` (optlint.static.add_noqa) writes `# noqa: CODE` on the line of each finding.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_LINE = re.compile(r"#\s*noqa(?P<colon>\s*:\s*(?P<codes>[^#]*))?", re.I)
_FILE = re.compile(r"^#\s*optlint\s*:\s*noqa(?P<colon>\s*:\s*(?P<codes>[^#]*))?", re.I)
_FILE_HINT = re.compile(r"#\s*optlint\s*:\s*noqa", re.I)
_TOKEN = re.compile(r"[^\s,]+")
_CODE_LIKE = re.compile(r"[A-Za-z]+[0-9]+")
_OUR_CODE = re.compile(r"OPT[0-9]+")
_ROW = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
UNUSED_NOQA = "OPT009"
#: What reading a file's directives can find beyond the rows of its findings: a `# noqa:` whose
#: codes may hold an optlint code (OPT009, warnings on `opt001` or unknown codes; case-blind, so
#: a superset), one whose first code is no code (a warning), or a file-level directive. A text
#: without any is not tokenized for them (tokenizing costs more than the file's analysis).
_MAY_MATTER = re.compile(r"#\s*noqa\s*:(?:[^#\r\n]*opt|\s*+(?![A-Za-z]+[0-9]+(?:[\s,#]|$)))|#\s*optlint\s*:\s*noqa", re.I | re.M)


def may_matter(text: str) -> bool:
    """Whether `text` may hold a directive that OPT009 reports or that deserves a warning."""
    return _MAY_MATTER.search(text) is not None


def rows_of(text: str) -> list[str]:
    """Rows as Python's tokenizer counts them (\n, \r\n or \r), line breaks kept."""
    return _ROW.findall(text)


@dataclass
class Directive:
    """One line-level `# noqa` (codes None: a blanket one)."""

    row: int
    start: int  # 0-based column of its `#`
    end: int  # 0-based column after its last code
    codes: list[str] | None
    others: list[str] = field(default_factory=list)  # codes of other tools, kept as written
    used: set[str] = field(default_factory=set)
    blanket_used: bool = False


@dataclass
class Directives:
    lines: dict[int, Directive] = field(default_factory=dict)
    file_codes: frozenset[str] | None = None  # None: no file exemption; empty: every code
    warnings: list[tuple[int, str]] = field(default_factory=list)
    #: rows after which a comment can be written (they end in a NEWLINE/NL token)
    open_rows: set[int] = field(default_factory=set)
    comment_rows: dict[int, tuple[int, str]] = field(default_factory=dict)  # row -> (column, comment text)

    def suppresses(self, code: str, rows: range) -> bool:
        for row in rows:
            directive = self.lines.get(row)
            if directive is None:
                continue
            if directive.codes is None:
                directive.blanket_used = True
                return True
            if code in directive.codes:
                directive.used.add(code)
                return True
        return False


def _known() -> frozenset[str]:
    from optlint.registry import all_rules

    return frozenset(all_rules())


def _codes(text: str, row: int, where: str, warnings: list, ours_only: bool) -> tuple[list[str] | None, list[str]]:
    """(optlint codes, other tools' codes) of a directive's code list; None when nothing valid
    was written (the directive is then not applied at all)."""
    ours, others = [], []
    tokens = _TOKEN.findall(text)
    for token in tokens:
        if not _CODE_LIKE.fullmatch(token):
            break  # an explanation after the codes: `# noqa: OPT001 built by hand`
        if token != token.upper():
            if token.upper().startswith("OPT") or ours_only:
                warnings.append((row, f"{where} code {token!r} is not applied: codes are case-sensitive (write {token.upper()})"))
            continue
        if _OUR_CODE.fullmatch(token):
            if token not in _known():
                warnings.append((row, f"{where} names {token}, which is no optlint rule; it is not applied"))
            ours.append(token)
        elif ours_only:
            warnings.append((row, f"{where} names {token}, which is no optlint code; it is not applied"))
        else:
            others.append(token)
    if not tokens or not _CODE_LIKE.fullmatch(tokens[0]):
        warnings.append((row, f"{where} has a `:` but no codes; write `# noqa` for every code or list them (`# noqa: OPT001`)"))
        return None, others
    return ours, others


def _comments(text: str) -> tuple[list[tuple[int, int, str]], set[int]] | None:
    """(comments as (row, column, text), rows ending in a line break token), or None when
    this Python's tokenizer cannot read the file."""
    comments, open_rows = [], set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments.append((token.start[0], token.start[1], token.string))
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                open_rows.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return comments, open_rows


def read(text: str, rows_wanted: bool = False) -> Directives:
    """The directives of `text` (cheap when it holds no `noqa` at all)."""
    out = Directives()
    if "noqa" not in text.lower() and not rows_wanted:
        return out
    found = _comments(text)
    if found is None:
        # Newer syntax than this Python's tokenizer: a comment is a `#` that starts its line
        # (a `#` inside a string cannot be told apart otherwise).
        comments = [(row, line.index("#"), line.strip()) for row, line in enumerate(rows_of(text), 1) if line.lstrip().startswith("#")]
        open_rows: set[int] = set()
    else:
        comments, open_rows = found
    out.open_rows = open_rows
    return from_comments(comments, out)


def from_comments(comments: list[tuple[int, int, str]], out: Directives | None = None) -> Directives:
    """The directives of comments given as (row, 0-based column, text): a YAML config's
    comments use the same syntax as Python's (optlint.static.configs)."""
    out = Directives() if out is None else out
    file_codes: set[str] | None = None
    blanket_file = False
    for row, column, comment in comments:
        out.comment_rows[row] = (column, comment)
        file_match = _FILE.match(comment)
        if file_match:
            if file_match.group("colon") is None:
                blanket_file = True
            else:
                ours, _ = _codes(file_match.group("codes"), row, "`# optlint: noqa:`", out.warnings, ours_only=True)
                valid = {c for c in ours or () if c in _known()}
                if valid:  # nothing valid written: nothing exempted (never "every code")
                    file_codes = (file_codes or set()) | valid
            continue
        match = _LINE.search(comment)
        if match is None:
            continue
        if match.group("colon") is None:
            codes, others = None, []
            end = match.end()
        else:
            codes, others = _codes(match.group("codes"), row, "`# noqa:`", out.warnings, ours_only=False)
            if codes is None:
                continue
            written = match.group("codes")
            stripped = written.rstrip()
            end = match.start("codes") + len(stripped)
            # stop after the last code token (an explanation may follow)
            consumed = 0
            for token in _TOKEN.finditer(written):
                if not _CODE_LIKE.fullmatch(token.group()):
                    break
                consumed = token.end()
            end = match.start("codes") + consumed
        out.lines[row] = Directive(row, column + match.start(), column + end, codes, others)
    if blanket_file:
        out.file_codes = frozenset()
    elif file_codes is not None:
        out.file_codes = frozenset(file_codes)
    return out


def file_exemption(text: str) -> tuple[frozenset[str] | None, list[tuple[int, str]]]:
    """(codes exempted for the whole file: None none, empty all; warnings)."""
    if "optlint" not in text or not _FILE_HINT.search(text):
        return None, []
    directives = read(text)
    return directives.file_codes, directives.warnings


def unused(path: str, directives: Directives, enabled: frozenset[str], text: str) -> list:
    """OPT009 findings: codes of enabled rules (or no rule at all) that a directive lists
    but that suppressed nothing there."""
    from optlint.findings import Finding, Position

    out = []
    lines = rows_of(text)
    for row, directive in sorted(directives.lines.items()):
        if directive.codes is None:
            continue  # a blanket `# noqa` is shared with flake8 and ruff: not ours to judge
        known = _known()
        stale = [c for c in directive.codes if c not in directive.used and (c not in known or c in enabled) and c != UNUSED_NOQA]
        if not stale:
            continue
        kept = [c for c in directive.codes if c not in stale] + directive.others
        what = ", ".join(f"`{c}`" + ("" if c in known else " (unknown)") for c in stale)
        message = f"unused `noqa` directive: {what} suppressed nothing on this line"
        line = lines[row - 1].rstrip("\r\n") if row <= len(lines) else ""
        if kept:  # other codes stay: rewrite the code list
            edit = ((row, directive.start + 1), (row, directive.end + 1), "# noqa: " + ", ".join(kept))
            title = "remove the unused code" + ("s" if len(stale) > 1 else "")
        elif line[: directive.start].strip() == "" and line[directive.end :].strip() == "" and lines[row - 1] != line:
            edit = ((row, 1), (row + 1, 1), "")  # a comment on a line of its own: the line goes
            title = "remove the unused `noqa` directive"
        else:  # the directive, and the spaces before it
            edit = ((row, len(line[: directive.start].rstrip()) + 1), (row, directive.end + 1), "")
            title = "remove the unused `noqa` directive"
        (start_row, start_col), (end_row, end_col), content = edit
        fix = {
            "message": title,
            "applicability": "safe",
            "edits": [
                {"content": content, "location": {"row": start_row, "column": start_col}, "end_location": {"row": end_row, "column": end_col}}
            ],
        }
        where = Position(row, directive.start + 1)
        out.append(Finding(path, UNUSED_NOQA, message, where, Position(row, directive.end + 1), row, fix, applicability="safe"))
    return out
