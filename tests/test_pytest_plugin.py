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


def test_plugin_fails_misconfigured_optimizer(pytester):
    pytester.makepyfile(test_training=TEST_FILE)
    result = pytester.runpytest_subprocess("--optlint", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*OptimizerConfigError*", "*OPT101*", "*optlint.param_groups*"])


def test_without_flag_nothing_changes(pytester):
    pytester.makepyfile(test_training=TEST_FILE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
