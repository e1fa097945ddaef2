"""Fixes as edits anchored on nodes, rendered late through LibCST.

Rules decide *whether* and *what* to fix on CPython's ``ast`` (the model every rule reads);
a fix is a list of ``RawEdit``s anchored on ``ast`` nodes, each with a ``render`` function.
Rendering happens only when an output or ``--fix``/``--diff`` needs the edit text, so a
plain ``optlint check`` never imports LibCST. Then LibCST is the engine of the rewrite:
the statement that holds the node is parsed on its own (a few lines, not the file), the
node is found in that concrete tree, and the edit's text (``text``) and its bounds (the
node's own parentheses included, comments never counted as brackets) come from it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable

from optlint.static.source import too_long_a_chain
from optlint.static.locate import SourceText, Span


class NoFix(Exception):
    """No safe rewrite: the message says why."""


@dataclass(frozen=True)
class Layout:
    """How the file around the edit looks: the edited line's indentation and newline."""

    indent: str
    newline: str
    #: for "insert-before": the statement does not start its row (`s = """..."""; opt = f(x)`,
    #: `for h in hs: g(h)`), so the text goes right before it on the same row, ending in "; "
    inline: bool = False


@dataclass
class RawEdit:
    node: ast.AST
    render: Callable[[Layout, "CstView"], str]
    kind: str = "replace"  # "replace": the node's text; "insert-before": before its statement
    # (at the row's start, or inline when the statement does not start its row);
    # "replace-statement": a statement's own span; "delete-statement": the node's whole lines
    #: The edit covers the node's own parentheses too (`(p for p in x)` bound to a name).
    with_parens: bool = False


@dataclass
class RawFix:
    message: str
    edits: list[RawEdit] = field(default_factory=list)
    #: ruff's terms. "safe": its only effect is the one the finding names (the decay of the
    #: named parameters); `--fix` applies it. "unsafe": it has a caveat the file cannot rule
    #: out (the message says what to check); only `--unsafe-fixes` applies it.
    #: "display-only": shown, never applied.
    applicability: str = "safe"
    #: what to check before applying an unsafe fix (one line each, naming the line)
    caveats: list[str] = field(default_factory=list)


#: ast node types and the LibCST node types that stand for them.
_CST_TYPES = {
    "Call": ("Call",), "Name": ("Name",), "Attribute": ("Attribute",), "Dict": ("Dict",),
    "List": ("List",), "Tuple": ("Tuple",), "Set": ("Set",), "ListComp": ("ListComp",),
    "SetComp": ("SetComp",), "DictComp": ("DictComp",), "GeneratorExp": ("GeneratorExp",),
    "Compare": ("Comparison",), "BoolOp": ("BooleanOperation",), "UnaryOp": ("UnaryOperation",),
    "BinOp": ("BinaryOperation",), "Lambda": ("Lambda",), "Subscript": ("Subscript",),
    "IfExp": ("IfExp",), "NamedExpr": ("NamedExpr",), "Starred": ("StarredElement",),
    "JoinedStr": ("FormattedString",), "Await": ("Await",),
    "Constant": ("Integer", "Float", "Imaginary", "SimpleString", "ConcatenatedString", "Name", "Ellipsis"),
}


