"""Config per file, as ruff finds it: the nearest config above each file, `extend`, `--config`,
`--isolated`; the CLI, the flake8 plugin and the pre-commit hook agree in a monorepo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli as run

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
ADAM_L2 = "import torch\nopt = torch.optim.Adam(w, weight_decay=1e-4)\n"


def codes(result) -> list[str]:
    """path:row:CODE per finding of a text report."""
    return sorted(":".join(line.split(":")[:2]) + ":" + line.split(" ")[1] for line in result.stdout.splitlines() if ": OPT" in line)


@pytest.fixture
def monorepo(tmp_path):
    """Two projects with configs that disagree, a third that extends the root's."""
    root = tmp_path / "mono"
    for name in ("a", "b", "c/scripts"):
        (root / name).mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"scripts/" = ["OPT001"]}\n')
    (root / "a" / "pyproject.toml").write_text('[project]\nname = "a"\n[tool.optlint]\nextend-select = ["OPT003"]\n')
    (root / "b" / "optlint.toml").write_text('ignore = ["OPT001"]\n')
    (root / "c" / "pyproject.toml").write_text('[tool.optlint]\nextend = "../pyproject.toml"\nextend-select = ["OPT003"]\n')
    for name in ("a/train.py", "b/train.py", "c/train.py", "c/scripts/run.py"):
        (root / name).write_text(FLAGGED + ADAM_L2)
    return root


EXPECTED = [
    "a/train.py:2:OPT001", "a/train.py:4:OPT003",
    # b: its optlint.toml ignores OPT001 and OPT003 stays off by default: nothing
    "c/scripts/run.py:4:OPT003",  # c extends the root: the root's per-file-ignores (any `scripts/` folder) apply
    "c/train.py:2:OPT001", "c/train.py:4:OPT003",
]


def test_each_file_uses_its_nearest_config_whatever_the_argument_order(monorepo):
    forward = run("check", "a", "b", "c", cwd=monorepo)
    backward = run("check", "c", "b", "a", cwd=monorepo)
    files = run("check", "b/train.py", "a/train.py", "c/scripts/run.py", "c/train.py", cwd=monorepo)
    assert codes(forward) == codes(backward) == codes(files) == EXPECTED, forward.output
    # the same from inside a project and from the root
    inside = run("check", ".", "../b", cwd=monorepo / "a")
    assert codes(inside) == ["train.py:2:OPT001", "train.py:4:OPT003"], inside.output


def test_flake8_and_the_pre_commit_hook_agree_with_the_cli(monorepo):
    pytest.importorskip("flake8")
    yaml = pytest.importorskip("yaml")  # pre-commit's own dependency, to read the hook as it does
    subprocess.run(["git", "init", "-q"], cwd=monorepo, check=True)
    subprocess.run(["git", "add", "."], cwd=monorepo, check=True)
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=monorepo, capture_output=True, text=True).stdout.split()
    assert len(staged) == 8
    # the pre-commit hook: its entry, as pre-commit runs it, on the staged files (both orders)
    [hook] = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "optlint"]
    entry = hook["entry"].split()
    assert entry[:2] == ["optlint", "check"]
    python_files = [f for f in staged if f.endswith(".py")]
    for order in (python_files, python_files[::-1]):
        hook_run = run(*entry[1:], *order, cwd=monorepo)
        assert codes(hook_run) == EXPECTED, hook_run.output
    # flake8, one process per file as its plugin reads them
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "OPT", "--format=%(path)s:%(row)d:%(code)s", *python_files],
        cwd=monorepo, capture_output=True, text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    assert sorted(line.removeprefix("./") for line in result.stdout.splitlines()) == EXPECTED


@pytest.mark.slow  # pre-commit installs optlint into an environment of its own
def test_real_pre_commit_in_a_monorepo(monorepo, tmp_path_factory):
    pytest.importorskip("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=monorepo, check=True)
    subprocess.run(["git", "add", "."], cwd=monorepo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "optlint", "--all-files"],
        cwd=monorepo, env=env, capture_output=True, text=True, timeout=900,
    )
    found = sorted(":".join(line.split(":")[:2]) + ":" + line.split(" ")[1] for line in result.stdout.splitlines() if ": OPT" in line)
    assert found == EXPECTED, result.stdout + result.stderr


