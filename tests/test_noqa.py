"""`# noqa` as ruff reads it: comments from the tokenizer, case-exact codes, warnings instead of
"everything", OPT009 (unused-noqa) with its fix, and `--add-noqa`."""

from __future__ import annotations

from conftest import check_text, run_cli as run

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"


def found(source: str, select=("ALL",)) -> list[str]:
    return [f"{f.location.row}:{f.code}" for f in check_text(source, select)]


def test_file_exemption_inside_a_string_literal_does_not_count():
    in_string = 'DOC = """\n# optlint: noqa\n"""\n' + FLAGGED
    assert found(in_string, ("OPT001",)) == ["5:OPT001"]
    as_comment = "# optlint: noqa\n" + FLAGGED
    assert found(as_comment, ("OPT001",)) == []
    codes = "# optlint: noqa: OPT002\n" + FLAGGED
    assert found(codes, ("OPT001",)) == ["3:OPT001"]


def test_line_noqa_inside_a_string_does_not_count():
    source = "import torch\nopt = torch.optim.AdamW(model.parameters(), foo='# noqa')\n"
    assert found(source, ("OPT001",)) == ["2:OPT001"]


def test_lowercase_and_unknown_codes_warn_and_never_mean_all(tmp_path):
    (tmp_path / "a.py").write_text("# optlint: noqa: opt002\n" + FLAGGED)
    (tmp_path / "b.py").write_text(FLAGGED.replace("parameters())", "parameters())  # noqa: opt001"))
    (tmp_path / "c.py").write_text(FLAGGED.replace("parameters())", "parameters())  # noqa: OPT999"))
    (tmp_path / "d.py").write_text(FLAGGED.replace("parameters())", "parameters())  # noqa: E501, OPT001"))
    result = run("check", "--select", "OPT001", "a.py", "b.py", "c.py", "d.py", cwd=tmp_path)
    lines = sorted(line.split(":")[0] for line in result.stdout.splitlines())
    assert lines == ["a.py", "b.py", "c.py"], result.output  # d: its OPT001 is suppressed, E501 is another tool's
    assert "a.py:1: `# optlint: noqa:` code 'opt002' is not applied: codes are case-sensitive (write OPT002)" in result.stderr
    assert "b.py:2: `# noqa:` code 'opt001' is not applied" in result.stderr
    assert "c.py:2: `# noqa:` names OPT999, which is no optlint rule" in result.stderr
    assert "d.py" not in result.stderr


def test_unused_noqa_is_off_by_default_and_fixes_safely(tmp_path):
    source = (
        "import torch\n"
        "a = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: OPT001\n"
        "b = torch.optim.AdamW(model.parameters())  # noqa: OPT001, OPT006\n"
        "c = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: E501, OPT001\n"
        "d = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa\n"
        "    # noqa: OPT002\n"
    ).replace("    # noqa: OPT002\n", "# noqa: OPT002\n")
    assert found(source, ()) == []  # the default selection
    assert found(source, ("ALL",)) == ["2:OPT009", "3:OPT009", "4:OPT009", "6:OPT009"]
    (tmp_path / "t.py").write_text(source)
    result = run("check", "--extend-select", "OPT009", "--fix", "t.py", cwd=tmp_path)
    assert (tmp_path / "t.py").read_text() == (
        "import torch\n"
        "a = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "b = torch.optim.AdamW(model.parameters())  # noqa: OPT001\n"
        "c = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: E501\n"
        "d = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa\n"
    ), result.output
    assert result.exit_code == 0, result.output


def test_add_noqa_then_nothing_is_reported(tmp_path):
    source = (
        "import torch\n"
        "opt = torch.optim.AdamW(model.parameters())  # keep this comment\n"
        'msg = """text\n'
        '"""; other = torch.optim.AdamW(\n'
        "    model.parameters(),\n"
        ")\n"
        "third = torch.optim.AdamW(model.parameters())  # noqa: E501\n"
    )
    (tmp_path / "t.py").write_bytes(source.replace("\n", "\r\n").encode())
    before = run("check", "t.py", cwd=tmp_path)
    assert before.exit_code == 1 and before.stdout.count("OPT001") == 3
    added = run("check", "--add-noqa", "t.py", cwd=tmp_path)
    assert added.exit_code == 0 and "Added 3 noqa directives" in added.stderr, added.output
    text = (tmp_path / "t.py").read_bytes().decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # the file's own newlines
    assert "# keep this comment  # noqa: OPT001\r\n" in text
    assert '"""; other = torch.optim.AdamW(  # noqa: OPT001\r\n' in text  # not inside the string
    assert "# noqa: E501, OPT001" not in text and "# noqa: OPT001, E501" in text
    after = run("check", "--extend-select", "OPT009", "t.py", cwd=tmp_path)
    assert after.exit_code == 0, after.output


def test_a_colon_without_codes_suppresses_nothing_and_warns(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED.replace("parameters())", "parameters())  # noqa: see the issue"))
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 1 and "t.py:2:7: OPT001" in result.stdout
    assert "t.py:2: `# noqa:` has a `:` but no codes" in result.stderr
