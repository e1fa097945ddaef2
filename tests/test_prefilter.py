"""The text pre-filter never changes what is found: same findings with and without it."""

from __future__ import annotations

import sys

import dataclasses

from conftest import FIXTURES
from optlint.static.linter import check_path


def _all_fixture_files():
    return sorted(FIXTURES.rglob("*.py"))


def test_prefilter_is_lossless_on_every_fixture(settings_all):
    unfiltered = dataclasses.replace(settings_all, prefilter=False)
    files = _all_fixture_files()
    assert len(files) > 15
    for path in files:
        filtered = check_path(str(path), settings_all)
        without = check_path(str(path), unfiltered).findings
        if filtered.skipped:
            # a skipped file is never parsed: only a syntax error can tell the two apart
            without = [f for f in without if not f.message.startswith("syntax error")]
        assert filtered.findings == without, path


def test_prefilter_skips_files_without_optimizers(tmp_path, settings_all):
    plain = tmp_path / "utils.py"
    plain.write_text("def add(a, b):\n    return a + b\n")
    assert check_path(str(plain), settings_all).skipped
    flagged = tmp_path / "train.py"
    flagged.write_text("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
    assert not check_path(str(flagged), settings_all).skipped


def test_syntax_errors_are_reported_in_files_optlint_reads(tmp_path, settings_all):
    # A file with no optimizer text is not parsed (ruff/flake8 report its syntax errors);
    # one that could hold a finding is, and a syntax error there is OPT000.
    unrelated = tmp_path / "utils.py"
    unrelated.write_text("def add(a, b:\n    return a + b\n")
    result = check_path(str(unrelated), settings_all)
    assert result.skipped and result.findings == []
    training = tmp_path / "train.py"
    training.write_text("import torch\ndef add(a, b:\n    return torch.optim.AdamW(m.parameters())\n")
    assert [f.code for f in check_path(str(training), settings_all).findings] == ["OPT000"]


def test_undecodable_files_are_reported_even_when_skipped(tmp_path, settings_all):
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02 not python")
    assert [f.code for f in check_path(str(binary), settings_all).findings] == ["OPT000"]


def test_newer_syntax_is_named_as_such(tmp_path, settings_all):
    # PEP 695 syntax: optlint reads files with the running Python's own parser, so on an
    # older Python the file is one OPT000 that says why (never a bare "invalid syntax").
    newer = tmp_path / "generic.py"
    newer.write_text("import torch\ntype Pair[T] = tuple[T, T]\ndef first[T](x: list[T]) -> T:\n    return torch.optim.SGD(x[0].parameters())\n")
    result = check_path(str(newer), settings_all)
    if sys.version_info >= (3, 12):
        assert result.findings == [] and not result.skipped
    else:
        assert [f.code for f in result.findings] == ["OPT000"]
        assert "syntax newer than Python 3." in result.findings[0].message
