"""Where users meet optlint: output formats, notebooks, stdin, flake8, pre-commit, README."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from optlint.cli import main

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def run(*args, input=None, cwd=None):
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def flagged(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(FLAGGED + "opt2 = torch.optim.Adam(w, weight_decay=1e-4)\n")
    return path


# -- output formats ---------------------------------------------------------------------


def test_json_lines(flagged):
    out = run("check", "--format", "json-lines", "--select", "ALL", str(flagged)).stdout
    items = [json.loads(line) for line in out.splitlines()]
    assert [i["code"] for i in items] == ["OPT001", "OPT003"]


def test_github_workflow_commands(flagged):
    out = run("check", "--format", "github", str(flagged)).stdout
    [line] = out.splitlines()
    assert re.fullmatch(
        r"::error file=[^,]+train\.py,line=2,col=7,endLine=2,endColumn=44,title=OPT001::AdamW decays .*", line
    )


def test_sarif_has_the_required_2_1_0_fields(flagged):
    out = run("check", "--format", "sarif", "--select", "ALL", str(flagged)).stdout
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and "$schema" in sarif
    [run_] = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "optlint" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert "OPT001" in ids and "OPT101" in ids
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["helpUri"].startswith("https://")
    for result in run_["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("train.py")
        assert set(location["region"]) == {"startLine", "startColumn", "endLine", "endColumn"}
    fixed = [r for r in run_["results"] if r["ruleId"] == "OPT001"][0]
    replacement = fixed["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"]["startLine"] == 2 and "weight_decay" in replacement["insertedContent"]["text"]


def test_output_file_show_source_statistics_and_color(flagged, tmp_path):
    report = tmp_path / "report.json"
    result = run("check", "--format", "json", "-o", str(report), str(flagged))
    assert result.stdout == "" and json.loads(report.read_text())[0]["code"] == "OPT001"
    shown = run("check", "--show-source", str(flagged)).stdout
    assert "2 | opt = torch.optim.AdamW(model.parameters())" in shown and "^ OPT001" in shown
    assert "\x1b[" not in shown  # not a terminal: no colour
    stats = run("check", "--statistics", "--select", "ALL", str(flagged)).stdout
    assert stats.splitlines() == ["    1\tOPT001\t[*] decay-all-params", "    1\tOPT003\t    adam-coupled-l2"]
    from optlint.output import format_text

    findings = []
    from optlint.static.linter import check_path
    from optlint.config import FileConfig, resolve_settings

    findings = check_path(str(flagged), resolve_settings(FileConfig())).findings
    assert "\x1b[1;31mOPT001\x1b[0m" in format_text(findings, color=True)


def test_no_color_respected(flagged, monkeypatch):
    import optlint.cli as cli

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(cli.sys.stdout, "isatty", lambda: True, raising=False)
    assert "\x1b[" not in run("check", str(flagged)).stdout


# -- notebooks --------------------------------------------------------------------------


def test_notebook_findings_use_cell_rows():
    out = run("check", str(FIXTURES / "notebooks" / "train.ipynb")).stdout
    assert out.startswith(f"{FIXTURES / 'notebooks' / 'train.ipynb'}:cell 4:2:13: OPT001 [*] AdamW decays")
    data = json.loads(run("check", "--format", "json", str(FIXTURES / "notebooks" / "train.ipynb")).stdout)
    assert data[0]["cell"] == 4 and data[0]["location"] == {"row": 2, "column": 13}


def test_broken_notebook_is_opt000():
    result = run("check", str(FIXTURES / "notebooks" / "broken.ipynb"))
    assert result.exit_code == 2 and "OPT000 invalid notebook JSON" in result.stdout


def test_notebook_fix_rewrites_only_the_cell(tmp_path):
    target = tmp_path / "train.ipynb"
    shutil.copyfile(FIXTURES / "notebooks" / "train.ipynb", target)
    before = json.loads(target.read_text())
    result = run("check", "--fix", str(target))
    assert result.exit_code == 0, result.stdout
    after = json.loads(target.read_text())
    changed = [i for i, (a, b) in enumerate(zip(before["cells"], after["cells"])) if a != b]
    assert changed == [3]
    assert after["cells"][3]["source"][1] == "optimizer = torch.optim.AdamW(\n"
    assert after["cells"][1] == before["cells"][1]  # magics, outputs untouched
    assert after["metadata"] == before["metadata"]
    assert target.read_text() == json.dumps(after, indent=1, ensure_ascii=False) + "\n"
    assert run("check", str(target)).exit_code == 0


def test_directories_include_notebooks(tmp_path):
    shutil.copyfile(FIXTURES / "notebooks" / "train.ipynb", tmp_path / "a.ipynb")
    assert "a.ipynb:cell 4" in run("check", ".", cwd=tmp_path).stdout


# -- standard input ---------------------------------------------------------------------


def test_stdin_with_filename(tmp_path):
    result = run("check", "-", "--stdin-filename", "scripts/train.py", input=FLAGGED)
    assert result.stdout.startswith("scripts/train.py:2:7: OPT001")
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"scripts/*" = ["OPT001"]}\n')
    result = run("check", "-", "--stdin-filename", "scripts/train.py", input=FLAGGED, cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""


def test_stdin_fix_prints_the_fixed_source():
    result = run("check", "-", "--fix", input=FLAGGED)
    assert result.stdout.startswith("import torch\nopt = torch.optim.AdamW(\n    [\n")
    compile(result.stdout, "<fixed>", "exec")
    clean = "x = 1\n"
    assert run("check", "-", "--fix", input=clean).stdout == clean


# -- flake8 -----------------------------------------------------------------------------


def flake8(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True)


def test_flake8_plugin(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "train.py").write_text(
        FLAGGED + "quiet = torch.optim.AdamW(model.parameters())  # noqa: OPT001\n"
        "l2 = torch.optim.Adam(w, weight_decay=1e-4)\n"
    )
    (tmp_path / "utils.py").write_text("def f():\n    return 1\n")
    result = flake8("--select", "OPT", ".", cwd=tmp_path)
    lines = sorted(result.stdout.splitlines())
    assert lines[0].startswith("./train.py:2:7: OPT001 AdamW decays every parameter")
    assert [line.split()[1] for line in lines] == ["OPT001"]  # a prefix keeps off-by-default rules off
    default = flake8(".", cwd=tmp_path).stdout
    assert "OPT001" in default and "OPT003" not in default  # off by default stays off
    assert "OPT003" in flake8("--extend-select", "OPT003", ".", cwd=tmp_path).stdout  # named exactly
    assert "OPT003" in flake8("--select", "OPT,OPT003", ".", cwd=tmp_path).stdout
    assert "OPT003" not in flake8("--select", "OPT,OPT003", "--ignore", "OPT003", ".", cwd=tmp_path).stdout


def _flake8_findings(files, *args, cwd):
    result = flake8("--format=%(path)s:%(row)d:%(col)d:%(code)s", *args, *map(str, files), cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return sorted(line for line in result.stdout.splitlines() if ":OPT" in line)


def _cli_findings(files, *args, cwd):
    result = subprocess.run(
        [sys.executable, "-m", "optlint", "check", "--format", "json-lines", *args, *map(str, files)],
        cwd=cwd, capture_output=True, text=True,
    )
    assert result.returncode in (0, 1, 2), result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    return sorted(
        f"{i['filename']}:{i['location']['row']}:{i['location']['column']}:{i['code']}"
        for i in items if i["code"] != "OPT000"  # flake8 reports unparseable files itself (E902/E999)
    )


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_flake8_and_the_cli_find_the_same_on_every_fixture():
    pytest.importorskip("flake8")
    from optlint.registry import all_rules

    files = sorted(p for p in FIXTURES.rglob("*.py") if "expected" not in p.parts)
    assert len(files) > 30
    default_cli = _cli_findings(files, cwd=ROOT)
    assert len(default_cli) > 50
    # optlint's `# noqa` rules run inside the plugin; flake8's own (a regex on the physical
    # line, so `s = "# noqa"; opt = ...` counts too) would only add to them.
    assert _flake8_findings(files, "--disable-noqa", "--select", "OPT", cwd=ROOT) == default_cli
    off = [code for code, rule in all_rules().items() if not rule.default_enabled and rule().is_static]
    assert off  # OPT003, OPT007: on only when named exactly
    every = _flake8_findings(files, "--disable-noqa", "--select", ",".join(["OPT", *off]), cwd=ROOT)
    assert every == _cli_findings(files, "--select", "ALL", cwd=ROOT) != default_cli


def test_flake8_plugin_never_analyzes_a_file_without_optimizer_text(tmp_path, monkeypatch):
    import ast

    import optlint.static.checker
    from optlint.flake8_plugin import Plugin

    def must_not_run(*args, **kwargs):
        raise AssertionError("check_text ran on a file the text pre-filter rules out")

    monkeypatch.setattr(optlint.static.checker, "check_text", must_not_run)
    plain = "def add(a, b):\n    return a + b\n"
    path = tmp_path / "utils.py"
    path.write_text(plain)
    assert list(Plugin(ast.parse(plain), str(path), plain.splitlines(True)).run()) == []
    monkeypatch.undo()
    # a file that could hold a finding is analyzed from the tree flake8 built (no second parse)
    parsed = []
    real = optlint.static.checker.check_text
    monkeypatch.setattr(optlint.static.checker, "check_text", lambda *a, tree=None, **k: parsed.append(tree) or real(*a, tree=tree, **k))
    tree = ast.parse(FLAGGED)
    found = list(Plugin(tree, str(tmp_path / "train.py"), FLAGGED.splitlines(True)).run())
    assert parsed == [tree] and [f[2].split()[0] for f in found] == ["OPT001"]


def test_flake8_reads_tool_optlint(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.optlint]\n"
        'extend-select = ["OPT003"]\n'
        'per-file-ignores = {"scripts/*" = ["OPT001"]}\n'
        'extra-optimizers = {"mylib.optim.Sophia" = {default = 0.1, position = 3}}\n'
    )
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run.py").write_text(FLAGGED)
    (tmp_path / "train.py").write_text(
        FLAGGED + "l2 = torch.optim.Adam(w, weight_decay=1e-4)\n"
        "from mylib.optim import Sophia\nmine = Sophia(model.parameters(), lr=1e-4)\n"
    )
    files = ["scripts/run.py", "train.py"]
    got = _flake8_findings(files, "--select", "OPT", cwd=tmp_path)
    assert got == ["train.py:2:7:OPT001", "train.py:3:6:OPT003", "train.py:5:8:OPT001"]
    assert got == [line.replace(str(tmp_path) + "/", "") for line in _cli_findings(files, cwd=tmp_path)]


# -- documentation ----------------------------------------------------------------------


def test_readme_rule_table_is_generated_from_the_registry():
    from optlint.docs import rules_markdown

    section = README.split("<!-- rules:start", 1)[1].split("-->", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert section.strip() == rules_markdown().strip()


def test_rule_pages_are_generated_and_every_url_points_at_one():
    from optlint.docs import RULE_PAGES, rule_pages
    from optlint.registry import all_rules

    folder = ROOT / RULE_PAGES
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    assert on_disk == rule_pages(), "docs/rules/ is stale: run `python -m optlint.docs`"
    prefix = "https://github.com/optlint/optlint/blob/main/"
    for code, rule in all_rules().items():
        url = rule.url()
        assert url.startswith(prefix) and (ROOT / url[len(prefix):]).is_file(), url
        assert on_disk[f"{code}.md"].splitlines()[1] == f"# {rule.name} ({code})"
        assert f"(docs/rules/{code}.md)" in README  # the README's table links each page


def test_json_and_sarif_urls_point_at_rule_pages(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED)
    [item] = json.loads(run("check", "--format", "json", "train.py", cwd=tmp_path).stdout)
    assert item["url"] == "https://github.com/optlint/optlint/blob/main/docs/rules/OPT001.md"
    sarif = json.loads(run("check", "--format", "sarif", "train.py", cwd=tmp_path).stdout)
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['id']}.md")
        assert (ROOT / "docs" / "rules" / f"{rule['id']}.md").is_file()


def test_readme_github_actions_snippet_runs(tmp_path):
    # optlint is not on PyPI: the job must install it from git, never `pip install optlint`
    [install] = re.findall(r"- run: (pip install .*)", README)
    assert "git+https://github.com/optlint/optlint" in install, install
    [command] = re.findall(r"- run: (optlint check --format github .*)", README)
    (tmp_path / "train.py").write_text(FLAGGED)
    args = command.split()[1:]
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 1 and result.stdout.startswith("::error file=train.py,line=2,col=7")


# -- pre-commit (real) ------------------------------------------------------------------


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _pre_commit(*args, cwd, home):
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    pytest.importorskip("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return tmp_path_factory.mktemp("pre-commit-home")


def _project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _git("init", "-q", cwd=project)
    (project / "train.py").write_text(FLAGGED)
    _git("add", "train.py", cwd=project)
    return project


@pytest.mark.slow  # pre-commit installs optlint into a virtual environment of its own (~40 s)
def test_pre_commit_try_repo_check_then_fix(tmp_path, pre_commit_home):
    project = _project(tmp_path)
    # pre-commit names every file, excluded or not: both hooks pass --force-exclude
    (project / "pyproject.toml").write_text('[tool.optlint]\nextend-exclude = ["legacy"]\n')
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(FLAGGED)
    _git("add", "pyproject.toml", "legacy/old.py", cwd=project)
    first = _pre_commit("try-repo", str(ROOT), "optlint", "--all-files", cwd=project, home=pre_commit_home)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "train.py:2:7: OPT001" in first.stdout and "legacy" not in first.stdout
    fixed = _pre_commit("try-repo", str(ROOT), "optlint-fix", "--all-files", cwd=project, home=pre_commit_home)
    assert fixed.returncode == 1  # files were modified
    assert '"weight_decay": 0.0' in (project / "train.py").read_text()
    assert (project / "legacy" / "old.py").read_text() == FLAGGED  # excluded: never fixed
    _git("add", "train.py", cwd=project)
    again = _pre_commit("try-repo", str(ROOT), "optlint", "--all-files", cwd=project, home=pre_commit_home)
    assert again.returncode == 0, again.stdout


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_readme_pre_commit_snippet_works(tmp_path, pre_commit_home):
    snippet = README.split("# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ".pre-commit-hooks.yaml", "pyproject.toml", "optlint"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0 or dirty.stdout.strip():
        pytest.skip("the snippet runs against a committed checkout")
    config = snippet.replace("https://github.com/optlint/optlint", str(ROOT))
    [rev] = re.findall(r"rev: (\S+)", snippet)
    # the rev as written must exist here; a CI checkout may hold the commit without the branch
    if subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{rev}"], cwd=ROOT).returncode != 0:
        assert rev == "main", f"the README's rev {rev!r} is not a branch of this repository"
        config = config.replace(f"rev: {rev}", f"rev: {head.stdout.strip()}")
    project = _project(tmp_path)
    (project / ".pre-commit-config.yaml").write_text(config)
    result = _pre_commit("run", "--all-files", cwd=project, home=pre_commit_home)
    assert result.returncode == 1 and "train.py:2:7: OPT001" in result.stdout, result.stdout + result.stderr
