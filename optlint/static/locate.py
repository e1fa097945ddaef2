"""Rows, columns and source text of ``ast`` nodes, the way output and fixes need them.

CPython's ``ast`` gives 1-based rows and *UTF-8 byte* columns, and splits lines the way
its tokenizer does (``\\r\\n``, ``\\r`` and ``\\n``; never form feeds or other Unicode
line breaks). Output wants character columns, so columns are converted here, once, for
the few nodes a finding or a fix names. The file's text is never re-split per question.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Span:
    """A 1-based row and 0-based character column range, end exclusive."""

    row: int
    column: int
    end_row: int
    end_column: int


class SourceText:
    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        for match in _LINE_BREAK.finditer(text):
            starts.append(match.end())
        self.line_starts = starts
        self.newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")

    def line(self, row: int) -> str:
        """Row `row` (1-based) without its line break."""
        if not 0 < row <= len(self.line_starts):
            return ""
        start = self.line_starts[row - 1]
        end = self.line_starts[row] if row < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def char_column(self, row: int, byte_column: int) -> int:
        line = self.line(row)
        if line.isascii():
            return byte_column
        return len(line.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> Span:
        span = Span(
            node.lineno,
            self.char_column(node.lineno, node.col_offset),
            node.end_lineno,
            self.char_column(node.end_lineno, node.end_col_offset),
        )
        if isinstance(node, (ast.GeneratorExp, ast.Tuple)):
            # CPython counts the parentheses around a generator (its own, or the call's it
            # shares: `sum(p for p in x)`) and around a parenthesized tuple as the node's;
            # LibCST and users point at what is inside them.
            first = self.line(span.row)[span.column : span.column + 1]
            last = self.line(span.end_row)[span.end_column - 1 : span.end_column]
            if first == "(" and last == ")":
                return Span(span.row, span.column + 1, span.end_row, span.end_column - 1)
        return span

    def offset(self, row: int, column: int) -> int:
        """The index in the text of a 1-based row and a 0-based character column."""
        return self.line_starts[row - 1] + column

    def segment(self, node: ast.AST) -> str:
        """The exact source text of `node` (comments and line breaks inside it included)."""
        span = self.span(node)
        return self.text[self.offset(span.row, span.column) : self.offset(span.end_row, span.end_column)]

    def short(self, node: ast.AST, limit: int = 60) -> str:
        """The code of a node on one line, shortened for messages."""
        try:
            text = " ".join(self.segment(node).split())
        except (AttributeError, TypeError, IndexError):  # a node built by optlint has no position
            text = ast.unparse(node)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def indent(self, row: int) -> str:
        line = self.line(row)
        return line[: len(line) - len(line.lstrip(" \t"))]
