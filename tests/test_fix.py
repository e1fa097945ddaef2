"""The OPT001 autofix: exact snapshots, proof by execution, and safe writing."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import stat
import subprocess
import sys
import warnings

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from optlint.cli import main

FIX = FIXTURES / "fix"
EXPECTED = FIX / "expected"
FIXABLE = sorted(p.name for p in EXPECTED.glob("*.py"))


def run_cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def options(name: str) -> dict:
    """`# fixture: select=OPT007 proof=identical` on a fixture's first line."""
    first = (FIX / name).read_text(encoding="latin-1").splitlines()[0]
    if not first.startswith("# fixture:"):
        return {}
    return dict(item.split("=", 1) for item in first[len("# fixture:"):].split())


def select_args(name: str) -> list[str]:
    """The fixture's rule selection, and `--unsafe-fixes` for a fixture whose fixes are unsafe."""
    select = options(name).get("select")
    unsafe = ["--unsafe-fixes"] if options(name).get("applicability") == "unsafe" else []
    return (["--select", select] if select else []) + unsafe


def fixed_copy(name: str, tmp_path):
    target = tmp_path / name
    shutil.copyfile(FIX / name, target)
    result = run_cli("check", "--fix", "-q", *select_args(name), str(target))
    return target, result


@pytest.mark.parametrize("name", FIXABLE)
def test_fix_matches_snapshot_byte_for_byte(name, tmp_path):
    target, result = fixed_copy(name, tmp_path)
    assert target.read_bytes() == (EXPECTED / name).read_bytes()
    assert "OPT001" not in result.stdout


@pytest.mark.parametrize("name", FIXABLE)
def test_fix_is_idempotent(name, tmp_path):
    target, _ = fixed_copy(name, tmp_path)
    once = target.read_bytes()
    mtime = target.stat().st_mtime_ns
    result = run_cli("check", "--fix", *select_args(name), str(target))
    assert target.read_bytes() == once and target.stat().st_mtime_ns == mtime
    assert result.exit_code == 0, result.stdout  # nothing left: no finding at the fixed sites
    report = run_cli("check", "--format", "json", "--select", "ALL", str(target)).stdout
    assert [i for i in json.loads(report) if i["fix"] and i["code"] != "OPT007"] == []


@pytest.mark.parametrize("name", FIXABLE)
def test_changes_stay_inside_the_reported_edits(name, tmp_path):
    # The JSON edits of one pass, applied by hand, give exactly what --fix writes.
    from optlint.static.apply_fixes import apply_edits
    from optlint.static.source import decode
    from optlint.findings import Finding, Position

    result = run_cli("check", "--format", "json", *select_args(name), str(FIX / name))
    items = [i for i in json.loads(result.stdout) if i["fix"]]
    # `applicability=unsafe`: some of the fixture's fixes are unsafe (and --unsafe-fixes applies all)
    allowed = {"safe", "unsafe"} if options(name).get("applicability") == "unsafe" else {"safe"}
    assert items and all(i["fix"]["applicability"] in allowed for i in items)
    assert options(name).get("applicability") != "unsafe" or any(i["fix"]["applicability"] == "unsafe" for i in items)
    findings = [
        Finding(i["filename"], i["code"], i["message"], Position(**i["location"]), Position(**i["end_location"]), i["noqa_row"], i["fix"])
        for i in items
    ]
    source = decode((FIX / name).read_bytes())
    text, applied = apply_edits(source.text, findings)
    assert applied == len(findings)
    assert text.encode(source.encoding) == (EXPECTED / name).read_bytes()


def test_no_fix_reason_and_file_untouched(tmp_path):
    target = tmp_path / "no_fix.py"
    shutil.copyfile(FIX / "no_fix.py", target)
    before = target.read_bytes(), target.stat().st_mtime_ns
    result = run_cli("check", "--fix", str(target))
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before
    assert "no automatic fix: `build_model()` has side effects and would be evaluated twice" in result.stdout
    assert result.exit_code == 1


def _optimizers(namespace):
    import torch

    return {k: v for k, v in namespace.items() if isinstance(v, torch.optim.Optimizer)}


def _param_settings(optimizer, names):
    """name -> (every hyperparameter but weight_decay, weight_decay), and a duplicate count."""
    out, count = {}, 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            count += 1
            hyper = {k: v for k, v in group.items() if k not in ("params", "weight_decay", "param_names")}
            out[names[id(p)]] = (hyper, group.get("weight_decay", 0), p.squeeze().ndim)  # the shared vector test
    return out, count


def _run(path):
    import torch

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runpy.run_path(str(path), run_name="__fixture__")


