"""Every fixture's findings (code, position, end, message) against a reviewed snapshot.

A change to what optlint reports on the fixtures shows up here as a diff of
tests/snapshots/fixture_findings.json; regenerate it with

    OPTLINT_UPDATE_SNAPSHOTS=1 python -m pytest -q tests/test_output_parity.py

and review the diff like code (ruff's snapshot habit).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import FIXTURES
from optlint.config import FileConfig, resolve_settings
from optlint.static.linter import check_path

SNAPSHOT = Path(__file__).parent / "snapshots" / "fixture_findings.json"


def _findings() -> list[list]:
    settings = resolve_settings(FileConfig(), ["ALL"])
    rows = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in (".py", ".ipynb") or "expected" in path.parts:
            continue
        name = path.relative_to(FIXTURES).as_posix()
        for f in check_path(str(path), settings, display=name).findings:
            rows.append([name, f.cell, f.location.row, f.location.column, f.end_location.row, f.end_location.column, f.code, f.message])
    return rows


def test_fixture_findings_match_the_snapshot():
    found = _findings()
    if os.environ.get("OPTLINT_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert found == expected


def test_jobs_do_not_change_the_output(monkeypatch):
    from click.testing import CliRunner

    import optlint.runner
    from optlint.cli import main

    monkeypatch.setattr(optlint.runner, "MIN_BYTES_FOR_POOL", 0)  # the fixtures are small: force the pool

    runs = [CliRunner().invoke(main, ["check", "--select", "ALL", "--format", "json", "--exit-zero", "-j", jobs, str(FIXTURES)])
            for jobs in ("1", "2")]
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[0].stdout)
