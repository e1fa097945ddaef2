"""The README's set-up section, run as written in a fresh clone and a fresh virtual environment.

Slow (installs torch and the test extra, then runs the default test suite inside the clone),
so it is marked `slow`: `.ci/run` runs it, `python -m pytest -q` does not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = README.split("\n## Set-up\n", 1)[1].split("\n## ", 1)[0]
COMMANDS = [
    line.strip()
    for block in re.findall(r"```console\n(.*?)```", SETUP, re.S)
    for line in block.splitlines()
    if line.strip()
]


def _fresh_env(tmp_path, name):
    """A new virtual environment, and the environment variables that put it first."""
    home = tmp_path / name
    venv.EnvBuilder(with_pip=True).create(home)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(home)
    return env


def _clone(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "optlint"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    return clone


def test_the_setup_section_has_the_commands_ci_runs():
    assert COMMANDS == [
        "python -m pip install . && optlint check fixtures/example_train.py",
        "python -m pip install torch==2.13.0",
        'python -m pip install -e ".[test]" && python -m pytest -q -n auto',
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in COMMANDS[1:]:  # CI runs these as written (it checks the example elsewhere)
        for part in command.split(" && "):
            assert part in ci.splitlines(), part
    assert "exits with status 1" in SETUP  # the example's exit 1 is announced as expected


@pytest.mark.slow
def test_every_setup_command_runs_as_written(tmp_path):
    if sys.platform == "win32":
        pytest.skip("the README's commands are POSIX shell")
    clone = _clone(tmp_path)
    env = _fresh_env(tmp_path, "venv")
    for index, command in enumerate(COMMANDS):
        proc = subprocess.run(
            ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=1800
        )
        output = proc.stdout[-3000:] + proc.stderr[-3000:]
        if index == 0:  # the example script has one finding: exit 1, as the README says
            assert proc.returncode == 1 and "example_train.py:15:13: OPT001" in proc.stdout, output
        else:
            assert proc.returncode == 0, f"{command!r} failed:\n{output}"


@pytest.mark.slow
def test_github_actions_install_line_installs_from_git(tmp_path):
    from pip._vendor.packaging.requirements import Requirement

    clone = _clone(tmp_path)
    [install] = re.findall(r'- run: pip install "(.*)"', README)
    requirement = Requirement(install)  # what pip parses from the line, as written
    assert requirement.name == "optlint" and requirement.url.startswith("git+https://github.com/optlint/optlint@")
    # the same VCS install from this clone (pip before 24 refuses `name @ git+file:///...`)
    ref = requirement.url.rsplit("@", 1)[1]
    env = _fresh_env(tmp_path, "actions")
    local = f'python -m pip install "git+file://{clone}@{ref}"'
    proc = subprocess.run(["bash", "-c", local], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    version = subprocess.run(["optlint", "--version"], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("optlint"), version.stderr
