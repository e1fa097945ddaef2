from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

_EXPECT = re.compile(r"#\s*expect:\s*(?P<body>.*)$")
_ITEM = re.compile(r'(?P<code>OPT\d{3})(?:\s+"(?P<text>[^"]*)")?')


#: Fixtures users read (the README runs this one) keep their expectations here, not inline.
EXPLICIT = {"example_train.py": [(15, "OPT001", "weight_decay=0.05 from the --weight-decay default")]}


def expected_findings(path: Path) -> list[tuple[int, str, str | None]]:
    """(row, code, message substring) from `# expect: OPT001 "text"; OPT006` comments."""
    if path.name in EXPLICIT:
        return EXPLICIT[path.name]
    out = []
    raw = path.read_bytes()
    required = re.search(rb"requires: python>=3\.(\d+)", raw)
    if required and sys.version_info < (3, int(required.group(1))):
        # Newer syntax than this Python: one OPT000 that says so, where the parser stops.
        error = compile_error(raw)
        return [(error, "OPT000", "syntax newer than Python")]
    text = raw.decode("latin-1") if b"latin-1" in raw[:80] else raw.decode("utf-8-sig")
    for row, line in enumerate(text.splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            for item in match.group("body").split(";"):
                found = _ITEM.search(item)
                if found:
                    out.append((row, found.group("code"), found.group("text")))
    return sorted(out, key=lambda e: (e[0], e[1]))


def compile_error(raw: bytes) -> int:
    try:
        compile(raw, "<fixture>", "exec")
    except SyntaxError as exc:
        return exc.lineno or 1
    return 0


def static_fixtures() -> list[Path]:
    return sorted((FIXTURES / "static").glob("*.py")) + [FIXTURES / "example_train.py"]


@pytest.fixture
def settings_all():
    from optlint.config import FileConfig, resolve_settings

    return resolve_settings(FileConfig(), ["ALL"])


def check_text(source: str, select=("ALL",), path: str = "snippet.py"):
    from optlint.static.linter import check_source
    from optlint.config import FileConfig, resolve_settings

    settings = resolve_settings(FileConfig(), list(select))
    return check_source(path, source.encode("utf-8"), settings).findings

pytest_plugins = ["pytester"]

from hypothesis import HealthCheck, settings as hypothesis_settings  # noqa: E402

# A hundred examples per property in the default run (it must stay within 3 minutes);
# `.ci/run` also runs the property tests with `--hypothesis-profile=long` (20x the examples,
# 10 to 15 minutes on 2 cores).
hypothesis_settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
)
hypothesis_settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("ci")


def run_cli(*args, cwd=None):
    """optlint's command line in-process (click's runner), from `cwd` when given."""
    import os

    from click.testing import CliRunner

    from optlint.cli import main

    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
