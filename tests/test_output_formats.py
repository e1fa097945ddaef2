"""ruff's output formats (concise, full, gitlab, junit, pylint), --color, --show-files,
--show-settings, one --version, and SARIF's columnKind."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.output import use_color

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
TWICE = FLAGGED + "opt2 = torch.optim.AdamW(model.parameters())\n"


def run(*args, cwd, env=None):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED)
    (tmp_path / "two.py").write_text(TWICE)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def test_output_format_and_its_format_alias_agree(project):
    new = run("check", "--output-format", "json", "train.py", cwd=project)
    old = run("check", "--format", "json", "train.py", cwd=project)
    assert new.exit_code == old.exit_code == 1 and new.stdout == old.stdout
    assert run("check", "--output-format", "concise", "train.py", cwd=project).stdout == run("check", "train.py", cwd=project).stdout
    env = run("check", "train.py", cwd=project, env={"OPTLINT_OUTPUT_FORMAT": "pylint"})
    assert env.stdout.startswith("train.py:2: [OPT001] ")


def test_concise_and_pylint_lines(project):
    concise = run("check", "--output-format", "concise", "train.py", cwd=project).stdout.splitlines()
    # ruff's `[*]`: --fix would fix it (a safe fix); the pylint format carries no such mark
    assert len(concise) == 1 and concise[0].startswith("train.py:2:7: OPT001 [*] AdamW decays every parameter")
    pylint = run("check", "--output-format", "pylint", "train.py", cwd=project).stdout.splitlines()
    assert pylint == ["train.py:2: [OPT001] " + concise[0].split(" OPT001 [*] ", 1)[1]]


def test_full_shows_source_caret_and_the_fix(project):
    out = run("check", "--output-format", "full", "train.py", cwd=project).stdout
    assert "2 | opt = torch.optim.AdamW(model.parameters())" in out
    assert "  |       ^ OPT001" in out
    [help_line] = [line for line in out.splitlines() if line.startswith("  = help: ")]
    fix = json.loads(run("check", "--output-format", "json", "train.py", cwd=project).stdout)[0]["fix"]
    assert fix["message"] in help_line and (fix["applicability"] == "safe") == ("unsafe" not in help_line)


def test_gitlab_is_code_quality_with_unique_stable_fingerprints(project):
    result = run("check", "--output-format", "gitlab", "train.py", "two.py", cwd=project)
    items = json.loads(result.stdout)
    plain = json.loads(run("check", "--output-format", "json", "train.py", "two.py", cwd=project).stdout)
    assert len(items) == len(plain) == 3
    for item, same in zip(items, plain):
        begin, end = item["location"]["positions"]["begin"], item["location"]["positions"]["end"]
        assert (begin["line"], begin["column"]) == (same["location"]["row"], same["location"]["column"])
        assert (end["line"], end["column"]) == (same["end_location"]["row"], same["end_location"]["column"])
        assert set(item) == {"check_name", "description", "severity", "fingerprint", "location"}
        assert item["check_name"] == "OPT001" and item["description"].startswith("OPT001: ")
        assert item["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert set(item["location"]) == {"path", "positions"} and not os.path.isabs(item["location"]["path"])
    fingerprints = [item["fingerprint"] for item in items]
    assert len(set(fingerprints)) == 3  # two identical findings in two.py still differ
    # a line inserted above the finding keeps its fingerprint (GitLab tracks issues by it)
    (project / "train.py").write_text("# a comment\n" + FLAGGED)
    moved = json.loads(run("check", "--output-format", "gitlab", "train.py", cwd=project).stdout)
    assert moved[0]["fingerprint"] == items[0]["fingerprint"]
    # paths are relative to GitLab's CI_PROJECT_DIR when it is set
    sub = run("check", "--output-format", "gitlab", "train.py", cwd=project, env={"CI_PROJECT_DIR": str(project.parent)})
    assert json.loads(sub.stdout)[0]["location"]["path"] == f"{project.name}/train.py"


def test_junit_is_well_formed_xml_with_a_failure_per_finding(project):
    (project / "odd.py").write_text('import torch\n# <&> "quotes" \x0c\nopt = torch.optim.AdamW(model.parameters())\n')
    result = run("check", "--output-format", "junit", "train.py", "two.py", "odd.py", "clean.py", cwd=project)
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "testsuites" and root.get("tests") == root.get("failures") == "4"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["odd.py", "train.py", "two.py"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == suite.get("failures") == str(len(cases))
        for case in cases:
            assert case.get("name") == "org.optlint.OPT001" and case.get("line") and case.get("column")
            [failure] = case.findall("failure")
            assert failure.get("message").startswith("AdamW decays every parameter")
            assert failure.text.startswith(f"line {case.get('line')}, col {case.get('column')}, ")
    empty = ET.fromstring(run("check", "--output-format", "junit", "clean.py", cwd=project).stdout)
    assert empty.get("tests") == "0" and empty.findall("testsuite") == []


def test_sarif_declares_code_point_columns_and_uses_them(tmp_path):
    # An emoji (one code point, two UTF-16 units) before the call on the same line.
    (tmp_path / "e.py").write_text('import torch\ns = "\U0001F600"; opt = torch.optim.AdamW(model.parameters())\n', encoding="utf-8")
    sarif = json.loads(run("check", "--output-format", "sarif", "e.py", cwd=tmp_path).stdout)
    [sarif_run] = sarif["runs"]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    [result] = sarif_run["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    line = 's = "\U0001F600"; opt = torch.optim.AdamW(model.parameters())'
    assert line[region["startColumn"] - 1 :].startswith("torch.optim.AdamW(")
    assert line[: region["endColumn"] - 1].endswith("model.parameters())")
    for change in result.get("fixes", [{}])[0].get("artifactChanges", []):
        deleted = change["replacements"][0]["deletedRegion"]
        assert line[deleted["startColumn"] - 1 :].startswith("torch.optim.AdamW(")


def test_json_keys_match_ruff_for_notebooks_and_fix_applicability(tmp_path):
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": FLAGGED}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    [item] = json.loads(run("check", "--output-format", "json", "nb.ipynb", cwd=tmp_path).stdout)
    assert item["cell"] == 1 and item["noqa_row"] == 2 and item["url"].endswith("/docs/rules/OPT001.md")
    assert item["fix"] is None or item["fix"]["applicability"] in {"safe", "unsafe", "display-only"}


@pytest.mark.parametrize(
    ("choice", "tty", "env", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", False, {"FORCE_COLOR": "1"}, True),
        ("auto", True, {"NO_COLOR": ""}, True),  # an empty NO_COLOR does not count (no-color.org)
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_choice(choice, tty, env, expected):
    assert use_color(choice, tty, env) is expected


def test_color_flag_reaches_the_output(project):
    always = run("check", "--color", "always", "train.py", cwd=project).stdout
    never = run("check", "--color", "never", "train.py", cwd=project, env={"FORCE_COLOR": "1"}).stdout
    forced = run("check", "train.py", cwd=project, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" in always and "\x1b[" in forced and "\x1b[" not in never
    assert always.replace("\x1b[1m", "").replace("\x1b[1;31m", "").replace("\x1b[0m", "") == never


def test_show_files_lists_what_would_be_checked_and_checks_nothing(project):
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(FLAGGED)
    result = run("check", "--show-files", ".", cwd=project)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [str(project / name) for name in ("clean.py", "train.py", "two.py")]
    assert "OPT001" not in result.stdout + result.stderr


def test_show_settings_names_the_config_and_the_resolved_rules(project):
    (project / "pyproject.toml").write_text('[tool.optlint]\nextend-select = ["OPT003"]\nignore = ["OPT006"]\n')
    result = run("check", "--show-settings", "train.py", cwd=project)
    assert result.exit_code == 0
    assert f"Settings path: {project / 'pyproject.toml'}" in result.stdout
    [enabled] = [line for line in result.stdout.splitlines() if line.startswith("enabled = ")]
    assert "'OPT003'" in enabled and "'OPT006'" not in enabled and "'OPT001'" in enabled


def test_one_version_everywhere(project):
    from optlint import __version__

    top = run("--version", cwd=project)
    sub = run("check", "--version", cwd=project)
    assert top.exit_code == sub.exit_code == 0
    assert top.stdout == sub.stdout == f"optlint {__version__}\n"