@pytest.mark.parametrize("name", FIXABLE)
def test_proof_by_execution(name):
    pytest.importorskip("torch")
    import optlint
    from optlint.policy import is_token_name

    proof = options(name).get("proof", "split")
    after = _run(EXPECTED / name)
    names_new = {id(p): n for n, p in after["model"].named_parameters(remove_duplicate=False)}
    if proof == "fixed-runs":
        with pytest.raises(ValueError, match="empty parameter list"):
            _run(FIX / name)  # the bug: the second consumer got nothing
        for key, fixed in _optimizers(after).items():
            now, count = _param_settings(fixed, names_new)
            assert sorted(now) == sorted(names_new.values()) and count == len(now), key
        return
    before = _run(FIX / name)
    old, new = _optimizers(before), _optimizers(after)
    if proof == "identical":
        names_old = {id(p): n for n, p in before["model"].named_parameters(remove_duplicate=False)}
        for key in old:
            assert _param_settings(old[key], names_old) == _param_settings(new[key], names_new), key
        return
    if "l2" in after:  # a fixed penalty sums the matrices (not vectors) only
        expected = sum(p.pow(2).sum() for p in after["model"].parameters() if p.squeeze().ndim >= 2)
        assert float(after["l2"]) == pytest.approx(float(expected))
        assert float(after["l1"]) == pytest.approx(float(sum(p.abs().sum() for p in after["model"].parameters() if p.squeeze().ndim >= 2)))
    assert old.keys() == new.keys() and old
    names_old = {id(p): n for n, p in before["model"].named_parameters(remove_duplicate=False)}
    names_new = {id(p): n for n, p in after["model"].named_parameters(remove_duplicate=False)}
    for key in old:
        fixed = new[key]
        assert [f for f in optlint.check_optimizer(fixed, after["model"]) if f.code == "OPT101"] == [], key
        was, _ = _param_settings(old[key], names_old)
        now, count = _param_settings(fixed, names_new)
        assert count == len(now), f"{key}: a parameter is in two groups"
        assert now.keys() == was.keys(), f"{key}: the trained parameters changed"
        for param, (hyper, decay, ndim) in was.items():
            new_hyper, new_decay, _ = now[param]
            assert new_hyper == hyper, (key, param)
            # no decay for ndim < 2 and for the model's own token / position parameters
            assert new_decay == (0.0 if ndim < 2 or is_token_name(param) else decay), (key, param)


def test_file_mode_encoding_and_newlines_kept(tmp_path):
    target = tmp_path / "bom_crlf.py"
    shutil.copyfile(FIX / "bom_crlf.py", target)
    os.chmod(target, 0o640)
    run_cli("check", "--fix", str(target))
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") == data.count(b"\r\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    latin = tmp_path / "latin1.py"
    shutil.copyfile(FIX / "latin1.py", latin)
    run_cli("check", "--fix", str(latin))
    assert "Café".encode("latin-1") in latin.read_bytes()


def test_read_only_file_is_an_error_and_others_still_fixed(tmp_path):
    locked, free = tmp_path / "locked.py", tmp_path / "free.py"
    for path in (locked, free):
        shutil.copyfile(FIX / "latin1.py", path)
    os.chmod(locked, 0o444)
    result = run_cli("check", "--fix", str(tmp_path))
    assert result.exit_code == 2
    assert "locked.py:1:1: OPT000 cannot write the fix: the file is read-only" in result.stdout
    assert locked.read_bytes() == (FIX / "latin1.py").read_bytes()
    assert free.read_bytes() == (EXPECTED / "latin1.py").read_bytes()


def test_unparseable_file_left_alone(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nopt = torch.optim.AdamW(model.parameters()\n")
    before = broken.read_bytes()
    result = run_cli("check", "--fix", str(broken))
    assert result.exit_code == 2 and broken.read_bytes() == before and "OPT000" in result.stdout


def test_diff_writes_nothing_and_exits_1(tmp_path):
    target = tmp_path / "t.py"
    shutil.copyfile(FIX / "latin1.py", target)
    before = target.read_bytes()
    result = run_cli("check", "--diff", str(target))
    assert result.exit_code == 1 and target.read_bytes() == before
    assert result.stdout.startswith(f"--- {target}\n+++ {target}\n")
    assert '+        {"params": [p for p in model.parameters() if p.squeeze().ndim < 2], "weight_decay": 0.0},' in result.stdout
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    assert run_cli("check", "--diff", str(clean)).exit_code == 0


def test_fix_summary_counts_fixed_and_remaining(tmp_path):
    shutil.copyfile(FIX / "no_fix.py", tmp_path / "a.py")
    shutil.copyfile(FIX / "latin1.py", tmp_path / "b.py")
    result = run_cli("check", "--fix", str(tmp_path))
    assert "Fixed 1 finding, 1 remaining" in result.stderr and result.exit_code == 1


def test_unfixable_config(tmp_path):
    shutil.copyfile(FIX / "latin1.py", tmp_path / "t.py")
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nunfixable = ["OPT001"]\n')
    before = (tmp_path / "t.py").read_bytes()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_cli("check", "--fix", "t.py")
    finally:
        os.chdir(old)
    assert (tmp_path / "t.py").read_bytes() == before and result.exit_code == 1


def test_fixed_scripts_are_valid_python_for_this_interpreter():
    for path in sorted(EXPECTED.glob("*.py")):
        proc = subprocess.run([sys.executable, "-m", "py_compile", str(path)], capture_output=True)
        assert proc.returncode == 0, proc.stderr
