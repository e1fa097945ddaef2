"""The results cache (optlint.cache): a warm run says what a cold run says, and nothing stale survives.

Runs go through the command line in a subprocess each (one process per run, as a user runs
optlint), on small projects built in a temporary folder. The cache layer's own invalidation
(dependencies on other files, searched words) is also tested directly, with FileResults that
carry dependencies, so it holds whatever the rules read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optlint.cache import CACHE_DIR_NAME, OUTPUT_ONLY_SETTINGS, ResultCache, fingerprint
from optlint.config import FileConfig, resolve_settings
from optlint.findings import FileResult, Finding, Position
from optlint.static.project import Dependencies, forget_projects

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

TRAIN = '''import argparse
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weight-decay", type=float, default=0.05)
    args = parser.parse_args()
    model = torch.nn.Linear(4, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=args.weight_decay)
    return optimizer
'''
CLEAN = '''import torch

model = torch.nn.Linear(4, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
'''


def optlint(*args, cwd, env=None) -> subprocess.CompletedProcess:
    """One optlint process; OPTLINT_CACHE_DIR only when `env` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "OPTLINT_CACHE_DIR"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "optlint", *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=120
    )


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def cache_files(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR_NAME).glob("*/*.json"))


def same_run(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess) -> None:
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


# -- through the command line ----------------------------------------------------------------


@pytest.mark.parametrize("output", ["text", pytest.param("json", marks=pytest.mark.slow)])
def test_warm_run_equals_cold_run_on_the_fixtures(tmp_path, output):
    tree = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "static", tree / "static")
    (tree / "pyproject.toml").write_text("[project]\nname = 'f'\n")
    args = ["check", "--select", "ALL", "--output-format", output, "."]
    cold = optlint(*args, "--no-cache", cwd=tree)
    assert not (tree / CACHE_DIR_NAME).exists()  # --no-cache writes nothing
    first = optlint(*args, cwd=tree)
    assert cache_files(tree), "the first cached run writes the cache"
    warm = optlint(*args, cwd=tree)
    assert "OPT001" in cold.stdout
    same_run(cold, first)
    same_run(cold, warm)


