"""`pytest --optlint` fails a test that steps a misconfigured optimizer (real pytest run)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

TEST_FILE = """
import torch

def test_bad_optimizer():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()

def test_good_optimizer():
    model = torch.nn.Linear(4, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
"""

WITH_MODELS = """
import pytest
import torch
import optlint

@pytest.fixture
def net():
    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))

def test_fixture_names_parameters(net):
    opt = torch.optim.AdamW(net.parameters())
    net(torch.randn(2, 4)).sum().backward()
    opt.step()

def test_install_names_parameters():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    handle = optlint.install(mode="warn", models=model)
    try:
        opt = torch.optim.AdamW(model.parameters())
        model(torch.randn(2, 4)).sum().backward()
        opt.step()
    finally:
        handle.remove()
"""


def test_plugin_fails_misconfigured_optimizer(pytester):
    pytester.makepyfile(test_training=TEST_FILE)
    result = pytester.runpytest_subprocess("--optlint", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*OPT101*", "*optlint.param_groups*", "at test_training.py:7: opt.step()"])


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_failure_shows_the_report_alone(pytester, monkeypatch):
    # pytest prints whole failure messages in its short summary when CI is set: count the
    # report the way a developer's terminal shows it.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    pytester.makepyfile(test_training=TEST_FILE)
    result = pytester.runpytest_subprocess("--optlint", "-p", "no:cacheprovider")
    out = result.stdout.str()
    # no traceback through optlint's own hook, the report once, its first line in the summary
    assert "optlint/runtime" not in out and "raise OptimizerConfigError" not in out
    assert out.count("OPT101 param_groups[0]['params'][1]") == 1
    assert "FAILED test_training.py::test_bad_optimizer - optlint: 3 problems" in out
    # without a model, the report says how to get names
    assert "model.named_parameters()" in out and "a fixture that returns it" in out


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_model_comes_from_a_fixture_or_install(pytester):
    pytester.makepyfile(test_models=WITH_MODELS)
    result = pytester.runpytest_subprocess("--optlint", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "OPT101 `0.bias` (a bias of Linear, 1-D)" in out and "OPT101 `1.weight`" in out
    assert "`1.weight` (an affine parameter of BatchNorm1d" in out
    assert "param_groups[0]" not in out and "named by position" not in out


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_without_flag_nothing_changes(pytester):
    pytester.makepyfile(test_training=TEST_FILE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


SWALLOWED = """
import threading

import pytest
import torch

def bad_step():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()

def test_catches_everything():
    try:
        bad_step()
    except Exception:
        pass

def test_expects_an_assertion_error():
    with pytest.raises(AssertionError):
        bad_step()

def test_steps_in_a_thread():
    worker = threading.Thread(target=bad_step)
    worker.start()
    worker.join()

def test_muon_and_adamw_together():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))
    matrices = [p for p in model.parameters() if p.ndim == 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    muon = torch.optim.Muon(matrices, lr=0.02)
    adamw = torch.optim.AdamW(vectors, weight_decay=0.0)
    model(torch.randn(2, 4)).sum().backward()
    adamw.step()
    muon.step()
"""


@pytest.mark.slow  # a pytest or pre-commit run in a subprocess (tens of seconds): the slow suite, which CI runs
def test_a_test_cannot_swallow_the_report(pytester, monkeypatch):
    """The report travels through the plugin's own channel, not the test's exception."""
    # pytest prints whole failure messages in its short summary when CI is set: count the
    # report the way a developer's terminal shows it.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    pytester.makepyfile(test_swallow=SWALLOWED)
    result = pytester.runpytest_subprocess("--optlint", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnhandledThreadExceptionWarning")
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    for name in ("test_catches_everything", "test_expects_an_assertion_error", "test_steps_in_a_thread"):
        assert f"FAILED test_swallow.py::{name}" in out
    assert "at test_swallow.py:10: opt.step()" in out
    assert out.count("OPT101 param_groups[0]['params'][1]") == 3
