"""`optlint.codemod.FixOptimizers` through LibCST's own runner (`python -m libcst.tool codemod`),
in a subprocess on a temporary tree: the README's command, compared with `optlint check --fix`."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

from click.testing import CliRunner

from conftest import ROOT
from optlint.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
FLAGGED = "import torch\n\nopt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n"
SECOND = "import torch\n\nopt = torch.optim.SGD(net.parameters(), 0.1, 0.9, 0, 5e-4)\n"
CLEAN = "x = 1\n"


def _readme_command() -> list[str]:
    [command] = re.findall(r"^(python -m libcst\.tool codemod .*)$", README, re.M)
    return shlex.split(command)


def _tree(root):
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "a.py").write_text(FLAGGED)
    (root / "src" / "pkg" / "b.py").write_text(SECOND)
    (root / "src" / "pkg" / "ignored.py").write_text(FLAGGED)
    (root / "src" / "clean.py").write_text(CLEAN)
    (root / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"src/pkg/ignored.py" = ["OPT001"]}\n')
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


def _codemod(args: list[str], cwd) -> subprocess.CompletedProcess:
    assert args[:3] == ["python", "-m", "libcst.tool"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _cli_knows_safety() -> bool:
    return any("--unsafe-fixes" in p.opts for p in main.commands["check"].params)


def _cli(args: list[str], root):
    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def _json(root) -> list[dict]:
    return json.loads(_cli(["check", "--output-format", "json", "src"], root).stdout)


def _fix_with_cli(root, unsafe: bool) -> None:
    args = ["check", "--fix", "--exit-zero", "src"]
    if unsafe and _cli_knows_safety():
        args.insert(2, "--unsafe-fixes")
    _cli(args, root)


def _contents(root, files):
    return {name: (root / name).read_text() for name in files}


def test_the_readme_command_fixes_what_fix_fixes(tmp_path):
    command = _readme_command()
    assert command[3:6] == ["codemod", "-x", "optlint.codemod.FixOptimizers"] and "--no-format" in command
    codemodded, fixed = tmp_path / "codemod", tmp_path / "cli"
    files = _tree(codemodded)
    _tree(fixed)

    # Safe fixes only by default: every fix that is not safe stays out (as `--fix` does once it
    # knows safety levels, i.e. has --unsafe-fixes; before that it applied them all).
    before = _contents(codemodded, files)
    safe = _codemod([*command[:-1], "src/"], codemodded)
    assert safe.returncode == 0, safe.stderr
    levels = {f["fix"]["applicability"] for f in _json(codemodded) if f["fix"]}
    if _cli_knows_safety():
        _fix_with_cli(fixed, unsafe=False)
        assert _contents(codemodded, files) == _contents(fixed, files)
    else:
        assert levels == {"unsafe"}
        assert _contents(codemodded, files) == before

    # --unsafe-fixes, in parallel (-j 2): the same bytes as `optlint check --fix --unsafe-fixes`.
    unsafe = _codemod([*command[:-1], "--unsafe-fixes", "-j", "2", "src/"], codemodded)
    assert unsafe.returncode == 0, unsafe.stderr
    _fix_with_cli(fixed, unsafe=True)
    after = _contents(codemodded, files)
    assert after == _contents(fixed, files)
    assert '"weight_decay": 0.0' in after["src/a.py"] and '"weight_decay": 0.0' in after["src/pkg/b.py"]
    assert after["src/pkg/ignored.py"] == FLAGGED and after["src/clean.py"] == CLEAN  # per-file-ignores hold


def test_findings_left_are_reported_as_warnings(tmp_path):
    (tmp_path / "t.py").write_text("import torch\nopt = torch.optim.AdamW(build().parameters())\n")
    result = _codemod([*_readme_command()[:-1], "--unsafe-fixes", "t.py"], tmp_path)
    assert result.returncode == 0
    # a finding without an automatic fix is reported, and the file is left as it was
    assert "OPT001" in result.stderr and "no automatic fix" in result.stderr
    assert (tmp_path / "t.py").read_text() == "import torch\nopt = torch.optim.AdamW(build().parameters())\n"
