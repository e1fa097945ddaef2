"""Jupyter notebooks: check code cells as one program, report ``nb.ipynb:cell N:row:col``.

Code cells are joined with a boundary comment between them. IPython syntax that is not
Python (``%magic``, ``!shell``, ``x = !cmd``, ``obj?``) at the start of a statement becomes
``pass`` with a marker and is restored afterwards; a cell magic (``%%bash``) skips its
whole cell. The boundary and the markers carry a token that occurs nowhere in the
notebook, so a user's own ``# optlint: cell boundary`` comment is just a comment.

A cell that is not valid Python on its own is reported (OPT000 at its cell) and left out,
so it does not hide the other cells' findings.

A fix rewrites only the ``source`` values of the cells it changes, in the file's own
bytes: every other byte (outputs, metadata, indentation, line endings, escapes, number
spellings, duplicate keys) stays as it was. ``json`` is used to read the notebook, never
to write it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from optlint.findings import FileResult, Finding, Position
from optlint.static.source import SourceError, error_finding

_MAGIC = re.compile(r"^\s*(?:[%!]|\w[\w.]*\s*=\s*[%!]|[\w.]+\?{1,2}\s*$)")


class NotebookError(SourceError):
    """A notebook that cannot be read (its position is in the JSON file)."""


@dataclass
class SourceSpan:
    """Where one cell's ``source`` value is in the notebook text (character offsets)."""

    start: int
    end: int
    items: list[tuple[int, int]] | None  # each string of a list source; None for a string source


@dataclass
class VirtualSource:
    notebook: dict
    text: str
    #: (first virtual row, raw cell index 1-based, index into notebook["cells"])
    cells: list[tuple[int, int, int]] = field(default_factory=list)
    magics: list[str] = field(default_factory=list)
    raw: str = ""  # the notebook's JSON text, as read
    bom: bool = False
    token: str = "optlint-0"  # occurs nowhere in the notebook's cells
    bodies: list[str] = field(default_factory=list)  # per code cell: the Python the checker sees
    broken: dict[int, SourceError] = field(default_factory=dict)  # notebook index -> why
    #: notebook indexes of cells that end inside a bracket, a string or after `\`: the
    #: joined text may parse (the next cell closes it) while Jupyter runs each cell alone
    open_cells: set[int] = field(default_factory=set)

    @property
    def boundary(self) -> str:
        return f"# {self.token} cell boundary"

    def placeholder(self, number: int) -> str:
        return f"pass  # {self.token}-magic-{number}"

    @cached_property
    def spans(self) -> list[SourceSpan | None]:
        """Per notebook cell, where its `source` is in the file (found only when needed)."""
        try:
            spans = source_spans(self.raw)
        except (AttributeError, IndexError):  # JSON this small reader does not follow: no spans
            spans = []
        if len(spans) != len(self.notebook["cells"]):  # json and the scanner disagree: never write
            return [None] * len(self.notebook["cells"])
        return spans

    @cached_property
    def file_rows(self) -> dict[int, list[int]]:
        """Per code cell (by notebook index): the notebook file's row of each row of the cell."""
        rows_of = _RowCounter(self.raw)
        return {
            position: _file_rows(rows_of, self.spans[position], body.count("\n"))
            for (_, _, position), body in zip(self.cells, self.bodies)
        }

    def file_row(self, position: int, row: int) -> int | None:
        rows = self.file_rows.get(position)
        return rows[max(1, min(row, len(rows))) - 1] if rows else None

    def assemble(self) -> None:
        """Join the cell bodies (broken cells as one `pass`) into the text the checker sees."""
        parts: list[str] = []
        cells: list[tuple[int, int, int]] = []
        row = 1
        for (_, raw_index, position), body in zip(self.cells, self.bodies):
            if position in self.broken:
                body = f"pass  # {self.token} not checked\n"
            if parts:
                parts.append(self.boundary + "\n")
                row += 1
            cells.append((row, raw_index, position))
            parts.append(body)
            row += body.count("\n")
        self.cells, self.text = cells, "".join(parts)


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise NotebookError("not a Jupyter notebook: a code cell's source is not text")


