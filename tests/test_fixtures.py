"""Every fixture script gives exactly the findings its `# expect:` comments name."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, expected_findings, static_fixtures
from optlint.static.linter import check_path


@pytest.mark.parametrize("path", static_fixtures(), ids=lambda p: p.name)
def test_fixture_findings(path, settings_all):
    result = check_path(str(path), settings_all)
    expected = expected_findings(path)
    got = sorted((f.location.row, f.code) for f in result.findings)
    assert got == [(row, code) for row, code, _ in expected], "\n".join(
        f"{f.location.row}: {f.code} {f.message}" for f in result.findings
    )
    by_row = {(f.location.row, f.code): f.message for f in result.findings}
    for row, code, text in expected:
        if text:
            assert text in by_row[(row, code)], f"line {row}: {by_row[(row, code)]!r} lacks {text!r}"
    assert result.error == any(code == "OPT000" for _, code, _ in expected)


def test_fixtures_cover_every_rule_that_is_static(settings_all):
    codes = {code for path in static_fixtures() for _, code, _ in expected_findings(path)}
    assert {"OPT001", "OPT003", "OPT006"} <= codes


# Each bad input: (file, row, column, message fragment).
BAD = [
    ("syntax_error.py", 2, 41, "'(' was never closed"),
    ("bad_def.py", 2, 10, "was never closed"),
    ("nul_byte.py", 1, 13, "NUL byte"),
    ("latin1_no_cookie.py", 2, 12, "not valid utf-8"),
    ("bad_cookie.py", 1, 1, "unknown encoding: klingon"),
]


@pytest.mark.parametrize("name,row,column,fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_opt000_with_position(name, row, column, fragment, settings_all):
    result = check_path(str(FIXTURES / "bad" / name), settings_all)
    assert result.error
    assert [(f.code, f.location.row, f.location.column) for f in result.findings] == [("OPT000", row, column)]
    assert fragment in result.findings[0].message


@pytest.mark.parametrize("depth", [1000, 20000])
def test_deep_nesting_is_opt000_not_a_crash(tmp_path, settings_all, depth):
    # LibCST's native parser segfaults past ~2,000 levels: optlint must refuse first.
    deep = tmp_path / "deep.py"
    deep.write_text("import torch\nx = " + "(" * depth + "1" + ")" * depth + "\nopt = torch.optim.AdamW(m.parameters())\n")
    result = check_path(str(deep), settings_all)
    assert [(f.code, f.location.row) for f in result.findings] == [("OPT000", 2)]
    assert "too many nested parentheses" in result.findings[0].message


def test_deep_indentation_is_opt000_not_a_crash(tmp_path, settings_all):
    lines = ["import torch"] + ["    " * d + f"def f{d}():" for d in range(500)]
    lines.append("    " * 500 + "return torch.optim.AdamW(model.parameters())")
    deep = tmp_path / "deep_defs.py"
    deep.write_text("\n".join(lines) + "\n")
    result = check_path(str(deep), settings_all)
    assert [f.code for f in result.findings] == ["OPT000"]


def test_deeply_nested_functions_still_checked(tmp_path, settings_all):
    lines = ["import torch"]
    for depth in range(60):
        lines.append("    " * depth + f"def f{depth}():")
    lines.append("    " * 60 + "return torch.optim.AdamW(model.parameters())")
    path = tmp_path / "nested.py"
    path.write_text("\n".join(lines) + "\n")
    result = check_path(str(path), settings_all)
    assert [(f.code, f.location.row) for f in result.findings] == [("OPT001", 62)]


def test_unreadable_path_is_opt000(tmp_path, settings_all):
    result = check_path(str(tmp_path / "gone.py"), settings_all)
    assert result.error and result.findings[0].code == "OPT000"
    assert "cannot read file" in result.findings[0].message