def test_the_cache_folder_is_tagged_and_ignored_as_ruffs_is(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    optlint("check", ".", cwd=root)
    folder = root / CACHE_DIR_NAME
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_edited_file_is_checked_again(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN, "clean.py": CLEAN})
    assert "OPT001" in optlint("check", ".", cwd=root).stdout
    # the same size and a modification time set back to the old one: the index was taken
    # seconds ago, so the file is read again (its time cannot vouch for it)
    path = root / "train.py"
    before = path.stat()
    path.write_text(TRAIN.replace("0.05", "0.00"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = optlint("check", ".", cwd=root)
    same_run(after, optlint("check", "--no-cache", ".", cwd=root))
    assert "weight_decay=0.00 from" in after.stdout


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_a_settings_change_is_not_served_from_the_cache(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    assert "OPT001" in optlint("check", ".", cwd=root).stdout
    (root / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.optlint]\nper-file-ignores = {"train.py" = ["OPT001"]}\n')
    ignored = optlint("check", ".", cwd=root)
    assert "OPT001" not in ignored.stdout
    assert optlint("check", "--select", "OPT006", ".", cwd=root).returncode == 0
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert "OPT001" in optlint("check", ".", cwd=root).stdout


def test_fix_applies_fixes_a_text_run_cached(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    assert "OPT001" in optlint("check", ".", cwd=root).stdout
    fixed = optlint("check", "--fix", "--unsafe-fixes", ".", cwd=root)
    assert "Fixed 1 finding" in fixed.stderr
    assert "p.squeeze().ndim" in (root / "train.py").read_text()
    same_run(optlint("check", ".", cwd=root), optlint("check", "--no-cache", ".", cwd=root))


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_json_after_text_carries_the_fix_edits(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    optlint("check", ".", cwd=root)  # the text report renders no edits
    warm = optlint("check", "--output-format", "json", ".", cwd=root)
    cold = optlint("check", "--output-format", "json", "--no-cache", ".", cwd=root)
    same_run(warm, cold)
    assert json.loads(warm.stdout)[0]["fix"]["edits"]


def test_a_staged_file_alone_says_what_the_full_run_says_of_it(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN, "clean.py": CLEAN})
    full = optlint("check", "--output-format", "json", ".", cwd=root)
    alone = optlint("check", "--output-format", "json", "train.py", cwd=root)
    mine = [f for f in json.loads(full.stdout) if f["filename"].endswith("train.py")]
    assert json.loads(alone.stdout) == mine and mine


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN, "clean.py": CLEAN})
    cold = optlint("check", "--no-cache", ".", cwd=root)
    optlint("check", ".", cwd=root)
    (path,) = cache_files(root)
    for bad in (b"\x00not json", b"[1, 2]", json.dumps({"format": 1, "root": str(root), "taken": 0, "index": {},
                                                         "mentions": {}, "results": {str(root / "train.py"): {"sha": 1}}}).encode()):
        path.write_bytes(bad)
        same_run(optlint("check", ".", cwd=root), cold)
        json.loads(path.read_bytes())  # rewritten whole
    # an entry that claims the file's hash but holds another shape of result is checked again
    data = json.loads(path.read_bytes())
    entry = data["results"][str(root / "train.py")]
    entry["result"] = ["not", "a", "result"]
    path.write_text(json.dumps(data))
    same_run(optlint("check", ".", cwd=root), cold)


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_concurrent_runs_do_not_break_the_cache(tmp_path):
    files = {f"m{i}.py": TRAIN if i % 3 == 0 else CLEAN for i in range(12)}
    root = project(tmp_path, files)
    cold = optlint("check", "--no-cache", ".", cwd=root)
    env = dict(os.environ)
    env.pop("OPTLINT_CACHE_DIR", None)
    for _ in range(2):
        procs = [
            subprocess.Popen([sys.executable, "-m", "optlint", "check", "."], cwd=root, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert (proc.returncode, out, err) == (cold.returncode, cold.stdout, cold.stderr)
        for path in cache_files(root):
            json.loads(path.read_bytes())  # never half a file
        (root / "m1.py").write_text(CLEAN + "\n")  # a change between rounds
    assert not [p for p in (root / CACHE_DIR_NAME).rglob(".tmp-*")]


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_an_unusable_cache_folder_degrades_to_no_cache_with_a_warning(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    cold = optlint("check", "--no-cache", ".", cwd=root)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for args, env in ((["--cache-dir", str(blocker / "cache")], None), ([], {"OPTLINT_CACHE_DIR": str(blocker / "c")})):
        run = optlint("check", *args, ".", cwd=root, env=env)
        assert run.stdout == cold.stdout and run.returncode == cold.returncode
        assert "optlint: warning: cannot use the cache folder" in run.stderr
        assert "checking without a cache" in run.stderr
    if os.geteuid() != 0:  # root writes anywhere
        readonly = tmp_path / "ro"
        readonly.mkdir()
        readonly.chmod(0o555)
        try:
            run = optlint("check", "--cache-dir", str(readonly), ".", cwd=root)
            assert run.stdout == cold.stdout and "checking without a cache" in run.stderr
        finally:
            readonly.chmod(0o755)


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_cache_dir_option_environment_and_config(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN})
    optlint("check", "--cache-dir", str(tmp_path / "c1"), ".", cwd=root)
    optlint("check", ".", cwd=root, env={"OPTLINT_CACHE_DIR": str(tmp_path / "c2")})
    (root / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.optlint]\ncache-dir = "build/lint-cache"\n')
    optlint("check", ".", cwd=root)
    assert list((tmp_path / "c1").glob("*/*.json")) and list((tmp_path / "c2").glob("*/*.json"))
    assert list((root / "build" / "lint-cache").glob("*/*.json"))
    assert not (root / CACHE_DIR_NAME).exists()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.optlint]\ncache-dir = 3\n')
    bad = optlint("check", ".", cwd=root)
    assert bad.returncode == 2 and "`cache-dir` must be the path of a folder" in bad.stderr


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_clean_removes_the_cache_folders(tmp_path):
    root = project(tmp_path, {"train.py": TRAIN, "sub/pyproject.toml": "", "sub/x.py": CLEAN})
    optlint("check", ".", cwd=root)
    optlint("check", ".", cwd=root / "sub")
    assert (root / CACHE_DIR_NAME).is_dir() and (root / "sub" / CACHE_DIR_NAME).is_dir()
    done = optlint("clean", cwd=root)
    assert done.returncode == 0 and "Removing cache at:" in done.stderr
    assert not (root / CACHE_DIR_NAME).exists() and not (root / "sub" / CACHE_DIR_NAME).exists()


# -- cross-module results --------------------------------------------------------------------

FACTORY = {
    "utils.py": "import torch\n\n\ndef make_optimizer(params, weight_decay=0.05):\n"
    "    return torch.optim.AdamW(params, lr=1e-3, weight_decay=weight_decay)\n",
    "train.py": "import torch\nfrom utils import make_optimizer\n\nmodel = torch.nn.Linear(4, 4)\n"
    "optimizer = make_optimizer(model.parameters())\n",
}


def test_editing_a_dependency_module_invalidates_its_dependents(tmp_path):
    root = project(tmp_path, FACTORY)
    cold = optlint("check", "--no-cache", "--select", "ALL", ".", cwd=root)
    # the caller decides which parameters: train.py reports, naming the factory's file
    assert any(line.startswith("train.py") and "utils.py" in line for line in cold.stdout.splitlines()), cold.stdout
    same_run(optlint("check", "--select", "ALL", ".", cwd=root), cold)
    alone = optlint("check", "--select", "ALL", "train.py", cwd=root)
    assert alone.stdout == cold.stdout  # the staged file alone: the same finding
    (root / "utils.py").write_text(FACTORY["utils.py"].replace("0.05", "0.0"))
    staged = optlint("check", "--select", "ALL", "train.py", cwd=root)
    assert staged.stdout == optlint("check", "--no-cache", "--select", "ALL", "train.py", cwd=root).stdout
    assert "utils.py" not in staged.stdout


@pytest.mark.slow  # whole CLI runs, several each: the slow suite (CI runs it)
def test_a_module_created_later_that_changes_an_import_invalidates(tmp_path):
    # `from utils import make_optimizer` finds lib/utils.py through the root first... until a
    # utils.py appears beside the script (the script's folder comes first on sys.path).
    files = {"scripts/train.py": FACTORY["train.py"], "utils.py": FACTORY["utils.py"]}
    root = project(tmp_path, files)
    warm = optlint("check", "--select", "ALL", ".", cwd=root)
    assert "utils.py" in warm.stdout
    (root / "scripts" / "utils.py").write_text(FACTORY["utils.py"].replace("0.05", "0.0"))
    again = optlint("check", "--select", "ALL", "scripts/train.py", cwd=root)
    assert again.stdout == optlint("check", "--no-cache", "--select", "ALL", "scripts/train.py", cwd=root).stdout
    assert "OPT001" not in again.stdout


CALLERS = {
    "lib.py": "import torch\n\n\ndef train(model, weight_decay=0.01):\n"
    "    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=weight_decay)\n",
    "main.py": "import torch\nfrom lib import train\n\ntrain(torch.nn.Linear(4, 4), weight_decay=0.0)\n",
}


def test_a_new_caller_invalidates_a_result_that_searched_for_callers(tmp_path):
    root = project(tmp_path, CALLERS)
    cold = optlint("check", "--no-cache", "--select", "ALL", ".", cwd=root)
    (root / "other.py").write_text("import torch\nfrom lib import train\n\ntrain(torch.nn.Linear(2, 2), weight_decay=0.1)\n")
    changed = optlint("check", "--no-cache", "--select", "ALL", ".", cwd=root)
    if cold.stdout == changed.stdout:
        pytest.skip("callers (issue 18 item 2) are not on this branch: a new caller changes nothing")
    (root / "other.py").unlink()
    same_run(optlint("check", "--select", "ALL", ".", cwd=root), cold)
    (root / "other.py").write_text("import torch\nfrom lib import train\n\ntrain(torch.nn.Linear(2, 2), weight_decay=0.1)\n")
    same_run(optlint("check", "--select", "ALL", ".", cwd=root), changed)


# -- the cache layer's own invalidation, given results that read other files -------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _result(path: Path, deps: Dependencies | None, message: str = "m") -> FileResult:
    info = path.stat()
    finding = Finding(str(path), "OPT001", message, Position(1, 1), Position(1, 2), 1, None, applicability="safe")
    return FileResult(str(path), [finding], dependencies=deps, source_key=(info.st_mtime_ns, info.st_size, _sha(path)))


@pytest.fixture
def layer(tmp_path):
    """(root, settings, run): `run(result)` stores a result through a fresh cache (as one
    process would), `run()` looks the file up in another fresh one: the FileResult or None."""
    root = project(tmp_path, {"a.py": "import b\nx = 1\n", "b.py": "def make_opt(): pass\n", "c.py": "y = 2\n"})
    settings = resolve_settings(FileConfig(), ["ALL"])
    target = str(root / "a.py")

    def run(result: FileResult | None = None):
        forget_projects()  # a new process: nothing read before
        cache = ResultCache(str(tmp_path / "cache"))
        hits, _ = cache.lookup([target], lambda path: settings)
        if result is not None:
            cache.store([result], lambda path: settings)
            cache.save()
        return hits.get(target)

    yield root, settings, run
    forget_projects()


def test_layer_a_result_is_valid_while_the_files_it_read_are_unchanged(layer):
    root, _, run = layer
    deps = Dependencies(files={str(root / "b.py"): _sha(root / "b.py")})
    assert run(_result(root / "a.py", deps)) is None
    hit = run()
    assert hit is not None and [f.message for f in hit.findings] == ["m"]
    (root / "c.py").write_text("y = 3\n")  # a file it did not read
    assert run() is not None
    (root / "b.py").write_text("def make_opt(): return 1\n")
    assert run() is None
    (root / "b.py").write_text("def make_opt(): pass\n")  # back as it was: the hash matches again
    assert run() is not None
    (root / "b.py").unlink()
    assert run() is None


def test_layer_a_file_that_gains_or_loses_a_searched_word_invalidates(layer):
    root, _, run = layer
    deps = Dependencies(files={str(root / "b.py"): _sha(root / "b.py")}, queries={"make_opt"})
    run(_result(root / "a.py", deps))
    assert run() is not None
    (root / "d.py").write_text("z = 1\n")  # a new file without the word
    assert run() is not None
    (root / "c.py").write_text("from b import make_opt\nmake_opt()\n")  # gains it
    assert run() is None
    deps = Dependencies(files={str(root / p): _sha(root / p) for p in ("b.py", "c.py")}, queries={"make_opt"})
    run(_result(root / "a.py", deps))
    assert run() is not None
    (root / "c.py").write_text("y = 2\n")  # loses it
    assert run() is None


def test_layer_a_result_whose_word_holders_it_did_not_read_is_not_stored(layer):
    root, _, run = layer
    # b.py holds the word but the result did not record reading it: storing it would go stale
    run(_result(root / "a.py", Dependencies(queries={"make_opt"})))
    assert run() is None


def test_layer_results_of_another_display_path_keep_their_own_path(layer, tmp_path):
    root, settings, run = layer
    run(_result(root / "a.py", None))
    forget_projects()
    cache = ResultCache(str(tmp_path / "cache"))
    os.chdir(root)
    hits, misses = cache.lookup(["a.py"], lambda path: settings)
    assert not misses and hits["a.py"].findings[0].path == "a.py"


# -- the settings fingerprint -------------------------------------------------------------------


def test_every_setting_that_changes_a_result_is_in_the_fingerprint():
    import dataclasses

    from optlint.settings import Settings

    settings = resolve_settings(FileConfig(), ["ALL"])
    names = {f.name for f in dataclasses.fields(Settings)}
    assert OUTPUT_ONLY_SETTINGS <= names  # a renamed field must not slip out silently
    base = fingerprint(settings)
    for name in sorted(names - OUTPUT_ONLY_SETTINGS):
        value = getattr(settings, name)
        changed = dataclasses.replace(settings)
        if isinstance(value, bool):
            setattr(changed, name, not value)
        elif isinstance(value, int):
            setattr(changed, name, value + 1)
        elif isinstance(value, frozenset):
            setattr(changed, name, value ^ {"OPT999"})
        elif isinstance(value, list):
            setattr(changed, name, [*value, ("x", "y", frozenset())])
        elif isinstance(value, dict):
            setattr(changed, name, {**value, "x.Y": None})
        else:
            setattr(changed, name, f"{value}-changed")
        assert fingerprint(changed) != base, name
    for name in OUTPUT_ONLY_SETTINGS & names:
        changed = dataclasses.replace(settings)
        setattr(changed, name, "anything")
        assert fingerprint(changed) == base, name


def test_clean_never_removes_a_folder_optlint_did_not_make(tmp_path):
    # `cache-dir = "."` by mistake: `optlint clean` must not delete the project
    root = project(tmp_path, {"train.py": TRAIN, "pyproject.toml": '[tool.optlint]\ncache-dir = "."\n'})
    optlint("check", ".", cwd=root)  # writes its tag and a version folder into the project itself
    assert (root / "CACHEDIR.TAG").is_file()
    done = optlint("clean", cwd=root)
    assert done.returncode == 0
    assert (root / "train.py").is_file() and (root / "pyproject.toml").is_file()
    assert not (root / "CACHEDIR.TAG").exists()  # what optlint wrote is gone, nothing else
    assert sorted(p.name for p in root.iterdir()) == ["pyproject.toml", "train.py"]