def _split_lines(text: str) -> list[str]:
    """Lines ending in "\\n" (kept), as nbformat stores a source list; never str.splitlines."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def load(data: bytes) -> VirtualSource:
    try:
        text = data.decode("utf-8-sig")
        notebook = json.loads(text)
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not valid UTF-8: byte {data[exc.start]:#04x} cannot be decoded") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except ValueError as exc:  # an integer past Python's int_max_str_digits (4,300 by default)
        raise _long_number(text, exc) from None
    except RecursionError:
        raise NotebookError("invalid notebook JSON: nested too deeply") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("not a Jupyter notebook: no list of cells")
    virtual = VirtualSource(notebook, "", raw=text, bom=data.startswith(b"\xef\xbb\xbf"))
    sources = [_cell_text(c) for c in notebook["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    number = 0
    while any(f"optlint-{number}" in s for s in sources):
        number += 1
    virtual.token = f"optlint-{number}"
    for position, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _cell_text(cell)
        if source.lstrip().startswith("%%"):
            continue  # a cell magic: the whole cell is another language
        lines = source.split("\n")
        starts = _statement_starts(lines)
        if starts.pop() == "open":
            virtual.open_cells.add(position)
        for i, starts_statement in enumerate(starts):
            if starts_statement and _MAGIC.search(lines[i]):
                indent_text = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                virtual.magics.append(lines[i])
                lines[i] = indent_text + virtual.placeholder(len(virtual.magics) - 1)
        body = "\n".join(lines)
        virtual.cells.append((0, position + 1, position))
        virtual.bodies.append(body if body.endswith("\n") else body + "\n")
    virtual.assemble()
    return virtual


def _statement_starts(lines: list[str]) -> list:
    """For each line: does it start a statement (not inside brackets, a string, or after `\\`)?
    Then one more item: "open" when the last line leaves a bracket, a string or a `\\` open.

    Only such a line can be an IPython magic: `    != b` or `% n` inside parentheses is Python.
    """
    out: list = []
    depth, quote, continued = 0, None, False
    for line in lines:
        out.append(depth == 0 and quote is None and not continued)
        if out[-1] and _MAGIC.search(line):
            continue  # a magic's text is not Python: it opens no bracket or string
        depth, quote, continued = _scan(line.rstrip("\r"), depth, quote)
    out.append("open" if depth or quote is not None or continued else "closed")
    return out


def _long_number(text: str, exc: ValueError) -> NotebookError:
    """The error for a number Python's json refuses to read: where it is, and why."""
    match = re.search(r"\d{4300,}", text)
    row = column = 1
    if match is not None:
        row = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    digits = len(match.group()) if match is not None else None
    size = f"{digits:,} digits" if digits else "too many digits"
    return NotebookError(
        f"invalid notebook JSON: a number of {size}, more than Python reads (int_max_str_digits)", row, column
    )


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """Bracket depth and open string after `line` (strings and comments skipped)."""
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 2
            elif line.startswith(quote, i):
                i, quote = i + len(quote), None
            else:
                i += 1
            continue
        if char == "#":
            break
        if char in "\"'":
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
            i += len(quote)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        i += 1
    continued = line.endswith("\\") and not line.endswith("\\\\")
    if quote in ('"', "'") and not continued:
        quote = None  # an unterminated one-line string: a syntax error the checker reports
    return depth, quote, continued and quote is None


class _RowCounter:
    """Row numbers of increasing offsets in a text, counting newlines only once in all."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.row = text, 0, 1

    def row_at(self, offset: int) -> int:
        if offset < self.offset:  # not increasing (never for cells in file order): count afresh
            self.offset, self.row = 0, 1
        self.row += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.row


def _file_rows(rows_of: _RowCounter, span: SourceSpan | None, rows: int) -> list[int]:
    """The notebook file's row for each row of a cell (a string source: all on one row)."""
    if span is None:
        return []
    if not span.items:
        return [rows_of.row_at(span.start)] * rows
    return [rows_of.row_at(start) for start, _ in span.items]


