"""A decay that is a function parameter is judged by what the project's call sites pass.

Each folder in fixtures/project/callers_*/ is a small repository (its own pyproject.toml marks
the root) with an ``expected.txt``: the findings ``optlint check .`` prints there (its standard
output; the summary goes to standard error), one ``path:row:col: CODE message`` line each, the
format every folder of fixtures/project/ shares. Regenerate them with

    OPTLINT_UPDATE_SNAPSHOTS=1 python -m pytest -q tests/test_callers.py

The same findings must come from the pre-commit path (each file named alone: the other
modules are read from the project) and from the library API that flake8 and the language
server call (no runner, no cache).
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from optlint.cli import main
from optlint.static.linter import check_path
from optlint.static.project import forget_projects

PROJECTS = FIXTURES / "project"
CASES = sorted(p for p in PROJECTS.glob("callers_*") if p.is_dir())
FINDING = re.compile(r"^(?P<path>[^:\s]+\.py):(?P<row>\d+):(?P<col>\d+): (?P<code>OPT\d+) (?P<message>.*)$")


@pytest.fixture(autouse=True)
def _fresh_projects():
    """Each test reads the files as they are now (one Project per root per process)."""
    forget_projects()
    yield
    forget_projects()


def _cli(folder, *args: str) -> tuple[int, str]:
    """(exit status, standard output) of `optlint check ARGS` run in `folder`."""
    old = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["check", *args])
    finally:
        os.chdir(old)
    assert "Traceback" not in result.stderr and "internal error" not in result.stdout, result.stderr
    return result.exit_code, result.stdout


def _findings(output: str) -> list[tuple[str, int, int, str, str]]:
    found = []
    for line in output.splitlines():
        match = FINDING.match(line)
        if match:
            found.append((match["path"].replace(os.sep, "/"), int(match["row"]), int(match["col"]), match["code"],
                          match["message"]))
    return found


def _python_files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)).replace(os.sep, "/") for p in folder.rglob("*.py"))


def test_every_case_has_expected_output():
    assert {p.name for p in CASES} >= {
        "callers_zero", "callers_nonzero", "callers_default_zero", "callers_mixed", "callers_recursion",
        "callers_kwargs", "callers_none", "callers_ctor", "callers_method",
    }
    for case in CASES:
        assert (case / "pyproject.toml").is_file(), f"{case.name}: the root marker keeps the project to the folder"
        assert (case / "expected.txt").is_file(), case.name


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_full_run_prints_expected(case):
    status, output = _cli(case, ".")
    expected = case / "expected.txt"
    if os.environ.get("OPTLINT_UPDATE_SNAPSHOTS"):
        expected.write_text(output, encoding="utf-8")
    assert output == expected.read_text(encoding="utf-8")
    assert len(_findings(output)) == len(output.splitlines())  # nothing but findings on standard output
    assert status == (1 if output else 0)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_pre_commit_path_sees_the_same(case):
    """pre-commit names only the staged files: each file checked alone gives the findings the
    full run gives for it (its callers are read from the project)."""
    _, full = _cli(case, ".")
    expected = _findings(full)
    for name in _python_files(case):
        forget_projects()
        _, alone = _cli(case, name)
        assert _findings(alone) == [f for f in expected if f[0] == name], name


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_library_path_sees_the_same(case, settings_all):
    """`check_path` (what the flake8 plugin, the language server and the codemod build on):
    no runner, no cache, the same findings."""
    _, full = _cli(case, ".")
    expected = [(f[0], f[1], f[3]) for f in _findings(full)]
    got = []
    for name in _python_files(case):
        result = check_path(str(case / name), settings_all)
        got.extend((name, f.location.row, f.code) for f in result.findings if f.code == "OPT001")
    assert sorted(got) == sorted(f for f in expected if f[2] == "OPT001")


def test_messages_name_the_call_site():
    _, output = _cli(PROJECTS / "callers_nonzero", ".")
    (finding,) = _findings(output)
    assert finding[:2] == ("trainer.py", 6)
    assert "weight_decay=0.05 from parameter `weight_decay`, passed by `train(...)` at main.py:6" in finding[4]
    assert "can be changed at run time" not in finding[4]
    _, output = _cli(PROJECTS / "callers_default_zero", ".")
    assert "weight_decay=0.1 from `WEIGHT_DECAY`, passed by `train(...)` at main.py:8" in _findings(output)[0][4]
    _, output = _cli(PROJECTS / "callers_method", ".")
    assert "passed by `builder.build(...)` at main.py:6" in _findings(output)[0][4]
    _, output = _cli(PROJECTS / "callers_mixed", ".")
    message = _findings(output)[0][4]
    assert "which `train(...)` at scripts/pretrain.py:6 leaves as it is (calls differ: main.py:6 passes 0.0)" in message
    assert "(calls differ: main.py:6 passes 0.0), which can be changed at run time" in message


def test_unknown_callers_keep_todays_message():
    for case in ("callers_kwargs", "callers_none"):
        _, output = _cli(PROJECTS / case, ".")
        (finding,) = _findings(output)
        assert "weight_decay=0.0 from the default of parameter `weight_decay`, which can be changed at run time" in finding[4]


# -- the verdict follows the callers ----------------------------------------------------------


def _copy(case: str, tmp_path):
    target = tmp_path / case
    shutil.copytree(PROJECTS / case, target, ignore=shutil.ignore_patterns("expected.txt"))
    return target


def _write(folder, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _opt001(folder, name: str, settings) -> list[str]:
    forget_projects()
    return [f.message for f in check_path(str(folder / name), settings).findings if f.code == "OPT001"]


def test_a_new_caller_changes_the_verdict_and_is_a_dependency(tmp_path, settings_all):
    project = _copy("callers_zero", tmp_path)
    result = check_path(str(project / "trainer.py"), settings_all)
    assert not result.findings
    deps = result.dependencies
    assert "train" in deps.queries  # a file that starts mentioning `train` invalidates the result
    assert str(project / "main.py") in deps.files and str(project / "finetune.py") in deps.files
    _write(project, "tools/sweep.py", """\
        import torch
        from trainer import train

        train(torch.nn.Linear(2, 2), weight_decay=3e-4)
    """)
    (message,) = _opt001(project, "trainer.py", settings_all)
    assert "weight_decay=3e-4" in message and "passed by `train(...)` at tools/sweep.py:4" in message
    assert "calls differ:" in message


def test_recursion_follows_a_callers_own_parameter(tmp_path, settings_all):
    project = _copy("callers_recursion", tmp_path)
    assert _opt001(project, "pkg/engine.py", settings_all) == []
    _write(project, "main.py", """\
        import torch

        from cli import run

        optimizer = run(torch.nn.Linear(4, 4), wd=0.2)
    """)
    (message,) = _opt001(project, "pkg/engine.py", settings_all)
    assert "weight_decay=0.2 from parameter `wd`, passed by `run(...)` at main.py:5, then by `train(...)` at cli.py:5" \
        in message


def test_constructor_caller_in_another_file(tmp_path, settings_all):
    project = _copy("callers_ctor", tmp_path)
    assert _opt001(project, "trainer.py", settings_all) == []
    _write(project, "eval.py", "import torch\nfrom trainer import Trainer\nTrainer(torch.nn.Linear(2, 2))\n")
    (message,) = _opt001(project, "trainer.py", settings_all)
    assert "weight_decay=0.05 from the default of parameter `weight_decay`, which `Trainer(...)` at eval.py:3 " \
           "leaves as it is (calls differ: main.py:5 passes 0)" in message


HIDDEN_CALLERS = {
    # the function handed on as a value: whoever receives it may pass anything
    "partial": "import functools\nfrom trainer import train\nf = functools.partial(train, weight_decay=0.0)\n",
    "callback": "from trainer import train\nCALLBACKS = [train]\n",
    "registry": "from trainer import train\nREGISTRY = {}\nREGISTRY['sgd'] = train\n",
    # imported under another name: its calls do not name `train`
    "alias": "from trainer import train as fit\nfit(model, weight_decay=0.1)\n",
    # *args at the call may hold the decay
    "star": "from trainer import train\ntrain(*sys.argv)\n",
}


@pytest.mark.parametrize("how", sorted(HIDDEN_CALLERS))
def test_callers_optlint_cannot_see_keep_the_default(how, tmp_path, settings_all):
    project = _copy("callers_zero", tmp_path)
    _write(project, "other.py", HIDDEN_CALLERS[how])
    (message,) = _opt001(project, "trainer.py", settings_all)
    assert "weight_decay=0.01 from the default of parameter `weight_decay`, which can be changed at run time" in message


def test_a_subclass_or_a_registry_decorator_hides_constructor_calls(tmp_path, settings_all):
    project = _copy("callers_ctor", tmp_path)
    _write(project, "sub.py", "from trainer import Trainer\n\n\nclass Mine(Trainer):\n    pass\n")
    assert len(_opt001(project, "trainer.py", settings_all)) == 1
    project = _copy("callers_zero", tmp_path / "deco")
    text = (project / "trainer.py").read_text(encoding="utf-8")
    (project / "trainer.py").write_text(text.replace("def train(", "@REGISTRY.register()\ndef train("), encoding="utf-8")
    assert len(_opt001(project, "trainer.py", settings_all)) == 1


def test_a_method_called_on_an_object_optlint_cannot_trace(tmp_path, settings_all):
    project = _copy("callers_method", tmp_path)
    _write(project, "main.py", """\
        import torch

        from builder import OptimizerBuilder

        def build(b, model):
            return b.build(model, weight_decay=0.0)
    """)
    (message,) = _opt001(project, "builder.py", settings_all)
    assert "from the default of parameter `weight_decay`, which can be changed at run time" in message


def test_a_name_shadowed_in_the_caller_is_not_a_call(tmp_path, settings_all):
    project = _copy("callers_zero", tmp_path)
    _write(project, "other.py", "def train(model, weight_decay):\n    return None\n\ntrain(None, weight_decay=0.5)\n")
    assert _opt001(project, "trainer.py", settings_all) == []


def test_in_file_callers_and_cycles(tmp_path, settings_all):
    _write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    _write(tmp_path, "loop.py", """\
        import torch


        def ping(model, wd=0.01, n=0):
            opt = torch.optim.AdamW(model.parameters(), weight_decay=wd)
            return pong(model, wd, n) if n < 3 else opt


        def pong(model, wd, n):
            return ping(model, wd, n + 1)


        class Fit:
            def make(self, model, wd=0.01):
                return torch.optim.AdamW(model.parameters(), weight_decay=wd)

            def run(self, model):
                return self.make(model, wd=0)
    """)
    (message,) = _opt001(tmp_path, "loop.py", settings_all)  # the cycle: ping's default still reported
    assert "weight_decay=0.01" in message and "can be changed at run time" in message


@pytest.mark.parametrize("bound,value", [("MAX_CALLER_FILES", 1), ("MAX_CALLER_BYTES", 100)])
def test_too_many_files_keep_the_default(bound, value, tmp_path, settings_all, monkeypatch):
    from optlint.static.model import callers

    project = _copy("callers_zero", tmp_path)
    assert _opt001(project, "trainer.py", settings_all) == []
    monkeypatch.setattr(callers, bound, value)
    (message,) = _opt001(project, "trainer.py", settings_all)
    assert "which can be changed at run time" in message


def test_standard_input_has_no_project_and_keeps_the_default(settings_all):
    from optlint.static.linter import check_source

    text = "import torch\n\ndef train(m, wd=0.01):\n    return torch.optim.AdamW(m.parameters(), weight_decay=wd)\n\ntrain(x, 0)\n"
    (finding,) = [f for f in check_source("-", text.encode(), settings_all).findings if f.code == "OPT001"]
    assert "from the default of parameter `wd`, which can be changed at run time" in finding.message


def test_flags_rules_read_through_parameters(tmp_path):
    """OPT003's `decoupled_weight_decay` and timm's `filter_bias_and_bn` follow the callers too."""
    _write(tmp_path, "pyproject.toml", "[project]\nname = 'flags'\n")
    _write(tmp_path, "opt.py", """\
        import timm.optim
        import torch


        def make(params, decoupled=False):
            return torch.optim.Adam(params, lr=1e-3, weight_decay=0.01, decoupled_weight_decay=decoupled)


        def build(model, filter_norms=True):
            # timm splits model.parameters() itself unless told not to
            return timm.optim.create_optimizer_v2(model, "adamw", weight_decay=0.05, filter_bias_and_bn=filter_norms)
    """)
    _write(tmp_path, "main.py", """\
        import torch
        from opt import build, make

        net = torch.nn.Linear(2, 2)
        make(net.parameters(), decoupled=True)
        build(net, filter_norms=True)
    """)
    assert _cli(tmp_path, "--select", "ALL", ".") == (0, "")
    _write(tmp_path, "main.py", """\
        import torch
        from opt import build, make

        net = torch.nn.Linear(2, 2)
        make(net.parameters())
        build(net, filter_norms=False)
    """)
    _, output = _cli(tmp_path, "--select", "ALL", ".")
    assert [(f[0], f[1], f[3]) for f in _findings(output)] == [("opt.py", 6, "OPT003"), ("opt.py", 11, "OPT001")]
