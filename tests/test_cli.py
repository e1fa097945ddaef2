"""The command line: output contract, exit codes, selection, config, discovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from optlint.cli import main

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
ADAM_L2 = "import torch\nopt = torch.optim.Adam(w, weight_decay=1e-4)\n"


def run(*args, cwd=None):
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED)
    (tmp_path / "clean.py").write_text("import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n")
    return tmp_path


def test_text_format_and_exit_1(project):
    result = run("check", "train.py", cwd=project)
    assert result.exit_code == 1
    line = result.stdout.strip()
    assert line.startswith("train.py:2:7: OPT001 [*] AdamW decays every parameter of `model`")
    assert "Found 1 finding" in result.stderr


def test_clean_exit_0(project):
    result = run("check", "clean.py", cwd=project)
    assert result.exit_code == 0 and result.stdout == ""
    assert "All checks passed" in result.stderr


def test_json_matches_output_contract(project):
    result = run("check", "--format", "json", "train.py", cwd=project)
    assert result.exit_code == 1
    [item] = json.loads(result.stdout)
    # ruff's keys, `cell` included (null outside notebooks)
    assert set(item) == {"cell", "code", "message", "filename", "location", "end_location", "fix", "noqa_row", "url"}
    assert item["cell"] is None
    assert item["code"] == "OPT001"
    assert item["filename"] == str(project / "train.py")
    assert item["location"] == {"row": 2, "column": 7}
    assert item["end_location"] == {"row": 2, "column": 44}
    assert item["noqa_row"] == 2
    fix = item["fix"]
    assert fix["applicability"] == "safe" and fix["message"]
    [edit] = fix["edits"]
    assert edit["location"] == item["location"] and edit["end_location"] == item["end_location"]
    assert edit["content"].startswith("torch.optim.AdamW(\n    [\n")
    assert item["url"].endswith("/docs/rules/OPT001.md")


def test_output_sorted_by_path_then_position(tmp_path):
    for name in ("b.py", "a.py"):
        (tmp_path / name).write_text(FLAGGED + FLAGGED.replace("opt =", "opt2 ="))
    result = run("check", ".", cwd=tmp_path)
    rows = [line.split(":")[:2] for line in result.stdout.splitlines()]
    assert rows == [["a.py", "2"], ["a.py", "4"], ["b.py", "2"], ["b.py", "4"]]


def test_select_ignore_extend_select(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED + ADAM_L2)
    codes = lambda r: sorted({line.split()[1] for line in r.stdout.splitlines()})
    assert codes(run("check", "t.py", cwd=tmp_path)) == ["OPT001"]  # OPT003 is off by default
    assert codes(run("check", "--extend-select", "OPT003", "t.py", cwd=tmp_path)) == ["OPT001", "OPT003"]
    assert codes(run("check", "--select", "OPT003", "t.py", cwd=tmp_path)) == ["OPT003"]
    assert codes(run("check", "--select", "ALL", "--ignore", "OPT001", "t.py", cwd=tmp_path)) == ["OPT003"]
    assert codes(run("check", "--select", "OPT0", "t.py", cwd=tmp_path)) == ["OPT001", "OPT003"]
    assert codes(run("check", "--select", "opt001,OPT003", "t.py", cwd=tmp_path)) == ["OPT001", "OPT003"]


def test_unknown_selector_is_usage_error(project):
    result = run("check", "--select", "NOPE", "train.py", cwd=project)
    assert result.exit_code == 2 and "NOPE" in result.stderr


def test_exit_zero(project):
    assert run("check", "--exit-zero", "train.py", cwd=project).exit_code == 0
    (project / "broken.py").write_bytes(b"\xff\xfe binary")
    assert run("check", "broken.py", cwd=project).exit_code == 2
    assert run("check", "--exit-zero", "broken.py", cwd=project).exit_code == 0
    assert run("check", "--exit-zero", "--select", "NOPE", "train.py", cwd=project).exit_code == 2


def test_missing_path_is_error_but_others_still_checked(project):
    result = run("check", "nope.py", "train.py", cwd=project)
    assert result.exit_code == 2
    assert "nope.py: no such file" in result.stderr
    assert "OPT001" in result.stdout


def test_bad_file_exit_2_and_other_files_checked(project):
    (project / "broken.py").write_text("import torch\nopt = torch.optim.SGD(model.parameters(\n")
    result = run("check", ".", cwd=project)
    assert result.exit_code == 2
    assert "broken.py:2:39: OPT000 syntax error: '(' was never closed" in result.stdout
    assert "train.py:2:7: OPT001" in result.stdout


def test_quiet_and_version(project):
    result = run("check", "-q", "train.py", cwd=project)
    assert result.stderr == "" and "OPT001" in result.stdout
    from optlint import __version__

    assert __version__ in run("--version").stdout
    assert __version__ in run("check", "--version").stdout


def write_config(path, body):
    (path / "pyproject.toml").write_text(textwrap.dedent(body))


def test_config_select_and_per_file_ignores(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "t.py").write_text(FLAGGED + ADAM_L2)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "t.py").write_text(FLAGGED)
    write_config(tmp_path, """
        [tool.optlint]
        extend-select = ["OPT003"]
        per-file-ignores = {"scripts/*" = ["OPT001"]}
    """)
    out = run("check", ".", cwd=tmp_path).stdout
    assert "src/t.py:2:7: OPT001" in out and "src/t.py:4:7: OPT003" in out
    assert "scripts/" not in out
    # found from a subfolder too: the nearest pyproject.toml upward
    out = run("check", ".", cwd=tmp_path / "src").stdout
    assert "t.py:4:7: OPT003" in out


@pytest.mark.parametrize(
    "body,fragment",
    [
        ("[tool.optlint]\nselekt = ['OPT001']\n", "unknown key `selekt`"),
        ("[tool.optlint]\nselect = 'OPT001'\n", "`select` must be a list of strings"),
        ("[tool.optlint]\nignore = ['OPT999']\n", "unknown rule code(s) OPT999"),
        ("[tool.optlint\n", "invalid TOML"),
        ("[tool.optlint]\nextra-optimizers = {'a.B' = {default = 'x'}}\n", "default` must be a number"),
        ("[tool.optlint]\nextra-optimizers = {'a.B' = {dflt = 1}}\n", "unknown key(s) dflt"),
    ],
)
def test_config_errors_exit_2_and_name_the_key(tmp_path, body, fragment):
    (tmp_path / "pyproject.toml").write_text(body)
    (tmp_path / "t.py").write_text(FLAGGED)
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert fragment in result.stderr and "pyproject.toml" in result.stderr


def test_explicit_config_file(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED)
    (tmp_path / "lint.toml").write_text("ignore = ['OPT001']\n")
    assert run("check", "--config", "lint.toml", "t.py", cwd=tmp_path).exit_code == 0


def test_extra_optimizers_from_config(tmp_path):
    (tmp_path / "t.py").write_text(
        "from mylib.optim import Sophia\n"
        "a = Sophia(model.parameters(), lr=1e-4)\n"
        "b = Sophia(model.parameters(), 1e-4, (0.9, 0.99), 0.0)\n"
        "c = Sophia(model.parameters(), 1e-4, (0.9, 0.99), 0.2)\n"
    )
    write_config(tmp_path, """
        [tool.optlint]
        extra-optimizers = {"mylib.optim.Sophia" = {default = 0.1, position = 3}}
    """)
    out = run("check", "t.py", cwd=tmp_path).stdout
    assert [line.split(":")[1] for line in out.splitlines()] == ["2", "4"]
    assert "weight_decay=0.1 from Sophia's default" in out


def test_discovery_skips_hidden_venv_build_and_gitignored(tmp_path):
    for folder in (".hidden", "build", "node_modules", "env", "ignored", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.py").write_text(FLAGGED)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored/\n*.gen.py\n")
    (tmp_path / "src" / "x.gen.py").write_text(FLAGGED)
    out = run("check", ".", cwd=tmp_path).stdout
    assert sorted(line.split(":")[0] for line in out.splitlines()) == ["src/t.py"]
    # an explicitly named file is always checked
    assert "ignored/t.py:2:7" in run("check", "ignored/t.py", cwd=tmp_path).stdout


def test_extend_exclude(tmp_path):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "t.py").write_text(FLAGGED)
    (tmp_path / "t.py").write_text(FLAGGED)
    write_config(tmp_path, '[tool.optlint]\nextend-exclude = ["legacy"]\n')
    out = run("check", ".", cwd=tmp_path).stdout
    assert [line.split(":")[0] for line in out.splitlines()] == ["t.py"]


def test_jobs_do_not_change_output():
    args = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "fixtures"]
    one = subprocess.run(args + ["--jobs", "1"], cwd=ROOT, capture_output=True, text=True)
    two = subprocess.run(args + ["--jobs", "2"], cwd=ROOT, capture_output=True, text=True)
    assert one.returncode == two.returncode == 2
    assert one.stdout == two.stdout and one.stdout.count("\n") > 50


def test_check_never_imports_torch(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(FLAGGED)
    code = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from optlint.cli import main
        result = CliRunner().invoke(main, ["check", "--select", "ALL", {str(target)!r}, {str(FIXTURES)!r}])
        assert "OPT001" in result.output, result.output
        import optlint
        assert "torch" not in sys.modules, "optlint check imported torch"
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_rules_and_explain_commands():
    table = run("rules").stdout
    assert "OPT001" in table and "decay-all-params" in table
    page = run("explain", "opt001").stdout
    assert page.startswith("# decay-all-params (OPT001)") and "## Why is this bad?" in page
    assert run("explain", "OPT999").exit_code == 2


def test_console_script_entry_point_works():
    proc = subprocess.run(
        [sys.executable, "-m", "optlint", "check", str(FIXTURES / "example_train.py")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "OPT001" in proc.stdout


# -- hostile or mistaken configuration: a message naming the key, exit 2, never a traceback ------


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"tool = 5\n", "`tool` must be a table"),
        (b"[tool.optlint]\nselect = ['OPT001']  # caf\xe9\n", "not UTF-8"),
        (b"[tool.optlint]\nx = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    ],
    ids=["tool-not-a-table", "invalid-utf8", "nested-100k"],
)
def test_unreadable_pyproject_is_a_message_not_a_traceback(tmp_path, body, fragment):
    (tmp_path / "pyproject.toml").write_bytes(body)
    (tmp_path / "t.py").write_text(FLAGGED)
    result = run("check", "t.py", cwd=tmp_path)  # catch_exceptions=False: a traceback fails here
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "pyproject.toml" in result.stderr


@pytest.mark.parametrize(
    "table,fragment",
    [
        ('extra-optimizers = {"m.Opt" = {default = 0.1, position = 100000000}}', '"m.Opt".position` must be an integer from 1 to 255'),
        ('extra-optimizers = {"m.Opt" = {default = 0.1, position = 0}}', '"m.Opt".position` must be an integer from 1 to 255'),
        ('extra-optimizers = {"m.Opt" = {default = inf}}', '"m.Opt".default` must be from 0 to 100'),
        ('extra-optimizers = {"m.Opt" = {default = nan}}', '"m.Opt".default` must be from 0 to 100'),
        ('extra-optimizers = {"m.Opt" = {default = -0.1}}', '"m.Opt".default` must be from 0 to 100'),
        ('extra-optimizers = {"not a name" = {default = 0.1}}', "must be a dotted name"),
        ("max-file-size = 0", "`max-file-size` must be a number of bytes from 1024"),
        ("max-file-size = 1_000_000_000_000", "`max-file-size` must be a number of bytes from 1024"),
        ("max-file-size = 1.5e6", "`max-file-size` must be a number of bytes"),
        ("force-exclude = 1", "`force-exclude` must be true or false"),
    ],
)
def test_config_numbers_are_bounded(tmp_path, table, fragment):
    write_config(tmp_path, f"[tool.optlint]\n{table}\n")
    (tmp_path / "t.py").write_text(FLAGGED)
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--select", "O"], "unknown rule code(s) O"),
        (["--select", "OP"], "unknown rule code(s) OP"),
        (["--select", ""], "--select: empty rule selector"),
        (["--ignore", " "], "--ignore: empty rule selector"),
        (["--stdin-filename", "x.py"], "--stdin-filename names standard input"),
        (["--stdin-filename", "x.py", "t.py"], "--stdin-filename names standard input"),
        (["-", "t.py"], "must be the only path"),
    ],
)
def test_selectors_that_name_nothing_and_stray_stdin_filename_are_usage_errors(project, args, fragment):
    (project / "t.py").write_text(FLAGGED)
    result = run("check", *args, cwd=project)
    assert result.exit_code == 2 and fragment in result.stderr, result.output
    assert result.stdout == ""  # nothing was checked


def test_empty_selector_in_config_is_an_error(project):
    write_config(project, '[tool.optlint]\nselect = [""]\n')
    result = run("check", "train.py", cwd=project)
    assert result.exit_code == 2 and '`select` has unknown rule code(s) ""' in result.stderr


def test_linter_prefix_selects_every_rule_like_flake8(project):
    (project / "t.py").write_text(FLAGGED + ADAM_L2)
    result = run("check", "--select", "OPT", "t.py", cwd=project)
    assert sorted({line.split()[1] for line in result.stdout.splitlines()}) == ["OPT001", "OPT003"]


def test_bare_optlint_prints_help_on_stdout_and_exits_0():
    result = run()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage:") and "check" in result.stdout and result.stderr == ""
    proc = subprocess.run([sys.executable, "-m", "optlint"], capture_output=True, text=True)
    assert proc.returncode == 0 and "Commands:" in proc.stdout and proc.stderr == ""


def test_force_exclude_applies_exclusions_to_named_files(tmp_path):
    # ruff's --force-exclude: pre-commit names every staged file, the config must still hold
    for name in ("legacy/old.py", "legacy/deep/older.py", "src/gen_model.py", "src/train.py", "build/out.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(FLAGGED)
    write_config(tmp_path, '[tool.optlint]\nextend-exclude = ["legacy", "src/gen_*.py"]\n')
    named = ["legacy/old.py", "legacy/deep/older.py", "src/gen_model.py", "src/train.py", "build/out.py"]
    checked = lambda r: sorted(line.split(":")[0] for line in r.stdout.splitlines())
    assert checked(run("check", *named, cwd=tmp_path)) == sorted(named)  # named: always checked
    forced = run("check", "--force-exclude", *named, cwd=tmp_path)
    assert checked(forced) == ["src/train.py"] and forced.exit_code == 1
    # the same from a subfolder (patterns are relative to the config's folder) and from the config
    assert checked(run("check", "--force-exclude", "gen_model.py", "train.py", cwd=tmp_path / "src")) == ["train.py"]
    write_config(tmp_path, '[tool.optlint]\nextend-exclude = ["legacy"]\nforce-exclude = true\n')
    assert checked(run("check", "legacy/old.py", "src/train.py", cwd=tmp_path)) == ["src/train.py"]
    only_excluded = run("check", "legacy/old.py", cwd=tmp_path)
    assert only_excluded.exit_code == 0 and only_excluded.stdout == ""


def test_force_exclude_applies_to_stdin_filename(tmp_path):
    # an editor pipes the buffer with its name: an excluded file is neither reported nor changed
    write_config(tmp_path, '[tool.optlint]\nextend-exclude = ["legacy"]\n')
    runner = CliRunner()
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        args = ["check", "-", "--stdin-filename", "legacy/old.py", "--force-exclude"]
        skipped = runner.invoke(main, args, input=FLAGGED, catch_exceptions=False)
        assert skipped.exit_code == 0 and skipped.stdout == ""
        echoed = runner.invoke(main, [*args, "--fix"], input=FLAGGED, catch_exceptions=False)
        assert echoed.exit_code == 0 and echoed.stdout == FLAGGED
        checked = runner.invoke(main, args[:-1], input=FLAGGED, catch_exceptions=False)
        assert checked.exit_code == 1 and checked.stdout.startswith("legacy/old.py:2:7: OPT001")
    finally:
        os.chdir(old)


def test_a_named_fifo_is_refused_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading would wait for a writer forever
    (tmp_path / "t.py").write_text(FLAGGED)
    os.symlink(tmp_path / "gone.py", tmp_path / "dangling.py")
    result = run("check", "pipe.py", "dangling.py", "t.py", cwd=tmp_path)
    assert result.exit_code == 2 and result.stdout.startswith("t.py:2:7: OPT001")
    assert "optlint: error: pipe.py: not a regular file or folder\n" in result.stderr
    assert "optlint: error: dangling.py: a broken symbolic link\n" in result.stderr
