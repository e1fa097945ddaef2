"""pytest plugin: ``pytest --optlint`` fails any test that steps a misconfigured optimizer.

Registered through the ``pytest11`` entry point. It imports torch only when --optlint is
given, so installing optlint costs other test runs nothing. Parameters are named by the
model from ``optlint.install(models=...)`` or from any of the test's fixtures that is an
``nn.Module``; a failure shows optlint's report alone, not a traceback through its hook.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("optlint")
    group.addoption(
        "--optlint",
        action="store_true",
        default=False,
        help="check every optimizer at its first step() and fail the test on a finding",
    )


def _enabled(config) -> bool:
    return bool(config.getoption("optlint", default=False))


def pytest_configure(config):
    if not _enabled(config):
        return
    from optlint.runtime import install

    handle = install(mode="raise")
    config.add_cleanup(handle.remove)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not _enabled(item.config):
        yield
        return
    import torch

    from optlint.runtime import register_models

    fixtures = getattr(item, "funcargs", {}) or {}
    models = [value for value in fixtures.values() if isinstance(value, torch.nn.Module)]
    with register_models(models):
        yield


def _step_line(excinfo, item) -> str | None:
    """`path:row: source` of the last frame in the test's own file (where step() was called)."""
    path = getattr(item, "path", None)
    for entry in reversed(excinfo.traceback):
        if path is not None and str(entry.path) == str(path):
            try:
                shown = path.relative_to(item.config.rootpath)
            except ValueError:
                shown = path
            source = str(entry.statement).strip() if entry.statement is not None else ""
            return f"{shown}:{entry.lineno + 1}: {source}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.excinfo is None or not _enabled(item.config):
        return
    from optlint.runtime import OptimizerConfigError

    if not isinstance(call.excinfo.value, OptimizerConfigError):
        return
    result = outcome.get_result()
    where = _step_line(call.excinfo, item)
    text = str(call.excinfo.value)
    # the report alone: the traceback would run through optlint's own hook and repeat it
    result.longrepr = f"{text}\nat {where}" if where else text
