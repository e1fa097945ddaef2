"""Never crash, never corrupt: whole trees, hostile inputs, injected rule bugs, every torch class."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
import sysconfig
import warnings

import pytest

from conftest import run_cli
from click.testing import CliRunner

from optlint.static.linter import check_path
from optlint.cli import main
from optlint.config import FileConfig, resolve_settings
from optlint.runner import check_files

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"


run = run_cli


# -- whole trees ------------------------------------------------------------------------

TREES = {
    "torch": os.path.dirname(importlib.util.find_spec("torch").origin) if importlib.util.find_spec("torch") else None,
    "stdlib": sysconfig.get_paths()["stdlib"],
}


@pytest.mark.slow
@pytest.mark.parametrize("tree", sorted(TREES))
def test_whole_tree_is_deterministic_and_clean_of_internal_errors(tree):
    path = TREES[tree]
    if path is None:
        pytest.skip(f"{tree} is not installed")
    base = [sys.executable, "-m", "optlint", "check", "--select", "ALL", "--exit-zero", path]
    one = subprocess.run(base + ["--jobs", "1"], capture_output=True, text=True, timeout=1200)
    two = subprocess.run(base + ["--jobs", "2"], capture_output=True, text=True, timeout=1200)
    assert one.returncode == two.returncode == 0, one.stderr[-2000:]
    assert one.stdout == two.stdout  # byte-identical for any --jobs
    assert "internal error" not in one.stdout and "Traceback" not in one.stderr + two.stderr
    for line in one.stdout.splitlines():
        if " OPT000 cannot be analyzed: Python accepts this file but LibCST" in line:
            continue  # a LibCST parser gap, reported as such (see the closing note)
        if " OPT000 " in line:
            # only files that really do not parse under this Python
            filename = line.split(":", 1)[0]
            with open(filename, "rb") as handle, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises((SyntaxError, ValueError)):
                    compile(handle.read(), filename, "exec", dont_inherit=True)
    diff = subprocess.run(base + ["--diff"], capture_output=True, text=True, timeout=1200)
    assert diff.returncode == 0 and "Traceback" not in diff.stderr


# -- hostile input ------------------------------------------------------------------------


HOSTILE = {
    "empty.py": b"",
    "comments.py": b"# just a comment\n# and another\n",
    "nul.py": b"import torch\x00\nopt = torch.optim.AdamW(m.parameters())\n",
    "latin1_no_cookie.py": b"import torch\nname = '\xe9'\nopt = torch.optim.AdamW(m.parameters())\n",
    "latin1_cookie.py": b"# -*- coding: latin-1 -*-\nimport torch\nname = '\xe9'\nopt = torch.optim.AdamW(m.parameters())\n",
    "bom.py": b"\xef\xbb\xbfimport torch\nopt = torch.optim.AdamW(m.parameters())\n",
    "crlf.py": b"import torch\r\nopt = torch.optim.AdamW(m.parameters())\r\n",
    "mixed_newlines.py": b"import torch\r\nx = 1\nopt = torch.optim.AdamW(m.parameters())\r\n",
    "tabs.py": b"import torch\nif True:\n\topt = torch.optim.AdamW(m.parameters())\n",
    "deep_parens.py": b"import torch\nx = " + b"(" * 1000 + b"1" + b")" * 1000 + b"\nopt = torch.optim.AdamW(m.parameters())\n",
    "deep_defs.py": b"import torch\n" + b"".join(b"    " * d + b"def f%d():\n" % d for d in range(500)) + b"    " * 500 + b"opt = torch.optim.AdamW(m.parameters())\n",
}
EXPECTED_CODES = {
    "empty.py": [], "comments.py": [], "nul.py": ["OPT000"], "latin1_no_cookie.py": ["OPT000"],
    "latin1_cookie.py": ["OPT001"], "bom.py": ["OPT001"], "crlf.py": ["OPT001"], "mixed_newlines.py": ["OPT001"],
    "tabs.py": ["OPT001"], "deep_parens.py": ["OPT000"], "deep_defs.py": ["OPT000"],
}


def test_hostile_inputs_one_line_messages_and_untouched(tmp_path):
    for name, data in HOSTILE.items():
        (tmp_path / name).write_bytes(data)
    # the tree's own hostile files: a FIFO and a /dev/zero .gitignore, an invalid pattern, a
    # file too large to read; each beside a good file that must still be reported
    (tmp_path / ".git").mkdir()
    for folder in ("fifo", "zero", "badpattern"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "good.py").write_text(FLAGGED)
    os.mkfifo(tmp_path / "fifo" / ".gitignore")
    os.symlink("/dev/zero", tmp_path / "zero" / ".gitignore")
    (tmp_path / "badpattern" / ".gitignore").write_text("[z-a]\n")
    with open(tmp_path / "huge.py", "wb") as handle:
        handle.truncate(8 << 30)  # sparse: never read
    expected = {
        **EXPECTED_CODES, "fifo/good.py": ["OPT001"], "zero/good.py": ["OPT001"],
        "badpattern/good.py": ["OPT001"], "badpattern/.gitignore": ["OPT000"], "huge.py": ["OPT000"],
    }
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir() if p.is_file() and p.name != "huge.py"}
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 2  # some files cannot be checked
    by_file: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        assert line.count(": OPT") == 1  # one finding, one line
        by_file.setdefault(line.split(":", 1)[0], []).append(line.split()[1])
    for name, codes in expected.items():
        assert by_file.get(name, []) == codes, (name, by_file.get(name))
    assert set(by_file) <= set(expected)
    assert "Traceback" not in result.stdout + result.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir() if p.is_file() and p.name != "huge.py"} == before


@pytest.mark.slow
def test_a_large_file_is_checked_to_its_end(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("import torch\n" + "".join(f"x{i} = [{i}, {i + 1}]  # filler\n" for i in range(100_000)) + "opt = torch.optim.AdamW(m.parameters())\n")
    assert big.stat().st_size > 3_000_000
    result = run("check", "big.py", cwd=tmp_path)
    assert result.exit_code == 1 and result.stdout.startswith("big.py:100002:7: OPT001"), result.stdout


def test_symlink_loop_is_not_followed(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text(FLAGGED)
    os.symlink(tmp_path, tmp_path / "pkg" / "loop", target_is_directory=True)
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 1 and result.stdout.count("OPT001") == 1


def test_file_deleted_after_discovery_and_unreadable_file(tmp_path, monkeypatch):
    settings = resolve_settings(FileConfig())
    kept = tmp_path / "kept.py"
    kept.write_text(FLAGGED)
    gone = tmp_path / "gone.py"
    locked = tmp_path / "locked.py"
    locked.write_text(FLAGGED)
    real_open = os.open  # every source is read through os.open (optlint.files)

    def guarded_open(path, *args, **kwargs):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    results = check_files([str(gone), str(kept), str(locked)], settings, jobs=1)
    messages = {os.path.basename(r.path): [f.message for f in r.findings] for r in results}
    assert messages["gone.py"] == ["cannot read file: No such file or directory"]
    assert messages["locked.py"] == ["cannot read file: Permission denied"]
    assert messages["kept.py"][0].startswith("AdamW decays")


# -- an internal error in a rule ------------------------------------------------------------


def test_a_failing_rule_costs_one_file_not_the_run(tmp_path, monkeypatch):
    from optlint.rules.base import Rule
    from optlint.settings import Settings

    class Broken(Rule):
        code, name, summary = "OPT001", "decay-all-params", "broken on purpose"

        def check(self, ctx):
            if "boom" in ctx.text:
                raise KeyError("injected")
            return iter(())

    monkeypatch.setattr(Settings, "static_rules", property(lambda self: [Broken()]))
    monkeypatch.setattr(Settings, "may_fire", lambda self, rule, text: True)
    (tmp_path / "a.py").write_text("boom = 1\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        "a.py:1:1: OPT000 internal error in OPT001 (decay-all-params): KeyError: 'injected'; please report it"
    ]


# -- the runtime checker on every torch class --------------------------------------------------


def _build_modules(device):
    import torch
    from torch import nn

    built = {}
    candidates = [(), (4,), (4, 4), (4, 4, 3), (2, 4), (4, 2), (3, 4, 2)]
    for name in sorted(dir(nn)):
        cls = getattr(nn, name)
        if not (inspect.isclass(cls) and issubclass(cls, nn.Module)) or cls is nn.Module:
            continue
        for args in candidates:
            try:
                with warnings.catch_warnings(), torch.device(device):
                    warnings.simplefilter("ignore")
                    module = cls(*args)
            except Exception:
                continue
            if any(True for _ in module.parameters()):
                built[name] = module
            break
    return built


def _optimizer_classes():
    import torch

    return [
        cls for name, cls in sorted(vars(torch.optim).items())
        if inspect.isclass(cls) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer
    ]


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_check_optimizer_on_every_nn_module_and_optimizer(device):
    pytest.importorskip("torch")
    from torch.nn.parameter import is_lazy

    import optlint

    modules = _build_modules(device)
    optimizers = _optimizer_classes()
    assert len(modules) > 40 and len(optimizers) >= 13
    checked = 0
    for name, module in modules.items():
        for cls in optimizers:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    optimizer = cls(module.parameters())
            except Exception:
                continue  # e.g. Muon refuses 1-D parameters: nothing built, nothing to check
            if any(is_lazy(p) for p in module.parameters()):
                continue  # judged after its first forward (tests/test_runtime.py covers lazy modules)
            findings = optlint.check_optimizer(optimizer, module, select=["OPT003", "OPT006", "OPT101", "OPT102", "OPT103", "OPT104", "OPT105"])
            assert all(f.code.startswith("OPT") for f in findings)
            optlint.param_groups(module, 0.01)
            checked += 1
    assert checked > 400


# -- hostile trees: ignore files, unreadable paths, huge files, dying workers ---------------------


def _tree_with_git(tmp_path):
    (tmp_path / ".git").mkdir()
    for folder in ("fifo", "zero", "linked", "plain"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.py").write_text(FLAGGED)
    return tmp_path


def test_gitignore_fifo_device_or_symlink_never_blocks(tmp_path):
    root = _tree_with_git(tmp_path)
    os.mkfifo(root / "fifo" / ".gitignore")  # open().read() would wait for a writer forever
    os.symlink("/dev/zero", root / "zero" / ".gitignore")  # read() would never end
    (root / "rules.txt").write_text("t.py\n")
    os.symlink(root / "rules.txt", root / "linked" / ".gitignore")  # git does not follow it either
    (root / "plain" / ".gitignore").write_text("t.py\n")  # the control: a real one applies
    proc = subprocess.run(
        [sys.executable, "-m", "optlint", "check", "."], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(line.split(":")[0] for line in proc.stdout.splitlines()) == ["fifo/t.py", "linked/t.py", "zero/t.py"]


def test_gitignore_with_an_invalid_range_is_reported_and_the_rest_applies(tmp_path):
    root = _tree_with_git(tmp_path)
    (root / ".gitignore").write_text("# generated\n[z-a]\nplain/\n")
    result = run("check", ".", cwd=root)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(".gitignore:2:1: OPT000 invalid .gitignore pattern '[z-a]'")
    assert sorted(line.split(":")[0] for line in lines[1:]) == ["fifo/t.py", "linked/t.py", "zero/t.py"]


def test_unreadable_named_file_is_opt000_and_other_named_files_are_checked(tmp_path, monkeypatch):
    # root reads every file, so the kernel's refusal is simulated where optlint asks for it.
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "locked.py").write_text(FLAGGED)
    (tmp_path / "z.py").write_text(FLAGGED)
    real_stat, real_open = os.stat, os.open

    def refuse(real):
        def guarded(path, *args, **kwargs):
            if os.fspath(path).endswith("locked.py"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(os, "stat", refuse(real_stat))
    monkeypatch.setattr(os, "open", refuse(real_open))
    result = run("check", "a.py", "locked.py", "z.py", "--jobs", "1", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert [line[:56] for line in result.stdout.splitlines()] == [
        "a.py:2:7: OPT001 [*] AdamW decays every parameter of `mo",
        "locked.py:1:1: OPT000 cannot read file: Permission denie",
        "z.py:2:7: OPT001 [*] AdamW decays every parameter of `mo",
    ]


def test_unreadable_folder_is_reported_not_skipped(tmp_path, monkeypatch):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "t.py").write_text(FLAGGED)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "t.py").write_text(FLAGGED)
    real_scandir = os.scandir

    def guarded(path="."):
        if os.fspath(path).rstrip("/").endswith("secret"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith("ok/t.py:2:7: OPT001")
    assert result.stdout.splitlines()[1] == "secret:1:1: OPT000 cannot read folder: Permission denied"
    assert "All checks passed" not in result.stderr


def test_a_file_over_max_file_size_is_opt000_too_large_and_never_read(tmp_path):
    (tmp_path / "small.py").write_text(FLAGGED)
    huge = tmp_path / "huge.py"
    with open(huge, "wb") as handle:  # 64 GiB, sparse: reading it whole would never finish
        handle.write(b"import torch\n")
        try:
            handle.truncate(64 << 30)
        except OSError:
            pytest.skip("this file system has no sparse files")
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        "huge.py:1:1: OPT000 cannot read file: too large (68,719,476,736 bytes; `max-file-size` is 4,194,304)",
        "small.py:2:7: OPT001 " + result.stdout.splitlines()[1].split(" OPT001 ", 1)[1],
    ]


def test_max_file_size_is_configurable_and_applies_to_stdin(tmp_path):
    body = FLAGGED + "# padding\n" * 200  # about 2 KB
    (tmp_path / "t.py").write_text(body)
    (tmp_path / "pyproject.toml").write_text("[tool.optlint]\nmax-file-size = 1024\n")
    size = (tmp_path / "t.py").stat().st_size
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == f"t.py:1:1: OPT000 cannot read file: too large ({size:,} bytes; `max-file-size` is 1,024)\n"
    piped = CliRunner().invoke(main, ["check", "-", "--config", str(tmp_path / "pyproject.toml")], input=body)
    assert piped.exit_code == 2 and "-:1:1: OPT000 cannot read file: too large (more than 1,024 bytes" in piped.stdout
    # with --fix an editor gets its buffer back unchanged, never an empty one
    fixed = CliRunner().invoke(main, ["check", "-", "--fix", "--config", str(tmp_path / "pyproject.toml")], input=body)
    assert fixed.stdout == body and fixed.exit_code == 2


def _crash_on_marked_files(path, settings):
    if path.endswith("crash.py"):
        import ctypes
        import faulthandler

        faulthandler.disable()  # pytest's handler would print the dying child's stack
        ctypes.string_at(0)  # a segfault, as a native parser's stack overflow would give
    return check_path(path, settings)


def test_a_worker_that_dies_costs_one_file(tmp_path, monkeypatch):
    import optlint.runner

    for i in range(12):
        (tmp_path / f"good{i:02}.py").write_text(FLAGGED)
    (tmp_path / "crash.py").write_text(FLAGGED)
    monkeypatch.setattr(optlint.runner, "check_one", _crash_on_marked_files)  # workers fork with it
    monkeypatch.setattr(optlint.runner, "MIN_BYTES_FOR_POOL", 0)  # a pool even for small files
    settings = resolve_settings(FileConfig())
    files = sorted(str(p) for p in tmp_path.iterdir())
    results = check_files(files, settings, jobs=2)
    assert [r.path for r in results] == files
    by_name = {os.path.basename(r.path): [(f.code, f.message) for f in r.findings] for r in results}
    assert by_name.pop("crash.py") == [
        ("OPT000", "internal error: the process checking this file died (killed by SIGSEGV); please report it")
    ]
    assert all([code for code, _ in found] == ["OPT001"] for found in by_name.values()), by_name


def test_an_oversized_gitignore_is_reported_not_read(tmp_path):
    root = _tree_with_git(tmp_path)
    with open(root / ".gitignore", "wb") as handle:
        handle.write(b"plain/\n")
        handle.truncate(64 << 20)  # 64 MB of NUL bytes: never a real ignore file
    result = run("check", ".", cwd=root)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0] == ".gitignore:1:1: OPT000 cannot read .gitignore: too large (67,108,864 bytes; the limit for ignore and config files is 1,048,576)"
    assert len(lines) == 5  # its rules are not applied: every t.py is checked
