"""Small helpers over LibCST expressions: dotted names and source text."""

from __future__ import annotations

import libcst as cst

_EMPTY_MODULE = cst.Module(body=[])


def dotted_name(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def source_text(node: cst.CSTNode, limit: int = 60) -> str:
    """The code of a node on one line, shortened for messages."""
    text = " ".join(_EMPTY_MODULE.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
