"""Notebooks: --fix changes only the fixed cells' `source` bytes; magics, broken cells, positions.

Issue 12 items 4 and 16, and issue 14's notebook items (github/SARIF positions, per-cell
diff, one broken cell must not hide the others).
"""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES
from optlint.cli import main

NOTEBOOKS = FIXTURES / "notebooks"
OPTIMIZER = "optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)\n"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def code_cell(*lines: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": list(lines)}


def write_notebook(path, *cells: dict) -> bytes:
    notebook = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    return path.read_bytes()


def fixed_as_python(code: str, tmp_path) -> str:
    """What --fix makes of the same code in a .py file: a fixed cell must read the same."""
    script = tmp_path / "same_code.py"
    script.write_text(code, encoding="utf-8")
    run("check", "--fix", "-q", str(script))
    return script.read_text(encoding="utf-8")


# -- 4. every byte outside the fixed cells' sources stays -------------------------------------


def test_notebook_fix_keeps_every_byte_outside_the_fixed_source(tmp_path):
    # CRLF, tab indentation, \u00e9 escapes, 1.50, 1e400 and duplicate keys in one file.
    target = tmp_path / "nb.ipynb"
    shutil.copyfile(NOTEBOOKS / "crlf_tabs_escapes.ipynb", target)
    before = target.read_bytes()
    result = run("check", "--fix", str(target))
    assert result.exit_code == 0, result.stdout
    after = target.read_bytes()
    old_line = b'\t\t\t\t"optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)\\n",\r\n'
    cut = before.index(old_line)
    head, tail = before[:cut], before[cut + len(old_line) :]
    assert after.startswith(head) and after.endswith(tail)
    middle = after[len(head) : len(after) - len(tail)]
    new_lines = middle.split(b"\r\n")[:-1]
    assert len(new_lines) == 7 and all(line.startswith(b'\t\t\t\t"') and line.endswith(b'\\n",') for line in new_lines)
    assert after.isascii()  # the file was pure ASCII (escapes): it stays so
    cells = json.loads(after)["cells"]
    fixed_source = "".join(cells[2]["source"])
    old_source = "".join(json.loads(before)["cells"][2]["source"])
    assert fixed_source == fixed_as_python(old_source, tmp_path)
    assert run("check", str(target)).exit_code == 0


def test_notebook_fix_keeps_a_string_source_a_string(tmp_path):
    target = tmp_path / "nb.ipynb"
    cell = {"cell_type": "code", "metadata": {"x": "X"}, "outputs": [], "source": "import torch\n" + OPTIMIZER.rstrip("\n")}
    text = '{"cells": [' + json.dumps(cell).replace('"X"', "1.50") + '], "metadata": {"n": 1e400}, "nbformat": 4, "nbformat_minor": 5}'
    target.write_text(text, encoding="utf-8")
    run("check", "--fix", str(target))
    after = target.read_text(encoding="utf-8")
    source = json.loads(after)["cells"][0]["source"]
    assert isinstance(source, str) and source.startswith("import torch\noptimizer = torch.optim.AdamW(\n")
    assert after.endswith('], "metadata": {"n": 1e400}, "nbformat": 4, "nbformat_minor": 5}')
    assert '"metadata": {"x": 1.50}' in after


def test_user_text_that_looks_like_a_magic_placeholder_is_kept(tmp_path):
    target = tmp_path / "nb.ipynb"
    write_notebook(
        target,
        code_cell("%time x = 1\n", "import torch\n"),
        code_cell("pass  # optlint-magic-0\n", OPTIMIZER),
    )
    assert run("check", "--fix", str(target)).exit_code == 0
    cells = json.loads(target.read_text())["cells"]
    assert cells[0]["source"] == ["%time x = 1\n", "import torch\n"]
    assert cells[1]["source"][0] == "pass  # optlint-magic-0\n"
    assert cells[1]["source"][1] == "optimizer = torch.optim.AdamW(\n"


# -- 16. magics, the boundary comment, the "Fixed" count -------------------------------------


def test_continuation_lines_starting_with_bang_equals_or_percent_are_python(tmp_path):
    target = tmp_path / "nb.ipynb"
    write_notebook(
        target,
        code_cell("%matplotlib inline\n", "ok = (1\n", "      != 2)\n", "rest = (10\n", "        % 3)\n", "x = 1 + \\\n", "    2\n"),
        code_cell('doc = """\n', "%not a magic, a line of a string\n", '"""\n', "!ls\n"),
    )
    result = run("check", "--select", "ALL", "--no-prefilter", str(target))
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_user_cell_boundary_comment_does_not_break_the_fix(tmp_path):
    target = tmp_path / "nb.ipynb"
    write_notebook(target, code_cell("import torch\n", "# optlint: cell boundary\n", OPTIMIZER))
    result = run("check", "--fix", str(target))
    assert result.exit_code == 0, result.stdout
    assert "Fixed 1 finding, 0 remaining" in result.stderr
    source = json.loads(target.read_text())["cells"][0]["source"]
    assert source[1] == "# optlint: cell boundary\n" and source[2] == "optimizer = torch.optim.AdamW(\n"


def test_fixed_count_is_not_claimed_when_the_notebook_cannot_be_written(tmp_path):
    target = tmp_path / "nb.ipynb"
    before = write_notebook(target, code_cell("import torch\n", OPTIMIZER))
    target.chmod(0o444)
    result = run("check", "--fix", str(target))
    assert result.exit_code == 2 and target.read_bytes() == before
    assert "Fixed" not in result.stderr
    assert f"{target}:cell 1:2:13: OPT001" in result.stdout and "OPT000 cannot write the fix" in result.stdout


# -- issue 14: a broken cell, per-cell diff, positions ---------------------------------------


def test_one_syntax_error_cell_does_not_hide_the_other_cells(tmp_path):
    target = tmp_path / "nb.ipynb"
    write_notebook(target, code_cell("import torch\n"), code_cell("def broken(:\n", "    pass\n"), code_cell(OPTIMIZER))
    result = run("check", str(target))
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{target}:cell 2:1:12: OPT000 syntax error")
    assert "(the other cells are still checked)" in lines[0]
    assert lines[1].startswith(f"{target}:cell 3:1:13: OPT001 [*] AdamW decays")


def test_notebook_diff_shows_per_cell_hunks(tmp_path):
    target = tmp_path / "train.ipynb"
    shutil.copyfile(NOTEBOOKS / "train.ipynb", target)
    result = run("check", "--diff", str(target))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"--- {target}:cell 4",
        f"+++ {target}:cell 4",
        "@@ -1,3 +1,9 @@",
        " lr = 1e-3",
    ]
    assert "+optimizer = torch.optim.AdamW(" in lines and " model?" in lines  # the magic shown as written


