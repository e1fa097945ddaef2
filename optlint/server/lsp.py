"""The language server itself (pygls 2, LSP 3.17), a thin layer over ``optlint.document``.

- Diagnostics on open, change and save: ``check_document`` with the settings ``optlint check``
  reads for the file's path (nearest config, per-file ignores; a file the config excludes gets
  none, as with ``--force-exclude``). Notebooks opened as notebook documents (LSP 3.17) are
  checked as one program, as ``optlint check nb.ipynb`` does, with diagnostics on their cells.
- Code actions: a quick fix per finding whose fix is safe or unsafe (unsafe ones say so in
  the title and are never "preferred"; display-only fixes are not offered), verified to
  compile like ``--fix``; and ``source.fixAll.optlint``, which applies the safe fixes through
  the same fix loop as ``--fix`` (unsafe ones too with the initialization option
  ``{"unsafeFixes": true}``). In a notebook, quick fixes apply to the cell they are in.
- Hover on a finding: its rule, and a link to the rule page (also each diagnostic's
  ``codeDescription``), the URL the JSON output's ``url`` holds.

Positions: findings count columns in code points; the client's encoding (UTF-16 unless it
negotiated another) is applied here, at the edge.
"""

from __future__ import annotations

import json
import os
import re

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from optlint import __version__
from optlint.document import SAFE, UNSAFE, SettingsError, check_document, fix_applicability, fix_document, settings_for
from optlint.findings import Finding
from optlint.registry import all_rules

FIX_ALL = "source.fixAll.optlint"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # rows as Python (and LSP) break them


class OptlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "optlint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(notebook="*", cells=[types.NotebookCellLanguage(language="python")])
                ],
                save=True,
            ),
        )
        self.unsafe_fixes = False
        #: per document (or notebook cell) URI: the findings shown and their diagnostics
        self.shown: dict[str, list[tuple[Finding, types.Diagnostic]]] = {}


# -- positions ---------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _position(lines: list[str], codec, row: int, column: int) -> types.Position:
    """A 1-based row and code-point column as the client counts them."""
    return codec.position_to_client_units(lines, types.Position(line=row - 1, character=column - 1))


def _range(lines: list[str], codec, start: dict | object, end: dict | object) -> types.Range:
    def row_column(point) -> tuple[int, int]:
        return (point["row"], point["column"]) if isinstance(point, dict) else (point.row, point.column)

    return types.Range(start=_position(lines, codec, *row_column(start)), end=_position(lines, codec, *row_column(end)))


def _contains(outer: types.Range, position: types.Position) -> bool:
    start, end = outer.start, outer.end
    return (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


# -- diagnostics -------------------------------------------------------------------------------


def _diagnostic(finding: Finding, lines: list[str], codec) -> types.Diagnostic:
    rule = all_rules().get(finding.code)
    url = rule.url() if rule is not None else None
    return types.Diagnostic(
        range=_range(lines, codec, finding.location, finding.end_location),
        message=finding.message,
        # a file optlint cannot read or parse is an error; a rule's finding is a warning, as in ruff's server
        severity=types.DiagnosticSeverity.Error if finding.code == "OPT000" else types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(href=url) if url else None,
        source="optlint",
        data={"fix": fix_applicability(finding.fix)},
    )


def _path(uri: str) -> str:
    return to_fs_path(uri) or os.path.join(os.getcwd(), "untitled.py")


def _settings(ls: OptlintServer, path: str):
    """The settings `optlint check` uses for `path`, or None (after telling the user) when the
    configuration is invalid or excludes the file."""
    try:
        settings, excluded = settings_for(path)
    except SettingsError as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"optlint: {exc}"))
        return None
    return None if excluded else settings


def _publish(ls: OptlintServer, uri: str, pairs: list, version: int | None) -> None:
    ls.shown[uri] = pairs
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=[d for _, d in pairs], version=version)
    )


def lint_document(ls: OptlintServer, uri: str) -> None:
    if ls.workspace.get_notebook_document(cell_uri=uri) is not None:
        return  # a notebook cell: checked with its notebook
    doc = ls.workspace.get_text_document(uri)
    path = _path(uri)
    if path.endswith(".ipynb") or not (path.endswith((".py", ".pyi")) or doc.language_id == "python"):
        return
    settings = _settings(ls, path)
    if settings is None:
        _publish(ls, uri, [], doc.version)
        return
    text = doc.source
    lines = _lines(text)
    _see_open_documents(ls, path, settings)
    result = check_document(path, text, settings)
    pairs = [(f, _diagnostic(f, lines, doc.position_codec)) for f in result.findings]
    _publish(ls, uri, pairs, doc.version)


def _see_open_documents(ls: OptlintServer, path: str, settings) -> None:
    """Other modules are read as the editor holds them: every open Python document's text
    (saved or not) stands for its file. The project is rebuilt for each check, so a module
    changed on disk or in a buffer is never read stale."""
    from optlint.static.project import project_with_overrides

    overrides = {}
    for uri, doc in list(ls.workspace.text_documents.items()):
        other = _path(uri)
        if other != path and other.endswith(".py"):
            overrides[other] = doc.source
    project_with_overrides(path, settings, overrides)


