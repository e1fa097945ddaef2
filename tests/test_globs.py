"""Globs by pathspec, anchored at the config's folder, with ruff's documented meanings.

The table's examples and their meanings are those of ruff's settings reference:
https://docs.astral.sh/ruff/settings/#exclude and
https://docs.astral.sh/ruff/settings/#lint_per-file-ignores
"""

from __future__ import annotations

import os

import pytest

from conftest import run_cli as run
from optlint.globs import Globs

FLAGGED = "import torch\nopt = torch.optim.AdamW(model.parameters())\n"


def reported(result) -> list[str]:
    return sorted(line.split(":")[0] for line in result.stdout.splitlines() if ": OPT" in line)


# (pattern, path relative to the config's folder, matches): ruff's words in the comment
RUFF_EXCLUDE_EXAMPLES = [
    # ".mypy_cache (to exclude any directory named .mypy_cache in the tree)"
    (".mypy_cache", ".mypy_cache/x.py", True),
    (".mypy_cache", "pkg/.mypy_cache/x.py", True),
    # "foo.py (to exclude any file named foo.py)"
    ("foo.py", "foo.py", True),
    ("foo.py", "a/b/foo.py", True),
    ("foo.py", "a/b/foo_py.py", False),
    # "foo_*.py (to exclude any file matching foo_*.py)"
    ("foo_*.py", "pkg/foo_bar.py", True),
    ("foo_*.py", "pkg/bar_foo.py", False),
    # "directory/foo.py (to exclude that specific file)": relative to the project root
    ("directory/foo.py", "directory/foo.py", True),
    ("directory/foo.py", "other/directory/foo.py", False),
    # "directory/*.py (to exclude any Python files in directory)"
    ("directory/*.py", "directory/x.py", True),
    ("directory/*.py", "other/directory/x.py", False),
]
RUFF_PER_FILE_EXAMPLES = [
    # "Ignore `E402` (import violations) in all `__init__.py` files, and in `path/to/file.py`."
    ("__init__.py", "__init__.py", True),
    ("__init__.py", "pkg/sub/__init__.py", True),
    ("path/to/file.py", "path/to/file.py", True),
    ("path/to/file.py", "elsewhere/path/to/file.py", False),
    # "Ignore `D` rules everywhere except for the `src/` directory."  ("!src/**.py")
    ("!src/**.py", "src/mod.py", False),
    ("!src/**.py", "src/pkg/deep/mod.py", False),
    ("!src/**.py", "tests/test_mod.py", True),
    ("!src/**.py", "setup.py", True),
]
# what issue 21/22 found broken, and gitignore's own rules
MORE = [
    ("tests/**/*.py", "tests/b.py", True),
    ("tests/**/*.py", "tests/a/b.py", True),
    ("!src/*", "src/x.py", False),
    ("!src/*", "lib/x.py", True),
    ("**/test_*.py", "test_top.py", True),
    ("**/test_*.py", "pkg/test_deep.py", True),
    ("**/tests", "tests/x.py", True),
    ("**/tests", "pkg/tests/x.py", True),
    ("./sub", "sub/x.py", True),
    ("./sub", "pkg/sub/x.py", False),
    ("sub/", "sub/x.py", True),
    ("scripts/*", "scripts/deep/run.py", True),  # `scripts/deep` is named, so is what it holds
]


@pytest.mark.parametrize("pattern,path,expected", RUFF_EXCLUDE_EXAMPLES + RUFF_PER_FILE_EXAMPLES + MORE)
def test_glob_table(tmp_path, pattern, path, expected):
    negated = pattern.startswith("!")
    matched = Globs([pattern.lstrip("!")], str(tmp_path)).match(str(tmp_path / path))
    assert (matched != negated) == expected
    # and end to end: as a per-file-ignore, OPT001 is reported exactly where it does not apply
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(FLAGGED)
    (tmp_path / "pyproject.toml").write_text(f'[tool.optlint]\ntest-files = []\nper-file-ignores = {{"{pattern}" = ["OPT001"]}}\n')
    assert reported(run("check", path, cwd=tmp_path)) == ([] if expected else [path])
    if not negated:  # as an exclusion the folder walk skips it, from the root or its own folder
        (tmp_path / "pyproject.toml").write_text(f'[tool.optlint]\ntest-files = []\nextend-exclude = ["{pattern}"]\n')
        from_root = reported(run("check", ".", cwd=tmp_path))
        assert (path in from_root) != expected
        first = path.split("/")[0]
        if "/" in path and not first.startswith("."):
            inside = reported(run("check", ".", cwd=tmp_path / first))
            assert (path.split("/", 1)[1] in inside) != expected, "exclude is anchored at the config, not the folder named"


def test_exclude_with_a_slash_is_anchored_at_the_config_not_the_named_folder(tmp_path):
    (tmp_path / "pkg" / "gen").mkdir(parents=True)
    (tmp_path / "pkg" / "gen" / "x.py").write_text(FLAGGED)
    (tmp_path / "pkg" / "y.py").write_text(FLAGGED)
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-exclude = ["pkg/gen"]\n')
    assert reported(run("check", ".", cwd=tmp_path)) == ["pkg/y.py"]
    assert reported(run("check", "pkg", cwd=tmp_path)) == ["pkg/y.py"]
    assert reported(run("check", ".", cwd=tmp_path / "pkg")) == ["y.py"]


def test_symlinked_folder_gets_per_file_ignores_and_force_exclude(tmp_path):
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "legacy").mkdir()
    (project / "scripts" / "run.py").write_text(FLAGGED)
    (project / "legacy" / "old.py").write_text(FLAGGED)
    (project / "train.py").write_text(FLAGGED)
    (project / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"scripts/*" = ["OPT001"]}\nextend-exclude = ["legacy"]\n')
    os.symlink(project, tmp_path / "alias")
    named = ["alias/scripts/run.py", "alias/legacy/old.py", "alias/train.py"]
    assert reported(run("check", "--force-exclude", *named, cwd=tmp_path)) == ["alias/train.py"]
    assert reported(run("check", "alias", cwd=tmp_path)) == ["alias/train.py"]


def test_gitignore_info_exclude_and_ignore_files_and_respect_gitignore(tmp_path):
    for name in ("a.py", "b.py", "c.py", "d.py"):
        (tmp_path / name).write_text(FLAGGED)
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("a.py\n")
    (tmp_path / ".gitignore").write_text("b.py\nd.py\n")
    (tmp_path / ".ignore").write_text("c.py\n!d.py\n")  # .ignore wins over .gitignore (as ruff and ripgrep)
    assert reported(run("check", ".", cwd=tmp_path)) == ["d.py"]
    (tmp_path / "pyproject.toml").write_text("[tool.optlint]\nrespect-gitignore = false\n")
    assert reported(run("check", ".", cwd=tmp_path)) == ["a.py", "b.py", "c.py", "d.py"]


def test_invalid_glob_in_config_is_a_config_error(tmp_path):
    (tmp_path / "t.py").write_text(FLAGGED)
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nextend-exclude = ["[z-a]"]\n')
    result = run("check", "t.py", cwd=tmp_path)
    assert result.exit_code == 2 and "invalid glob '[z-a]'" in result.stderr
