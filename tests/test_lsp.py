"""`optlint server` end to end: a real LSP client (pytest-lsp) drives the server process.

The server is started with the command the README's editor snippets (VS Code, Neovim, Helix)
name, so the README's editor section is exercised here. What the server reports is compared
with what `optlint check --output-format json` reports on the same text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("pytest_lsp")
import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from conftest import ROOT  # noqa: E402
from optlint.cli import main  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")
EDITORS = README.split("\n### Editors (language server)\n", 1)[1].split("\n### ", 1)[0]


def _snippet_commands() -> dict[str, list[str]]:
    """The server command each editor snippet of the README names."""
    [vscode] = re.findall(r"```json\n(.*?)```", EDITORS, re.S)
    [neovim] = re.findall(r"```lua\n(.*?)```", EDITORS, re.S)
    [helix] = re.findall(r"```toml\n(.*?)```", EDITORS, re.S)
    code = json.loads(vscode)
    helix_server = tomllib.loads(helix)["language-server"]["optlint"]
    [lua_cmd] = re.findall(r"cmd = \{(.*?)\}", neovim)
    return {
        "vscode": [code["glspc.server.command"], *code["glspc.server.commandArguments"]],
        "neovim": re.findall(r'"([^"]*)"', lua_cmd),
        "helix": [helix_server["command"], *helix_server["args"]],
    }


def test_the_readme_snippets_name_one_real_command():
    commands = _snippet_commands()
    assert commands["vscode"] == commands["neovim"] == commands["helix"] == ["optlint", "server"]
    assert '"python"' in EDITORS and "unsafeFixes" in EDITORS


def _server_command() -> list[str]:
    """The README's command, its program taken from this environment's scripts."""
    program, *args = _snippet_commands()["helix"]
    script = Path(sys.executable).parent / program
    return [str(script) if script.exists() else program, *args]


SOURCE = (
    "import torch\n"
    "\n"
    's = "\U0001F600"; opt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n'  # an emoji: 2 UTF-16 units
)
CLEAN = "import torch\n\nopt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"ignored.py" = ["OPT001"]}\n')
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def _cli(args: list[str], cwd: Path, stdin: str | None = None):
    """`optlint` in this process (a subprocess per call would cost seconds on a loaded machine)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


def _check_json(path: Path) -> list[dict]:
    run = _cli(["check", "--output-format", "json", path.name], path.parent)
    assert run.exit_code in (0, 1), run.stderr
    return json.loads(run.stdout)


def _utf16_column(line: str, column: int) -> int:
    """A 1-based code-point column as a 0-based UTF-16 offset (what LSP clients count)."""
    return len(line[: column - 1].encode("utf-16-le")) // 2


def _open(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text))
    )
    return uri


async def _diagnostics(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    while uri not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics.pop(uri))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=_server_command()))
async def client(lsp_client: LanguageClient, tmp_path):
    # The capabilities VS Code announces (UTF-16 positions, code action kinds, notebooks).
    params = types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), root_uri=tmp_path.as_uri())
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_diagnostics_are_what_check_reports_and_follow_edits(client: LanguageClient, project):
    path = project / "train.py"
    uri = _open(client, path, SOURCE)
    [diagnostic] = await _diagnostics(client, uri)
    [expected] = _check_json(path)
    line = SOURCE.splitlines()[expected["location"]["row"] - 1]
    assert diagnostic.code == expected["code"] == "OPT001"
    assert diagnostic.message == expected["message"] and diagnostic.source == "optlint"
    assert diagnostic.range.start.line == expected["location"]["row"] - 1
    # the client counts UTF-16 units: the emoji before the call moves it one unit right
    assert diagnostic.range.start.character == _utf16_column(line, expected["location"]["column"])
    assert diagnostic.range.start.character == expected["location"]["column"]  # (code points - 1) + 1 for the emoji
    assert diagnostic.code_description.href == expected["url"]

    # hover on the finding: its rule and the rule page
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start)
    )
    assert "decay-all-params" in hover.contents.value and expected["url"] in hover.contents.value

    # an edit that sets weight_decay=0.0 clears the diagnostic
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=CLEAN)],
        )
    )
    assert await _diagnostics(client, uri) == []

    # on save the file's settings are read again: a config edited meanwhile applies
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=SOURCE)],
        )
    )
    assert [d.code for d in await _diagnostics(client, uri)] == ["OPT001"]
    config = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(config + 'ignore = ["OPT001"]\n')
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert await _diagnostics(client, uri) == []
    (project / "pyproject.toml").write_text(config)

    # per-file-ignores of the project's pyproject.toml apply, as in `optlint check`
    ignored = project / "ignored.py"
    ignored.write_text(SOURCE, encoding="utf-8")
    assert _check_json(ignored) == []
    assert await _diagnostics(client, _open(client, ignored, SOURCE)) == []

    # an invalid config is a message naming it (as `check` exits 2 naming it), not a crash
    broken = project / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[tool.optlint]\nselect = 3\n")
    assert await _diagnostics(client, _open(client, broken / "new.py", SOURCE)) == []  # not saved yet
    (broken / "t.py").write_text(SOURCE, encoding="utf-8")
    assert _cli(["check", "t.py"], broken).exit_code == 2
    [message] = client.messages
    assert message.type == types.MessageType.Error and "select" in message.message

    # an unsaved buffer (no file yet) is checked too
    untitled = "untitled:Untitled-1"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=untitled, language_id="python", version=1, text=SOURCE))
    )
    assert [d.code for d in await _diagnostics(client, untitled)] == ["OPT001"]


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) as an editor would."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        before = "".join(lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units, chars = 0, 0
        while units < position.character and chars < len(line):
            units += len(line[chars].encode("utf-16-le")) // 2
            chars += 1
        return len(before) + chars

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
        lines = text.splitlines(keepends=True)
    return text


