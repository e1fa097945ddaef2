"""Test code (issue 19 item 1): the decay-advice rules (OPT001-OPT005) are off in test files by
default, like an implicit per-file-ignores entry; rules that find real bugs (OPT006, OPT008)
stay on. Settings: `test-files`, `extend-test-files`, `test-files-ignore`."""

from __future__ import annotations

import pytest

from conftest import run_cli as run

ADVICE = "import torch\nopt = torch.optim.AdamW(model.parameters())\nl2 = torch.optim.Adam(w, weight_decay=1e-4)\n"
BUGS = (
    "import torch\nopt = torch.optim.AdamW([{'params': a}, {'params': b, 'weight_deacy': 0.0}])\n"
    "params = model.parameters()\nn = len(list(params))\nopt2 = torch.optim.SGD(params, lr=0.1)\n"
)
SAME = ADVICE + BUGS


def findings(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if ": OPT" in line:
            out.setdefault(line.split(":")[0], []).append(line.split(" ")[1])
    return {path: sorted(codes) for path, codes in sorted(out.items())}


@pytest.fixture
def tree(tmp_path):
    for path in ("src/train.py", "tests/unit/helpers.py", "pkg/test_optim.py", "pkg/optim_test.py", "conftest.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(SAME)
    return tmp_path


BUG_CODES = ["OPT006", "OPT008"]


def test_same_code_in_tests_and_in_src(tree):
    result = run("check", "--extend-select", "OPT003", ".", cwd=tree)
    assert findings(result) == {
        "conftest.py": BUG_CODES,
        "pkg/optim_test.py": BUG_CODES,
        "pkg/test_optim.py": BUG_CODES,
        "src/train.py": ["OPT001", "OPT003", "OPT006", "OPT008"],
        "tests/unit/helpers.py": BUG_CODES,
    }, result.output


def test_test_files_can_be_turned_off_extended_or_given_other_codes(tree):
    (tree / "pyproject.toml").write_text("[tool.optlint]\ntest-files = []\n")
    everything = findings(run("check", ".", cwd=tree))
    assert all(codes == ["OPT001", "OPT006", "OPT008"] for codes in everything.values()) and len(everything) == 5
    (tree / "pyproject.toml").write_text('[tool.optlint]\ntest-files-ignore = ["OPT006"]\nextend-test-files = ["src/"]\n')
    custom = findings(run("check", ".", cwd=tree))
    assert custom["src/train.py"] == ["OPT001", "OPT008"] and custom["conftest.py"] == ["OPT001", "OPT008"]


def test_per_file_ignores_still_work_in_and_out_of_test_files(tree):
    (tree / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"tests/" = ["OPT008"], "src/*" = ["OPT001"]}\n')
    result = findings(run("check", ".", cwd=tree))
    assert result["tests/unit/helpers.py"] == ["OPT006"]
    assert result["src/train.py"] == ["OPT006", "OPT008"]


def test_a_test_file_named_on_the_command_line_is_still_test_code(tree):
    result = run("check", "pkg/test_optim.py", cwd=tree)
    assert findings(result) == {"pkg/test_optim.py": BUG_CODES}