def lint_notebook(ls: OptlintServer, notebook_uri: str) -> None:
    """Check a notebook's cells as ``optlint check nb.ipynb`` would, from the editor's buffers."""
    notebook = ls.workspace.get_notebook_document(notebook_uri=notebook_uri)
    if notebook is None:
        return
    cells, documents = [], []
    for cell in notebook.cells:
        doc = ls.workspace.get_text_document(cell.document)
        documents.append(doc)
        if cell.kind == types.NotebookCellKind.Code:
            cells.append({"cell_type": "code", "metadata": {}, "source": doc.source, "outputs": [], "execution_count": None})
        else:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": doc.source})
    path = _path(notebook_uri)
    if not path.endswith(".ipynb"):
        path += ".ipynb"
    settings = _settings(ls, path)
    per_cell: list[list] = [[] for _ in documents]
    if settings is not None:
        data = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        for finding in check_document(path, data, settings).findings:
            index = (finding.cell or 1) - 1
            if not 0 <= index < len(documents):
                continue
            # A notebook finding's fix edits count rows in its cell: quick fixes apply to the cell.
            doc = documents[index]
            per_cell[index].append((finding, _diagnostic(finding, _lines(doc.source), doc.position_codec)))
    for doc, pairs in zip(documents, per_cell):
        _publish(ls, doc.uri, pairs, doc.version)


# -- code actions and hover ---------------------------------------------------------------------


def _wanted(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _quick_fix(ls: OptlintServer, uri: str, text: str, lines, codec, finding: Finding, diagnostic) -> types.CodeAction | None:
    from optlint.static.apply_fixes import apply_edits, compile_problem

    from optlint.static.source import SourceError

    level = fix_applicability(finding.fix)
    if level not in (SAFE, UNSAFE):
        return None  # display-only: shown in the message, never applied
    try:
        fixed = apply_edits(text, [finding])[0]
    except SourceError:  # an edit outside this document (a notebook fix reaching another cell)
        return None
    if compile_problem(fixed) is not None:
        return None  # as --fix: never offer what this Python cannot compile (nor a cell with magics)
    edits = [
        types.TextEdit(range=_range(lines, codec, e["location"], e["end_location"]), new_text=e["content"])
        for e in finding.fix["edits"]
    ]
    title = f"{finding.fix['message']} ({finding.code})"
    if level == UNSAFE:
        title += " [unsafe: review it, it changes training]"
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={uri: edits}),
        is_preferred=level == SAFE,
    )


def code_actions(ls: OptlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    only = params.context.only
    actions: list[types.CodeAction] = []
    pairs = ls.shown.get(uri, [])
    if not pairs:
        return actions
    doc = ls.workspace.get_text_document(uri)
    text, codec = doc.source, doc.position_codec
    lines = _lines(text)
    if _wanted(only, types.CodeActionKind.QuickFix):
        for finding, diagnostic in pairs:
            if finding.fix is not None and _overlaps(diagnostic.range, params.range):
                action = _quick_fix(ls, uri, text, lines, codec, finding, diagnostic)
                if action is not None:
                    actions.append(action)
    in_notebook = ls.workspace.get_notebook_document(cell_uri=uri) is not None
    if _wanted(only, FIX_ALL) and not in_notebook and any(f.fix is not None for f, _ in pairs):
        path = _path(uri)
        settings = _settings(ls, path)
        if settings is not None:
            fixed_text, _, fixed = fix_document(path, text, settings, unsafe=ls.unsafe_fixes)
            if fixed and fixed_text != text:
                whole = types.Range(start=types.Position(line=0, character=0), end=_position(lines, codec, len(lines), len(lines[-1]) + 1))
                safety = "safe and unsafe" if ls.unsafe_fixes else "safe"
                actions.append(
                    types.CodeAction(
                        title=f"optlint: fix all ({fixed} {safety} fix{'es' if fixed != 1 else ''})",
                        kind=FIX_ALL,
                        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed_text)]}),
                    )
                )
    return actions


def hover(ls: OptlintServer, params: types.HoverParams) -> types.Hover | None:
    hits = [(f, d) for f, d in ls.shown.get(params.text_document.uri, []) if _contains(d.range, params.position)]
    if not hits:
        return None
    parts = []
    for finding, _ in hits:
        rule = all_rules().get(finding.code)
        if rule is None:
            parts.append(f"**{finding.code}**: {finding.message}")
            continue
        parts.append(f"**{rule.code}** `{rule.name}`: {rule.summary}\n\n{finding.message}\n\n[{rule.code} rule page]({rule.url()})")
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
        range=hits[0][1].range,
    )


# -- the server ---------------------------------------------------------------------------------


def build_server() -> OptlintServer:
    server = OptlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: OptlintServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            ls.unsafe_fixes = bool(options.get("unsafeFixes", False))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: OptlintServer, params: types.DidOpenTextDocumentParams) -> None:
        lint_document(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: OptlintServer, params: types.DidChangeTextDocumentParams) -> None:
        lint_document(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: OptlintServer, params: types.DidSaveTextDocumentParams) -> None:
        lint_document(ls, params.text_document.uri)  # a saved config applies from here on

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: OptlintServer, params: types.DidCloseTextDocumentParams) -> None:
        if params.text_document.uri in ls.shown:
            _publish(ls, params.text_document.uri, [], None)
            del ls.shown[params.text_document.uri]

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: OptlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        lint_notebook(ls, params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: OptlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        lint_notebook(ls, params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: OptlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        lint_notebook(ls, params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: OptlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        for cell in params.cell_text_documents:
            if ls.shown.pop(cell.uri, None) is not None:
                ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: OptlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return code_actions(ls, params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: OptlintServer, params: types.HoverParams) -> types.Hover | None:
        return hover(ls, params)

    return server