def _cli_knows_safety() -> bool:
    return any("--unsafe-fixes" in p.opts for p in main.commands["check"].params)


def _fixed_by_cli(path: Path, unsafe: bool) -> str:
    """What `optlint check --fix` writes (with --unsafe-fixes when asked and available)."""
    args = ["check", "--fix", "-", "--stdin-filename", path.name]
    if unsafe and _cli_knows_safety():
        args.insert(2, "--unsafe-fixes")
    return _cli(args, path.parent, stdin=path.read_text(encoding="utf-8")).stdout


@pytest.mark.asyncio
async def test_code_actions_by_safety_level(client: LanguageClient, project):
    path = project / "train.py"
    uri = _open(client, path, SOURCE)
    [diagnostic] = await _diagnostics(client, uri)
    [expected] = _check_json(path)
    level = expected["fix"]["applicability"]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    [action] = quick
    assert action.diagnostics[0].code == "OPT001"
    assert ("unsafe" in action.title) == (level == "unsafe") and bool(action.is_preferred) == (level == "safe")
    # the quick fix makes the same text as `--fix` (one finding, one fix)
    assert _apply(SOURCE, action.edit.changes[uri]) == _fixed_by_cli(path, unsafe=True)

    # fix-all applies safe fixes only, unless the client asked for unsafe ones at start-up
    fix_all = [a for a in actions if a.kind == "source.fixAll.optlint"]
    if level == "safe":
        [one] = fix_all
        assert _apply(SOURCE, one.edit.changes[uri]) == _fixed_by_cli(path, unsafe=False)
    else:
        assert fix_all == []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=_server_command()))
async def unsafe_client(lsp_client: LanguageClient, tmp_path):
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
        initialization_options={"unsafeFixes": True},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_fix_all_with_unsafe_fixes_is_what_fix_writes_and_notebook_cells_get_diagnostics(unsafe_client: LanguageClient, project):
    client = unsafe_client
    path = project / "train.py"
    uri = _open(client, path, SOURCE)
    await _diagnostics(client, uri)
    [action] = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    assert action.kind == "source.fixAll.optlint"
    assert _apply(SOURCE, action.edit.changes[uri]) == _fixed_by_cli(path, unsafe=True)

    # A notebook document (LSP 3.17): cells are checked as one program, as `check nb.ipynb` does.
    cells = ["import torch\n", "# notes\n", "opt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n"]
    notebook = project / "nb.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }))
    cell_uris = [f"vscode-notebook-cell:{notebook.as_posix()}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook.as_uri(), notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cell_uris],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id="python", version=1, text=c) for u, c in zip(cell_uris, cells)
            ],
        )
    )
    [expected] = _check_json(notebook)
    [diagnostic] = await _diagnostics(client, cell_uris[expected["cell"] - 1])
    assert expected["cell"] == 3 and diagnostic.code == expected["code"] == "OPT001"
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (
        expected["location"]["row"] - 1,
        expected["location"]["column"] - 1,
    )
    for other in cell_uris[:2]:
        assert await _diagnostics(client, other) == []

    # its quick fix edits the cell: the cell then holds what `--fix` writes into the notebook
    [quick] = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=cell_uris[2]),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    assert quick.kind == types.CodeActionKind.QuickFix
    fixed_cell = _apply(cells[2], quick.edit.changes[cell_uris[2]])
    _cli(["check", "--fix", *(["--unsafe-fixes"] if _cli_knows_safety() else []), "nb.ipynb"], project)
    assert json.loads(notebook.read_text())["cells"][2]["source"] == fixed_cell


def test_server_without_the_extra_says_what_to_install(tmp_path):
    # A Python where pygls cannot be imported: the message names the extra, exit 2.
    blocker = tmp_path / "pygls.py"
    blocker.write_text("raise ImportError('blocked for this test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "optlint", "server"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and 'optlint[lsp]' in run.stderr


@pytest.mark.asyncio
async def test_other_modules_are_read_as_the_editor_holds_them(client: LanguageClient, project):
    # train.py imports its decay from config.py: the open buffer of config.py (unsaved) counts
    (project / "config.py").write_text("WD = 0.05\n")
    train = "import torch\nfrom config import WD\nopt = torch.optim.AdamW(model.parameters(), weight_decay=WD)\n"
    (project / "train.py").write_text(train)
    [finding] = _check_json(project / "train.py")  # on disk: 0.05, a finding that names config.py
    assert "config.py:1" in finding["message"]
    config_uri = _open(client, project / "config.py", "WD = 0.0\n")
    await _diagnostics(client, config_uri)
    uri = _open(client, project / "train.py", train)
    assert await _diagnostics(client, uri) == []
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=config_uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="WD = 0.1\n")],
        )
    )
    await _diagnostics(client, config_uri)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    [diagnostic] = await _diagnostics(client, uri)
    assert "weight_decay=0.1 from `WD` in config.py:1" in diagnostic.message
