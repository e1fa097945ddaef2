"""Output fidelity: --diff is a patch git applies, names survive every format, errors are messages.

Issue 12 items 14, 20, 21, 22 and issue 14's `--statistics --format json`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from urllib.parse import unquote, unquote_to_bytes

import pytest

from conftest import run_cli


FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"
NON_UTF8 = os.fsdecode(b"caf\xff.py")  # a name that is not UTF-8 (lone surrogate in Python)


run = run_cli


# -- 20. --diff is a valid patch ----------------------------------------------------------------

PATCH_CASES = {
    "form_feed.py": "import torch\n\x0c\nx = 1  # page\x0cbreak\nopt = torch.optim.AdamW(model.parameters())\n",
    "separators.py": "import torch\ns = '\x0b\x1c\x1d\x1e\x85\u2028'\nopt = torch.optim.AdamW(model.parameters())\ny = 2\n",
    "no_final_newline.py": "import torch\nopt = torch.optim.AdamW(model.parameters())",
    "crlf.py": "import torch\r\nopt = torch.optim.AdamW(model.parameters())\r\nz = 3\r\n",
    "cr_only.py": "import torch\ropt = torch.optim.AdamW(model.parameters())\rz = 3\r",
    "lone_cr.py": "import torch\nx = 1\ry = 2\nopt = torch.optim.AdamW(model.parameters())\n",
}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_is_a_patch_git_applies_and_it_gives_what_fix_writes(tmp_path):
    patched, fixed = tmp_path / "patched", tmp_path / "fixed"
    for folder in (patched, fixed):
        folder.mkdir()
        for name, text in PATCH_CASES.items():
            (folder / name).write_bytes(text.encode("utf-8"))
    result = run("check", "--diff", *sorted(PATCH_CASES), cwd=patched)
    assert result.exit_code == 1
    # before and after, in no_final_newline.py and cr_only.py (one line to git: it has no "\n")
    assert result.stdout_bytes.count(b"\n\\ No newline at end of file\n") == 4
    patch = tmp_path / "optlint.patch"
    patch.write_bytes(result.stdout_bytes)
    check = subprocess.run(["git", "apply", "--check", "-p0", str(patch)], cwd=patched, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run(["git", "apply", "-p0", str(patch)], cwd=patched, check=True)
    assert run("check", "--fix", *sorted(PATCH_CASES), cwd=fixed).exit_code == 0
    for name in PATCH_CASES:
        assert (patched / name).read_bytes() == (fixed / name).read_bytes(), name
        compile((fixed / name).read_bytes(), name, "exec")


# -- 21. names in SARIF and JSON ---------------------------------------------------------------


def test_sarif_uri_is_percent_encoded(tmp_path):
    name = "a\nb c%d#e.py"
    (tmp_path / name).write_text(FLAGGED)
    sarif = json.loads(run("check", "--format", "sarif", name, cwd=tmp_path).stdout)
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "a%0Ab%20c%25d%23e.py" and unquote(uri) == name


@pytest.fixture
def non_utf8_file(tmp_path):
    try:
        (tmp_path / NON_UTF8).write_text(FLAGGED)
    except (UnicodeEncodeError, OSError):
        pytest.skip("this file system does not take non-UTF-8 names")
    return tmp_path


def test_non_utf8_name_in_json_and_sarif_is_valid_and_lossless(non_utf8_file):
    out = run("check", "--format", "json", NON_UTF8, cwd=non_utf8_file).stdout_bytes
    [item] = json.loads(out.decode("utf-8"))  # strict UTF-8, and no lone surrogate escapes
    assert "\\ud" not in out.decode("utf-8")
    assert item["filename"].endswith("caf\ufffd.py")
    assert unquote_to_bytes(item["filename_uri"]) == os.fsencode(os.path.join(os.fsdecode(non_utf8_file), NON_UTF8))
    sarif = run("check", "--format", "sarif", NON_UTF8, cwd=non_utf8_file).stdout_bytes
    uri = json.loads(sarif.decode("utf-8"))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "caf%FF.py" and unquote_to_bytes(uri) == b"caf\xff.py"


# -- 14. writing the report ------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["text", "github", "json", "sarif"])
def test_non_utf8_name_with_output_file(non_utf8_file, output_format):
    result = run("check", "--format", output_format, "-o", "report.txt", NON_UTF8, cwd=non_utf8_file)
    assert result.exit_code == 1
    report = (non_utf8_file / "report.txt").read_bytes()
    if output_format == "text":
        assert report.startswith(b"caf\xff.py:2:7: OPT001")  # the name's own bytes, as ls shows them
    else:
        report.decode("utf-8")  # the other formats are valid UTF-8
        assert b"caf" in report


def test_non_utf8_name_on_a_strict_utf8_stdout(non_utf8_file):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "optlint", "check", os.fsencode(NON_UTF8)], cwd=non_utf8_file, capture_output=True, env=env
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(b"caf\xff.py:2:7: OPT001") and b"Traceback" not in proc.stderr


def test_output_file_in_a_missing_folder_is_a_message_and_exit_2(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED)
    missing = tmp_path / "nonexistent" / "r.txt"
    result = run("check", "-o", str(missing), str(tmp_path / "t.py"))
    assert result.exit_code == 2
    assert f"optlint: error: cannot write the report to {missing}: No such file or directory" in result.stderr


# -- 22 and the statistics format --------------------------------------------------------------


def test_missing_path_does_not_say_all_checks_passed(tmp_path):
    result = run("check", "missing.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "missing.py: no such file or folder" in result.stderr
    assert "All checks passed" not in result.stderr


def test_statistics_with_json_format_prints_json(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED + "opt2 = torch.optim.Adam(w, weight_decay=1e-4)\n")
    out = run("check", "--statistics", "--format", "json", "--select", "ALL", str(tmp_path / "t.py")).stdout
    assert json.loads(out) == [
        {"code": "OPT001", "name": "decay-all-params", "count": 1, "fixable": True, "fixable_count": 1},
        {"code": "OPT003", "name": "adam-coupled-l2", "count": 1, "fixable": False, "fixable_count": 0},
    ]


def test_show_source_counts_rows_as_python_does(tmp_path):
    # A form feed is not a line break for Python; str.splitlines() would shift every later row.
    (tmp_path / "t.py").write_text("import torch\nx = 1  # \x0c\nopt = torch.optim.AdamW(model.parameters())\n")
    out = run("check", "--show-source", str(tmp_path / "t.py")).stdout
    assert "3 | opt = torch.optim.AdamW(model.parameters())" in out
