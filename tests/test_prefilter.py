"""The text pre-filter never changes what is found: same findings with and without it."""

from __future__ import annotations

import dataclasses

from conftest import FIXTURES
from optlint.checker import check_path


def _all_fixture_files():
    return sorted(FIXTURES.rglob("*.py"))


def test_prefilter_is_lossless_on_every_fixture(settings_all):
    unfiltered = dataclasses.replace(settings_all, prefilter=False)
    files = _all_fixture_files()
    assert len(files) > 15
    for path in files:
        with_filter = check_path(str(path), settings_all).findings
        without = check_path(str(path), unfiltered).findings
        assert with_filter == without, path


def test_prefilter_skips_files_without_optimizers(tmp_path, settings_all):
    plain = tmp_path / "utils.py"
    plain.write_text("def add(a, b):\n    return a + b\n")
    assert check_path(str(plain), settings_all).skipped
    flagged = tmp_path / "train.py"
    flagged.write_text("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
    assert not check_path(str(flagged), settings_all).skipped


def test_skipped_file_with_syntax_error_still_reported(tmp_path, settings_all):
    broken = tmp_path / "utils.py"
    broken.write_text("def add(a, b:\n    return a + b\n")
    result = check_path(str(broken), settings_all)
    assert [f.code for f in result.findings] == ["OPT000"]


def test_newer_syntax_is_not_an_error_in_skipped_files(tmp_path, settings_all):
    # PEP 695 syntax parses with LibCST even where this Python's compiler is older.
    newer = tmp_path / "generic.py"
    newer.write_text("type Pair[T] = tuple[T, T]\ndef first[T](x: list[T]) -> T:\n    return x[0]\n")
    assert check_path(str(newer), settings_all).findings == []
