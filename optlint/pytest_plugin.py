"""pytest plugin: ``pytest --optlint`` fails any test that steps a misconfigured optimizer.

Registered through the ``pytest11`` entry point. It imports torch only when --optlint is
given, so installing optlint costs other test runs nothing. Parameters are named by the
model from ``optlint.install(models=...)`` or from any of the test's fixtures that is an
``nn.Module``; a failure shows optlint's report alone, not a traceback through its hook.
Reports travel through the plugin's own channel, not the test's exception: a test that
catches the error, or steps its optimizer in a thread, fails all the same.
"""

from __future__ import annotations

import threading
import traceback

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


class _Channel:
    """The plugin's own channel: every report made during a test, whatever the test does with
    the exception (``except Exception``, ``pytest.raises(AssertionError)``) or in whichever
    thread the optimizer stepped. A report is recorded, then raised, so that training stops
    at the misconfigured step as it would under ``install(on_finding="raise")``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: list[tuple[object, list]] = []

    def __call__(self, error) -> None:
        stack = traceback.extract_stack()[:-1]
        with self._lock:
            self._reports.append((error, stack))
        raise error

    def take(self) -> list[tuple[object, list]]:
        with self._lock:
            reports, self._reports = self._reports, []
        return reports


_CHANNEL_KEY = pytest.StashKey[_Channel]()


def pytest_configure(config):
    if not _enabled(config):
        return
    from optlint.runtime import install

    channel = _Channel()
    config.stash[_CHANNEL_KEY] = channel
    handle = install(on_finding=channel)
    config.add_cleanup(handle.remove)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not _enabled(item.config):
        yield
        return
    import torch

    from optlint.runtime import register_models

    item.config.stash[_CHANNEL_KEY].take()  # reports from outside any test are not this test's
    fixtures = getattr(item, "funcargs", {}) or {}
    models = [value for value in fixtures.values() if isinstance(value, torch.nn.Module)]
    with register_models(models):
        yield


def _step_line(stack, item) -> str | None:
    """`path:row: source` of the last frame in the test's own file (where step() was called)."""
    path = getattr(item, "path", None)
    if path is None:
        return None
    for frame in reversed(stack):
        if frame.filename == str(path):
            try:
                shown = path.relative_to(item.config.rootpath)
            except ValueError:
                shown = path
            return f"{shown}:{frame.lineno}: {(frame.line or '').strip()}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "call" or not _enabled(item.config):
        return
    reports = item.config.stash[_CHANNEL_KEY].take()
    if not reports:
        return
    result = outcome.get_result()
    texts = []
    for error, stack in reports:
        where = _step_line(stack, item)
        texts.append(f"{error}\nat {where}" if where else str(error))
    # the report alone: the traceback would run through optlint's own hook and repeat it;
    # and a test that caught the error, or stepped in a thread, fails all the same
    result.outcome = "failed"
    result.longrepr = "\n\n".join(texts)
