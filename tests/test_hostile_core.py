"""Hostile input against the static core itself (issue 12 items 2, 6 and 11): each runs
optlint for real, in a child process where a crash would show as a signal."""

from __future__ import annotations

import subprocess
import sys

CHAIN = " and ".join(["a"] * 10_000)


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "optlint", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_chain_libcst_cannot_parse_costs_the_fix_not_the_run(tmp_path):
    # LibCST's parser overflows its stack on a 10,000-term chain: the statement is not handed to it
    target = tmp_path / "chain.py"
    source = f"import torch\nopt = torch.optim.AdamW(model.parameters(), lr=1 if {CHAIN} else 2)\n"
    target.write_text(source)
    result = run("check", "--fix", "-j", "1", str(target))
    assert result.returncode == 1, result.stderr
    assert "OPT001" in result.stdout and "no automatic fix" in result.stdout
    assert target.read_text() == source


def test_a_chain_in_a_file_with_a_syntax_error_is_reported_not_crashed_on(tmp_path):
    target = tmp_path / "broken.py"
    target.write_text(f"import torch\nx = ({CHAIN}\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "-j", "1", str(target))
    assert result.returncode == 2 and "OPT000" in result.stdout


def test_a_chain_elsewhere_in_the_file_does_not_stop_finding_or_fixing(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(f"import torch\nx = {CHAIN}\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "--fix", "-j", "1", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "p.squeeze().ndim < 2" in target.read_text()


def test_brackets_in_comments_never_bound_an_edit(tmp_path):
    target = tmp_path / "train.py"
    source = (
        "import torch\nopt = torch.optim.AdamW(\n    model.parameters(),  # see x) if f(\n"
        "    # all params (yes) ]\n    lr=1e-3,\n)\n"
    )
    target.write_text(source)
    assert run("check", "--fix", "-j", "1", str(target)).returncode == 0
    fixed = target.read_text()
    compile(fixed, "fixed.py", "exec")
    assert fixed.count("# see x) if f(") == 1 and fixed.count("# all params (yes) ]") == 1


def test_constant_folding_is_bounded(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1, weight_decay=9**9**9)\n")
    result = run("check", "-j", "1", str(target))
    assert result.returncode == 1 and "not statically known" in result.stdout