class CstView:
    """LibCST trees of the statements that fixes edit, parsed one statement at a time."""

    def __init__(self, source: SourceText, model) -> None:
        self.source = source
        self.model = model  # for parent links (statement lookup)
        self._snippets: dict[int, tuple] = {}

    # -- finding a node's concrete twin ------------------------------------------------------

    def _statement_of(self, node: ast.AST) -> ast.AST:
        probe = node
        while probe is not None and not isinstance(probe, ast.stmt):
            probe = self.model.parent_of(probe)
        return probe if probe is not None else self.model.tree

    def _snippet(self, statement: ast.AST):
        """(module, positions, first row) for the smallest statement around `statement`
        that LibCST can parse on its own (an `elif`/`else:` line is not a statement start)."""
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider

        probe = statement
        while True:
            key = id(probe)
            if key in self._snippets:
                return self._snippets[key]
            if isinstance(probe, ast.Module):
                first, last = 1, len(self.source.line_starts)
            else:
                first, last = probe.lineno, probe.end_lineno
            lines = [self.source.line(row) for row in range(first, last + 1)]
            text = "\n".join(lines) + "\n"
            if too_long_a_chain(text):
                raise NoFix("the statement is too long a chain for LibCST to rewrite safely")
            indented = bool(lines[0][:1].isspace())
            wrapped = ("if True:\n" + text) if indented else text
            try:
                module = cst.parse_module(wrapped)
            except Exception:  # noqa: BLE001 - a partial line (`else: x`): try the statement around it
                if isinstance(probe, ast.Module):
                    raise NoFix("LibCST cannot parse the statement to rewrite") from None
                probe = self._statement_of(self.model.parent_of(probe)) if self.model.parent_of(probe) else self.model.tree
                continue
            positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
            row_offset = first - (2 if indented else 1)
            found = (module, positions, row_offset)
            self._snippets[id(statement)] = self._snippets[key] = found
            return found

    def _twin(self, node: ast.AST):
        """(cst node, module, positions, row offset) for an ast node."""
        module, positions, row_offset = self._snippet(self._statement_of(node))
        span = self.source.span(node)
        wanted = _CST_TYPES.get(type(node).__name__)
        best = None
        for cst_node, where in positions.items():
            if wanted is not None and type(cst_node).__name__ not in wanted:
                continue
            start = (where.start.line + row_offset, where.start.column)
            end = (where.end.line + row_offset, where.end.column)
            if start >= (span.row, span.column) and end <= (span.end_row, span.end_column):
                size = (end[0] - start[0], end[1] - start[1]) if end[0] != start[0] else (0, end[1] - start[1])
                if best is None or (start, (-size[0], -size[1])) < (best[1], best[2]):
                    best = (cst_node, start, (-size[0], -size[1]))
        if best is None:
            raise NoFix("the node to rewrite was not found in LibCST's tree")
        return best[0], module, positions, row_offset

    # -- what renderers and placement use ----------------------------------------------------

    def text(self, node: ast.AST) -> str:
        """The node's code as LibCST prints it (its own parentheses left out)."""
        cst_node, module, _, _ = self._twin(node)
        return module.code_for_node(cst_node)

    def has_comment(self, node: ast.AST) -> bool:
        """Whether the node's code holds a comment (strings that contain `#` do not count)."""
        import libcst as cst

        cst_node, _, _, _ = self._twin(node)

        class _Finder(cst.CSTVisitor):
            found = False

            def visit_Comment(self, _node) -> None:
                _Finder.found = True

        cst_node.visit(_Finder())
        return _Finder.found

    def bounds(self, node: ast.AST, with_parens: bool) -> Span:
        """The node's range in the file; with its own parentheses when asked."""
        cst_node, module, positions, row_offset = self._twin(node)
        where = positions[cst_node]
        start_row, start_col = where.start.line + row_offset, where.start.column
        end_row, end_col = where.end.line + row_offset, where.end.column
        if with_parens and getattr(cst_node, "lpar", None):
            # LibCST attached these parentheses to the node: their own positions bound the edit
            # (a bracket inside a comment between them is never counted).
            opening, closing = positions[cst_node.lpar[0]], positions[cst_node.rpar[-1]]
            start_row, start_col = opening.start.line + row_offset, opening.start.column
            end_row, end_col = closing.end.line + row_offset, closing.end.column
        return Span(start_row, start_col, end_row, end_col)


def caveat_note(fix: "RawFix | None") -> str:
    """What a finding says about its unsafe fix: what to check before `--unsafe-fixes`."""
    if fix is None or fix.applicability != "unsafe" or not fix.caveats:
        return ""
    return f" (unsafe fix, applied only with --unsafe-fixes; check first: {'; '.join(fix.caveats)})"


def render_fix(fix: RawFix, source: SourceText, view: CstView) -> dict:
    """A RawFix as the output contract's fix: message, applicability, text edits (1-based)."""
    edits = []
    for edit in fix.edits:
        row = edit.node.lineno
        layout = Layout(source.indent(row), source.newline)
        if edit.kind == "insert-before":
            span = source.span(edit.node)
            if source.line(row)[: span.column].strip():
                # The row starts inside another statement (a multi-line string's last line, a
                # one-line block's header): insert right before this statement, on its row.
                layout = Layout(layout.indent, layout.newline, inline=True)
                start = end = (row, span.column + 1)
            else:
                start = end = (row, 1)
        elif edit.kind == "replace-statement":  # a statement's own span (ast's positions)
            span = source.span(edit.node)
            start, end = (span.row, span.column + 1), (span.end_row, span.end_column + 1)
        elif edit.kind == "delete-statement":  # whole lines, their line break included
            last = edit.node.end_lineno
            start = (row, 1)
            if last < len(source.line_starts) - 1 or source.text.endswith(("\n", "\r")):
                end = (last + 1, 1)
            else:
                end = (last, len(source.line(last)) + 1)
        else:
            span = view.bounds(edit.node, edit.with_parens)
            start, end = (span.row, span.column + 1), (span.end_row, span.end_column + 1)
        content = edit.render(layout, view)
        edits.append(
            {
                "content": content,
                "location": {"row": start[0], "column": start[1]},
                "end_location": {"row": end[0], "column": end[1]},
            }
        )
    return {"message": fix.message, "applicability": fix.applicability, "edits": edits}
