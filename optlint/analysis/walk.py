"""A lean tree walk with LibCST's visitor method names (visit_X / leave_X / visit_X_attr).

LibCST's own dispatch looks up a visitor method for every node *and every attribute* by
formatted name; on the torch tree that cost 2.5x the parse itself. This walk resolves
each visitor's methods once per node type, and skips the whitespace, parenthesis and
punctuation fields that never hold code.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header",
        "footer", "equal", "colon", "dot", "star", "asynchronous", "operator", "whitespace",
        "newline", "trailing_whitespace", "default_indent", "default_newline", "encoding",
    }
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in _SKIPPED_FIELDS and "whitespace" not in f.name
        )
        _FIELDS[cls] = names
    return names


class _Dispatch:
    """A visitor's methods, resolved once per node type."""

    def __init__(self, visitor) -> None:
        self.visitor = visitor
        self._table: dict[type, tuple] = {}

    def methods(self, cls: type) -> tuple:
        entry = self._table.get(cls)
        if entry is None:
            name = cls.__name__
            get = lambda attr: getattr(self.visitor, attr, None)  # noqa: E731
            per_field = tuple(
                (field, get(f"visit_{name}_{field}"), get(f"leave_{name}_{field}")) for field in _fields(cls)
            )
            entry = (get(f"visit_{name}"), get(f"leave_{name}"), per_field)
            self._table[cls] = entry
        return entry


def walk(visitor, node: cst.CSTNode) -> None:
    """Visit `node` and its code-bearing descendants in field order (source order for code)."""
    _walk(_Dispatch(visitor), node)


def _walk(dispatch: _Dispatch, node) -> None:
    visit, leave, fields = dispatch.methods(type(node))
    if visit is not None and visit(node) is False:
        return
    for field, before, after in fields:
        value = getattr(node, field)
        if before is not None:
            before(node)
        if isinstance(value, cst.CSTNode):
            _walk(dispatch, value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    _walk(dispatch, item)
        if after is not None:
            after(node)
    if leave is not None:
        leave(node)
