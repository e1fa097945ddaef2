"""Every fenced block of the README is run (or checked) by a test, and says what is true.

`test_every_readme_block_is_claimed` walks the README's fenced blocks: each one must be
claimed below, by a test in this file or by a named test elsewhere, so a block added to the
README without a test fails here. Slow ones (a torch subprocess, a nested pytest run) are
marked `slow` and run in CI with `-m slow`.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from optlint.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", README, re.S | re.M)]


def _section(title: str) -> str:
    return README.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(section: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", section, re.S | re.M)


def _block(start: str) -> str:
    [body] = [body for _, body in BLOCKS if body.startswith(start)]
    return body


def run(*args, cwd, stdin=None):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


#: Each README block (by how it starts) and the test that runs or checks it.
CLAIMS = {
    "optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)": "test_readme_blocks::test_the_opening_examples_are_flagged_and_the_advice_is_clean",
    "$ optlint check": "test_readme_blocks::test_the_opening_console_shows_what_check_prints",
    "decay = [p for p in model.parameters()": "test_readme_blocks::test_the_opening_examples_are_flagged_and_the_advice_is_clean",
    "python -m pip install . && optlint check": "test_readme_setup::test_every_setup_command_runs_as_written",
    "python -m pip install torch==2.13.0": "test_readme_setup::test_every_setup_command_runs_as_written",
    "# .pre-commit-config.yaml": "test_integrations::test_readme_pre_commit_snippet_works",
    "# .github/workflows/optlint.yml": "test_integrations::test_readme_github_actions_snippet_runs",
    '{\n  "glspc.server.command"': "test_lsp::test_the_readme_snippets_name_one_real_command",
    'vim.lsp.config("optlint"': "test_lsp::test_the_readme_snippets_name_one_real_command",
    "[language-server.optlint]": "test_lsp::test_the_readme_snippets_name_one_real_command",
    "python -m libcst.tool codemod": "test_codemod::test_the_readme_command_fixes_what_fix_fixes",
    "[tool.optlint]\nselect": "test_readme_blocks::test_the_configuration_example_is_a_valid_config",
    "optlint check [PATHS]...": "test_readme_blocks::test_the_synopsis_names_real_options",
    "import torch\n\noptimizer = torch.optim.AdamW(model.parameters(), lr=args.lr": "test_readme_blocks::test_the_autofix_example_is_what_fix_writes",
    "import torch\n\noptimizer = torch.optim.AdamW(\n": "test_readme_blocks::test_the_autofix_example_is_what_fix_writes",
    # Installs torch's CPU build from download.pytorch.org: the network is not the test's to use.
    "python -m pip install torch --index-url": "test_readme_blocks::test_the_cpu_install_line_names_the_cpu_index",
    "import torch\nimport optlint": "test_readme_blocks::test_the_runtime_example_runs_and_prints_what_it_says",
    "python -m pytest --optlint": "test_readme_blocks::test_the_pytest_plugin_command_fails_a_bad_optimizer",
}


def test_every_readme_block_is_claimed():
    for lang, body in BLOCKS:
        claimed = [test for start, test in CLAIMS.items() if body.startswith(start)]
        assert len(claimed) == 1, f"README block ```{lang} starting {body[:60]!r} is run by no test (or by two)"
    for start, test in CLAIMS.items():
        module, name = test.split("::")
        assert any(body.startswith(start) for _, body in BLOCKS), f"stale claim: {start!r}"
        assert callable(getattr(importlib.import_module(module), name, None)), test


def test_the_opening_examples_are_flagged_and_the_advice_is_clean(tmp_path):
    bad = _block("optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)")
    (tmp_path / "bad.py").write_text(bad)
    result = run("check", "bad.py", cwd=tmp_path)
    assert result.exit_code == 1
    assert [line.split(": ")[1].split()[0] for line in result.stdout.splitlines()] == ["OPT001", "OPT001"]
    good = _block("decay = [p for p in model.parameters()")
    (tmp_path / "good.py").write_text("import torch\n\n" + good)
    assert run("check", "good.py", cwd=tmp_path).exit_code == 0


def test_the_opening_console_shows_what_check_prints():
    body = _block("$ optlint check")
    command, *shown = body.splitlines()
    args = shlex.split(command.removeprefix("$ "))[1:]
    result = run(*args, cwd=ROOT)
    # findings on stdout, then the summary (and ruff's fixable-count line) on stderr
    printed = result.stdout.splitlines()
    assert printed == shown[: len(printed)] and printed
    assert result.stderr.strip().splitlines() == shown[len(printed):]
    assert (ROOT / args[-1]).is_file() and FIXTURES.name in args[-1]


def test_the_autofix_example_is_what_fix_writes(tmp_path):
    before, after = _blocks(_section("## Autofix"), "python")[:2]
    path = tmp_path / "train.py"
    path.write_text(before)
    args = ["check", "--fix", "train.py"]
    if any("--unsafe-fixes" in p.opts for p in main.commands["check"].params):
        args.insert(2, "--unsafe-fixes")  # the example's fix changes training: an unsafe fix
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert path.read_text() == after, "the README's After block is not what --fix writes: update the README"


def test_the_configuration_example_is_a_valid_config(tmp_path):
    body = _block("[tool.optlint]\nselect")
    assert tomllib.loads(body)["tool"]["optlint"]
    (tmp_path / "pyproject.toml").write_text(body)
    (tmp_path / "t.py").write_text("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 1 and "OPT001" in result.stdout, result.stderr
    settings = run("check", "--show-settings", "t.py", cwd=tmp_path).stdout
    assert str(tmp_path / "pyproject.toml") in settings and "legacy" in settings


def test_the_synopsis_names_real_options():
    body = _block("optlint check [PATHS]...")
    named = set(re.findall(r"(--[a-z-]+|-[a-z]\b)", body))
    known = {opt for command in main.commands.values() for p in command.params for opt in p.opts}
    known |= {opt for p in main.params for opt in p.opts}
    assert named and named <= known, named - known
    commands = set(re.findall(r"^optlint (\w+)", body, re.M))
    assert commands == {"check", "server", "rules", "explain"} and commands <= set(main.commands)
    for name in re.findall(r"`(concise|full|json|json-lines|github|gitlab|junit|pylint|sarif)`", _section("## Command line")):
        assert name in _formats(), name


def _formats():
    from optlint.output import OUTPUT_FORMATS

    return OUTPUT_FORMATS


def test_the_cpu_install_line_names_the_cpu_index():
    body = _block("python -m pip install torch --index-url")
    assert body.split() == ["python", "-m", "pip", "install", "torch", "--index-url", "https://download.pytorch.org/whl/cpu"]
    runtime = _section("## Runtime checks (torch)")
    assert "CUDA build" in runtime and "several GB" in runtime  # says what the extra pulls


@pytest.mark.slow  # a fresh interpreter importing torch: seconds, more on a loaded machine
def test_the_runtime_example_runs_and_prints_what_it_says(tmp_path):
    body = _block("import torch\nimport optlint")
    result = subprocess.run([sys.executable, "-c", body], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr  # no NameError, no uncaught assertion
    printed = result.stdout.splitlines()
    for comment in re.findall(r"^# (OPT\d{3} .*)$", body, re.M):
        prefix = comment.split("...", 1)[0]
        assert any(line.startswith(prefix) for line in printed), (comment, printed)
    for comment in re.findall(r"print\(report\)\s+# (.*)$", body, re.M):
        assert any(line.startswith(comment.split("...", 1)[0].rstrip()) for line in printed), (comment, printed)


@pytest.mark.slow  # a nested pytest run that imports torch
def test_the_pytest_plugin_command_fails_a_bad_optimizer(tmp_path):
    body = _block("python -m pytest --optlint")
    (tmp_path / "test_train.py").write_text(
        "import torch\n\n"
        "def test_step():\n"
        "    model = torch.nn.Linear(4, 4)\n"
        "    opt = torch.optim.AdamW(model.parameters())\n"
        "    model(torch.ones(1, 4)).sum().backward()\n"
        "    opt.step()\n"
    )
    args = shlex.split(body.strip())
    assert args[:3] == ["python", "-m", "pytest"]
    result = subprocess.run([sys.executable, *args[1:], "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "OPT101" in result.stdout, result.stdout[-2000:]
