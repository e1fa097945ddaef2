"""The project model, forward: findings that need another module of the same repository.

Each folder of ``fixtures/project/`` is a small project (its own pyproject.toml, setup.cfg or
src layout) with an ``expected.txt``: one ``path:row:col: CODE fragment`` line per finding
``optlint check .`` must print there (the fragment is a part of the message: the other file
and line that mattered). Each is run three ways: the command line over the whole folder, the
flake8 plugin (one file at a time, reading the other modules on disk), and the pre-commit
path (``optlint check FILE`` for one file in a fresh process): all three must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from optlint.cli import main
from optlint.static.project import forget_projects

PROJECTS = FIXTURES / "project"
NAMES = sorted(p.name for p in PROJECTS.iterdir() if (p / "expected.txt").is_file())


def expected(name: str) -> list[tuple[str, int, int, str, str]]:
    out = []
    for line in (PROJECTS / name / "expected.txt").read_text().splitlines():
        if not line.strip():
            continue
        place, _, rest = line.partition(": ")
        path, row, column = place.rsplit(":", 2)
        code, _, fragment = rest.partition(" ")
        out.append((path, int(row), int(column), code, fragment))
    return sorted(out)


def check(args: list[str], cwd: Path) -> list[dict]:
    """`optlint check --format json-lines ARGS` in `cwd`, as a fresh process sees it."""
    forget_projects()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["check", "--format", "json-lines", "--jobs", "1", *args])
    finally:
        os.chdir(old)
        forget_projects()
    assert result.exit_code in (0, 1), result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def placed(items: list[dict], root: Path) -> list[tuple[str, int, int, str]]:
    return sorted(
        (Path(os.path.relpath(os.path.join(root, i["filename"]), root)).as_posix(), i["location"]["row"],
         i["location"]["column"], i["code"])
        for i in items
    )


def test_there_is_a_fixture_per_pattern():
    for pattern in ("factory", "helper_groups", "helper_params", "constant", "dataclass_default", "reexport",
                    "relative", "src_layout", "registry", "lambda_factory", "clean_ndim_helper", "clean_constant"):
        assert pattern in NAMES, pattern


@pytest.mark.parametrize("name", NAMES)
def test_full_run_prints_the_expected_findings(name):
    root = PROJECTS / name
    items = check(["."], root)
    want = expected(name)
    assert placed(items, root) == [w[:4] for w in want]
    by_place = {(p, r, c, code): i["message"] for i, (p, r, c, code) in zip(
        sorted(items, key=lambda i: placed([i], root)[0]), placed(items, root))}
    for path, row, column, code, fragment in want:
        assert fragment in by_place[(path, row, column, code)], (fragment, by_place[(path, row, column, code)])


@pytest.mark.parametrize("name", NAMES)
def test_the_pre_commit_path_finds_the_same_for_each_staged_file(name):
    # pre-commit names only the staged files: each alone must get the findings of a full run
    root = PROJECTS / name
    full = placed(check(["."], root), root)
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        alone = placed(check(["--force-exclude", relative], root), root)
        assert alone == [f for f in full if f[0] == relative], relative


def test_the_flake8_plugin_sees_the_other_modules():
    # flake8 hands the plugin one file at a time: each finds its project and reads the
    # other modules from disk (one flake8 run over every fixture project)
    pytest.importorskip("flake8")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "OPT", "--format=%(path)s:%(row)d:%(col)d:%(code)s", "."],
        cwd=PROJECTS, capture_output=True, text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    found = sorted(line.removeprefix("./") for line in result.stdout.splitlines() if ":OPT" in line)
    # flake8's columns are 1-based in its output, like optlint's
    assert found == sorted(f"{name}/{p}:{r}:{c}:{code}" for name in NAMES for p, r, c, code, _ in expected(name))


def test_a_fix_that_would_edit_another_module_is_withheld():
    items = check(["."], PROJECTS / "factory")
    caller = next(i for i in items if i["filename"].endswith("train.py"))
    assert caller["fix"] is None
    assert "no automatic fix: the optimizer is built by `build_optimizer()` in utils/optim.py:6" in caller["message"]


def test_project_root_setting_decides_where_imports_resolve(tmp_path):
    # without a marker the file's own folder is the root; --project-root names another
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "hparams.py").write_text("WD = 0.0\n")
    (app / "train.py").write_text(
        "import torch\nfrom hparams import WD\nopt = torch.optim.AdamW(model.parameters(), weight_decay=WD)\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.optlint]\n")
    assert check(["app/train.py"], tmp_path) == []  # the root (pyproject.toml) holds hparams.py
    (app / "setup.cfg").write_text("")  # now app/ is a project of its own: hparams is not in it
    items = check(["app/train.py"], tmp_path)
    assert [i["code"] for i in items] == ["OPT001"] and "not statically known" in items[0]["message"]
    assert check(["--project-root", str(tmp_path), "app/train.py"], tmp_path) == []
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nproject-root = "."\n')
    assert check(["app/train.py"], tmp_path) == []
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nproject-root = "nowhere"\n')
    forget_projects()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        bad = CliRunner().invoke(main, ["check", "app/train.py"])
    finally:
        os.chdir(old)
    assert bad.exit_code == 2 and "`project-root` names 'nowhere', which is no folder" in bad.output


def test_a_file_that_imports_nothing_of_the_project_reads_no_other_file(tmp_path):
    from optlint.config import FileConfig, resolve_settings
    from optlint.static.checker import check_text

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    text = "import torch\nimport numpy\nopt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)\n"
    (tmp_path / "train.py").write_text(text)
    forget_projects()
    result = check_text(str(tmp_path / "train.py"), text, resolve_settings(FileConfig()))
    forget_projects()
    assert [f.code for f in result.findings] == ["OPT001"]
    assert not result.dependencies  # no file read, no folder walked


def test_a_value_another_module_may_bind_two_ways_is_not_known(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "config.py").write_text(
        "import os\nif os.environ.get('FAST'):\n    WD = 0.0\nelse:\n    WD = 0.1\nZERO = 0.0\n"
    )
    (tmp_path / "broken.py").write_text("WD = (\n")  # cannot be parsed: nothing is read from it
    (tmp_path / "train.py").write_text(
        "import torch\nfrom config import WD, ZERO\nimport broken\n"
        "a = torch.optim.AdamW(model.parameters(), weight_decay=WD)\n"
        "b = torch.optim.AdamW(model.parameters(), weight_decay=ZERO)\n"
        "c = torch.optim.AdamW(model.parameters(), weight_decay=broken.WD)\n"
    )
    items = {i["location"]["row"]: i["message"] for i in check(["train.py"], tmp_path)}
    assert sorted(items) == [4, 6]  # ZERO is 0.0 in config.py: silent
    assert "weight_decay=WD from `WD` in config.py:5, not statically known" in items[4]
    assert "weight_decay=broken.WD, not statically known" in items[6]
