"""Hostile input against the static core itself (issue 12 items 2, 6 and 11): each runs
optlint for real, in a child process where a crash would show as a signal."""

from __future__ import annotations

import subprocess
import sys

CHAIN = " and ".join(["a"] * 10_000)


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "optlint", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_chain_libcst_cannot_parse_costs_the_fix_not_the_run(tmp_path):
    # LibCST's parser overflows its stack on a 10,000-term chain: the statement is not handed to it
    target = tmp_path / "chain.py"
    source = f"import torch\nopt = torch.optim.AdamW(model.parameters(), lr=1 if {CHAIN} else 2)\n"
    target.write_text(source)
    result = run("check", "--fix", "-j", "1", str(target))
    assert result.returncode == 1, result.stderr
    assert "OPT001" in result.stdout and "no automatic fix" in result.stdout
    assert target.read_text() == source


def test_a_chain_in_a_file_with_a_syntax_error_is_reported_not_crashed_on(tmp_path):
    target = tmp_path / "broken.py"
    target.write_text(f"import torch\nx = ({CHAIN}\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "-j", "1", str(target))
    assert result.returncode == 2 and "OPT000" in result.stdout


def test_a_chain_elsewhere_in_the_file_does_not_stop_finding_or_fixing(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(f"import torch\nx = {CHAIN}\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "--fix", "-j", "1", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "p.squeeze().ndim < 2" in target.read_text()


def test_brackets_in_comments_never_bound_an_edit(tmp_path):
    target = tmp_path / "train.py"
    source = (
        "import torch\nopt = torch.optim.AdamW(\n    model.parameters(),  # see x) if f(\n"
        "    # all params (yes) ]\n    lr=1e-3,\n)\n"
    )
    target.write_text(source)
    assert run("check", "--fix", "-j", "1", str(target)).returncode == 0
    fixed = target.read_text()
    compile(fixed, "fixed.py", "exec")
    assert fixed.count("# see x) if f(") == 1 and fixed.count("# all params (yes) ]") == 1


def test_constant_folding_is_bounded(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1, weight_decay=9**9**9)\n")
    result = run("check", "-j", "1", str(target))
    assert result.returncode == 1 and "not statically known" in result.stdout


# -- issue 22 items 6-8, issue 19 items 6-7: iterator reads, early exits, bounded work ----------

import ast  # noqa: E402
import textwrap  # noqa: E402

import pytest  # noqa: E402

from conftest import check_text  # noqa: E402


def findings(source: str, code: str):
    return [f for f in check_text(textwrap.dedent(source)) if f.code == code]


PEEK = """
    import torch
    def build(model):
        params = model.parameters()
        {between}
        return torch.optim.SGD(params, lr=0.1)
"""


def test_next_on_a_param_iterator_is_a_deliberate_read_not_a_reuse():
    assert findings(PEEK.format(between="first = next(params)"), "OPT008") == []
    assert findings(PEEK.format(between="first = params.__next__()"), "OPT008") == []
    assert findings(PEEK.format(between="first = next(params, None)"), "OPT008") == []
    # the same place consumed by a loop is a reuse
    assert len(findings(PEEK.format(between="n = sum(1 for _ in params)"), "OPT008")) == 1


def test_the_list_fix_is_never_offered_where_the_name_is_read_with_next():
    # a list is not an iterator: `next(list(...))` raises TypeError, so no fix is offered
    both = "first = next(params)\n        n = sum(1 for _ in params)"
    (finding,) = findings(PEEK.format(between=both), "OPT008")
    assert finding.fix is None
    (finding,) = findings(PEEK.format(between="n = sum(1 for _ in params)"), "OPT008")
    assert finding.fix is not None


EARLY = """
    import torch
    def build(model, kind):
        params = model.parameters()
        if kind == "sgd":
            {first}
        elif kind == "adam":
            return torch.optim.Adam(params)
        return torch.optim.AdamW(params)
"""


def test_early_exits_end_a_path_for_opt008():
    assert findings(EARLY.format(first="return torch.optim.SGD(params, lr=0.1)"), "OPT008") == []
    assert findings(EARLY.format(first="raise ValueError(list(params))"), "OPT008") == []
    # the sgd arm falls through: its consumer and the last one run on one path
    (finding,) = findings(EARLY.format(first="opt = torch.optim.SGD(params, lr=0.1)"), "OPT008")
    assert finding.location.row == 9


DECAY_AFTER_EXIT = """
    import torch
    def build(model, frozen):
        wd = 0.0
        if frozen:
            wd = 0.1
            {leave}
        return torch.optim.AdamW(model.parameters(), weight_decay=wd)
"""


def test_early_exits_end_a_path_for_values():
    # a binding in an arm that returns never reaches what follows the if: wd is 0.0 there
    assert findings(DECAY_AFTER_EXIT.format(leave="return None"), "OPT001") == []
    assert findings(DECAY_AFTER_EXIT.format(leave="raise SystemExit"), "OPT001") == []
    (finding,) = findings(DECAY_AFTER_EXIT.format(leave="print(wd)"), "OPT001")
    assert "not statically known" in finding.message


def test_early_exits_through_an_elif_chain_reach_the_model_paths():
    from optlint.static.model.scopes import FileModel

    tree = ast.parse(textwrap.dedent(EARLY.format(first="return torch.optim.SGD(params, lr=0.1)")))
    model = FileModel(tree)
    calls = {site.node.lineno: site for site in model.calls if getattr(site.node.func, "attr", "") in ("SGD", "Adam", "AdamW")}
    for a, b in [(6, 8), (6, 9), (8, 9)]:
        assert model.branches.exclusive(calls[a].path, calls[b].path), (a, b)
    falls = ast.parse(textwrap.dedent(EARLY.format(first="opt = torch.optim.SGD(params, lr=0.1)")))
    model = FileModel(falls)
    calls = {site.node.lineno: site for site in model.calls if getattr(site.node.func, "attr", "") in ("SGD", "Adam", "AdamW")}
    assert not model.branches.exclusive(calls[6].path, calls[9].path)


# Worst shapes known for the flow model (issue 22 items 7-8): each generator takes a size n.

def halving_under_ifs(n: int) -> str:
    """`wd = wd * 0.5` under n independent ifs: 2**n paths to the optimizer."""
    body = "".join(f"if c{i}:\n    wd = wd * 0.5\n" for i in range(n))
    return f"import torch\nwd = 0.1\n{body}opt = torch.optim.AdamW(model.parameters(), weight_decay=wd)\n"


def rebound_in_branches(n: int) -> str:
    """One name rebound to a one-shot iterator in n branches, consumed in each."""
    arms = "".join(
        f"    if k == {i}:\n        params = model.parameters()\n        opt = torch.optim.SGD(params, lr=0.1)\n"
        for i in range(n)
    )
    return f"import torch\ndef f(model, k):\n{arms}"


def elif_chain(n: int) -> str:
    """One iterator consumed once in each arm of an n-arm elif chain (every pair exclusive)."""
    arms = "".join(f"    elif k == {i}:\n        opt = torch.optim.SGD(params, lr=0.1)\n" for i in range(1, n))
    return (
        "import torch\ndef f(model, k):\n    params = model.parameters()\n"
        f"    if k == 0:\n        opt = torch.optim.SGD(params, lr=0.1)\n{arms}"
    )


def many_iterators(n: int) -> str:
    """n names, each a one-shot iterator consumed twice: one walk per scope, not per name."""
    lines = "".join(
        f"    p{i} = model.parameters()\n    a{i} = torch.optim.SGD(p{i}, lr=0.1)\n    b{i} = list(p{i})\n"
        for i in range(n)
    )
    return f"import torch\ndef f(model):\n{lines}"


def decay_after_rebindings(n: int) -> str:
    """n conditional rebindings of the decay, an optimizer after each (each use sees all)."""
    body = "".join(
        f"if c{i}:\n    wd = {i} * 1e-4\nopt{i} = torch.optim.AdamW(model.parameters(), weight_decay=wd)\n"
        for i in range(n)
    )
    return f"import torch\nwd = 0.0\n{body}"


SHAPES = [halving_under_ifs, rebound_in_branches, many_iterators, decay_after_rebindings]


def work(source: str) -> int:
    """Resolution steps, bindings scanned and path blocks visited in a full check of `source`
    (every rule, as `optlint check` runs them): the work, counted, not timed."""
    from optlint.config import FileConfig, resolve_settings
    from optlint.static import checker, context

    contexts = []
    original = context.FileContext

    class Counting(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            contexts.append(self)

    settings = resolve_settings(FileConfig(), ["ALL"])
    settings.fix_edits = False  # as `optlint check` reports in text: fixes are not rendered
    context.FileContext = Counting
    try:
        checker.check_text("shape.py", source, settings)
    finally:
        context.FileContext = original
    (ctx,) = contexts
    return ctx.resolver.steps + ctx.resolver.reach_steps + ctx.model.path_steps


def _grows_linearly(shape, n: int) -> None:
    small, large = work(shape(n)), work(shape(2 * n))
    # doubling the input at most doubles the work (plus slack for constant costs)
    assert large <= 2.2 * small + 200, (shape.__name__, small, large)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_flow_model_work_grows_linearly_on_the_worst_shapes(shape):
    _grows_linearly(shape, 60)


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_flow_model_work_grows_linearly_on_the_worst_shapes_at_scale(shape):
    _grows_linearly(shape, 1000)


@pytest.mark.parametrize("n", [60, 120])
def test_an_elif_chain_costs_its_depth_squared_at_most(n):
    # each arm's path holds every enclosing `else`: paths are as long as the chain is deep,
    # and Python's parser refuses nesting much past a thousand levels
    assert work(elif_chain(n)) <= 1.2 * n * n + 50 * n


def test_value_resolution_is_memoized_and_bounded_per_file():
    from optlint.static.model.values import MAX_STEPS

    # 20 independent ifs: 2**20 paths, a few hundred steps
    assert work(halving_under_ifs(20)) < 5_000
    # past the bound a value is unknown, and the decay over all parameters is still reported
    (finding,) = findings(halving_under_ifs(2000), "OPT001")
    assert "not statically known" in finding.message
    assert work(halving_under_ifs(2000)) < 4 * MAX_STEPS


KWARGS = """
    import torch
    kw = {{"weight_decay": 0.0}}
    {change}
    opt = torch.optim.AdamW(model.parameters(), **kw)
"""


@pytest.mark.parametrize(
    "change",
    ['kw["weight_decay"] = args.wd', "kw.update(cfg)", "kw.setdefault('weight_decay', 0.1)", "tune(kw)",
     "del kw['weight_decay']", 'kw["weight_decay"] += 0.1'],
)
def test_a_changed_kwargs_dict_is_not_a_constant(change):
    (finding,) = findings(KWARGS.format(change=change), "OPT001")
    assert "not statically known" in finding.message


@pytest.mark.parametrize("change", ["", "print(kw)", "other = dict(kw)", 'x = kw["weight_decay"]'])
def test_a_kwargs_dict_only_read_stays_a_constant(change):
    assert findings(KWARGS.format(change=change), "OPT001") == []


def test_a_dict_changed_after_the_optimizer_or_on_another_path_stays_a_constant():
    after = 'kw = {"weight_decay": 0.0}\nopt = torch.optim.AdamW(model.parameters(), **kw)\nkw["weight_decay"] = 1.0\n'
    assert findings("import torch\n" + after, "OPT001") == []
    other_path = (
        'import torch\nkw = {"weight_decay": 0.0}\nif a:\n    kw["weight_decay"] = 1.0\n    raise SystemExit\n'
        "opt = torch.optim.AdamW(model.parameters(), **kw)\n"
    )
    assert findings(other_path, "OPT001") == []


# -- issue 22 items 9-12: clear errors, notebooks, patches in the file's encoding ---------------

ENCODED = "# -*- coding: {encoding} -*-\nimport torch\n# {text}\nopt = torch.optim.AdamW(model.parameters())  # {text}\n"
TEXTS = {"latin-1": "Größe", "cp1252": "naïve “quotes” €", "shift_jis": "学習率", "gbk": "权重衰减", "euc_jp": "重み減衰"}


@pytest.mark.parametrize("encoding", sorted(TEXTS))
def test_diff_of_a_non_utf8_file_is_a_patch_in_its_encoding_that_git_applies(tmp_path, encoding):
    patched, fixed = tmp_path / "patched", tmp_path / "fixed"
    data = ENCODED.format(encoding=encoding, text=TEXTS[encoding]).encode(encoding)
    for folder in (patched, fixed):
        folder.mkdir()
        (folder / "train.py").write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "optlint", "check", "--diff", "train.py"], cwd=patched, capture_output=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert TEXTS[encoding].encode(encoding) in result.stdout
    (tmp_path / "p.patch").write_bytes(result.stdout)
    applied = subprocess.run(["git", "apply", "-p0", str(tmp_path / "p.patch")], cwd=patched, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert run("check", "--fix", "train.py", cwd=fixed).returncode == 0
    assert (patched / "train.py").read_bytes() == (fixed / "train.py").read_bytes() != data


def test_a_huge_integer_literal_says_what_is_wrong(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("import torch\nx = " + "9" * 5000 + "\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", str(target))
    assert result.returncode == 2
    assert "train.py:2:5: OPT000 integer literal too long: 5,000 digits" in result.stdout
    assert "newer" not in result.stdout


def test_diff_on_a_file_that_cannot_be_parsed_names_it_and_the_reason(tmp_path):
    broken, good = tmp_path / "broken.py", tmp_path / "good.py"
    broken.write_text("import torch\nopt = torch.optim.AdamW(model.parameters(\n")
    good.write_text("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", "--diff", str(broken), str(good))
    assert result.returncode == 2
    assert f"{broken}:2:" in result.stderr and "was never closed" in result.stderr
    assert "+++ " in result.stdout and "good.py" in result.stdout  # the other file's patch is still there
    assert "1 could not be checked" in result.stderr


def _notebook(*cells) -> str:
    import json

    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    })


def test_a_notebook_with_a_number_python_cannot_read_is_a_clear_error_and_others_are_checked(tmp_path):
    big = tmp_path / "big.ipynb"
    big.write_text(_notebook("x = 1\n").replace('"metadata": {}, "nbformat"', '"metadata": {"n": ' + "9" * 5000 + '}, "nbformat"'))
    good = tmp_path / "good.py"
    good.write_text("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
    result = run("check", str(big), str(good))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "big.ipynb:1:" in result.stdout and "OPT000 invalid notebook JSON: a number of 5,000 digits" in result.stdout
    assert "good.py:2:7: OPT001" in result.stdout


def test_a_bracket_a_notebook_cell_opens_and_the_next_closes_is_opt000_in_both(tmp_path):
    split = tmp_path / "split.ipynb"
    split.write_text(_notebook("import torch\nopt = torch.optim.AdamW(\n", "    model.parameters())\n"))
    result = run("check", str(split))
    assert result.returncode == 2
    assert "split.ipynb:cell 1:2:24: OPT000" in result.stdout and "never closed" in result.stdout
    assert "split.ipynb:cell 2:1:" in result.stdout
    joined = tmp_path / "joined.ipynb"
    joined.write_text(_notebook("import torch\nopt = torch.optim.AdamW(\n    model.parameters())\n", "x = 1\n"))
    result = run("check", str(joined))
    assert result.returncode == 1 and "OPT000" not in result.stdout and "OPT001" in result.stdout


def test_opt008s_path_trie_agrees_with_pairwise_exclusion():
    """The trie that keeps OPT008 linear answers exactly what comparing every pair would."""
    import random

    from optlint.rules.reused_iterator import _Consumed

    class Counter:
        path_steps = 0

    rng = random.Random(22)
    for _ in range(2000):
        arms = {block: (rng.randrange(4), rng.randrange(3)) for block in range(1, 9)}

        def exclusive(a, b):
            for x, y in zip(a, b):
                if x != y:
                    return arms[x][0] == arms[y][0] and arms[x][1] != arms[y][1]
            return False

        consumed, seen = _Consumed(arms.__getitem__, Counter()), []
        for index in range(6):
            path = tuple(rng.randrange(1, 9) for _ in range(rng.randrange(4)))
            first = consumed.on_a_path_with(path)
            assert (first is not None) == any(not exclusive(q, path) for q in seen), (path, seen, arms)
            assert first is None or not exclusive(seen[first], path)
            consumed.add(path, index)
            seen.append(path)
