"""--fix never damages a file: each test runs --fix for real and compares bytes and the file system.

One test per way a file was found damaged (issue 12: items 1, 3, 5, 12, 16; issue 14's
read-only and --fix --diff items).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from optlint.cli import main

FIX = FIXTURES / "fix"
EXPECTED = FIX / "expected"
FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def copy(name: str, target) -> bytes:
    shutil.copyfile(FIX / name, target)
    return target.read_bytes()


# -- 1. this Python's verdict decides ------------------------------------------------------


def test_fix_inside_an_f_string_is_written_only_if_this_python_compiles_it(tmp_path):
    target = tmp_path / "fstring.py"
    target.write_text("import torch\nprint(f'{torch.optim.AdamW(model.parameters(), lr=1e-3)!r}')\n")
    before = target.read_bytes()
    result = run("check", "--fix", str(target))
    compile(target.read_bytes(), str(target), "exec")  # whatever happened, the file still compiles here
    if sys.version_info < (3, 12):  # a line break inside f-string braces is 3.12 syntax
        assert target.read_bytes() == before
        assert result.exit_code == 1
        py = f"Python {sys.version_info.major}.{sys.version_info.minor}"
        assert "OPT001 AdamW decays every parameter" in result.stdout
        assert f"(not fixed: the fixed file would not compile on {py}: syntax error" in result.stdout
        assert "Fixed" not in result.stderr
        assert run("check", str(target)).exit_code == 1  # and check still reports it
    else:
        assert target.read_bytes() != before and result.exit_code == 0


def test_file_this_python_cannot_compile_is_never_fixed(tmp_path):
    target = tmp_path / "new_syntax.py"
    target.write_text("import torch\ntype Vector = list[float]\nopt = torch.optim.AdamW(model.parameters())\n")
    before = target.read_bytes()
    result = run("check", "--fix", str(target))
    if sys.version_info < (3, 12):  # PEP 695 syntax: reported as OPT000, or checked but never fixed
        assert target.read_bytes() == before
        assert "OPT000" in result.stdout or "cannot compile this file, so no fix can be verified" in result.stdout
    else:
        assert result.exit_code == 0 and target.read_bytes() != before
        compile(target.read_bytes(), str(target), "exec")


def test_fix_guard_drops_only_the_fix_that_breaks_the_file(monkeypatch):
    # Version independent: one fix's edit leaves an unclosed bracket, the other is fine.
    from optlint.static import apply_fixes
    from optlint.static.apply_fixes import fix_text
    from optlint.static.checker import check_text
    from optlint.config import FileConfig, resolve_settings

    settings = dataclasses.replace(resolve_settings(FileConfig()), fix=True)
    text = FLAGGED + "opt2 = torch.optim.AdamW(head.parameters())\n"
    result = check_text("t.py", text, settings)
    good, bad = result.findings
    broken = dataclasses.replace(bad, fix={**bad.fix, "edits": [{**bad.fix["edits"][0], "content": "torch.optim.AdamW(("}]})
    result.findings = [good, broken]
    monkeypatch.setattr(apply_fixes, "MAX_PASSES", 1)  # a second pass would re-check and get a sound fix
    fixed, after, count = fix_text("t.py", text, result, settings)
    compile(fixed, "t.py", "exec")
    assert count == 1 and "opt = torch.optim.AdamW(\n    [\n" in fixed
    assert fixed.endswith("opt2 = torch.optim.AdamW(head.parameters())\n")
    [left] = after.findings
    assert left.location.row == fixed.count("\n") and left.fix is not None  # re-checked: offered again


# -- 3. links, owners, modes ----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_fix_writes_through_a_symlink_and_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "train.py"
    copy("latin1.py", target)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    result = run("check", "--fix", str(link))
    assert result.exit_code == 0, result.stdout
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == (EXPECTED / "latin1.py").read_bytes()
    assert sorted(p.name for p in real.iterdir()) == ["train.py"]  # no temporary file left


def test_fix_keeps_hard_links(tmp_path):
    first, second = tmp_path / "a.py", tmp_path / "b.txt"
    copy("latin1.py", first)
    os.link(first, second)
    inode = first.stat().st_ino
    result = run("check", "--fix", str(first))
    assert result.exit_code == 0, result.stdout
    assert first.stat().st_ino == inode == second.stat().st_ino and first.stat().st_nlink == 2
    assert second.read_bytes() == (EXPECTED / "latin1.py").read_bytes()


@pytest.mark.skipif(not IS_ROOT, reason="changing a file's owner needs root")
def test_fix_keeps_owner_group_and_mode(tmp_path):
    target = tmp_path / "train.py"
    copy("latin1.py", target)
    os.chown(target, 1234, 5678)
    os.chmod(target, 0o664)
    result = run("check", "--fix", str(target))
    assert result.exit_code == 0, result.stdout
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o664)
    assert target.read_bytes() == (EXPECTED / "latin1.py").read_bytes()


@pytest.mark.parametrize("mode", [0o444, 0o464], ids=["no-write-bit", "owner-has-no-write-bit"])
def test_file_not_writable_by_its_mode_is_refused_and_others_still_fixed(tmp_path, mode):
    locked, free = tmp_path / "locked.py", tmp_path / "free.py"
    original = copy("latin1.py", locked)
    copy("latin1.py", free)
    os.chmod(locked, mode)
    result = run("check", "--fix", str(locked), str(free))
    assert result.exit_code == 2
    assert locked.read_bytes() == original and stat.S_IMODE(locked.stat().st_mode) == mode
    assert free.read_bytes() == (EXPECTED / "latin1.py").read_bytes()
    assert f"{locked}:1:1: OPT000 cannot write the fix: the file is read-only" in result.stdout


def test_file_this_user_may_not_write_is_refused(tmp_path, monkeypatch):
    # The mode allows writing, the operating system does not (another owner, an ACL, a
    # read-only mount): os.access decides, as root cannot be made to see it otherwise.
    from optlint.static import apply_fixes

    target = tmp_path / "theirs.py"
    original = copy("latin1.py", target)
    real_access = os.access
    monkeypatch.setattr(apply_fixes.os, "access", lambda path, mode, **kw: False if (mode == os.W_OK and str(path) == str(target)) else real_access(path, mode, **kw))
    result = run("check", "--fix", str(target))
    assert result.exit_code == 2 and target.read_bytes() == original
    assert f"{target}:1:1: OPT000 cannot write the fix: permission denied" in result.stdout


def test_read_only_file_also_reports_the_finding_it_could_not_fix(tmp_path):
    locked = tmp_path / "locked.py"
    copy("latin1.py", locked)
    os.chmod(locked, 0o444)
    result = run("check", "--fix", str(locked))
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{locked}:1:1: OPT000 cannot write the fix")
    assert lines[1].startswith(f"{locked}:7:13: OPT001 [*] AdamW decays every parameter")
    assert "Fixed" not in result.stderr and "Found 2 findings" in result.stderr


# -- 5. a file edited while --fix runs --------------------------------------------------------


def test_file_edited_during_the_fix_is_not_overwritten(tmp_path, monkeypatch):
    from optlint.static import apply_fixes

    target = tmp_path / "train.py"
    copy("latin1.py", target)
    edited = target.read_bytes() + b"# added in the editor meanwhile\n"
    real_fix_text = apply_fixes.fix_text

    def fix_text_while_someone_saves(*args, **kwargs):
        out = real_fix_text(*args, **kwargs)
        target.write_bytes(edited)
        return out

    monkeypatch.setattr(apply_fixes, "fix_text", fix_text_while_someone_saves)
    result = run("check", "--fix", str(target))
    assert target.read_bytes() == edited
    assert result.exit_code == 2
    assert "OPT000 the file changed while optlint was fixing it; not fixed (run optlint again)" in result.stdout
    assert "Fixed" not in result.stderr


# -- 12. "\r" line endings, and standard input ---------------------------------------------


def test_cr_only_file_is_fixed_with_its_own_line_endings(tmp_path):
    target = tmp_path / "mac.py"
    target.write_bytes(FLAGGED.replace("\n", "\r").encode())
    diff = run("check", "--diff", str(target))
    assert diff.exit_code == 1 and diff.stdout.startswith(f"--- {target}\n")
    result = run("check", "--fix", str(target))
    assert result.exit_code == 0, result.stdout
    data = target.read_bytes()
    assert b"\n" not in data and data.count(b"\r") == 7
    compile(data, "mac.py", "exec")
    assert run("check", str(target)).exit_code == 0


def test_lone_cr_mid_file_keeps_rows_and_fix_position(tmp_path):
    text = "import torch\nx = 1\ry = 2\nopt = torch.optim.AdamW(model.parameters())\n"
    row = ast.parse(text).body[-1].lineno  # Python counts the lone "\r" as a line break
    target = tmp_path / "lone.py"
    target.write_bytes(text.encode())
    result = run("check", str(target))
    assert result.stdout.startswith(f"{target}:{row}:7: OPT001")
    assert run("check", "--fix", str(target)).exit_code == 0
    data = target.read_bytes()
    assert data.startswith(b"import torch\nx = 1\ry = 2\nopt = torch.optim.AdamW(\n")
    compile(data, "lone.py", "exec")


@pytest.mark.parametrize("source", [FLAGGED.replace("\n", "\r"), FLAGGED], ids=["cr", "lf"])
def test_stdin_fix_never_prints_empty_stdout(source, monkeypatch):
    from optlint.static import apply_fixes

    fixed = run("check", "-", "--fix", input=source)
    assert fixed.stdout and fixed.stdout != source
    compile(fixed.stdout, "<stdin>", "exec")

    def broken_fix(*_args, **_kwargs):
        raise RuntimeError("a bug in a fix")

    monkeypatch.setattr(apply_fixes, "fix_text", broken_fix)
    failed = run("check", "-", "--fix", input=source)
    assert failed.stdout == source  # an editor replacing its buffer gets the original back
    assert failed.exit_code == 2 and "internal error while fixing: RuntimeError: a bug in a fix" in failed.stderr


# -- issue 14: --fix --diff -----------------------------------------------------------------


def test_fix_with_diff_is_diff_and_writes_nothing_as_in_ruff(tmp_path):
    target = tmp_path / "t.py"
    before = copy("latin1.py", target)
    result = run("check", "--fix", "--diff", str(target))
    assert result.exit_code == 1 and target.read_bytes() == before
    assert result.stdout.startswith(f"--- {target}\n+++ {target}\n")
    assert "Would fix 1 finding" in result.stderr
    assert "write nothing (also with --fix, as in ruff)" in " ".join(run("check", "--help").stdout.split())


# -- a tree with one hostile file of each kind above -------------------------------------------


def test_fix_over_the_hostile_tree_damages_nothing_and_reports_every_file(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "hostile", tree)
    before = {p.name: p.read_bytes() for p in tree.iterdir()}
    scripts = sorted(name for name in before if name.endswith(".py"))
    if shutil.which("git"):
        old = os.getcwd()
        os.chdir(tree)
        try:
            patch = run("check", "--diff", *scripts).stdout_bytes
        finally:
            os.chdir(old)
        (tmp_path / "p.patch").write_bytes(patch)
        proc = subprocess.run(["git", "apply", "--check", "-p0", str(tmp_path / "p.patch")], cwd=tree, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    result = run("check", "--fix", str(tree))
    assert result.exit_code == 2  # the broken cell
    for name in scripts:
        compile((tree / name).read_bytes(), name, "exec")
    assert (tree / "broken_cell.ipynb").read_bytes() == before["broken_cell.ipynb"]  # an error: not fixed
    magics = json.loads((tree / "magics.ipynb").read_text())["cells"]
    assert magics[0]["source"] == json.loads(before["magics.ipynb"])["cells"][0]["source"]
    assert magics[1]["source"][:3] == ["pass  # optlint-magic-0\n", "# optlint: cell boundary\n", "!nvidia-smi\n"]
    assert magics[1]["source"][-1] == "model?"
    assert b"\n" not in (tree / "cr_only.py").read_bytes()
    left = {line.split(":")[0] for line in run("check", str(tree)).stdout.splitlines()}
    expected = {str(tree / "broken_cell.ipynb")}
    if sys.version_info < (3, 12):
        expected.add(str(tree / "fstring_fix.py"))
    assert left == expected