def test_extend_inherits_and_the_child_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-select = ["OPT003"]\nextend-exclude = ["gen"]\n')
    sub = tmp_path / "sub"
    (sub / "gen").mkdir(parents=True)
    (sub / "gen" / "x.py").write_text(FLAGGED)
    (sub / "t.py").write_text(FLAGGED + ADAM_L2)
    (sub / ".optlint.toml").write_text('extend = "../pyproject.toml"\nignore = ["OPT001"]\n')
    # the child's precedence: .optlint.toml over a pyproject.toml in the same folder
    (sub / "pyproject.toml").write_text('[tool.optlint]\nselect = ["OPT008"]\n')
    result = run("check", ".", cwd=sub)
    # OPT003 from the base, OPT001 ignored by the child; the base's `gen` (a name pattern) excluded
    assert codes(result) == ["t.py:4:OPT003"], result.output


def test_config_overrides_all_and_isolated_ignores_all(monorepo):
    (monorepo / "lint.toml").write_text('select = ["OPT003"]\nper-file-ignores = {"a/*" = ["OPT003"]}\n')
    forced = run("check", "--config", "lint.toml", "a", "b", cwd=monorepo)
    assert codes(forced) == ["b/train.py:4:OPT003"], forced.output  # globs relative to the working folder (ruff)
    isolated = run("check", "--isolated", "a", "b", cwd=monorepo)
    assert codes(isolated) == ["a/train.py:2:OPT001", "b/train.py:2:OPT001"], isolated.output


def test_extend_loop_and_missing_base_are_config_errors(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED)
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend = "pyproject.toml"\n')
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2 and "loop" in result.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend = "../nowhere.toml"\n')
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2 and "`extend` names '../nowhere.toml'" in result.stderr


# -- issue 22 item 15 and item 9 -------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ['ignore = ["OPT000"]', 'per-file-ignores = {"*.py" = ["OPT000"]}'],
)
def test_ignoring_opt000_is_a_config_error_that_says_why(tmp_path, table):
    (tmp_path / "pyproject.toml").write_text(f"[tool.optlint]\n{table}\n")
    (tmp_path / "t.py").write_text("def broken(:\n")
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "cannot ignore OPT000" in result.stderr and "always reported" in result.stderr
    cli = run("check", "--isolated", "--ignore", "OPT000", "t.py", cwd=tmp_path)
    assert cli.exit_code == 2 and "OPT000 (syntax-error) cannot be ignored" in cli.output


def test_invalid_pyproject_above_without_tool_optlint_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'broken'\n")  # someone else's broken file
    project = tmp_path / "project"
    project.mkdir()
    (project / "t.py").write_text(FLAGGED)
    result = run("check", "t.py", cwd=project)
    assert result.exit_code == 1, result.output
    assert "t.py:2:7: OPT001" in result.stdout
    assert "warning:" in result.stderr and "invalid TOML" in result.stderr and "skipped" in result.stderr
    # one that holds [tool.optlint] is the user's config: an error, exit 2
    (tmp_path / "pyproject.toml").write_text("[tool.optlint]\nselect = [\n")
    assert run("check", "t.py", cwd=project).exit_code == 2


@pytest.mark.parametrize(
    "value",
    ["9" * 5000, "9" * 400, "-" + "9" * 5000],
    ids=["over-int-limit", "huge", "huge-negative"],
)
@pytest.mark.parametrize("key", ["max-file-size", "extra-optimizers", "force-exclude"])
def test_a_huge_integer_in_tool_optlint_is_a_config_error(tmp_path, key, value):
    if key == "extra-optimizers":
        table = f'extra-optimizers = {{"a.B" = {{default = {value}}}}}'
    else:
        table = f"{key} = {value}"
    (tmp_path / "pyproject.toml").write_text(f"[tool.optlint]\n{table}\n")
    (tmp_path / "t.py").write_text(FLAGGED)
    proc = subprocess.run([sys.executable, "-m", "optlint", "check", "t.py"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "pyproject.toml" in proc.stderr
    assert len(proc.stderr) < 1000  # the number is described, never printed whole


def test_json_still_reports_per_file_config(monorepo):
    result = run("check", "--format", "json", "b", "a", cwd=monorepo)
    found = sorted((os.path.relpath(i["filename"], monorepo), i["code"]) for i in json.loads(result.stdout))
    assert found == [("a/train.py", "OPT001"), ("a/train.py", "OPT003")]
