"""Jupyter notebooks: check code cells as one program, report ``nb.ipynb:cell N:row:col``.

Code cells are joined with a boundary comment between them. IPython syntax that is not
Python (``%magic``, ``!shell``, ``x = !cmd``, ``obj?``) becomes ``pass`` with a unique
marker and is restored afterwards; a cell magic (``%%bash``) skips its whole cell. A fix
rewrites only the cells it changes: outputs, metadata and the rest of the JSON stay as
they were (written back with the file's own indentation).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from optlint.source import SourceError
from optlint.findings import Finding, Position

BOUNDARY = "# optlint: cell boundary"
_MAGIC = re.compile(r"^\s*(?:[%!]|\w[\w.]*\s*=\s*[%!]|[\w.]+\?{1,2}\s*$)")
_PLACEHOLDER = re.compile(r"^(\s*)pass  # optlint-magic-(\d+)$")


class NotebookError(SourceError):
    """A notebook that cannot be read (its position is in the JSON file)."""


@dataclass
class VirtualSource:
    notebook: dict
    text: str
    #: (first virtual row, raw cell index 1-based, index into notebook["cells"])
    cells: list[tuple[int, int, int]] = field(default_factory=list)
    magics: list[str] = field(default_factory=list)
    indent: int | None = 1
    trailing_newline: bool = True


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def load(data: bytes) -> VirtualSource:
    try:
        text = data.decode("utf-8-sig")
        notebook = json.loads(text)
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not valid UTF-8: byte {data[exc.start]:#04x} cannot be decoded") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("not a Jupyter notebook: no list of cells")
    indent = _json_indent(text)
    virtual = VirtualSource(notebook, "", indent=indent, trailing_newline=text.endswith("\n"))
    parts: list[str] = []
    row = 1
    for position, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _cell_text(cell)
        if source.lstrip().startswith("%%"):
            continue  # a cell magic: the whole cell is another language
        lines = source.split("\n")
        for i, line in enumerate(lines):
            if _MAGIC.search(line):
                indent_text = line[: len(line) - len(line.lstrip())]
                lines[i] = f"{indent_text}pass  # optlint-magic-{len(virtual.magics)}"
                virtual.magics.append(line)
        body = "\n".join(lines)
        if parts:
            parts.append(BOUNDARY + "\n")
            row += 1
        virtual.cells.append((row, position + 1, position))
        parts.append(body if body.endswith("\n") else body + "\n")
        row += body.count("\n") + (0 if body.endswith("\n") else 1)
    virtual.text = "".join(parts)
    return virtual


def _json_indent(text: str) -> int | None:
    match = re.search(r'\{\n( +)"', text)
    return len(match.group(1)) if match else None


def locate(virtual: VirtualSource, finding: Finding) -> Finding:
    """A finding on the virtual text, moved to its cell and the row within that cell."""
    start_row, raw_index = virtual.cells[0][0], virtual.cells[0][1]
    for first, raw, _ in virtual.cells:
        if first <= finding.location.row:
            start_row, raw_index = first, raw
    shift = start_row - 1
    return replace(
        finding,
        location=Position(finding.location.row - shift, finding.location.column),
        end_location=Position(finding.end_location.row - shift, finding.end_location.column),
        noqa_row=(finding.noqa_row - shift) if finding.noqa_row else None,
        cell=raw_index,
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


def cell_sources(virtual: VirtualSource, text: str) -> list[str]:
    """Split a (fixed) virtual text back into cell sources, with the magics restored."""
    chunks = text.split(BOUNDARY + "\n")
    if len(chunks) != len(virtual.cells):
        raise NotebookError("a fix crossed a cell boundary")

    def restore(line: str) -> str:
        match = _PLACEHOLDER.match(line)
        return virtual.magics[int(match.group(2))] if match else line

    return ["\n".join(restore(line) for line in chunk.split("\n")) for chunk in chunks]


def dump(virtual: VirtualSource, fixed_text: str) -> bytes:
    """The notebook with only the changed cells' sources replaced."""
    notebook = virtual.notebook
    for (_, _, position), new in zip(virtual.cells, cell_sources(virtual, fixed_text)):
        cell = notebook["cells"][position]
        old = _cell_text(cell)
        if not old.endswith("\n") and new.endswith("\n"):
            new = new[:-1]
        if new == old:
            continue
        lines = new.splitlines(keepends=True)
        cell["source"] = lines if isinstance(cell.get("source"), list) else new
    out = json.dumps(notebook, indent=virtual.indent, ensure_ascii=False)
    return (out + ("\n" if virtual.trailing_newline else "")).encode("utf-8")