# -- where the sources are in the JSON text ----------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: linear, no per-character alternation
#: Everything up to the next bracket outside a string (greedy, never needs to backtrack).
_NO_BRACKETS = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*')
_SCALAR = re.compile(r"-?Infinity|NaN|true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


class _Scanner:
    """Just enough of a JSON reader to find each cell's ``source`` value (text already valid)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def skip_space(self) -> str:
        self.pos = _WHITESPACE.match(self.text, self.pos).end()
        return self.text[self.pos : self.pos + 1]

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        self.pos = match.end()
        return json.loads(match.group())

    def skip_value(self) -> None:
        """Skip one value without recursion (notebooks may nest deeply), jumping over plain text."""
        text = self.text
        char = self.skip_space()
        if char == '"':
            self.pos = _STRING.match(text, self.pos).end()
            return
        if char not in "[{":
            self.pos = _SCALAR.match(text, self.pos).end()
            return
        depth = 0
        while True:  # at a bracket: strings and plain text between brackets go in one match
            depth += 1 if text[self.pos] in "[{" else -1
            self.pos += 1
            if depth == 0:
                return
            self.pos = _NO_BRACKETS.match(text, self.pos).end()

    def members(self):
        """Yield each key of the object at the cursor, with the cursor on its value."""
        self.skip_space()
        self.pos += 1  # {
        while self.skip_space() != "}":
            key = self.string()
            self.skip_space()
            self.pos += 1  # :
            self.skip_space()
            start = self.pos
            yield key
            if self.pos == start:
                self.skip_value()
            if self.skip_space() == ",":
                self.pos += 1
        self.pos += 1

    def elements(self):
        """Yield at each element of the array at the cursor."""
        self.skip_space()
        self.pos += 1  # [
        while self.skip_space() != "]":
            start = self.pos
            yield
            if self.pos == start:
                self.skip_value()
            if self.skip_space() == ",":
                self.pos += 1
        self.pos += 1


def source_spans(text: str) -> list[SourceSpan | None]:
    """Per cell (in notebook["cells"] order), where its `source` is; the last key wins, as in json."""
    scanner = _Scanner(text)
    cells: list[SourceSpan | None] = []
    if scanner.skip_space() != "{":
        return cells
    for key in scanner.members():
        if key != "cells" or scanner.skip_space() != "[":
            continue
        cells = []
        for _ in scanner.elements():
            span = None
            if scanner.skip_space() == "{":
                for cell_key in scanner.members():
                    if cell_key == "source":
                        span = _value_span(scanner)
            cells.append(span)
    return cells


def _value_span(scanner: _Scanner) -> SourceSpan:
    start = scanner.pos
    if scanner.skip_space() != "[":
        scanner.skip_value()
        return SourceSpan(start, scanner.pos, None)
    items = []
    for _ in scanner.elements():
        item_start = scanner.pos
        scanner.skip_value()
        items.append((item_start, scanner.pos))
    return SourceSpan(start, scanner.pos, items)


# -- checking ----------------------------------------------------------------------------------


def check(path: str, data: bytes, settings) -> FileResult:
    """Every finding in a notebook's code cells, at ``cell N:row:col``."""
    try:
        virtual = load(data)
    except NotebookError as exc:
        return error_finding(FileResult(path), exc)
    return finish(virtual, check_virtual(path, virtual, settings))


def check_virtual(path: str, virtual: VirtualSource, settings) -> FileResult:
    """Findings on the joined text; a cell that does not parse alone is set aside first."""
    from optlint.static.checker import check_text

    if virtual.open_cells and not virtual.broken:
        # A bracket the next cell closes: the joined text parses, each cell alone does not
        # (Jupyter runs cells one by one: both fail).
        positions = [position for _, _, position in virtual.cells]
        suspects = set(virtual.open_cells)
        suspects.update(positions[i + 1] for i, p in enumerate(positions[:-1]) if p in virtual.open_cells)
        _set_aside_broken_cells(virtual, suspects)
    result = check_text(path, virtual.text, settings)
    if result.error:
        known = len(virtual.broken)
        _set_aside_broken_cells(virtual)
        if len(virtual.broken) > known:
            result = check_text(path, virtual.text, settings)
    return result


def _set_aside_broken_cells(virtual: VirtualSource, only: set[int] | None = None) -> None:
    from optlint.static.source import parse, python_ast

    for (_, _, position), body in zip(virtual.cells, virtual.bodies):
        if (only is not None and position not in only) or position in virtual.broken:
            continue
        _, error = python_ast(body)
        if error is None:
            continue
        try:
            parse(body, error)  # syntax newer than this Python: LibCST may still read it
        except SourceError as exc:
            virtual.broken[position] = exc
    if virtual.broken:
        virtual.assemble()


def finish(virtual: VirtualSource, result: FileResult) -> FileResult:
    """Move findings from the joined text to their cells; add an OPT000 per broken cell."""
    if virtual.cells:
        result.findings = [locate(virtual, f) for f in result.findings]
    for position, exc in sorted(virtual.broken.items()):
        where = Position(exc.row, exc.column)
        file_row = virtual.file_row(position, exc.row)
        message = f"{exc.message} (the other cells are still checked)"
        result.findings.append(Finding(result.path, "OPT000", message, where, where, exc.row, None, position + 1, file_row))
        result.error = True
    result.findings.sort(key=Finding.sort_key)
    return result


def locate(virtual: VirtualSource, finding: Finding) -> Finding:
    """A finding on the virtual text, moved to its cell and the row within that cell."""
    start_row, raw_index, position = virtual.cells[0]
    for first, raw, where in virtual.cells:
        if first <= finding.location.row:
            start_row, raw_index, position = first, raw, where
    shift = start_row - 1
    row = finding.location.row - shift
    return replace(
        finding,
        location=Position(row, finding.location.column),
        end_location=Position(finding.end_location.row - shift, finding.end_location.column),
        noqa_row=(finding.noqa_row - shift) if finding.noqa_row else None,
        cell=raw_index,
        file_row=virtual.file_row(position, row),
        fix=_shift_fix(finding.fix, shift),
    )


def _shift_fix(fix: dict | None, shift: int) -> dict | None:
    if fix is None:
        return None
    edits = []
    for edit in fix["edits"]:
        edits.append(
            {
                "content": edit["content"],
                "location": {"row": edit["location"]["row"] - shift, "column": edit["location"]["column"]},
                "end_location": {"row": edit["end_location"]["row"] - shift, "column": edit["end_location"]["column"]},
            }
        )
    return {**fix, "edits": edits}


# -- writing back ------------------------------------------------------------------------------


def cell_sources(virtual: VirtualSource, text: str) -> dict[int, str]:
    """Split a (fixed) virtual text back into cell sources (notebook index -> source)."""
    chunks = text.split(virtual.boundary + "\n")
    if len(chunks) != len(virtual.cells):
        raise NotebookError("a fix crossed a cell boundary; nothing written")
    placeholder = re.compile(rf"^(\s*)pass  # {re.escape(virtual.token)}-magic-(\d+)$")

    def restore(line: str) -> str:
        match = placeholder.match(line)
        return virtual.magics[int(match.group(2))] if match else line

    out = {}
    for (_, _, position), chunk in zip(virtual.cells, chunks):
        if position in virtual.broken:
            continue  # never rewritten
        new = "\n".join(restore(line) for line in chunk.split("\n"))
        old = _cell_text(virtual.notebook["cells"][position])
        if not old.endswith("\n") and new.endswith("\n"):
            new = new[:-1]
        out[position] = new
    return out


def changed_cells(virtual: VirtualSource, text: str) -> dict[int, tuple[str, str]]:
    """notebook index -> (old source, new source), for the cells a fix changed."""
    out = {}
    for position, new in cell_sources(virtual, text).items():
        old = _cell_text(virtual.notebook["cells"][position])
        if new != old:
            out[position] = (old, new)
    return out


def dump(virtual: VirtualSource, fixed_text: str) -> bytes:
    """The notebook's own bytes with only the changed cells' `source` values replaced."""
    changes = changed_cells(virtual, fixed_text)
    text = virtual.raw
    ascii_only = text.isascii()  # a file written with \\u escapes stays ASCII
    for position in sorted(changes, reverse=True):
        span = virtual.spans[position]
        if span is None:
            raise NotebookError(f"cannot locate the source of cell {position + 1} in the file; nothing written")
        new_value = _render_source(text, span, changes[position][1], ascii_only)
        text = text[: span.start] + new_value + text[span.end :]
    return (b"\xef\xbb\xbf" if virtual.bom else b"") + text.encode("utf-8")


def _render_source(text: str, span: SourceSpan, new: str, ascii_only: bool) -> str:
    """The JSON for a new `source`, laid out like the old one (list or string, same spacing)."""
    if span.items is None:
        return json.dumps(new, ensure_ascii=ascii_only)
    # Unchanged lines keep their exact original spelling (escapes and all).
    spelled: dict[str, str] = {}
    for start, end in span.items:
        spelled.setdefault(json.loads(text[start:end]), text[start:end])
    items = [spelled.get(line) or json.dumps(line, ensure_ascii=ascii_only) for line in _split_lines(new)]
    if not span.items:
        return "[" + ", ".join(items) + "]"
    first_start, first_end = span.items[0]
    last_end = span.items[-1][1]
    before = text[span.start + 1 : first_start]
    after = text[last_end : span.end - 1]
    between = text[first_end : span.items[1][0]] if len(span.items) > 1 else "," + before
    return "[" + before + between.join(items) + after + "]"


def diff(virtual: VirtualSource, fixed_text: str, shown: str, unified_diff) -> str:
    """Per-cell hunks (`--- nb.ipynb:cell 4`, rows in the cell), as ruff shows notebooks."""
    out = []
    for position, (old, new) in sorted(changed_cells(virtual, fixed_text).items()):
        name = f"{shown}:cell {position + 1}"
        out.append(unified_diff(old, new, name))
    return "".join(out)