def _file_row(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_github_annotation_names_the_notebook_row_and_the_cell():
    path = NOTEBOOKS / "train.ipynb"
    [line] = run("check", "--format", "github", str(path)).stdout.splitlines()
    row = _file_row(path, '"optimizer = torch.optim.AdamW(model.parameters(), lr=lr)')
    assert row > 1
    assert line.startswith(f"::error file={path},line={row},title=OPT001 (cell 4)::cell 4, row 2, column 13: AdamW decays")


def test_sarif_result_for_a_notebook_carries_the_cell_and_the_file_row():
    path = NOTEBOOKS / "train.ipynb"
    [result] = json.loads(run("check", "--format", "sarif", str(path)).stdout)["runs"][0]["results"]
    [location] = result["locations"]
    assert location["physicalLocation"]["region"] == {"startLine": _file_row(path, '"optimizer = torch.optim.AdamW(')}
    assert location["logicalLocations"][0]["name"] == "cell 4"
    assert result["properties"] == {"cell": 4, "cellStartLine": 2, "cellStartColumn": 13, "cellEndLine": 2, "cellEndColumn": 57}
    assert "fixes" not in result  # its edits are in cell rows, which SARIF would read as file rows


def test_code_cell_whose_source_is_not_text_is_opt000_and_others_still_checked(tmp_path):
    odd = tmp_path / "odd.ipynb"
    write_notebook(odd, {"cell_type": "markdown", "metadata": {}, "source": [{"not": "text"}]}, code_cell(1, 2))
    (tmp_path / "t.py").write_text("import torch\n" + OPTIMIZER)
    result = run("check", str(odd), str(tmp_path / "t.py"))
    assert result.exit_code == 2
    assert f"{odd}:1:1: OPT000 not a Jupyter notebook: a code cell's source is not text" in result.stdout
    assert f"{tmp_path / 't.py'}:2:13: OPT001" in result.stdout


# -- the reader that finds each source in the file agrees with json ---------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["source", "cells", "x", "é"]), inner, max_size=3),
    max_leaves=12,
)
SOURCES = st.lists(st.text(), max_size=4) | st.text()


@given(
    st.lists(st.fixed_dictionaries({"cell_type": st.just("code"), "source": SOURCES, "metadata": JSON_VALUES}), max_size=4),
    JSON_VALUES,
    st.sampled_from([None, 1, "\t", 4]),
    st.booleans(),
)
def test_source_spans_agree_with_json(cells, other, indent, ascii_only):
    from optlint.static.notebook import source_spans

    text = json.dumps({"x": other, "cells": cells, "metadata": other}, indent=indent, ensure_ascii=ascii_only)
    spans = source_spans(text)
    assert len(spans) == len(cells)
    for span, cell in zip(spans, cells):
        assert json.loads(text[span.start : span.end]) == cell["source"]
        if span.items is not None:
            assert [json.loads(text[a:b]) for a, b in span.items] == cell["source"]
